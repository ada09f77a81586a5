#!/bin/bash
# A slot's console over IPMI Serial-over-LAN (appliance/console_sol.c):
# OpenIPMI's ipmi_sim is the BMC (tests/lib_ipmi.sh), on the loopback of
# a network namespace of its own where rackd runs too; its chassis control
# starts a QEMU VM (software emulation) whose serial port is joined (socat)
# to the TCP listener that ipmi_sim's "sol" line connects to. Slot n1's
# ipmi power settings set "sol" (with the workarounds ipmi_sim needs):
# rackd's console for n1 is a libipmiconsole session. A reimage of n1
# switches the VM on over IPMI; the VM boots the clone environment's
# kernel with a shell as its first process (rdinit), so that the kernel's
# output, read over SOL, is on the console stream and in the job's console
# log, and a command typed through the API, and one through rackctl
# console, are answered by that shell over SOL. Slot n2 has the wrong
# password: its console state is a clear error, tried again with a
# backoff (a bounded number of tries), and no password is ever logged.
# Then n1's settings drop "sol" and its console goes.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_ipmi.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/vmlinuz" ] || { echo "no clone kernel: make pxe"; exit 1; }
command -v ipmi_sim >/dev/null || { echo "no ipmi_sim (openipmi): make deps"; exit 1; }
command -v socat >/dev/null || { echo "no socat: make deps"; exit 1; }
PASS=rack-secret-3
LAN_PORT=6231		# ipmi_sim's LAN, on the namespace's loopback
SOL_PORT=6232		# the VM's serial port, which ipmi_sim connects to
WA=opensesspriv,solchannelsupport,solpayloadsize

ns_add bmc
# The chassis (tests/lib_ipmi.sh): the VM boots the clone kernel, a
# shell its first process, its serial port a Unix socket (below).
IPMI_VM_WRAP="timeout 300" ipmi_chassis -accel tcg -m 256 -display none \
	-monitor none -nodefaults -serial "unix:$TMP/serial.sock" \
	-kernel "$TOP/build/pxe/vmlinuz" -initrd "$TOP/build/pxe/initrd.img" \
	-append "console=ttyS0,115200 rdinit=/bin/busybox -- sh"
ipmi_lan_conf 127.0.0.1 "$LAN_PORT" "$PASS" "sol \"tcp:127.0.0.1:$SOL_PORT\" 115200"
# The serial line: ipmi_sim reads its serial connection only when that
# was up before a SOL session is activated (it always is, on a real
# server), and the VM runs only once switched on: socat holds the TCP end
# that ipmi_sim connects to at its start, then waits for the VM to connect
# to its Unix socket (QEMU's -serial unix:), and joins the two.
in_ns bmc socat TCP-LISTEN:$SOL_PORT,bind=127.0.0.1,reuseaddr \
	UNIX-LISTEN:"$TMP/serial.sock",unlink-early 2>>"$TMP/socat.log" &
SOCAT_PID=$!
on_exit "kill $SOCAT_PID"
wait_for 50 sh -c "ip netns exec $NS-bmc ss -tln | grep -q '127.0.0.1:$SOL_PORT'" ||
	{ echo "socat did not listen"; cat "$TMP/socat.log"; exit 1; }
ipmi_sim_start bmc 127.0.0.1 "$LAN_PORT"
wait_for 100 test -S "$TMP/serial.sock" ||
	{ echo "ipmi_sim did not connect to the serial line"; cat "$TMP/sim.log"; exit 1; }

cat >"$TMP/rackd.conf" <<EOF
[power.n1]
method = ipmi
address = 127.0.0.1
port = $LAN_PORT
user = admin
password = $PASS
sol = yes
sol_workarounds = $WA

