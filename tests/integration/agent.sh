#!/bin/bash
# tests/integration/agent.sh — rack-agent against a real rackd on loopback,
# writing to a regular file as its "disk" (dev:FILE):
#   - a full reimage onto a disk full of garbage: exit 0, job done, the disk
#     holds exactly the image, nothing past the image touched, the event log
#     shows streaming, verifying, done;
#   - a delta reimage to a version differing in a few chunks (one hole
#     becomes data, one data slot becomes a hole, the unaligned tail
#     changes): only the changed chunks are fetched;
#   - the same image again: nothing fetched;
#   - a chunk corrupted in the store (a valid zstd frame of other content):
#     the job fails with a hash-mismatch reason, never done, and the bad
#     data never reaches the disk;
#   - another job's token: 401, the agent exits non-zero saying so;
#   - rackd unreachable: the agent gives up after its deadline.
# rackd killed or the job cancelled mid-stream: agent_restart.sh.
# Traffic goes to 127.0.0.1 only; everything is removed on exit.
source "$(dirname "$0")/../lib.sh"

for p in "$RACKD" "$RACKCTL" "$AGENT"; do
	[ -x "$p" ] || { echo "$p missing: run make"; exit 1; }
done
for c in jq sqlite3 zstd python3 cmp timeout; do
	command -v "$c" >/dev/null || { echo "$c is needed"; exit 1; }
done

MiB=1048576
SIZE=$((24 * MiB + 12345))	# 24 chunk slots and an unaligned tail
DISK=$TMP/disk.img

# make_image VERSION FILE: deterministic test images. Version 1: random,
# compressible and zero slots, a half-zero slot, a random tail. Version 2:
# slot 2 new, slot 8 with a few bytes changed, slot 3 zero -> data, slot 5
# data -> zero, a new tail. Version 3: version 2 with slot 14 new.
make_image() {
	python3 - "$1" "$2" "$SIZE" <<'EOF'
import random, sys
ver, path, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
MiB = 1 << 20
zero = {0, 3, 4, 10, 11, 12, 20}
def slot(i, v):
    r = random.Random(1000 + i)
    if v >= 2 and i == 2:
        r = random.Random(2002)
    if v >= 3 and i == 14:
        r = random.Random(3014)
    if v >= 2 and i == 5:
        return bytes(MiB)
    if i in zero and not (v >= 2 and i == 3):
        return bytes(MiB)
    if i == 7:
        return r.randbytes(MiB // 2) + bytes(MiB // 2)
    if i % 3 == 0 and i != 3:
        line = ("rackd test image slot %d " % i).encode()
        return (line * (MiB // len(line) + 1))[:MiB]
    b = bytearray(r.randbytes(MiB))
    if v >= 2 and i == 8:
        b[4096:4100] = b"v2v2"
    return bytes(b)
with open(path, "wb") as f:
    for i in range(24):
        f.write(slot(i, ver))
    f.write(random.Random(7 + (ver >= 2)).randbytes(size - 24 * MiB))
EOF
}

# stored_delta OLD NEW: stored bytes of NEW's chunks that OLD does not have
# at the same offset with the same hash.
stored_delta() {
	jq -n --slurpfile a "$1" --slurpfile b "$2" '
	    ($a[0].chunks | map({key: "\(.offset)", value: .hash}) | from_entries) as $old
	    | [$b[0].chunks[] | select($old["\(.offset)"] != .hash) | .stored] | add // 0'
}

# ---- images and rackd ----
make_image 1 "$TMP/v1.img"
make_image 2 "$TMP/v2.img"
make_image 3 "$TMP/v3.img"
mkdir -p "$TMP/state"
STATE=$TMP/state
"$RACKCTL" image import "$TMP/v1.img" --name test:1 --store "$STATE/store" -q \
	|| { echo "import of test:1 failed"; exit 1; }
"$RACKCTL" image show test:1 --store "$STATE/store" --json >"$TMP/m1.json"

rackd_start --slots n1,n2 --manage-links=no
api GET /api/v1/images/test >/dev/null
check_status 200 "image test:1 indexed at start"

# agent_reimage WHAT IMAGE FILE LOG: reimages n1 with IMAGE, the agent run
# to its end on $DISK; checks its exit status, the job done and the disk
# holding FILE's bytes.
agent_reimage() {
	reimage n1 "$2"
	run_agent "$4" --url "$URL" --job "$JOB" --token "$JOB_TOKEN"
	check_eq "$RC" 0 "$1: agent exit status"
	check_eq "$(job_field "$JOB" .state)" done "$1: job done"
	if cmp -s -n "$SIZE" "$3" "$DISK"; then ok "$1: disk holds $2"
	else fail "$1: disk differs: $(cmp -n "$SIZE" "$3" "$DISK" 2>&1)"; fi
}

# ---- full reimage onto garbage ----
head -c $((SIZE + 3 * MiB)) /dev/urandom >"$DISK"
tail -c +$((SIZE + 1)) "$DISK" >"$TMP/beyond"
agent_reimage "full reimage" test:1 "$TMP/v1.img" "$TMP/agent1.log"
if cmp -s "$TMP/beyond" <(tail -c +$((SIZE + 1)) "$DISK"); then ok "full reimage: nothing past the image written"
else fail "full reimage: bytes past the image changed"; fi
states=$(job_field "$JOB" '[.events[].state] | join(",")')
case ",$states," in
*,streaming,verifying,done,*) ok "full reimage: events streaming, verifying, done ($states)" ;;
*) fail "full reimage: events are $states" ;;
esac
fetched=$(job_field "$JOB" .bytes_fetched)
want=$(jq '[.chunks[].stored] | add' "$TMP/m1.json")
check_eq "$fetched" "$want" "full reimage: fetched every chunk's stored bytes once"
grep -q "streaming" "$TMP/agent1.log" && ok "full reimage: progress on the console" \
	|| fail "full reimage: no progress line on the console"
[ "$FAILS" -eq 0 ] || show_log "$TMP/agent1.log"

# ---- delta reimage ----
"$RACKCTL" image import "$TMP/v2.img" --name test:2 --store "$STATE/store" -q \
	|| fail "import of test:2"
"$RACKCTL" image show test:2 --store "$STATE/store" --json >"$TMP/m2.json"
kill -HUP "$RACKD_PID"
wait_image test 2 && ok "test:2 indexed after SIGHUP" || fail "test:2 not indexed"
delta=$(stored_delta "$TMP/m1.json" "$TMP/m2.json")
agent_reimage "delta reimage" test:2 "$TMP/v2.img" "$TMP/agent2.log"
fetched=$(job_field "$JOB" .bytes_fetched)
margin=$((64 * 1024))
if [ "$delta" -gt 0 ] && [ "$fetched" -ge "$delta" ] && [ "$fetched" -le $((delta + margin)) ]; then
	ok "delta reimage: fetched $fetched bytes, changed chunks hold $delta"
else
	fail "delta reimage: fetched $fetched bytes, changed chunks hold $delta (margin $margin)"
fi
[ "$FAILS" -eq 0 ] || show_log "$TMP/agent2.log"

# ---- the same image again: nothing to fetch ----
agent_reimage "same image again" test:2 "$TMP/v2.img" "$TMP/agent3.log"
check_eq "$(job_field "$JOB" .bytes_fetched)" 0 "same image again: nothing fetched"

# ---- a corrupted chunk in the store ----
"$RACKCTL" image import "$TMP/v3.img" --name test:3 --store "$STATE/store" -q \
	|| fail "import of test:3"
"$RACKCTL" image show test:3 --store "$STATE/store" --json >"$TMP/m3.json"
kill -HUP "$RACKD_PID"
wait_image test 3 || fail "test:3 not indexed"
bad=$(jq -r --argjson off $((14 * MiB)) '.chunks[] | select(.offset == $off) | .hash' "$TMP/m3.json")
badfile=$STATE/store/chunks/${bad:0:2}/$bad
if [ -f "$badfile" ]; then
	# Same length, other content, one zstd frame with its content size.
	head -c "$MiB" /dev/urandom >"$TMP/other"
	zstd -q -f -3 "$TMP/other" -o "$TMP/other.zst"
	cat "$TMP/other.zst" >"$badfile"
else
	fail "chunk file $badfile not found"
fi
reimage n1 test:3
run_agent "$TMP/agent4.log" --url "$URL" --job "$JOB" --token "$JOB_TOKEN"
[ "$RC" -ne 0 ] && ok "corrupt chunk: agent exits $RC" || fail "corrupt chunk: agent exit status 0"
check_eq "$(job_field "$JOB" .state)" failed "corrupt chunk: job failed"
reason=$(job_field "$JOB" .reason)
case "$reason" in
*"hash mismatch for chunk"*"$bad"*) ok "corrupt chunk: reason \"$reason\"" ;;
*) fail "corrupt chunk: reason is \"$reason\"" ;;
esac
if job_field "$JOB" '[.events[].state] | index("done")' | grep -qx null; then
	ok "corrupt chunk: never done"
