#!/bin/bash
# tests/integration/power_command.sh — per-slot power control with the
# "command" method, on a real rackd on loopback: a [power.n1] section runs
# a script of the test's folder that logs its argv; on, off and cycle jobs
# and status through the API, the argv exactly PROGRAM OP SLOT, the secret
# in the environment and never in the API nor the log, a hanging program
# killed at its timeout, the 409s of a slot without a method (or with one
# that cannot), PATCH settings (kept 0600, winning over the file, removed
# with null), a bad section refused by -n, a reimage job that cycles the
# server (and once more at boot_timeout, then "no boot"), and the polling
# that stops after three failures in a row. Loopback only.
source "$(dirname "$0")/../lib.sh"

[ -x "$RACKD" ] || { echo "build/rackd missing: run make"; exit 1; }
[ -x "$RACKCTL" ] || { echo "build/rackctl missing: run make"; exit 1; }

# What the program writes, where rackd's user may write.
PD=$TMP/p
mkdir -m 1777 "$PD"
LOG=$PD/power.log	# one line a call: "ARGC ARG1 ARG2 ..."
ENVLOG=$PD/power.env
POWER=$TMP/power.sh
printf 'on\n' >"$PD/pstate"
: >"$LOG"
chmod 666 "$LOG" "$PD/pstate"
cat >"$POWER" <<EOS
#!/bin/sh
echo "\$# \$*" >>"$LOG"
echo "pw=\${RACKD_POWER_PASSWORD:-}" >"$ENVLOG"
[ -e "$PD/hang" ] && { echo \$\$ >"$PD/hang.\$1.pid"; exec sleep 30; }
[ -e "$PD/broken" ] && { echo "BMC says: wrong password"; exit 3; }
case "\$1" in
status) cat "$PD/pstate" ;;
on|cycle) echo on >"$PD/pstate" ;;
off) echo off >"$PD/pstate" ;;
esac
exit 0
EOS
chmod 755 "$POWER"

CONF=$TMP/rackd.conf
cat >"$CONF" <<EOF2
[rackd]
slots = n1,n2,n1.bmc
boot_timeout = 10

[power.n1]
method = command
program = $POWER
timeout = 5
password = s3cret-pw
EOF2

# ---- a bad section is a clear configuration error -----------------------
cat >"$TMP/bad.conf" <<EOF2
[power.n1]
method = command
program = $POWER
timeout = 99
EOF2
out=$("$RACKD" -n -c "$TMP/bad.conf" 2>&1); rc=$?
check_eq "$rc" 1 "rackd -n refuses a bad [power.n1]"
case "$out" in *"[power.n1]"*timeout*) ok "the error names the slot and key: $out" ;;
*) fail "the error does not name [power.n1] and timeout: $out" ;; esac
printf '[power.n1]\nmethod = nope\n' >"$TMP/bad2.conf"
out=$("$RACKD" -n -c "$TMP/bad2.conf" 2>&1)
case "$out" in *"[power.n1]"*"method: one of"*) ok "an unknown method: $out" ;;
*) fail "unknown method not named: $out" ;; esac
out=$("$RACKD" -n -c "$CONF" 2>&1)
check_eq "$out" "configuration OK" "rackd -n takes the good section"

rackd_start -c "$CONF"

# ---- settings shown, secrets not --------------------------------------------
api GET /api/v1/nodes/n1 >/dev/null
check_status 200 "GET node n1"
check_jq '.power.method == "command" and .power.can == ["on","off","cycle","status"]' "n1's method and what it can"
check_jq '.power.settings.password == {"set": true} and .power.settings.timeout == "5"' "the password shown as set"
case "$BODY" in *s3cret*) fail "the secret is in GET /api/v1/nodes/n1" ;; *) ok "no secret in the node" ;; esac
api GET /api/v1/nodes >/dev/null
case "$BODY" in *s3cret*) fail "the secret is in GET /api/v1/nodes" ;; *) ok "no secret in the nodes" ;; esac
check_jq '.[] | select(.slot == "n2") | .power.method == null and (.power.note | test("switch the server on"))' "n2 has no method and says so"

