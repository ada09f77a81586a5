#!/bin/bash
# tests/integration/capture.sh — capture (a node's disk becomes an image)
# with rack-agent against a real rackd on loopback, its "disk" a regular
# file (dev:FILE), and rackctl pull:
#   - a GPT disk with a vfat ESP and an ext4 partition holding files, its
#     free space full of random bytes first: the capture job ends done,
#     the image is committed and marked captured from the slot, and only
#     used blocks went up (bytes uploaded and chunk bytes against the
#     file systems' used size; random free space would be incompressible);
#   - a reimage of another disk (random) from the captured image: every
#     block ext4 uses and the ESP's reserved, FAT and root regions are
#     byte for byte the source's, the partition table too; e2fsck -n is
#     clean and the files read back (debugfs, mtype);
#   - a second capture after one file changed uploads only a few chunks;
#   - bad input: a version that exists (409), no version (400);
#   - rackctl pull to a store dir: the manifest and every chunk, verified;
#     a second pull fetches nothing;
#   - a rack with trusted_keys: the capture is committed, unsigned, and no
#     reimage takes it (403: catalog.c's trust rule);
#   - rackd killed while the agent uploads and started again: the agent
#     retries, goes on, and the capture ends done, its image whole;
#   - a chunk of the store gone bad (other content): a capture that reuses
#     it fails at its commit, nothing committed (the commit reads back
#     every chunk its upload did not add).
# Traffic goes to 127.0.0.1 only; everything is removed on exit.
source "$(dirname "$0")/../lib.sh"

for p in "$RACKD" "$RACKCTL" "$AGENT"; do
	[ -x "$p" ] || { echo "$p missing: run make"; exit 1; }
done
for c in jq sqlite3 python3 cmp timeout sfdisk mkfs.ext4 mkfs.vfat mcopy \
    mtype debugfs e2fsck dumpe2fs zstd; do
	command -v "$c" >/dev/null || { echo "$c is needed"; exit 1; }
done

source "$(dirname "$0")/../capture_lib.sh"

DISK=$TMP/disk.img
capture_make_disk "$DISK" "$TMP/tree"

rackd_start --slots n1,n2 --manage-links=no

# ---- bad input ----
api POST /api/v1/nodes/n1/capture -d '{"image":"golden"}' >/dev/null
check_status 400 "capture without a version refused"
api POST /api/v1/nodes/n9/capture -d '{"image":"golden:1"}' >/dev/null
check_status 404 "capture of a node that does not exist refused"

# ---- the capture ----
capture_job() {	# SLOT NAME:VERSION: sets JOB, JOB_TOKEN
	api POST "/api/v1/nodes/$1/capture" -d "{\"image\":\"$2\"}" >/dev/null
	check_status 202 "capture of $1 as $2 queued"
	JOB=$(printf '%s' "$BODY" | jq -r .id)
	JOB_TOKEN=$(job_token "$JOB")
}
capture_job n1 golden:1
check_eq "$(job_field "$JOB" .action)" capture "the job is a capture"
api GET /api/v1/job-states >/dev/null
check_jq '.[] | select(.name == "streaming") | .actions.capture | test("Reading the disk")' \
	"a capture's streaming has its own words"
run_agent "$TMP/cap1.log" --url "$URL" --job "$JOB" --token "$JOB_TOKEN"
check_eq "$RC" 0 "capture: agent exit status"
check_eq "$(job_field "$JOB" .state)" done "capture: job done"
check_eq "$(job_field "$JOB" .bytes_total)" "$(stat -c %s "$DISK")" \
	"capture: the job's total is the disk's size"
states=$(job_field "$JOB" '[.events[].state] | join(",")')
case ",$states," in
*,streaming,verifying,done,*) ok "capture: events streaming, verifying, done" ;;
*) fail "capture: events are $states" ;;
esac
grep -q "block bitmaps" "$TMP/cap1.log" && grep -q "FAT16 table\|FAT12 table" "$TMP/cap1.log" &&
	ok "capture: ext4 by its block bitmaps, vfat by its FAT" ||
	fail "capture: the file system methods are not in the log"
