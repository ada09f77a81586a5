#!/bin/bash
# tests/integration/push.sh — rackctl push to three real rackd on loopback:
#   - the API: no token 401 (manifest, chunk, commit, delete); a pending
#     push is not an image; commit with chunks missing 409 naming them; a
#     chunk whose body does not match its hash 422 and not stored; a body
#     over the limit 413; a chunk no push waits for 409; a chunk the rack
#     has answered at once, its body not read (Expect: 100-continue);
#   - v1 to all three (the image appears in /api/v1/images and on
#     /api/v1/events only at commit), again (nothing sent), then v2 with a
#     few chunks changed: exactly the changed chunks' bytes go up (rackctl's
#     --json and rackd's /metrics agree).
# The other stories of a push: push_patch.sh (chunks sent as patches),
# push_faults.sh (kills, SIGTERM, expiry), push_sign.sh (signatures),
# push_delete.sh (delete and garbage collection), push_rack.sh (rackctl
# driving a rack). Traffic goes to 127.0.0.1 only; everything is removed
# on exit.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"

central app:1 app:2
start_rack 1 --slots usb1
start_rack 2
start_rack 3
racks_file 1 2 3

# ---- auth ------------------------------------------------------------------
H0=$(jq -r '.chunks[0].hash' "$M1")
anon 1 POST /api/v1/images/app/versions/1 --data-binary "@$M1"
check_status 401 "manifest without a token"
anon 1 PUT "/api/v1/chunks/$H0" --data-binary "@$(chunk_file "$H0")"
check_status 401 "chunk without a token"
anon 1 POST /api/v1/images/app/versions/1/commit
check_status 401 "commit without a token"
anon 1 DELETE /api/v1/images/app/versions/1
check_status 401 "delete without a token"
anon 1 POST /api/v1/images/app/versions/1 -H "Authorization: Bearer wrong-token-wrong" --data-binary "@$M1"
check_status 401 "manifest with a wrong token"
has_chunk 1 "$H0" && fail "a chunk stored without a token" || ok "nothing stored without a token"

# ---- a pending push is not an image; commit with chunks missing: 409 ---------
curl -sN -H "Authorization: Bearer ${TOKENS[1]}" --max-time 300 "$(url 1)/api/v1/events" >"$TMP/events1" &
EVPID=$!
on_exit "kill $EVPID"
sleep 0.3
on 1 POST /api/v1/images/app/versions/1 --data-binary "@$M1"
check_status 200 "manifest of app:1 posted"
NDIST=$(jq '.chunks | unique_by(.hash) | length' "$M1")
check_jq ".state == \"pending\" and .chunks == $NDIST and (.missing | length) == $NDIST" \
	"the rack lacks all $NDIST distinct chunks"
check_jq ".missing_bytes == $(total_bytes "$M1")" "missing_bytes is the chunks' stored size"
on 1 GET /api/v1/images
check_jq 'map(.name) | index("app") == null' "a pending push is not in /api/v1/images"
on 1 GET /api/v1/pushes
check_jq 'map("\(.name):\(.version)") == ["app:1"]' "GET /api/v1/pushes lists it"
on 1 POST /api/v1/images/app/versions/1/commit
check_status 409 "commit with every chunk missing"
check_jq "(.missing | length) == $NDIST and (.error | test(\"missing\"))" "the 409 names the missing chunks"
on 1 POST /api/v1/images/app/versions/2/commit
check_status 404 "commit of a version never posted"
on 1 POST /api/v1/images/app/versions/9 --data-binary "@$M1"
check_status 400 "a manifest under another version's URL"
on 1 POST /api/v1/images/app/versions/1 --data-binary '{"format": 1, "name": "app"}'
check_status 400 "a malformed manifest"
on 1 POST '/api/v1/images/-app/versions/1' --data-binary "@$M1"
check_status 400 "a bad image name in the URL"