# ---- a BMC link's node is the BMC of its slot: no power method, no reimage ---------
api GET /api/v1/nodes/n1.bmc >/dev/null
check_jq '.bmc_of == "n1" and .power.method == null and .power.can == []' "n1.bmc is the BMC of n1"
check_jq '(.power.note | test("the BMC of slot n1")) and (.power.note | test("switch the server on") | not)' \
	"its note says whose BMC it is, not to switch it on: $(printf '%s' "$BODY" | jq -c .power.note)"
api POST /api/v1/nodes/n1.bmc/reimage -d '{"image":"test:1"}' >/dev/null
check_error 409 "no reimage of a BMC"
check_jq '.error | test("BMC of slot n1")' "the 409 says whose BMC it is"
for action in inventory erase capture; do
	body='{}'
	[ "$action" = capture ] && body='{"image":"cap:1"}'
	api POST "/api/v1/nodes/n1.bmc/$action" -d "$body" >/dev/null
	check_error 409 "no $action of a BMC"
	check_jq '.error | test("BMC of slot n1")' "the $action's 409 says whose BMC it is"
done
api POST /api/v1/nodes/n1.bmc/power -d '{"action":"cycle"}' >/dev/null
check_error 409 "no power op of a BMC without a method"
check_jq '.error | test("power the server through slot n1")' "the 409 points at n1"

# ---- jobs: on, off, cycle ------------------------------------------------------
power_job() {	# OP: a job through the API that ends done (a check)
	api POST /api/v1/nodes/n1/power -d "{\"action\":\"$1\"}" >/dev/null
	check_status 202 "power $1 queued"
	check_jq ".action == \"power_$1\" and .slot == \"n1\"" "the job of power $1"
	local id
	id=$(printf '%s' "$BODY" | jq .id)
	wait_for 50 job_ended "$id"
	check_eq "$(job_field "$id" .state)" done "power $1 job done"
	JOBID=$id
}
: >"$LOG"
power_job off
check_eq "$(grep -v '^2 status' "$LOG" | tail -n 1)" "2 off n1" "argv: PROGRAM off n1"
check_eq "$(cat "$ENVLOG")" "pw=s3cret-pw" "the secret reaches the program in its environment"
power_job on
check_eq "$(grep -v '^2 status' "$LOG" | tail -n 1)" "2 on n1" "argv: PROGRAM on n1"
power_job cycle
check_eq "$(grep -v '^2 status' "$LOG" | tail -n 1)" "2 cycle n1" "argv: PROGRAM cycle n1"
check_eq "$(job_field "$JOBID" '[.events[].state] | join(",")')" "queued,done" "a power job: queued, then done"

echo off >"$PD/pstate"
api POST /api/v1/nodes/n1/power -d '{"action":"status"}' >/dev/null
check_status 200 "power status"
check_jq '.state == "off"' "status: off, as the program printed"
check_eq "$(tail -n 1 "$LOG")" "2 status n1" "argv: PROGRAM status n1"
api GET /api/v1/nodes/n1 >/dev/null
check_jq '.power.state == "off" and (.power.checked | type) == "number" and .power.error == null' "the node shows the state"

# ---- rackctl power ------------------------------------------------------------------
out=$(RACKD_TOKEN=$TOKEN timeout 30 "$RACKCTL" power "$URL" n1 on 2>&1); rc=$?
check_eq "$rc" 0 "rackctl power on: exit 0"
case "$out" in "job "*": power on of n1: done") ok "rackctl prints the job's result" ;;
*) fail "rackctl power on printed: $out" ;; esac
check_eq "$(grep -v '^2 status' "$LOG" | tail -n 1)" "2 on n1" "rackctl's on reached the program"
out=$(RACKD_TOKEN=$TOKEN timeout 30 "$RACKCTL" power "$URL" n1 status 2>&1)
check_eq "$out" "n1: on" "rackctl power status"
out=$(RACKD_TOKEN=$TOKEN timeout 30 "$RACKCTL" power "$URL" n2 cycle 2>&1); rc=$?
check_eq "$rc" 1 "rackctl power of a slot without a method: exit 1"
case "$out" in *"no power method for slot n2"*) ok "and says why" ;; *) fail "rackctl said: $out" ;; esac
RACKD_TOKEN=$TOKEN "$RACKCTL" power "$URL" n1 reboot >/dev/null 2>&1
check_eq "$?" 2 "rackctl power with a bad action: usage error"