[ "$FAILS" -eq 0 ] || show_log "$TMP/cap1.log"

api GET /api/v1/images/golden >/dev/null
check_status 200 "golden listed"
check_eq "$(printf '%s' "$BODY" | jq -r '.versions[0].captured.slot')" n1 \
	"golden:1 marked as captured from n1"
check_eq "$(printf '%s' "$BODY" | jq -r '.versions[0].signed')" false \
	"golden:1 unsigned"
api POST /api/v1/nodes/n2/capture -d '{"image":"golden:1"}' >/dev/null
check_status 409 "capture to a version that exists refused"

M=$STATE/store/manifests/golden/1.json
uploaded=$(job_field "$JOB" .bytes_fetched)
stored=$(jq '[.chunks[].stored] | add' "$M")
data=$(jq '[.chunks[].length] | add' "$M")
disk=$(stat -c %s "$DISK")
check_eq "$uploaded" "$stored" "capture: uploaded every chunk's stored bytes once"
# The free space is random: had it gone up, it would not compress.
if [ "$uploaded" -le $((USED_BYTES + 4 * 1048576)) ] &&
    [ "$uploaded" -lt $((disk / 4)) ]; then
	ok "capture: $uploaded bytes uploaded, $data in chunks, file systems use $USED_BYTES of $disk"
else
	fail "capture: $uploaded bytes uploaded, $data in chunks, file systems use $USED_BYTES of $disk"
fi

# ---- a reimage from it ----
DISK_SRC=$DISK
DISK=$TMP/disk2.img
head -c "$disk" /dev/urandom >"$DISK"
reimage n2 golden:1
run_agent "$TMP/re.log" --url "$URL" --job "$JOB" --token "$JOB_TOKEN"
check_eq "$RC" 0 "reimage from golden:1: agent exit status"
check_eq "$(job_field "$JOB" .state)" done "reimage from golden:1: job done"
capture_compare "$DISK_SRC" "$DISK" "$TMP/tree"

# ---- a second capture after a small change ----
DISK=$DISK_SRC
capture_change_file "$DISK"
capture_job n1 golden:2
run_agent "$TMP/cap2.log" --url "$URL" --job "$JOB" --token "$JOB_TOKEN"
check_eq "$(job_field "$JOB" .state)" done "second capture: job done"
up2=$(job_field "$JOB" .bytes_fetched)
if [ "$up2" -gt 0 ] && [ "$up2" -le $((3 * 1048576)) ]; then
	ok "second capture: only changed chunks uploaded ($up2 bytes)"
else
	fail "second capture: $up2 bytes uploaded"
fi

# ---- rackctl pull ----
RACKD_TOKEN=$TOKEN "$RACKCTL" pull "$URL" golden:1 --store "$TMP/central" \
	>"$TMP/pull1.log" 2>&1
check_eq "$?" 0 "rackctl pull: exit status"
cmp -s "$M" "$TMP/central/manifests/golden/1.json" &&
	ok "rackctl pull: the manifest is the rack's" ||
	fail "rackctl pull: the manifest differs"
n=$(jq '[.chunks[].hash] | unique | length' "$M")
grep -q "fetched $n chunks" "$TMP/pull1.log" && ok "rackctl pull: fetched the $n chunks" ||
	{ fail "rackctl pull: did not fetch $n chunks"; cat "$TMP/pull1.log"; }
"$RACKCTL" image verify golden:1 --store "$TMP/central" >/dev/null 2>&1 &&
	ok "rackctl pull: the central store's image verifies" ||
	fail "rackctl pull: the central store's image does not verify"
RACKD_TOKEN=$TOKEN "$RACKCTL" pull "$URL" golden:1 --store "$TMP/central" \
	>"$TMP/pull2.log" 2>&1
check_eq "$?" 0 "second rackctl pull: exit status"
grep -q "fetched 0 chunks" "$TMP/pull2.log" && ok "second rackctl pull: nothing fetched" ||
	{ fail "second rackctl pull fetched something"; cat "$TMP/pull2.log"; }

