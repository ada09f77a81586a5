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
#     --json and rackd's /metrics agree);
#   - v3 (8 bytes edited in four chunks) to a rack holding v1: the four go
#     as patches (a few hundred bytes), the rack rebuilds them byte for byte
#     as the central store has them, rack-agent reimages v3 from them; a
#     patch against a chunk the rack lacks 409, against the wrong base 422;
#     with another zstd level the rack asks for the chunks whole;
#   - kill -9 of rackctl mid-push, rerun: done, and not one byte of a chunk
#     the rack already had is sent again;
#   - kill -9 of one rackd mid-upload: that rack fails, the others finish;
#     restarted, the rerun completes; no partial chunk is ever visible (every
#     file under store/chunks decompresses and hashes to its name);
#   - a pending push left unfinished expires after push_expiry: its own
#     chunks are collected, those an image shares are kept;
#   - SIGTERM to a rackd mid-upload (chunks on its work threads): it stops
#     at once with status 0; restarted, the rerun completes;
#   - a rack with trusted_keys: unsigned, untrusted and altered manifests
#     refused (403), a signed one taken and shown signed; trusted_keys set
#     later on a rack holding an unsigned image: not installed (403 for a
#     new reimage, a queued job fails);
#   - delete: refused while a job uses the image; v1 deleted while v2 shares
#     chunks with it: v1's own chunks collected, v2 intact and reimaged by
#     rack-agent onto a file, byte for byte; chunks a pending push needs
#     are kept;
#   - rackctl nodes, images, jobs, reimage --wait (exit status from the
#     job), --help of each, the progress bar on a terminal.
# Traffic goes to 127.0.0.1 only; everything is removed on exit.
source "$(dirname "$0")/../lib.sh"

AGENT=$BUILD_DIR/rack-agent
for p in "$RACKD" "$RACKCTL" "$AGENT"; do
	[ -x "$p" ] || { echo "$p missing: run make"; exit 1; }
done
for c in jq zstd b2sum python3 sqlite3 cmp timeout script; do
	command -v "$c" >/dev/null || { echo "$c is needed (make deps)"; exit 1; }
done

C=$TMP/central			# the central host's store
CS=65536			# chunk size of the test images
RUN_MAX=120			# seconds, any one rackctl run
KiB=1024

# ---- helpers ---------------------------------------------------------------
PORTS=() STATES=() PIDS=() TOKENS=()
# start_rack I [rackd options]: rackd number I (its port kept across restarts).
start_rack() {
	local i=$1
	shift
	[ -n "${PORTS[$i]:-}" ] || PORTS[$i]=$(free_port)
	STATES[$i]=$TMP/rack$i
	"$RACKD" -d --state-dir "${STATES[$i]}" --listen "127.0.0.1:${PORTS[$i]}" \
		--manage-links=no "$@" >>"$TMP/rack$i.log" 2>&1 &
	PIDS[$i]=$!
	on_exit "kill -9 ${PIDS[$i]}"
	wait_http "http://127.0.0.1:${PORTS[$i]}/healthz" ||
		{ echo "rack $i did not start"; tail -n 20 "$TMP/rack$i.log"; exit 1; }
	TOKENS[$i]=$(cat "${STATES[$i]}/api.token")
}
url() { echo "http://127.0.0.1:${PORTS[$1]}"; }
# on I METHOD PATH [curl args]: a request to rack I with its token.
on() {
	local i=$1 m=$2 p=$3 out
	shift 3
	out=$(curl -s -X "$m" -H "Authorization: Bearer ${TOKENS[$i]}" -w '\n%{http_code}' \
		--max-time 20 "$@" "$(url "$i")$p")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}
# anon I METHOD PATH [curl args]: no token.
anon() {
	local i=$1 m=$2 p=$3 out
	shift 3
	out=$(curl -s -X "$m" -w '\n%{http_code}' --max-time 20 "$@" "$(url "$i")$p")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}