# ---- refusals ----------------------------------------------------------------------
api POST /api/v1/nodes/n2/power -d '{"action":"on"}' >/dev/null
check_error 409 "power on without a method"
check_jq '.error == "no power method for slot n2: switch the server on by hand now"' "its words"
for body in '{}' '{"action":"reboot"}' '{"action":1}' 'nope'; do
	api POST /api/v1/nodes/n1/power -d "$body" >/dev/null
	check_error 400 "power body $body"
done
api POST /api/v1/nodes/n9/power -d '{"action":"on"}' >/dev/null
check_error 404 "power of an unknown node"
api PATCH /api/v1/nodes/n2 -d '{"power":{"method":"wol"}}' >/dev/null
check_status 200 "PATCH n2 power wol"
check_jq '.power.method == "wol" and .power.can == ["on"] and .power.note == "Wake-on-LAN can only switch on"' "wol: can only switch on"
api POST /api/v1/nodes/n2/power -d '{"action":"off"}' >/dev/null
check_error 409 "wol cannot switch off"
check_jq '.error | test("can: on") and test("Wake-on-LAN can only switch on")' "the 409 says what it can"
for p in '{"method":"nope"}' '{"method":"command","program":"power.sh"}' \
    '{"method":"command","program":"'"$POWER"'","timeout":0}' \
    '{"method":"command","program":"'"$POWER"'","x":1}' '{"method":"wol","port":"abc"}' '5'; do
	api PATCH /api/v1/nodes/n2 -d "{\"power\":$p}" >/dev/null
	check_error 400 "PATCH power $p"
done
api PATCH /api/v1/nodes/n2 -d '{"power":null}' >/dev/null
check_jq '.power.method == null' "power null removes n2's method"
[ -e "$STATE/power/n2.json" ] && fail "n2.json left behind" || ok "n2.json removed"

# ---- a PATCH whose database update fails changes no power settings ---------------
sql "CREATE TRIGGER patch_fails BEFORE UPDATE ON nodes WHEN NEW.slot = 'n2'
	BEGIN SELECT RAISE(ABORT, 'the test says no'); END"
api PATCH /api/v1/nodes/n2 -d '{"label":"x","power":{"method":"wol"}}' >/dev/null
check_error 500 "PATCH label and power, the update failing"
[ -e "$STATE/power/n2.json" ] && fail "n2.json written by a failed PATCH" || ok "no n2.json after the failed PATCH"
api GET /api/v1/nodes/n2 >/dev/null
check_jq '.power.method == null and .label != "x"' "n2 still has no method nor the label"
sql "DROP TRIGGER patch_fails"
api PATCH /api/v1/nodes/n2 -d '{"power":{"method":"wol","port":"7"}}' >/dev/null
check_status 200 "PATCH n2 power wol"
sql "CREATE TRIGGER patch_fails BEFORE UPDATE ON nodes WHEN NEW.slot = 'n2'
	BEGIN SELECT RAISE(ABORT, 'the test says no'); END"
before=$(cat "$STATE/power/n2.json")
api PATCH /api/v1/nodes/n2 -d '{"boot_mode":"diskless","power":{"method":"wol","port":"9"}}' >/dev/null
check_error 500 "PATCH boot_mode and power, the update failing"
check_eq "$(cat "$STATE/power/n2.json")" "$before" "n2.json as it was"
api GET /api/v1/nodes/n2 >/dev/null
check_jq '.power.settings.port == "7"' "the running settings as they were"
api PATCH /api/v1/nodes/n2 -d '{"label":"y","power":null}' >/dev/null
check_error 500 "PATCH label and power null, the update failing"
check_eq "$(cat "$STATE/power/n2.json" 2>/dev/null)" "$before" "n2.json not removed"
sql "DROP TRIGGER patch_fails"
api PATCH /api/v1/nodes/n2 -d '{"power":null}' >/dev/null
check_status 200 "PATCH n2 power null"

# ---- PATCH wins over the file; a hanging program is killed --------------------------
api PATCH /api/v1/nodes/n1 -d '{"power":{"method":"command","program":"'"$POWER"'","timeout":1,"password":"other-pw"}}' >/dev/null
check_status 200 "PATCH n1 power"
check_jq '.power.settings.timeout == 1 and .power.settings.password == {"set": true}' "the PATCHed settings win"
check_eq "$(stat -c %a "$STATE/power/n1.json")" 600 "STATE/power/n1.json is 0600"
touch "$PD/hang"
t0=$(date +%s)
api POST /api/v1/nodes/n1/power -d '{"action":"on"}' >/dev/null
id=$(printf '%s' "$BODY" | jq .id)
for ((i = 0; i < 80; i++)); do
	[ "$(job_field "$id" .state)" = failed ] && break
	sleep 0.1