# ---- a rack with trusted_keys ----
rackd_stop
"$RACKCTL" keygen --out "$TMP/sign.key" >/dev/null 2>&1 || fail "rackctl keygen"
PORT= STATE=$TMP/state2 RACKD_LOG=$TMP/rackd2.log
rackd_start --slots n1,n2 --manage-links=no --trusted-keys "$TMP/sign.key.pub"
capture_job n1 golden:9
run_agent "$TMP/cap9.log" --url "$URL" --job "$JOB" --token "$JOB_TOKEN"
check_eq "$(job_field "$JOB" .state)" done "trusted_keys: the capture is done"
api GET /api/v1/images/golden >/dev/null
check_eq "$(printf '%s' "$BODY" | jq -r '.versions[0] | "\(.version) \(.signed) \(.captured.slot)"')" \
	"9 false n1" "trusted_keys: golden:9 committed, unsigned, captured from n1"
api POST /api/v1/nodes/n2/reimage -d '{"image":"golden:9"}' >/dev/null
check_status 403 "trusted_keys: no reimage takes the unsigned capture"

# ---- rackd killed mid-upload ----
capture_change_file "$DISK" big.bin 6000000
capture_job n1 golden:10
timeout -k 5 "$AGENT_TIMEOUT" "$AGENT" --no-reboot --cmdline /dev/null \
	--disk "dev:$DISK" --url "$URL" --job "$JOB" --token "$JOB_TOKEN" \
	>"$TMP/cap10.log" 2>&1 &
AGENT_PID=$!
on_exit "kill $AGENT_PID"
manifest_in() { grep -q "push golden:10: manifest of" "$RACKD_LOG"; }
wait_for 400 manifest_in || fail "cut: the manifest never came"
kill -9 "$RACKD_PID"
wait "$RACKD_PID" 2>/dev/null
sleep 1
rackd_start --slots n1,n2 --manage-links=no --trusted-keys "$TMP/sign.key.pub"
wait "$AGENT_PID"
check_eq "$?" 0 "cut: agent exit status"
check_eq "$(job_field "$JOB" .state)" done "cut: the capture is done after rackd came back"
grep -q "again in" "$TMP/cap10.log" && ok "cut: the agent retried across the restart" ||
	{ fail "cut: no retry in the agent's log"; show_log "$TMP/cap10.log"; }
"$RACKCTL" image verify golden:10 --store "$STATE/store" >/dev/null 2>&1 &&
	ok "cut: golden:10 verifies in the rack's store" || fail "cut: golden:10 does not verify"

# ---- a chunk the store had, gone bad: the commit still reads it back ----
# golden:11 of the same disk uploads nothing (the rack has every chunk), so
# its commit reads back each chunk; one is made another valid frame of
# other content (its hash no longer matches): the capture must fail.
bad=$(jq -r '[.chunks[] | select(.length == 1048576)] | .[length / 2 | floor].hash' \
	"$STATE/store/manifests/golden/10.json")
head -c 1048576 /dev/urandom | zstd -q -c >"$TMP/other.zst"
cat "$TMP/other.zst" >"$STATE/store/chunks/${bad:0:2}/$bad"
capture_job n1 golden:11
run_agent "$TMP/cap11.log" --url "$URL" --job "$JOB" --token "$JOB_TOKEN" \
	--deadline 5
[ "$RC" -ne 0 ] && ok "bad chunk: the agent failed (status $RC)" ||
	fail "bad chunk: the agent ended well"
check_eq "$(job_field "$JOB" .state)" failed "bad chunk: the capture failed"
[ ! -e "$STATE/store/manifests/golden/11.json" ] &&
	ok "bad chunk: nothing committed" || fail "bad chunk: golden:11 committed"
grep -q "${bad:0:16}" "$RACKD_LOG" "$TMP/cap11.log" &&
	ok "bad chunk: the chunk is named" ||
	{ fail "bad chunk: the chunk is not named"; show_log "$TMP/cap11.log"; }

finish