else
	fail "corrupt chunk: the event log has done"
fi
if cmp -s -n "$MiB" -i $((14 * MiB)):$((14 * MiB)) "$TMP/v2.img" "$DISK"; then
	ok "corrupt chunk: the bad data never reached the disk"
else
	fail "corrupt chunk: the slot of the bad chunk was written"
fi
[ "$FAILS" -eq 0 ] || show_log "$TMP/agent4.log"

# ---- another job's token ----
reimage n1 test:2
job_a=$JOB
reimage n2 test:2
token_b=$JOB_TOKEN
run_agent "$TMP/agent5.log" --url "$URL" --job "$job_a" --token "$token_b"
[ "$RC" -ne 0 ] && ok "wrong token: agent exits $RC" || fail "wrong token: agent exit status 0"
grep -q "refused the token.*HTTP 401" "$TMP/agent5.log" && ok "wrong token: says rackd refused it (401)" \
	|| { fail "wrong token: no clear message"; show_log "$TMP/agent5.log"; }
check_eq "$(job_field "$job_a" .state)" queued "wrong token: the job is untouched"

# ---- rackd unreachable ----
dead=$(free_port)
start=$(date +%s)
run_agent "$TMP/agent6.log" --url "http://127.0.0.1:$dead" --job 1 --token abcd --deadline 2
[ "$RC" -ne 0 ] && ok "no rackd: agent exits $RC" || fail "no rackd: agent exit status 0"
[ $(($(date +%s) - start)) -le 20 ] && ok "no rackd: gave up within its deadline" \
	|| fail "no rackd: took $(($(date +%s) - start)) s"
grep -q "cannot get job 1" "$TMP/agent6.log" && ok "no rackd: says so" \
	|| { fail "no rackd: no clear message"; show_log "$TMP/agent6.log"; }

finish

