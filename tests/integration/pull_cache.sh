#!/bin/bash
# tests/integration/pull_cache.sh — images published once to a directory
# origin (rackctl publish) and pulled by three real rackd through a site
# cache: nginx serving the origin on loopback with an access log, a second
# nginx with proxy_cache in front of it. Each chunk leaves the origin once;
# v2 brings only its changed chunks; a chunk altered on the origin is
# refused and nothing of its image appears; the cache stopped mid-pull
# makes the rack fail over to the origin and finish; an unsigned manifest
# is refused where keys are trusted; rackctl pull-to and fleet status.
# Loopback only; both nginx are this test's processes, killed on exit.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"
source "$TOP/tests/lib_nginx.sh"
command -v nginx >/dev/null || { echo "nginx is needed (make deps)"; exit 1; }

central app:1 app:2 app:3 big:1 other:1
"$RACKCTL" keygen --out "$TMP/key" >/dev/null || { echo "setup: keygen"; exit 1; }
for ref in app:1 app:2 app:3 big:1; do
	"$RACKCTL" image sign "$ref" --key "$TMP/key" --store "$C" >/dev/null ||
		{ echo "setup: sign $ref"; exit 1; }
	"$RACKCTL" image show "$ref" --store "$C" --json >"$TMP/m.$ref.json"
done
ORIGIN=$TMP/origin
publish() {	# REF [args]: rackctl publish to $ORIGIN with --json; sets RC
	timeout -k 5 "$RUN_MAX" "$RACKCTL" publish "$1" "$ORIGIN" --store "$C" --json "${@:2}" \
		>"$TMP/publish.json" 2>"$TMP/publish.err"
	RC=$?
}

# ---- the two nginx ------------------------------------------------------------------------
P1=$(free_port) P2=$(free_port)
mkdir -p "$ORIGIN"
nginx_conf origin "server {
		listen 127.0.0.1:$P1;
		access_log $TMP/nginx-origin/logs/access.log paths;
		root $ORIGIN;
	}"
# The site cache of docs/internals/pull.md: chunks are immutable, kept long;
# manifests a few seconds. limit_rate slows it so that it can be stopped
# in the middle of a pull.
nginx_conf cache "proxy_cache_path $TMP/nginx-cache/cache levels=1:2 keys_zone=images:10m max_size=2g inactive=30d use_temp_path=off;
	server {
		listen 127.0.0.1:$P2;
		access_log $TMP/nginx-cache/logs/access.log paths;
		proxy_cache images;
		proxy_cache_lock on;
		proxy_cache_lock_timeout 60s;
		proxy_cache_lock_age 60s;
		limit_rate 2m;
		location /chunks/ {
			proxy_pass http://127.0.0.1:$P1;
			proxy_cache_valid 200 365d;
		}
		location /manifests/ {
			proxy_pass http://127.0.0.1:$P1;
			proxy_cache_valid 200 2s;
			proxy_cache_valid 404 1s;
		}
	}"
nginx_start origin "$P1"
nginx_start cache "$P2"
CACHE=http://127.0.0.1:$P2 ORIGIN_URL=http://127.0.0.1:$P1
OLOG=$TMP/nginx-origin/logs/access.log

for i in 1 2 3; do
	start_rack "$i" --image-sources "$CACHE,$ORIGIN_URL" --trusted-keys "$TMP/key.pub"
done
racks_file 1 2 3