check_jq() {	# FILTER WHAT: on $BODY
	if printf '%s' "$BODY" | jq -e "$1" >/dev/null 2>&1; then ok "$2"
	else fail "$2: $1 is false for ${BODY:0:300}"; fi
}
metric() {	# I NAME: a /metrics value (0 if absent)
	local v
	v=$(curl -s --max-time 5 "$(url "$1")/metrics" | awk -v k="$2" '$1 == k { print $2 }')
	echo "${v:-0}"
}
stored_count() { metric "$1" 'rackd_push_chunks_total{result="stored"}'; }
wait_stored() {	# I N: until rack I has stored N chunks (15 s at most)
	local k
	for ((k = 0; k < 300; k++)); do
		[ "$(stored_count "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# push RACK_ARGS...: rackctl push with --json into $TMP/push.json; sets RC.
push() {
	timeout -k 5 "$RUN_MAX" "$RACKCTL" push --store "$C" --json "$@" >"$TMP/push.json" 2>"$TMP/push.err"
	RC=$?
	[ "$RC" -ne 124 ] && [ "$RC" -ne 137 ] || fail "rackctl push ran longer than $RUN_MAX s"
}
pj() { jq -r "$1" "$TMP/push.json" 2>/dev/null; }
# check_store I WHAT: every chunk file decompresses and hashes to its name.
check_store() {
	local f h n=0 bad=0
	for f in "${STATES[$1]}"/store/chunks/*/*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		h=$(zstd -dcq -- "$f" 2>/dev/null | b2sum -l 256 | cut -d' ' -f1)
		if [ "$h" != "$(basename "$f")" ]; then
			bad=$((bad + 1))
			echo "  not what its name says: $f"
		fi
	done
	if [ "$bad" -eq 0 ] && [ "$n" -gt 0 ]; then ok "$2: all $n chunk files match their names"
	else fail "$2: $bad of $n chunk files do not match their names"; fi
}
has_chunk() { [ -f "${STATES[$1]}/store/chunks/${2:0:2}/$2" ]; }
chunk_file() { echo "$C/chunks/${1:0:2}/$1"; }
# distinct chunks of a manifest with their stored size: "HASH SIZE" lines
chunks_of() { jq -r '.chunks | unique_by(.hash) | .[] | "\(.hash) \(.stored)"' "$1"; }
# stored bytes of the distinct chunks of $2 that are not in $1
delta_bytes() {
	jq -n --slurpfile a "$1" --slurpfile b "$2" '
	    ($a[0].chunks | map({key: .hash, value: 1}) | from_entries) as $old
	    | [$b[0].chunks | unique_by(.hash) | .[] | select($old[.hash] == null) | .stored] | add // 0'
}
total_bytes() { jq '[.chunks | unique_by(.hash) | .[].stored] | add' "$1"; }

# make_image KIND FILE: deterministic images of 64 KiB slots.
#   v1:  96 slots: random, text (compressible), zero (holes), a repeated slot
#   v2:  v1 with slots 5, 17, 33 new, hole 10 now data, slot 60 now zero,
#        another unaligned tail: five new chunks
#   v3:  v1 with 8 bytes edited in slots 1, 2 (random) and 90 (log lines):
#        three new chunks
#   big: 640 random slots (40 MiB), for the interruption tests
#   small: 24 random slots, for the API and signature tests
make_image() {
	python3 - "$1" "$2" <<'EOF'
import random, sys
kind, path = sys.argv[1], sys.argv[2]
S = 65536
SEEDS = {"small1": 1, "small2": 2, "small3": 3}
def slot(i, v):
    if kind == "big":
        return random.Random(50000 + i).randbytes(S)
    if kind in SEEDS:
        return random.Random(SEEDS[kind] * 100000 + i).randbytes(S)
    if v == 2 and i in (5, 10, 17, 33):
        return random.Random(20000 + i).randbytes(S)
    if i in (10, 11, 40) or (v == 2 and i == 60):
        return bytes(S)
    if i in (70, 71):
        return random.Random(7070).randbytes(S)   # the same chunk twice
    if i == 90:                                   # log lines: compressible
        r = random.Random(9090)
        words = ["".join(r.choices("etaoinshrdlu", k=r.randint(2, 8))) for _ in range(300)]
        text = "".join("node%02d rackd[%d]: %s\n" % (r.randint(1, 40), r.randint(1, 9999),
                       " ".join(r.choices(words, k=r.randint(3, 12)))) for _ in range(3000))
        return text.encode()[:S]
    if i % 4 == 0:
        line = ("rackd push test slot %d " % i).encode()
        return (line * (S // len(line) + 1))[:S]
    return random.Random(1000 + i).randbytes(S)
n = 640 if kind == "big" else 24 if kind in SEEDS else 96
v = 2 if kind == "v2" else 1
with open(path, "wb") as f:
    for i in range(n):
        b = slot(i, v)
        if kind == "v3" and i in (1, 2, 90):      # 8 bytes edited in place
            b = b[:S // 2] + b"v3v3v3v3" + b[S // 2 + 8:]
        f.write(b)
    if kind in ("v1", "v2", "v3"):
        f.write(random.Random(9 + v).randbytes(12345))  # an unaligned tail
EOF
}
import_image() {	# FILE NAME:VERSION
	"$RACKCTL" image import "$1" --name "$2" --store "$C" --chunk-size 64K --level 3 -q >/dev/null ||
		{ echo "import of $2 failed"; exit 1; }
	"$RACKCTL" image show "$2" --store "$C" --json >"$TMP/m.$2.json"
}

# ---- images on the central host, three racks ---------------------------------
for k in v1 v2 v3 big small1 small2 small3; do make_image "$k" "$TMP/$k.img"; done
import_image "$TMP/v1.img" app:1
import_image "$TMP/v2.img" app:2
import_image "$TMP/v3.img" app:3
import_image "$TMP/big.img" big:1
import_image "$TMP/small1.img" other:1
import_image "$TMP/small2.img" sig:1
import_image "$TMP/small3.img" sig:2
M1=$TMP/m.app:1.json M2=$TMP/m.app:2.json M3=$TMP/m.app:3.json MB=$TMP/m.big:1.json MO=$TMP/m.other:1.json

start_rack 1 --slots usb1
start_rack 2
start_rack 3
RACKS=$TMP/racks
for i in 1 2 3; do echo "$(url $i) ${TOKENS[$i]}"; done >"$RACKS"
echo "# a comment, and a blank line" >>"$RACKS"
echo >>"$RACKS"

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
before=$(metric 2 rackd_push_received_bytes_total)
push app:2 --racks "$RACKS" --jobs 3 --streams 2
check_eq "$RC" 0 "push app:2: exit status"
check_eq "$(pj '[.racks[].bytes_sent] | join(",")')" "$D,$D,$D" "push app:2: exactly the changed chunks' $D bytes sent to each rack"
check_eq "$(pj '[.racks[].chunks_sent] | join(",")')" "5,5,5" "push app:2: the five changed chunks sent to each rack"
after=$(metric 2 rackd_push_received_bytes_total)
check_eq "$((after - before))" "$D" "push app:2: rack 2 received $D bytes of chunks (/metrics)"
[ "$D" -lt $((T1 / 10)) ] && ok "the delta ($D bytes) is a small part of the image ($T1)" || fail "delta $D of $T1"

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
check_eq "$(metric 7 'rackd_push_chunks_total{result="patched"}')" 3 "rack 7 counts three patched chunks"
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
rej=$(metric 3 'rackd_push_chunks_total{result="rejected"}')
RACKD_TOKEN=${TOKENS[3]} push app:3 "$(url 3)" --level 12
check_eq "$(pj '.racks[0].result')" ok "push app:3 with the wrong --level: done"
check_eq "$(pj '.racks[0].chunks_patched')" 2 "the two random chunks went as patches"
check_eq "$(metric 3 'rackd_push_chunks_total{result="rejected"}')" "$((rej + 1))" \
	"the log chunk's patch was refused (another compressed size) and it came whole"
check_store 3 "rack 3 after patches sent back whole"
RACKD_TOKEN=${TOKENS[2]} push app:3 "$(url 2)" --no-patch
check_eq "$(pj '.racks[0].bytes_sent')" "$D3" "push app:3 --no-patch: the three chunks whole ($D3 bytes)"
unset RACKD_TOKEN

# ---- kill -9 rackctl mid-push, rerun ---------------------------------------------------
base=$(stored_count 1)
RACKD_TOKEN=${TOKENS[1]} "$RACKCTL" push big:1 "$(url 1)" --store "$C" --streams 1 -q >/dev/null 2>&1 &
RPID=$!
on_exit "kill -9 $RPID"
wait_stored 1 $((base + 100))
if kill -9 "$RPID" 2>/dev/null; then ok "rackctl killed mid-push"; else fail "rackctl ended before it could be killed"; fi
wait "$RPID" 2>/dev/null
check_store 1 "rack 1 after rackctl was killed"
ls "${STATES[1]}"/store/chunks/*/ | grep -E '^[0-9a-f]{64}$' | sort >"$TMP/had"
want=0
while read -r h s; do
	grep -qx "$h" "$TMP/had" || want=$((want + s))
done < <(chunks_of "$MB")
present_before=$(metric 1 'rackd_push_chunks_total{result="present"}')
RACKD_TOKEN=${TOKENS[1]} push big:1 "$(url 1)"
check_eq "$RC" 0 "rerun after kill -9: exit status"
check_eq "$(pj '.racks[0].result')" ok "rerun after kill -9: done"
check_eq "$(pj '.racks[0].bytes_sent')" "$want" "rerun sent only what the rack lacked ($want bytes)"
check_eq "$(metric 1 'rackd_push_chunks_total{result="present"}')" "$present_before" \
	"rerun: not one chunk the rack had was sent again"

# ---- kill -9 one rackd mid-upload, restart, rerun ----------------------------------------
base=$(stored_count 2)
timeout -k 5 "$RUN_MAX" "$RACKCTL" push big:1 --racks <(sed -n '2,3p' "$RACKS") --store "$C" \
	--streams 2 --retries 2 --json >"$TMP/push.json" 2>"$TMP/push.err" &
RPID=$!
wait_stored 2 $((base + 100))
kill -9 "${PIDS[2]}"
wait "$RPID"
RC=$?
check_eq "$RC" 1 "rack 2 killed mid-upload: rackctl exits 1"
check_eq "$(pj '[.racks[].result] | join(",")')" failed,ok "rack 2 failed, rack 3 finished"
check_store 2 "rack 2 killed mid-upload: no partial chunk visible"
start_rack 2
[ -z "$(ls "${STATES[2]}/store/tmp")" ] && ok "rack 2 restarted: its dead upload's temporary file is gone" ||
	fail "temporary files after restart: $(ls "${STATES[2]}/store/tmp")"
push big:1 --racks "$RACKS"
check_eq "$RC" 0 "rerun after the rackd restart: exit status"
check_eq "$(pj '[.racks[].result] | join(",")')" present,ok,present "rerun: rack 2 completes, the others had it"
on 2 GET /api/v1/images/big
check_jq '.versions[0].chunk_count == 640' "rack 2 lists big:1"
check_store 2 "rack 2 after the rerun"

# ---- SIGTERM mid-upload: a clean stop ------------------------------------------------------
# Chunks being verified on the work threads get their answers before the
# HTTP server stops; rackd stops at once, with status 0, and no partial chunk.
on 3 DELETE /api/v1/images/big/versions/1
check_eq "$STATUS" 200 "rack 3: big:1 deleted (to push it again)"
base=$(stored_count 3)
timeout -k 5 "$RUN_MAX" "$RACKCTL" push big:1 --racks <(sed -n '3p' "$RACKS") --store "$C" \
	--streams 8 --retries 0 --json >"$TMP/push.json" 2>"$TMP/push.err" &
RPID=$!
wait_stored 3 $((base + 100))
kill -TERM "${PIDS[3]}"
for ((i = 0; i < 100; i++)); do
	kill -0 "${PIDS[3]}" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "${PIDS[3]}" 2>/dev/null; then
	fail "rack 3 still running 10 s after SIGTERM mid-upload"
	kill -9 "${PIDS[3]}"
fi
wait "${PIDS[3]}"
check_eq "$?" 0 "rack 3 stopped by SIGTERM mid-upload: exit status"
wait "$RPID"
check_eq "$(pj '.racks[0].result')" failed "rackctl: rack 3 failed"
grep -qiE 'panic|suspended' "$TMP/rack3.log" && fail "rack 3's log: $(grep -iE 'panic|suspended' "$TMP/rack3.log")" ||
	ok "rack 3's log: a plain stop"
check_store 3 "rack 3 stopped mid-upload: no partial chunk visible"
start_rack 3
push big:1 --racks "$RACKS"
check_eq "$(pj '[.racks[].result] | join(",")')" present,present,ok "rerun: rack 3 completes"

# ---- a pending push nobody finishes expires -------------------------------------------------
# Rack 5 holds app:1; app:2's manifest is posted and one of its own chunks
# sent, then nothing: after push_expiry the push is gone with that chunk,
# and app:1's chunks (shared with app:2) stay.
start_rack 5 --push-expiry 3s
RACKD_TOKEN=${TOKENS[5]} push app:1 "$(url 5)"
check_eq "$RC" 0 "rack 5 holds app:1"
n_app1=$(find "${STATES[5]}/store/chunks" -type f | wc -l)
on 5 POST /api/v1/images/app/versions/2 --data-binary "@$M2"
check_status 200 "rack 5: app:2's manifest posted"
HN=$(jq -r '.missing[0]' <<<"$BODY")
on 5 PUT "/api/v1/chunks/$HN" --data-binary "@$(chunk_file "$HN")"
check_status 201 "rack 5: one of app:2's own chunks stored"
on 5 GET /api/v1/pushes
check_jq 'length == 1 and .[0].active != null' "rack 5 lists the pending push with its last activity"
for ((i = 0; i < 100; i++)); do
	on 5 GET /api/v1/pushes
	[ "$(jq length <<<"$BODY")" = 0 ] && break
	sleep 0.1
done
check_jq 'length == 0' "the unfinished push of app:2 expired"
has_chunk 5 "$HN" && fail "the expired push's own chunk is still stored" || ok "the expired push's own chunk was collected"
check_eq "$(find "${STATES[5]}/store/chunks" -type f | wc -l)" "$n_app1" "app:1's chunks are all kept"
grep -q "push app:2 expired" "$TMP/rack5.log" && ok "the expiry is logged" || fail "no log line for the expiry"
on 5 POST /api/v1/images/app/versions/2/commit
check_status 404 "commit of the expired push: 404 (post the manifest again)"
RACKD_TOKEN=${TOKENS[5]} push app:2 "$(url 5)"
check_eq "$(pj '.racks[0].result')" ok "a new push of app:2 completes"
check_store 5 "rack 5 at the end"

# ---- signatures ------------------------------------------------------------------------
"$RACKCTL" keygen --out "$TMP/key" >/dev/null && ok "rackctl keygen" || fail "rackctl keygen"
"$RACKCTL" keygen --out "$TMP/key2" >/dev/null
"$RACKCTL" keygen --out "$TMP/key" >/dev/null 2>&1 && fail "keygen replaced a key" || ok "keygen never replaces a key"
check_eq "$(stat -c %a "$TMP/key")" 600 "the secret key is mode 0600"
"$RACKD" --trusted-keys "$TMP/key.pub,$(cat "$TMP/key2.pub")" -n >/dev/null &&
	ok "rackd -n takes a key file and a base64 key" || fail "rackd -n refused good keys"
"$RACKD" --trusted-keys "$TMP/nope.pub" -n >/dev/null 2>&1 && fail "rackd -n took a missing key file" ||
	ok "rackd -n refuses a missing key file"
start_rack 4 --trusted-keys "$TMP/key.pub"
export RACKD_TOKEN=${TOKENS[4]}
push sig:1 "$(url 4)"
check_eq "$RC" 1 "an unsigned image to a rack with trusted keys: refused"
grep -q "not signed" <(pj '.racks[0].error') && ok "the refusal says it is not signed" ||
	fail "the refusal: $(pj '.racks[0].error')"
"$RACKCTL" image sign sig:1 --key "$TMP/key2" --store "$C" >/dev/null || fail "rackctl image sign"
push sig:1 "$(url 4)"
check_eq "$RC" 1 "signed by an untrusted key: refused"
grep -q "not trusted" <(pj '.racks[0].error') && ok "the refusal names the untrusted key" ||
	fail "the refusal: $(pj '.racks[0].error')"
"$RACKCTL" image sign sig:1 --key "$TMP/key" --store "$C" >/dev/null || fail "rackctl image sign"
"$RACKCTL" image show sig:1 --store "$C" --json >"$TMP/sig1.json"
sed 's/"created": "[^"]*"/"created": "2001-01-01T00:00:00Z"/' "$TMP/sig1.json" >"$TMP/altered.json"
on 4 POST /api/v1/images/sig/versions/1 --data-binary "@$TMP/altered.json"
check_status 403 "an altered signed manifest"
check_jq '.error | test("does not match")' "the refusal says the signature does not match"
push sig:1 "$(url 4)"
check_eq "$RC" 0 "a signed image to a rack with trusted keys: taken"
on 4 GET /api/v1/images/sig
check_jq '.versions[0].signed == true' "the API shows it signed"
RACKD_TOKEN=${TOKENS[1]} push sig:1 "$(url 1)"
check_eq "$RC" 0 "a rack without trusted keys takes a signed image too"
unset RACKD_TOKEN

# ---- trusted_keys set on a rack that already holds unsigned images --------------------------
# Rack 6 takes sig:2 (unsigned) and sig:1 (signed); a job on sig:2 is queued.
# trusted_keys is then set (SIGHUP): sig:2 is no longer installed — a new
# reimage is refused (403), and the queued job fails when its agent calls in.
echo "# rack 6 of the push test" >"$TMP/rack6.conf"
start_rack 6 --config "$TMP/rack6.conf" --slots usb1,usb2
RACKD_TOKEN=${TOKENS[6]} push sig:2 "$(url 6)"
check_eq "$RC" 0 "rack 6 without trusted keys takes the unsigned sig:2"
RACKD_TOKEN=${TOKENS[6]} push sig:1 "$(url 6)"
on 6 POST /api/v1/nodes/usb2/reimage -d '{"image": "sig:2"}'
check_status 202 "rack 6: a job on the unsigned sig:2"
JOB6=$(jq -r .id <<<"$BODY")
echo "trusted_keys = $TMP/key.pub" >>"$TMP/rack6.conf"
kill -HUP "${PIDS[6]}"
for ((i = 0; i < 100; i++)); do
	grep -q "reload: trusted_keys changed" "$TMP/rack6.log" && break
	sleep 0.1
done
on 6 POST /api/v1/nodes/usb1/reimage -d '{"image": "sig:2"}'
check_status 403 "trusted_keys set since: a reimage with the unsigned sig:2 is refused"
check_jq '.error | test("not signed by a trusted key")' "the refusal says why"
on 6 POST /api/v1/nodes/usb1/reimage -d '{"image": "sig:1"}'
check_status 202 "a reimage with the signed sig:1 is taken"
TOK6=$(sqlite3 -cmd '.timeout 2000' "${STATES[6]}/rackd.db" "select token from jobs where id=$JOB6")
out=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $TOK6" "$(url 6)/api/v1/agent/jobs/$JOB6")
check_eq "${out##*$'\n'}" 403 "the job queued before: its agent is refused the manifest"
on 6 GET "/api/v1/jobs/$JOB6"
check_jq '.state == "failed" and (.reason | test("trusted"))' "the job queued before has failed, saying why"

# ---- delete -------------------------------------------------------------------------------
on 1 POST /api/v1/nodes/usb1/reimage -d '{"image": "app:2"}'
check_status 202 "a reimage job on app:2"
JOB=$(printf '%s' "$BODY" | jq -r .id)
on 1 DELETE /api/v1/images/app/versions/2
check_status 409 "delete refused while a job uses the image"
check_jq '.error | test("job")' "the refusal names the job"

v1only=$(jq -n --slurpfile a "$M1" --slurpfile b "$M2" \
	'($b[0].chunks | map({key: .hash, value: 1}) | from_entries) as $v2
	 | [$a[0].chunks | unique_by(.hash) | .[] | select($v2[.hash] == null) | .hash]')
n1=$(jq length <<<"$v1only")
on 1 DELETE /api/v1/images/app/versions/1
check_status 200 "delete app:1 (v2 shares most of its chunks)"
check_jq ".chunks_freed == $n1" "the $n1 chunks only app:1 used are collected"
gone=0
for h in $(jq -r '.[]' <<<"$v1only"); do has_chunk 1 "$h" && gone=$((gone + 1)); done
check_eq "$gone" 0 "app:1's own chunks left the store"
missing=0
while read -r h s; do has_chunk 1 "$h" || missing=$((missing + 1)); done < <(chunks_of "$M2")
check_eq "$missing" 0 "every chunk of app:2 is still there"
on 1 GET /api/v1/images/app
check_jq '.versions | map(.version) == ["2"]' "app lists only version 2"
on 1 DELETE /api/v1/images/app/versions/1
check_status 404 "delete app:1 again"
sleep 0.3
grep -q '"removed":true' "$TMP/events1" && ok "the removal is on /api/v1/events" || fail "no removal event"

# app:2 still reimages: rack-agent writes it to a file, verified byte for byte
TOK=$(sqlite3 "${STATES[1]}/rackd.db" "select token from jobs where id=$JOB")
DISK=$TMP/disk.img
head -c $(($(stat -c %s "$TMP/v2.img") + 65536)) /dev/urandom >"$DISK"
timeout -k 5 120 "$AGENT" --no-reboot --cmdline /dev/null --disk "dev:$DISK" --url "$(url 1)" \
	--job "$JOB" --token "$TOK" >"$TMP/agent.log" 2>&1
check_eq "$?" 0 "rack-agent reimaged app:2 after app:1 was deleted"
on 1 GET "/api/v1/jobs/$JOB"
check_jq '.state == "done"' "the job is done"
cmp -s -n "$(stat -c %s "$TMP/v2.img")" "$TMP/v2.img" "$DISK" && ok "the disk holds app:2 exactly" ||
	fail "the disk differs from app:2"

# a pending push keeps the chunks it needs
on 1 POST /api/v1/images/app/versions/1 --data-binary "@$M1"
check_jq "(.missing | length) == $n1" "app:1 posted again: only its own chunks are missing"
on 1 DELETE /api/v1/images/app/versions/2
check_status 200 "delete app:2 while app:1 is pending"
kept=0
while read -r h s; do has_chunk 1 "$h" && kept=$((kept + 1)); done < <(chunks_of "$M1")
check_eq "$kept" "$((NDIST - n1))" "the chunks pending app:1 shares with app:2 are kept"
RACKD_TOKEN=${TOKENS[1]} push app:1 "$(url 1)"
check_eq "$RC" 0 "app:1 pushed again"
check_eq "$(pj '.racks[0].chunks_sent')" "$n1" "only its $n1 own chunks went"
on 1 POST /api/v1/images/other/versions/1 --data-binary "@$MO"
on 1 DELETE /api/v1/images/other/versions/1
check_status 200 "delete a pending push"
check_jq '.pending == true and .image == false' "it was pending, not an image"

# ---- rackctl drives a rack -------------------------------------------------------------------
export RACKD_TOKEN=${TOKENS[1]}
"$RACKCTL" images "$(url 1)" >"$TMP/out" && grep -q '^app  *1 ' "$TMP/out" && grep -q '^sig  *1 .* yes ' "$TMP/out" &&
	ok "rackctl images" || fail "rackctl images: $(cat "$TMP/out")"
"$RACKCTL" nodes "$(url 1)" --json | jq -e '.[0].slot == "usb1"' >/dev/null && ok "rackctl nodes --json" ||
	fail "rackctl nodes --json"
"$RACKCTL" nodes "$(url 1)" | grep -q '^usb1 ' && ok "rackctl nodes" || fail "rackctl nodes"
"$RACKCTL" jobs "$(url 1)" --node usb1 | grep -q "^$JOB .* done" && ok "rackctl jobs" || fail "rackctl jobs"
RACKD_TOKEN=nope-nope-nope "$RACKCTL" images "$(url 1)" >/dev/null 2>&1
check_eq "$?" 1 "rackctl images with a wrong token fails"

# reimage --wait: the job's result is the exit status
waitrun() {	# IMAGE OUTCOME(done|failed)
	timeout -k 5 60 "$RACKCTL" reimage "$(url 1)" usb1 "$1" --wait >"$TMP/wait.out" 2>"$TMP/wait.err" &
	local wpid=$! id="" tok i
	for ((i = 0; i < 100; i++)); do
		id=$(sqlite3 -cmd '.timeout 2000' "${STATES[1]}/rackd.db" \
			"select id from jobs where state = 'queued' order by id desc limit 1")
		[ -n "$id" ] && break
		sleep 0.1
	done
	tok=$(sqlite3 -cmd '.timeout 2000' "${STATES[1]}/rackd.db" "select token from jobs where id=$id")
	rep() { curl -s -o /dev/null -X POST -H "Authorization: Bearer $tok" -d "$1" \
		"$(url 1)/api/v1/agent/jobs/$id/report"; sleep 0.3; }
	rep '{"state": "streaming", "bytes_done": 1000, "bytes_fetched": 1000, "rate": 10}'
	if [ "$2" = done ]; then
		rep '{"state": "verifying", "bytes_done": 2000, "bytes_fetched": 1000, "rate": 10}'
		rep '{"state": "done", "bytes_done": 2000, "bytes_fetched": 1000, "rate": 10}'
	else
		rep '{"state": "failed", "reason": "disk on fire", "bytes_done": 1000}'
	fi
	wait "$wpid"
	WRC=$?
}
waitrun app:1 done
check_eq "$WRC" 0 "reimage --wait: a done job exits 0"
grep -q "streaming" "$TMP/wait.err" && grep -q "done" "$TMP/wait.err" && ok "reimage --wait shows the steps" ||
	fail "reimage --wait: $(cat "$TMP/wait.err")"
waitrun app:1 failed
check_eq "$WRC" 1 "reimage --wait: a failed job exits 1"
grep -q "disk on fire" "$TMP/wait.err" && ok "reimage --wait says why it failed" ||
	fail "reimage --wait: $(cat "$TMP/wait.err")"
"$RACKCTL" reimage "$(url 1)" usb9 app:1 >/dev/null 2>&1
check_eq "$?" 1 "reimage of an unknown slot fails"

# --help of each command; usage errors
for c in push keygen nodes images jobs reimage "image sign"; do
	# shellcheck disable=SC2086
	"$RACKCTL" $c --help | grep -q Usage && ok "rackctl $c --help" || fail "rackctl $c --help"
done
"$RACKCTL" push app:1 --store "$C" >/dev/null 2>&1
check_eq "$?" 2 "push without racks is a usage error"
"$RACKCTL" push app:1 "$(url 1)" "$(url 1)" --store "$C" >/dev/null 2>&1
check_eq "$?" 2 "a rack named twice is a usage error"
RACKD_TOKEN= "$RACKCTL" push app:1 "$(url 1)" --store "$C" >/dev/null 2>&1
check_eq "$?" 2 "a rack without a token is a usage error"

# the progress bar on a terminal (script gives rackctl one)
script -qec "$RACKCTL push app:1 $(url 1) $(url 4) --store $C" /dev/null >"$TMP/tty.out" 2>&1
grep -q 'all racks' "$TMP/tty.out" && grep -q '\[####################\] 100%' "$TMP/tty.out" &&
	ok "progress bars on a terminal" || fail "no progress bars: $(tail -c 400 "$TMP/tty.out")"
grep -q 'failed' "$TMP/tty.out" && ok "the table shows rack 4 refused the unsigned image" ||
	fail "the table: $(tail -c 400 "$TMP/tty.out")"
unset RACKD_TOKEN

for i in 1 2 3 4; do
	check_store "$i" "rack $i at the end"
	[ -z "$(ls "${STATES[$i]}/store/tmp")" ] || fail "rack $i: temporary files left"
done
finish
