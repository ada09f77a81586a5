#!/bin/bash
# tests/integration/push_patch.sh — rackctl push of v3 (8 bytes edited in
# three chunks of v1) to real rackd on loopback: to a rack holding v1 the
# three go as patches (a few hundred bytes), the rack rebuilds them byte for
# byte as the central store has them, and rack-agent reimages v3 from them;
# a patch against a chunk the rack lacks 409, against the wrong base 422, a
# level out of range 400; with another zstd level the rack asks for the
# log chunk whole; --no-patch sends the chunks whole. Loopback only.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"

central app:1 app:2 app:3
start_rack 2
start_rack 3
for i in 2 3; do given_push "$i" app:1; given_push "$i" app:2; done

# ---- v3: chunks with a few bytes edited go as patches -------------------------------------
# Rack 7 holds app:1; app:3 is app:1 with 8 bytes edited in three chunks.
# The rack rebuilds each from its patch, byte for byte what the central
# store holds, and rack-agent reimages app:3 from them.
start_rack 7 --slots usb1
export RACKD_TOKEN=${TOKENS[7]}
push app:1 "$(url 7)"
D3=$(delta_bytes "$M1" "$M3")
HA=$(jq -r '.chunks[] | select(.offset == 65536) | .hash' "$M3")
OA=$(jq -r '.chunks[] | select(.offset == 65536) | .hash' "$M1")
OB=$(jq -r '.chunks[] | select(.offset == 131072) | .hash' "$M1")
zstd -qdc "$(chunk_file "$HA")" >"$TMP/newA" && zstd -qdc "$(chunk_file "$OA")" >"$TMP/oldA" &&
	zstd -qdc "$(chunk_file "$OB")" >"$TMP/oldB" &&
	zstd -qf --patch-from="$TMP/oldA" "$TMP/newA" -o "$TMP/patchA" 2>/dev/null || fail "zstd --patch-from"
on 7 POST /api/v1/images/app/versions/3 --data-binary "@$M3"
check_status 200 "rack 7: app:3's manifest posted"
on 7 PUT "/api/v1/chunks/$HA?base=$(printf 'cd%.0s' {1..32})&level=12" --data-binary "@$TMP/patchA"
check_status 409 "a patch against a chunk the rack lacks: 409"
check_jq '.send_whole == true' "the 409 asks for the chunk whole"
on 7 PUT "/api/v1/chunks/$HA?base=$OB&level=12" --data-binary "@$TMP/patchA"
check_status 422 "a patch against the wrong base: 422"
has_chunk 7 "$HA" && fail "a chunk from a wrong patch was stored" || ok "nothing stored from a wrong patch"
on 7 PUT "/api/v1/chunks/$HA?base=$OA&level=99" --data-binary "@$TMP/patchA"
check_status 400 "a patch with a level out of range: 400"
push app:3 "$(url 7)"
check_eq "$(pj '.racks[0].result')" ok "push app:3: done"
check_eq "$(pj '.racks[0].chunks_patched')" 3 "push app:3: the three edited chunks went as patches"
sent=$(pj '.racks[0].bytes_sent')
[ "$sent" -lt 2048 ] && ok "push app:3: $sent bytes sent for $D3 bytes of chunks" ||
	fail "push app:3 sent $sent bytes (the chunks whole: $D3)"
check_eq "$(rack_metric 7 'rackd_push_chunks_total{result="patched"}')" 3 "rack 7 counts three patched chunks"
same=0
while read -r h s; do cmp -s "$(chunk_file "$h")" "${STATES[7]}/store/chunks/${h:0:2}/$h" && same=$((same + 1)); done \
	< <(chunks_of "$M3")
check_eq "$same" "$(chunks_of "$M3" | wc -l)" "every chunk of app:3 on rack 7 is byte for byte the central store's"
check_store 7 "rack 7 after the patches"
on 7 POST /api/v1/nodes/usb1/reimage -d '{"image": "app:3"}'
JOB7=$(jq -r .id <<<"$BODY")
TOK7=$(sqlite3 -cmd '.timeout 2000' "${STATES[7]}/rackd.db" "select token from jobs where id=$JOB7")
head -c $(($(stat -c %s "$TMP/v3.img") + 65536)) /dev/urandom >"$TMP/disk7.img"
timeout -k 5 120 "$AGENT" --no-reboot --cmdline /dev/null --disk "dev:$TMP/disk7.img" --url "$(url 7)" \
	--job "$JOB7" --token "$TOK7" >"$TMP/agent7.log" 2>&1
check_eq "$?" 0 "rack-agent reimaged app:3 from the patched chunks"
cmp -s -n "$(stat -c %s "$TMP/v3.img")" "$TMP/v3.img" "$TMP/disk7.img" && ok "the disk holds app:3 exactly" ||
	fail "the disk differs from app:3"
# Another level than the store's (3 here): the rack cannot rebuild the
# stored form of the log chunk and asks for it whole; the random ones
# (stored as they are at any level) go as patches (rack 3 holds app:1 and
# app:2). Without --level, rackctl found the level from the chunks.
rej=$(rack_metric 3 'rackd_push_chunks_total{result="rejected"}')
RACKD_TOKEN=${TOKENS[3]} push app:3 "$(url 3)" --level 12
check_eq "$(pj '.racks[0].result')" ok "push app:3 with the wrong --level: done"
check_eq "$(pj '.racks[0].chunks_patched')" 2 "the two random chunks went as patches"
check_eq "$(rack_metric 3 'rackd_push_chunks_total{result="rejected"}')" "$((rej + 1))" \
	"the log chunk's patch was refused (another compressed size) and it came whole"
check_store 3 "rack 3 after patches sent back whole"
RACKD_TOKEN=${TOKENS[2]} push app:3 "$(url 2)" --no-patch
check_eq "$(pj '.racks[0].bytes_sent')" "$D3" "push app:3 --no-patch: the three chunks whole ($D3 bytes)"
unset RACKD_TOKEN


check_racks_end 2 3 7
finish