# ---- chunks: 422, 413, 409, a re-sent chunk -----------------------------------
H1=$(jq -r '.chunks[1].hash' "$M1")
on 1 PUT "/api/v1/chunks/$H1" --data-binary "@$(chunk_file "$H0")"
check_status 422 "a chunk body that does not match its hash"
has_chunk 1 "$H1" && fail "the mismatched chunk was stored" || ok "the mismatched chunk is not stored"
head -c 70000 /dev/urandom >"$TMP/junk"
on 1 PUT "/api/v1/chunks/$H1" --data-binary "@$TMP/junk"
check_status 413 "a chunk body larger than any 64 KiB chunk compresses to"
head -c 5000 /dev/urandom >"$TMP/junk"
on 1 PUT "/api/v1/chunks/$H1" --data-binary "@$TMP/junk"
check_status 422 "garbage that is not a zstd frame"
on 1 PUT "/api/v1/chunks/$(printf 'ab%.0s' {1..32})" --data-binary "@$TMP/junk"
check_status 409 "a chunk no pending push waits for"
on 1 PUT "/api/v1/chunks/xyz" --data-binary "@$TMP/junk"
check_status 400 "not a hash"
on 1 PUT "/api/v1/chunks/$H0" --data-binary "@$(chunk_file "$H0")"
check_status 201 "a good chunk is stored"
has_chunk 1 "$H0" && ok "the good chunk is in the store" || fail "the good chunk is not in the store"
out=$(curl -s -o /dev/null -w '%{http_code} %{size_upload}' -X PUT -H "Authorization: Bearer ${TOKENS[1]}" \
	-H "Expect: 100-continue" --data-binary "@$(chunk_file "$H0")" "$(url 1)/api/v1/chunks/$H0")
check_eq "$out" "200 0" "a chunk the rack has: 200 before its body is sent"
[ -z "$(ls "${STATES[1]}/store/tmp")" ] && ok "no temporary files left" || fail "temporary files left"

# ---- v1 to three racks -------------------------------------------------------------
push app:1 --racks "$RACKS" --streams 3
check_eq "$RC" 0 "push app:1 to three racks: exit status"
check_eq "$(pj '[.racks[].result] | join(",")')" ok,ok,ok "push app:1: every rack ok"
T1=$(total_bytes "$M1")
check_eq "$(pj '[.racks[1,2].bytes_sent] | join(",")')" "$T1,$T1" "push app:1: racks 2, 3 got every chunk once ($T1 bytes)"
check_eq "$(pj '.racks[0].bytes_sent')" "$((T1 - $(stat -c %s "$(chunk_file "$H0")")))" \
	"push app:1: rack 1 got all but the chunk it had"
for i in 1 2 3; do
	on "$i" GET /api/v1/images/app
	check_jq '.versions | map(.version) == ["1"]' "rack $i lists app:1"
done
sleep 0.5
grep -q '^event: image' "$TMP/events1" && grep -q '"name":"app"' "$TMP/events1" &&
	ok "the commit is on /api/v1/events" || fail "no image event: $(head -c 300 "$TMP/events1")"
check_store 1 "rack 1 after push"

push app:1 --racks "$RACKS"
check_eq "$RC" 0 "push app:1 again: exit status"
check_eq "$(pj '[.racks[] | "\(.result) \(.bytes_sent)"] | join(",")')" "present 0,present 0,present 0" \
	"push app:1 again: nothing sent"

# ---- v2: only the changed chunks go -------------------------------------------------
D=$(delta_bytes "$M1" "$M2")
before=$(rack_metric 2 rackd_push_received_bytes_total)
push app:2 --racks "$RACKS" --jobs 3 --streams 2
check_eq "$RC" 0 "push app:2: exit status"
check_eq "$(pj '[.racks[].bytes_sent] | join(",")')" "$D,$D,$D" "push app:2: exactly the changed chunks' $D bytes sent to each rack"
check_eq "$(pj '[.racks[].chunks_sent] | join(",")')" "5,5,5" "push app:2: the five changed chunks sent to each rack"
after=$(rack_metric 2 rackd_push_received_bytes_total)
check_eq "$((after - before))" "$D" "push app:2: rack 2 received $D bytes of chunks (/metrics)"
[ "$D" -lt $((T1 / 10)) ] && ok "the delta ($D bytes) is a small part of the image ($T1)" || fail "delta $D of $T1"


check_racks_end 1 2 3
finish