done
t1=$(date +%s)
api GET "/api/v1/jobs/$id" >/dev/null
check_jq '.state == "failed"' "the hanging program's job failed"
check_jq '.reason | test("killed after its timeout of 1s")' "the reason: killed after its timeout"
[ $((t1 - t0)) -le 5 ] && ok "killed within the bound ($((t1 - t0)) s)" || fail "took $((t1 - t0)) s"
kill -0 "$(cat "$PD/hang.on.pid")" 2>/dev/null && fail "the hanging program still runs" ||
	ok "the hanging program is gone"
rm -f "$PD/hang"
api PATCH /api/v1/nodes/n1 -d '{"power":null}' >/dev/null
check_jq '.power.settings.timeout == "5"' "without the PATCH, the file's settings again"
grep -q 's3cret-pw\|other-pw' "$RACKD_LOG" && fail "a secret is in rackd's log" || ok "no secret in the log"

# ---- a reimage cycles the server, once more at boot_timeout, then fails ------------
test_images
echo on >"$PD/pstate"
: >"$LOG"
reimage n1 test:1
for ((i = 0; i < 50; i++)); do grep -q '^2 cycle n1$' "$LOG" && break; sleep 0.1; done
check_eq "$(grep -c '^2 cycle n1$' "$LOG")" 1 "the reimage job cycled the server"
# The job's event is written once the program has returned.
for ((i = 0; i < 50; i++)); do
	api GET "/api/v1/jobs/$JOB" >/dev/null
	printf '%s' "$BODY" | jq -e '[.events[].message] | any(. == "power cycle")' >/dev/null && break
	sleep 0.1
done
check_jq '[.events[].message] | any(. == "power cycle")' "the job says so"
for ((i = 0; i < 150; i++)); do [ "$(grep -c '^2 cycle n1$' "$LOG")" = 2 ] && break; sleep 0.1; done
check_eq "$(grep -c '^2 cycle n1$' "$LOG")" 2 "no boot within boot_timeout: cycled once more"
for ((i = 0; i < 150; i++)); do [ "$(job_field "$JOB" .state)" = failed ] && break; sleep 0.1; done
api GET "/api/v1/jobs/$JOB" >/dev/null
check_jq '.state == "failed"' "then the job failed"
check_jq '.reason | startswith("no boot")' "reason: no boot"
check_eq "$(grep -c '^2 cycle n1$' "$LOG")" 2 "and was not cycled a third time"

# ---- a PATCH to diskless boots the server as a reimage does -------------------------
sh "$TOP/tests/images/make-rootfs.sh" "$TMP/tiny.tar.zst" diskless-cmd >/dev/null 2>&1 ||
	fail "make-rootfs.sh"
image_import "$TMP/tiny.tar.zst" tiny:1 --kind rootfs
kill -HUP "$RACKD_PID"
wait_image tiny 1 || fail "tiny:1 not indexed"
: >"$LOG"
api PATCH /api/v1/nodes/n1 -d '{"image":"tiny:1","boot_mode":"diskless"}' >/dev/null
check_status 200 "PATCH n1 diskless with tiny:1"
check_jq '.job.action == "diskless" and .job.state == "queued"' "a diskless job, queued for the boot"
DJOB=$(printf '%s' "$BODY" | jq -r .job.id)
for ((i = 0; i < 50; i++)); do grep -q '^2 cycle n1$' "$LOG" && break; sleep 0.1; done
check_eq "$(grep -c '^2 cycle n1$' "$LOG")" 1 "the PATCH to diskless cycled the server"
api GET "/api/v1/jobs/$DJOB" >/dev/null
check_jq '[.events[].message] | any(. == "power cycle")' "the diskless job says so"
for ((i = 0; i < 150; i++)); do [ "$(grep -c '^2 cycle n1$' "$LOG")" = 2 ] && break; sleep 0.1; done
check_eq "$(grep -c '^2 cycle n1$' "$LOG")" 2 "no diskless boot within boot_timeout: cycled once more"
for ((i = 0; i < 150; i++)); do [ "$(job_field "$DJOB" .state)" = failed ] && break; sleep 0.1; done
api GET "/api/v1/jobs/$DJOB" >/dev/null
check_jq '.state == "failed" and (.reason | startswith("no boot"))' "then the diskless job failed: no boot"
api PATCH /api/v1/nodes/n1 -d '{"label":"again"}' >/dev/null
check_jq '.job.id == '"$DJOB" "a PATCH that does not make it diskless again boots nothing"
api PATCH /api/v1/nodes/n1 -d '{"boot_mode":"local"}' >/dev/null
check_status 200 "n1 back to its local disk"

