#!/bin/bash
# tests/integration/push_rack.sh — rackctl driving real rackd on loopback:
# rackctl nodes, images, jobs, reimage --wait (exit status from the job),
# a wrong token, --help of each command, usage errors, and the progress
# bars and the table on a terminal. Loopback only.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lib_push.sh"

central app:1 sig:1
"$RACKCTL" keygen --out "$TMP/key" >/dev/null || { echo "setup: rackctl keygen"; exit 1; }
"$RACKCTL" image sign sig:1 --key "$TMP/key" --store "$C" >/dev/null || { echo "setup: sign"; exit 1; }
start_rack 1 --slots usb1
start_rack 4 --trusted-keys "$TMP/key.pub"
given_push 1 app:1
given_push 1 sig:1
# A done job on usb1, its agent's reports sent by hand.
on 1 POST /api/v1/nodes/usb1/reimage -d '{"image": "app:1"}'
JOB=$(jq -r .id <<<"$BODY")
TOK=$(sqlite3 -cmd '.timeout 2000' "${STATES[1]}/rackd.db" "select token from jobs where id=$JOB")
agent_report 1 "$JOB" "$TOK" '{"state": "streaming", "bytes_done": 0, "bytes_fetched": 0, "rate": 0}'
agent_report 1 "$JOB" "$TOK" '{"state": "verifying", "bytes_done": 1000, "bytes_fetched": 1000, "rate": 10}'
agent_report 1 "$JOB" "$TOK" '{"state": "done", "bytes_done": 1000, "bytes_fetched": 1000, "rate": 10}'

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
	agent_report 1 "$id" "$tok" '{"state": "streaming", "bytes_done": 1000, "bytes_fetched": 1000, "rate": 10}'
	if [ "$2" = done ]; then
		agent_report 1 "$id" "$tok" '{"state": "verifying", "bytes_done": 2000, "bytes_fetched": 1000, "rate": 10}'
		agent_report 1 "$id" "$tok" '{"state": "done", "bytes_done": 2000, "bytes_fetched": 1000, "rate": 10}'
	else
		agent_report 1 "$id" "$tok" '{"state": "failed", "reason": "disk on fire", "bytes_done": 1000}'
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


check_racks_end 1
finish