[power.n2]
method = ipmi
address = 127.0.0.1
port = $LAN_PORT
user = admin
password = wrong-$PASS
sol = yes
sol_workarounds = $WA
EOF
# a bad workaround name is refused at --check, with the names it takes
out=$("$RACKD" --check -c /dev/stdin 2>&1 <<EOF
[power.n1]
method = ipmi
sol = yes
sol_workarounds = opensesspriv,nosuch
EOF
)
[[ $out == *'no workaround "nosuch"'* ]] && ok "an unknown sol workaround is refused" ||
	fail "sol_workarounds nosuch: $out"
RACKD_NS=bmc rackd_start -c "$TMP/rackd.conf" --slots n1,n2 --manage-links=no
T0=$SECONDS

con() { api GET "/api/v1/nodes/$1" | jq -c .console; }
con_state() { [ "$(api GET "/api/v1/nodes/$1" | jq -r .console.state)" = "$2" ]; }
wait_for 300 con_state n1 connected &&
	ok "n1's console: SOL connected ($(con n1))" ||
	fail "n1's console is not connected: $(con n1)"
check_eq "$(con n1 | jq -r .source)" sol "n1's console source is sol"
wait_for 300 con_state n2 error || true
c2=$(con n2)
check_eq "$(jq -r .error <<<"$c2")" "BMC 127.0.0.1:$LAN_PORT: wrong user or password" \
	"n2's console state tells the wrong password ($c2)"

# ---- the VM's output over SOL: a reimage switches it on over IPMI
sse() {	# SECONDS FILE: n1's console stream
	"${WRAP[@]}" curl -s -N --max-time "$1" -H "Authorization: Bearer $TOKEN" \
		"$URL/api/v1/nodes/n1/console" >"$2" 2>/dev/null
}
decoded() {	# FILE: the bytes of its output events (one process, not one a line)
	python3 -c 'import sys, json, base64
out = sys.stdout.buffer
for l in open(sys.argv[1], "rb"):
    if l.startswith(b"data: {\"data\""):
        out.write(base64.b64decode(json.loads(l[6:])["data"]))' "$1"
}
sse 150 "$TMP/live.sse" &
SSE_PID=$!
on_exit "kill $SSE_PID"
test_images
reimage n1 test:1
wait_for 300 grep -q "power on" "$TMP/chassis.log" &&
	ok "the reimage switched the VM on over IPMI" ||
	fail "no power on at the BMC: $(cat "$TMP/chassis.log" 2>/dev/null)"
seen() { decoded "$TMP/live.sse" | grep -aq "$1"; }
for ((i = 0; i < 90; i++)); do seen "Linux version" && break; sleep 1; done
if seen "Linux version"; then
	ok "the VM's kernel output arrives over SOL on the stream"
else
	fail "no kernel output on n1's stream: $(decoded "$TMP/live.sse" | tail -c 300)"
	echo "n1's console: $(con n1)"
	for f in chassis.log qemu.log socat.log sim.log; do
		echo "--- $f"; tail -c 1500 "$TMP/$f"
	done
	in_ns bmc ss -tnpa
fi

# ---- typing over SOL: the VM's shell answers. Typed before its prompt,
# input reaches a VM that reads nothing yet, and ipmi_sim (which cannot
# pass it on) stops answering the session: wait for the prompt.
for ((i = 0; i < 90; i++)); do seen "/ # " && break; sleep 1; done
seen "/ # " && ok "the VM's shell prompt is on n1's console" ||
	fail "no shell prompt on n1's console: $(decoded "$TMP/live.sse" | tail -c 300)"
answered=
for ((i = 0; i < 12; i++)); do
	api POST /api/v1/nodes/n1/console \
		-d "{\"data\":\"$(printf 'echo SOL-$((6*7))-OK\r' | base64)\"}" >/dev/null
	[ "$STATUS" = 200 ] || { fail "typing into n1: $STATUS $BODY"; break; }
	for ((j = 0; j < 10; j++)); do
		seen "SOL-42-OK" && { answered=1; break 2; }
		sleep 0.5
	done