# ---- SIGHUP rereads [power.SLOT]; a bad one keeps the running settings --------------
# A status call to a program that hangs (a BMC that does not answer) holds
# no configuration lock: the reload is done while it still waits.
touch "$PD/hang"
ask_bg() {	# a POST status in the background; its status to $PD/ask.$1
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 -X POST \
		-H "Authorization: Bearer $TOKEN" -d '{"action":"status"}' \
		"$URL/api/v1/nodes/n1/power" >"$PD/ask.$1" &
}
ask_bg 1
ask=$!
sleep 1.5
kill -0 "$ask" 2>/dev/null && ok "the status call waits for the hanging program" ||
	fail "the status call did not wait"
sed -i 's/^timeout = 5$/timeout = 7/' "$CONF"
t0=$(date +%s%N)
kill -HUP "$RACKD_PID"
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/nodes/n1 | jq -r .power.settings.timeout)" = 7 ] && break
	sleep 0.1
done
t1=$(date +%s%N)
check_eq "$(api GET /api/v1/nodes/n1 | jq -r .power.settings.timeout)" 7 "SIGHUP takes the new timeout"
kill -0 "$ask" 2>/dev/null && ok "reloaded while the status call still waits ($(( (t1 - t0) / 1000000 )) ms)" ||
	fail "the reload waited for the status call ($(( (t1 - t0) / 1000000 )) ms)"
wait "$ask"
check_eq "$(cat "$PD/ask.1")" 502 "the hanging status call: 502 at its timeout"
# At most POWER_ASKS_RUNNING_MAX (2) status calls at once; the next is 503.
ask_bg 2
a2=$!
ask_bg 3
a3=$!
sleep 1.5
api POST /api/v1/nodes/n1/power -d '{"action":"status"}' >/dev/null
check_error 503 "a third status call while two wait"
check_jq '.error | test("cached state")' "it points at the cached state"
wait "$a2" "$a3"
rm -f "$PD/hang"
power_job on	# the failed calls counted: polling starts again
sed -i 's/^timeout = 7$/timeout = 70/' "$CONF"
kill -HUP "$RACKD_PID"
for ((i = 0; i < 50; i++)); do grep -q 'reload failed.*\[power.n1\] timeout' "$RACKD_LOG" && break; sleep 0.1; done
grep -q 'reload failed.*\[power.n1\] timeout' "$RACKD_LOG" && ok "a bad section at SIGHUP is refused" ||
	fail "no reload error for the bad section"
check_eq "$(api GET /api/v1/nodes/n1 | jq -r .power.settings.timeout)" 7 "and the running settings stay"

# ---- status polling stops after three failures in a row ----------------------------
touch "$PD/broken"
: >"$LOG"
for ((i = 0; i < 400; i++)); do
	api GET /api/v1/nodes/n1 >/dev/null
	printf '%s' "$BODY" | jq -e '.power.note // "" | test("3 times")' >/dev/null && break
	sleep 0.1
done
check_jq '.power.error | test("wrong password")' "the error is shown"
check_jq '.power.state == "unknown"' "the state is unknown"
n=$(grep -c '^2 status n1$' "$LOG")
sleep 11
check_eq "$(grep -c '^2 status n1$' "$LOG")" "$n" "no more status calls after three failures"
[ "$n" -le 3 ] && ok "at most three calls ($n)" || fail "$n status calls"
rm -f "$PD/broken"
power_job on
for ((i = 0; i < 150; i++)); do [ "$(grep -c '^2 status n1$' "$LOG")" -gt "$n" ] && break; sleep 0.1; done
[ "$(grep -c '^2 status n1$' "$LOG")" -gt "$n" ] && ok "an op that succeeds starts the polling again" ||
	fail "polling did not start again"

finish