# chunk_gets HASHFILE: how many GETs of each chunk listed reached the
# origin; "HASH COUNT" lines.
origin_gets() { awk '$1 == "GET" && $2 ~ /^\/chunks\// && $3 == 200 { sub("/chunks/", "", $2); n[$2]++ }
	END { for (h in n) print h, n[h] }' "$OLOG" | sort; }
pull_to() {	# REF: rackctl pull-to the three racks, --json; sets RC
	timeout -k 5 "$RUN_MAX" "$RACKCTL" pull-to --racks "$RACKS" "$1" --json \
		>"$TMP/pull.json" 2>"$TMP/pull.err"
	RC=$?
}

# ---- v1 through the cache ---------------------------------------------------------------------
publish app:1
check_eq "$RC" 0 "rackctl publish app:1 to a directory"
[ -f "$ORIGIN/manifests/app/1.json" ] && cmp -s "$ORIGIN/manifests/app/1.json" "$C/manifests/app/1.json" &&
	ok "the origin's manifest is the store's, signature and all" || fail "origin manifest"
N1=$(jq '[.chunks[].hash] | unique | length' "$M1")
check_eq "$(ls "$ORIGIN/chunks" | wc -l)" "$N1" "the origin holds each distinct chunk once"
check_eq "$(jq .written "$TMP/publish.json")" "$N1" "publish wrote every chunk"
publish app:1
check_eq "$(jq '[.written, .skipped, .present] | @csv' -r "$TMP/publish.json")" "0,$N1,true" \
	"publish again: nothing written, the manifest was there"

pull_to app:1
check_eq "$RC" 0 "rackctl pull-to app:1 on three racks"
[ "$(jq '[.racks[] | select(.result == "ok")] | length' "$TMP/pull.json")" = 3 ] &&
	ok "the three racks committed app:1" || fail "pull-to: $(cat "$TMP/pull.json" "$TMP/pull.err")"
for i in 1 2 3; do
	on "$i" GET /api/v1/images/app
	jq -e '.versions | map(.version) | index("1") != null' <<<"$BODY" >/dev/null &&
		ok "rack $i lists app:1" || fail "rack $i: $BODY"
done
origin_gets >"$TMP/gets1"
check_eq "$(wc -l <"$TMP/gets1")" "$N1" "the origin served every chunk of app:1"
check_eq "$(awk '$2 != 1' "$TMP/gets1" | wc -l)" 0 "each chunk left the origin once for three racks"
on 1 GET /api/v1/pulls
check_jq '.[0].image == "app:1" and .[0].state == "done" and (.[0].source | startswith("'"$CACHE"'"))' \
	"GET /api/v1/pulls: the pull, done, from the cache"

# ---- v2: only the changed chunks ---------------------------------------------------------------
publish app:2
check_eq "$RC" 0 "rackctl publish app:2"
DELTA=$(jq -n --slurpfile a "$M1" --slurpfile b "$M2" \
	'($a[0].chunks | map(.hash)) as $o | [$b[0].chunks[].hash | select(. as $h | $o | index($h) | not)] | unique | length')
check_eq "$(jq .written "$TMP/publish.json")" "$DELTA" "publish app:2 wrote only its $DELTA new chunks"
pull_to app:2
check_eq "$RC" 0 "rackctl pull-to app:2"
check_eq "$(jq '[.racks[] | .missing] | unique | @csv' -r "$TMP/pull.json")" "$DELTA" \
	"each rack fetched only the $DELTA changed chunks"
origin_gets >"$TMP/gets2"
check_eq "$(wc -l <"$TMP/gets2")" "$((N1 + DELTA))" "the origin served only the new chunks more"
check_eq "$(awk '$2 != 1' "$TMP/gets2" | wc -l)" 0 "still each chunk once"
check_racks_end 1 2 3

# ---- fleet status ----------------------------------------------------------------------------
"$RACKCTL" fleet status --racks "$RACKS" >"$TMP/fleet.out" 2>&1
check_eq "$?" 0 "rackctl fleet status"
check_eq "$(grep -c ' app:2 ' "$TMP/fleet.out")" 3 "fleet status: app:2 on three racks"
"$RACKCTL" fleet status --racks "$RACKS" --json |
	jq -e 'length == 3 and all(.[]; .ok and ([.images[].image] | index("app:1") != null))' >/dev/null &&
	ok "fleet status --json" || fail "fleet status --json"

# ---- a chunk altered on the origin is refused ---------------------------------------------------
publish app:3
check_eq "$RC" 0 "rackctl publish app:3"
BAD=$(jq -n -r --slurpfile a "$M2" --slurpfile b "$M3" \
	'($a[0].chunks | map(.hash)) as $o | [$b[0].chunks[].hash | select(. as $h | $o | index($h) | not)] | first')
# Same size, other content: what a disk or a copy gone wrong leaves.
zstd -dcq "$ORIGIN/chunks/$BAD" | python3 -c 'import sys; b = bytearray(sys.stdin.buffer.read()); b[100] ^= 1; sys.stdout.buffer.write(b)' |
	zstd -q -3 -c >"$TMP/bad.zst"
cp "$TMP/bad.zst" "$ORIGIN/chunks/$BAD"
on 1 POST /api/v1/images/pull -d '{"image": "app:3"}'
check_eq "$STATUS" 202 "POST /api/v1/images/pull: 202"
PID3=$(jq .id <<<"$BODY")
wait_pull() {	# I ID: until the pull ends (60 s at most); its JSON in BODY
	local k
	for ((k = 0; k < 600; k++)); do
		on "$1" GET "/api/v1/pulls/$2"
		jq -e '.state == "done" or .state == "failed"' <<<"$BODY" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}
wait_pull 1 "$PID3" || fail "the pull of app:3 did not end"
check_jq '.state == "failed" and (.error | test("refused|match"))' "a chunk that does not match its hash fails the pull"
on 1 GET /api/v1/images/app
jq -e '.versions | map(.version) | index("3") == null' <<<"$BODY" >/dev/null &&
	ok "app:3 is not listed" || fail "app:3 listed: $BODY"
[ ! -e "${STATES[1]}/store/manifests/app/3.json" ] && ! has_chunk 1 "$BAD" &&
	ok "nothing of app:3 is visible in the store" || fail "app:3 left in the store"
on 1 GET /api/v1/pushes
check_jq 'map(select(.name == "app" and .version == "3")) | length == 0' "no pending record is left of app:3"

# ---- an unsigned manifest where keys are trusted ------------------------------------------------
publish other:1
on 2 POST /api/v1/images/pull -d '{"image": "other:1"}'
wait_pull 2 "$(jq .id <<<"$BODY")" || fail "the pull of other:1 did not end"
check_jq '.state == "failed" and (.error | test("signed|trusted"))' "an unsigned manifest is refused (trusted_keys)"
[ ! -e "${STATES[2]}/store/manifests/other/1.json" ] && ok "other:1 not stored" || fail "other:1 stored"
# pull_trust: a signature always, so nothing while trusted_keys is empty
start_rack 4 --image-sources "$ORIGIN_URL" --pull-trust=yes
on 4 POST /api/v1/images/pull -d '{"image": "app:1"}'
wait_pull 4 "$(jq .id <<<"$BODY")" || fail "the pull on rack 4 did not end"
check_jq '.state == "failed" and (.error | test("pull_trust"))' "pull_trust without trusted_keys: refused"
on 4 GET /api/v1/images/app
check_eq "$STATUS" 404 "pull_trust: app:1 not taken"
on 2 POST /api/v1/images/pull -d '{"image": "other"}'
check_eq "$STATUS" 400 "a pull without a version: 400"
on 2 POST /api/v1/images/pull -d '{"image": "app:1", "more": 1}'
check_eq "$STATUS" 400 "an unknown field: 400"
on 2 POST /api/v1/images/pull -d '{"image": "nosuch:1"}'
wait_pull 2 "$(jq .id <<<"$BODY")"
check_jq '.state == "failed" and (.error | test("no source has"))' "an image no source has fails, saying so"
on 2 GET /api/v1/pulls/999
check_eq "$STATUS" 404 "GET /api/v1/pulls/999: 404"

# ---- the cache stopped in the middle of a pull ---------------------------------------------------
publish big:1
check_eq "$RC" 0 "rackctl publish big:1"
on 3 POST /api/v1/images/pull -d '{"image": "big:1"}'
PIDB=$(jq .id <<<"$BODY")
for ((k = 0; k < 300; k++)); do
	on 3 GET "/api/v1/pulls/$PIDB"
	[ "$(jq .chunks_done <<<"$BODY")" -ge 40 ] && break
	sleep 0.05
done
kill -9 "$NGINX_cache"	# one process: master_process off
DONE_AT_KILL=$(jq .chunks_done <<<"$BODY")
wait_pull 3 "$PIDB" || fail "the pull of big:1 did not end after the cache stopped"
check_jq '.state == "done" and .failovers >= 1 and .source == "'"$ORIGIN_URL"'"' \
	"the cache stopped mid-pull ($DONE_AT_KILL chunks in): the rack failed over to the origin and finished"
[ "$DONE_AT_KILL" -lt "$(jq '[.chunks[].hash] | unique | length' "$MB")" ] &&
	ok "the cache was stopped before the pull was done" || fail "the pull was done before the cache stopped"
on 3 GET /api/v1/images/big
check_jq '.versions | map(.version) | index("1") != null' "rack 3 lists big:1"

# ---- a pull cut short, and pulled again ------------------------------------------------------
# The origin again, slowed, and stopped in the middle of rack 2's pull of
# big:1 (the cache is gone): the pull fails; started again, it fetches
# only what it lacks.
kill -9 "$NGINX_origin"
wait "$NGINX_origin" 2>/dev/null
nginx_conf origin "server {
		listen 127.0.0.1:$P1;
		access_log $TMP/nginx-origin/logs/access.log paths;
		limit_rate 2m;
		root $ORIGIN;
	}"