done
[ -n "$answered" ] && ok "a command typed through the API is answered by the VM's shell over SOL" ||
	fail "no answer from the VM's shell: $(decoded "$TMP/live.sse" | tail -c 400)"

api GET "/api/v1/jobs/$JOB/console" >"$TMP/job.console"
check_status 200 "GET the job's console log"
grep -aq "Linux version" "$TMP/job.console" && grep -aq "SOL-42-OK" "$TMP/job.console" &&
	ok "the job's console log holds the VM's output over SOL" ||
	fail "job console log: $(tail -c 300 "$TMP/job.console")"

# ---- rackctl console on the SOL console: the ring, then the shell answers
{ sleep 2; printf 'echo RACKCTL-$((6*8))-SOL\r'; sleep 4; printf '~.'; sleep 3; } |
	RACKD_TOKEN=$TOKEN timeout 30 "${WRAP[@]}" "$RACKCTL" console "$URL" n1 \
	>"$TMP/rackctl.out" 2>"$TMP/rackctl.err"
check_eq "$?" 0 "rackctl console on n1 leaves with ~. (exit 0)"
grep -aq "Linux version" "$TMP/rackctl.out" && grep -aq "RACKCTL-48-SOL" "$TMP/rackctl.out" &&
	ok "rackctl console shows n1's ring and the shell's answer over SOL" ||
	fail "rackctl console: $(tail -c 300 "$TMP/rackctl.out") $(cat "$TMP/rackctl.err")"

# ---- the wrong password: tried again with a backoff (2, 4, 8, 16, ... s),
# looked at after 30 s at least, between two tries
while [ $((SECONDS - T0)) -lt 30 ]; do sleep 1; done
wait_for 150 con_state n2 error || true
c2=$(con n2)
secs=$((SECONDS - T0))
n=$(jq -r .attempts <<<"$c2")
check_eq "$(jq -r .state <<<"$c2")" error "n2 is still in error after ${secs}s"
# tries at about 0, 3, 8, 17, 34, 67, ... s from the start (each takes
# a second to fail), and one more at the SIGHUP of test_images
max=$(awk -v s="$secs" 'BEGIN { n = 1; t = 0; b = 2; while (t <= s + 2) { n++; t += b + 1; b *= 2 } print n }')
[ "$n" -ge 2 ] && [ "$n" -le "$max" ] &&
	ok "n2 was tried $n times in ${secs}s (a backoff, at most $max)" ||
	fail "n2 was tried $n times in ${secs}s (want 2..$max): $c2"
jq -e '.retry_in_ms >= 0' <<<"$c2" >/dev/null && ok "n2's state says when it tries again" ||
	fail "no retry_in_ms: $c2"
logged=$(grep -c "console of slot n2: BMC .*wrong user or password" "$RACKD_LOG")
[ "$logged" -le "$n" ] && ok "each failed try of n2 logged once ($logged)" ||
	fail "$logged log lines for $n tries"
grep -q "$PASS" "$RACKD_LOG" && fail "a password is in rackd's log" ||
	ok "no password in rackd's log"
api GET /api/v1/nodes/n1 | grep -q "$PASS" && fail "the password is in the node's JSON" ||
	ok "no password in the node's JSON"

# ---- the settings change: "sol" off ends n1's console
api PATCH /api/v1/nodes/n1 -d "{\"power\": {\"method\": \"ipmi\", \"address\": \"127.0.0.1\",
	\"port\": $LAN_PORT, \"user\": \"admin\", \"password\": \"$PASS\", \"sol\": false}}" >/dev/null
check_status 200 "PATCH n1: sol off"
no_console() { [ "$(api GET /api/v1/nodes/n1 | jq -c .console)" = null ]; }
wait_for 50 no_console && ok "n1 has no console once its settings drop sol" ||
	fail "n1's console after sol off: $(con n1)"
kill "$SSE_PID" 2>/dev/null
finish
