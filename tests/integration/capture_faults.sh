#!/bin/bash
# tests/integration/capture_faults.sh — a capture's bad input, rack-agent
# run as a process on a disk file (dev:FILE) in a namespace of its own,
# rackd in another, a veth pair between them shaped to 16 Mbit/s by tc so
# the upload lasts some seconds:
#   - the disk smaller than claimed: the file is truncated once the agent
#     has posted its manifest (it reads the chunks rackd lacks again): the
#     job fails saying the disk shrank, and rackd commits nothing (no
#     manifest, the version not listed), and the same version can be
#     captured again from the whole disk;
#   - the link cut mid-upload (the agent's end down for 5 s, then up): the
#     agent goes on, the capture ends done and the image verifies.
# Root only; traffic stays inside the namespaces; everything is removed on
# exit.
source "$(dirname "$0")/../lib.sh"

for p in "$RACKD" "$RACKCTL" "$AGENT"; do
	[ -x "$p" ] || { echo "$p missing: run make"; exit 1; }
done
for c in jq sqlite3 tc ip sfdisk mkfs.ext4 mkfs.vfat mcopy debugfs dumpe2fs; do
	command -v "$c" >/dev/null || { echo "$c is needed"; exit 1; }
done
source "$(dirname "$0")/../capture_lib.sh"

DISK=$TMP/disk.img
capture_make_disk "$DISK" "$TMP/tree"
capture_change_file "$DISK" big.bin 6000000
cp --sparse=always "$DISK" "$TMP/whole.img"

ns_add snd
ns_add rcv
ip link add v0 netns "$NS-snd" type veth peer name v1 netns "$NS-rcv" ||
	{ echo "cannot make the veth pair"; exit 1; }
ip -n "$NS-snd" addr add 10.251.1.1/30 dev v0
ip -n "$NS-rcv" addr add 10.251.1.2/30 dev v1
ip -n "$NS-snd" link set v0 up
ip -n "$NS-rcv" link set v1 up
in_ns snd tc qdisc add dev v0 root tbf rate 16mbit burst 32kb latency 400ms ||
	{ echo "cannot shape v0"; exit 1; }

RACKD_NS=rcv
rackd_start --slots n1 --manage-links=no
AURL="http://10.251.1.2:$PORT"

capture_bg() {	# NAME:VERSION LOG: queues the capture, starts the agent
	api POST /api/v1/nodes/n1/capture -d "{\"image\":\"$1\"}" >/dev/null
	check_status 202 "capture as $1 queued"
	JOB=$(printf '%s' "$BODY" | jq -r .id)
	in_ns snd timeout -k 5 "$AGENT_TIMEOUT" "$AGENT" --no-reboot \
		--cmdline /dev/null --disk "dev:$DISK" --url "$AURL" --job "$JOB" \
		--token "$(job_token "$JOB")" >"$2" 2>&1 &
	AGENT_PID=$!
	on_exit "kill $AGENT_PID"
	MARK=$1
	wait_for 600 manifest_in || fail "$1: the manifest never came"
}
manifest_in() { grep -q "push $MARK: manifest of" "$RACKD_LOG"; }

# ---- the disk shrinks under the agent ----
capture_bg golden:1 "$TMP/short.log"
truncate -s $((1 << 20)) "$DISK"
wait "$AGENT_PID"
rc=$?
[ "$rc" -ne 0 ] && ok "short disk: the agent failed (status $rc)" ||
	fail "short disk: the agent ended well on a truncated disk"
check_eq "$(job_field "$JOB" .state)" failed "short disk: the job failed"
reason=$(job_field "$JOB" .reason)
case $reason in
*"disk shrank under the capture"*) ok "short disk: the reason says so: $reason" ;;
*) fail "short disk: the reason is \"$reason\""; show_log "$TMP/short.log" ;;
esac
[ ! -e "$STATE/store/manifests/golden/1.json" ] &&
	ok "short disk: no manifest committed" || fail "short disk: a manifest was committed"
api GET /api/v1/images/golden >/dev/null
[ "$STATUS" = 404 ] || [ "$(printf '%s' "$BODY" | jq '.versions | length')" = 0 ] &&
	ok "short disk: golden:1 is not listed" || fail "short disk: golden listed: $BODY"
check_eq "$(sql "SELECT count(*) FROM images WHERE name = 'golden'")" 0 \
	"short disk: no image row"

# ---- the same version again, from the whole disk ----
cp --sparse=always "$TMP/whole.img" "$DISK"
capture_bg golden:1 "$TMP/again.log"
wait "$AGENT_PID"
check_eq "$?" 0 "again: agent exit status"
check_eq "$(job_field "$JOB" .state)" done "again: golden:1 captured after the failed one"
"$RACKCTL" image verify golden:1 --store "$STATE/store" >/dev/null 2>&1 &&
	ok "again: golden:1 verifies" || fail "again: golden:1 does not verify"

# ---- the link cut mid-upload ----
capture_change_file "$DISK" big2.bin 6000000
capture_bg golden:2 "$TMP/cut.log"
sleep 1
ip -n "$NS-snd" link set v0 down
cut_at=$(job_field "$JOB" .bytes_fetched)
sleep 5
kill -0 "$AGENT_PID" 2>/dev/null && ok "cut: the agent still runs with the link down" ||
	fail "cut: the agent ended while the link was down"
ip -n "$NS-snd" link set v0 up
in_ns snd tc qdisc replace dev v0 root tbf rate 16mbit burst 32kb latency 400ms
wait "$AGENT_PID"
check_eq "$?" 0 "cut: agent exit status"
check_eq "$(job_field "$JOB" .state)" done "cut: the capture is done after the link came back"
after=$(job_field "$JOB" .bytes_fetched)
[ "$cut_at" -lt "$after" ] &&
	ok "cut: the link went down mid-upload ($cut_at of $after bytes up)" ||
	fail "cut: the upload was over before the cut ($cut_at of $after bytes)"
"$RACKCTL" image verify golden:2 --store "$STATE/store" >/dev/null 2>&1 &&
	ok "cut: golden:2 verifies in the rack's store" || fail "cut: golden:2 does not verify"
[ "$FAILS" -eq 0 ] || show_log "$TMP/cut.log"

finish