nginx_start origin "$P1"
NBIG=$(jq '[.chunks[].hash] | unique | length' "$MB")
on 2 POST /api/v1/images/pull -d '{"image": "big:1"}'
PIDC=$(jq .id <<<"$BODY")
for ((k = 0; k < 300; k++)); do
	on 2 GET "/api/v1/pulls/$PIDC"
	[ "$(jq .chunks_done <<<"$BODY")" -ge 40 ] && break
	sleep 0.05
done
kill -9 "$NGINX_origin"
wait "$NGINX_origin" 2>/dev/null
wait_pull 2 "$PIDC" || fail "the cut pull did not end"
check_jq '.state == "failed"' "a pull whose every source is gone fails"
CUT_DONE=$(jq .chunks_done <<<"$BODY")
on 2 GET /api/v1/images/big
check_eq "$STATUS" 404 "nothing of big:1 is listed after the cut"
nginx_start origin "$P1"
on 2 POST /api/v1/images/pull -d '{"image": "big:1"}'
wait_pull 2 "$(jq .id <<<"$BODY")" || fail "the pull after the cut did not end"
check_jq '.state == "done" and .missing < '"$NBIG"' and .missing <= '"$((NBIG - CUT_DONE))"'' \
	"pulled again: only the chunks the cut pull had not fetched ($CUT_DONE of $NBIG were in)"

# ---- rackd stopped in the middle of a pull ------------------------------------------------------
on 1 POST /api/v1/images/pull -d '{"image": "big:1"}'
PIDS1=$(jq .id <<<"$BODY")
for ((k = 0; k < 300; k++)); do
	on 1 GET "/api/v1/pulls/$PIDS1"
	[ "$(jq .chunks_done <<<"$BODY")" -ge 10 ] && break
	sleep 0.05
done
kill -TERM "${PIDS[1]}"
for ((k = 0; k < 150; k++)); do
	kill -0 "${PIDS[1]}" 2>/dev/null || break
	sleep 0.1
done
kill -0 "${PIDS[1]}" 2>/dev/null && fail "rackd did not stop within 15 s of SIGTERM during a pull" ||
	ok "rackd stops promptly in the middle of a pull"
wait "${PIDS[1]}" 2>/dev/null
check_racks_end 1 2 3
finish
