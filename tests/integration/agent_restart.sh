#!/bin/bash
# tests/integration/agent_restart.sh — rack-agent against a real rackd on
# loopback, writing a 160 MiB image to a regular file as its "disk":
#   - rackd killed (SIGKILL) mid-stream and restarted: the agent retries,
#     resumes, and the job ends done with a correct disk;
#   - the job cancelled mid-stream: the agent stops with status 3.
# Traffic goes to 127.0.0.1 only; everything is removed on exit.
# VERBOSE=1 shows the agent's console of the rackd restart case.
source "$(dirname "$0")/../lib.sh"

for p in "$RACKD" "$RACKCTL" "$AGENT"; do
	[ -x "$p" ] || { echo "$p missing: run make"; exit 1; }
done
for c in jq sqlite3 cmp timeout; do
	command -v "$c" >/dev/null || { echo "$c is needed"; exit 1; }
done

MiB=1048576
DISK=$TMP/disk.img
STATE=$TMP/state
rackd_start --slots n1,n2 --manage-links=no

# agent_streaming LOG: the agent on job $JOB in the background (its pid in
# agent_pid), once the job streams.
agent_streaming() {
	timeout -k 5 "$AGENT_TIMEOUT" "$AGENT" --no-reboot --cmdline /dev/null \
		--disk "dev:$DISK" --url "$URL" --job "$JOB" --token "$JOB_TOKEN" \
		>"$1" 2>&1 &
	agent_pid=$!
	on_exit "kill -9 $agent_pid"
	for ((i = 0; i < 200; i++)); do
		[ "$(sql "select state from jobs where id=$JOB")" = streaming ] && break
		sleep 0.02
	done
}

# ---- rackd killed mid-stream and restarted on the same port ----
# The agent retries, resumes, and the job still ends done with a correct
# disk (or failed with a reason: never done with a wrong disk).
BIG=$TMP/big.img
head -c $((160 * MiB)) /dev/urandom >"$BIG"
"$RACKCTL" image import "$BIG" --name big:1 --store "$STATE/store" -l 1 -q \
	|| fail "import of big:1"
kill -HUP "$RACKD_PID"
wait_image big 1 || fail "big:1 not indexed"
reimage n1 big:1
truncate -s $((160 * MiB)) "$DISK"
agent_streaming "$TMP/agent7.log"
kill -9 "$RACKD_PID"
wait "$RACKD_PID" 2>/dev/null
sleep 2
rackd_start --slots n1,n2 --manage-links=no
wait "$agent_pid"
RC=$?
[ -n "${VERBOSE:-}" ] && show_log "$TMP/agent7.log"
state=$(job_field "$JOB" .state)
if [ "$RC" -eq 0 ] && [ "$state" = done ]; then
	ok "rackd restarted mid-stream: job done"
	cmp -s "$BIG" "$DISK" && ok "rackd restarted mid-stream: disk holds the image" \
		|| fail "rackd restarted mid-stream: done, but the disk differs"
elif [ "$state" = failed ] && [ -n "$(job_field "$JOB" .reason)" ]; then
	ok "rackd restarted mid-stream: failed with reason $(job_field "$JOB" .reason)"
else
	fail "rackd restarted mid-stream: agent $RC, job $state"
	show_log "$TMP/agent7.log"
fi
grep -q "again in" "$TMP/agent7.log" && ok "rackd restarted mid-stream: the agent retried" \
	|| echo "note: the agent finished before rackd went down"

# ---- the job cancelled while the agent streams ----
# The agent hears it on its next report (within REPORT_INTERVAL_MS), or at
# the latest on done, and stops with status 3; the job stays failed.
reimage n1 big:1
head -c $((160 * MiB)) /dev/urandom >"$DISK"
agent_streaming "$TMP/agent8.log"
api POST "/api/v1/jobs/$JOB/cancel" -d '{}' >/dev/null
cancel_status=$STATUS
wait "$agent_pid"
RC=$?
state=$(job_field "$JOB" .state)
if [ "$cancel_status" = 200 ]; then
	check_eq "$RC" 3 "cancelled mid-stream: the agent stops with status 3"
	check_eq "$state" failed "cancelled mid-stream: the job stays failed"
	grep -q "no longer active" "$TMP/agent8.log" && ok "cancelled mid-stream: the agent says why" \
		|| { fail "cancelled mid-stream: no message"; show_log "$TMP/agent8.log"; }
else
	echo "note: the agent finished before the cancel (cancel: $cancel_status)"
	check_eq "$state" done "cancel too late: the job is done"
fi


finish
