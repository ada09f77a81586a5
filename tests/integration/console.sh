#!/bin/bash
# tests/integration/console.sh — a slot's serial console on a real rackd on
# loopback: socat makes a pty pair (the server's end and the board's end,
# which console_slots gives slot n1), and the test writes at the server's
# end and reads it from the console's event stream (live and the ring's
# replay), types through POST and sees it arrive at the server's end, is
# refused without a token, floods the console (rackd's memory stays
# bounded, the stream still works), unplugs and plugs the pty back,
# reads a job's console log, and at a SIGHUP sees console_slots,
# console_speed and console_ring applied at once. Loopback and ptys only.
source "$(dirname "$0")/../lib.sh"

[ -x "$RACKD" ] || { echo "build/rackd missing: run make"; exit 1; }
command -v socat >/dev/null || { echo "socat missing: make deps"; exit 1; }

PTY=$TMP/pty
mkdir -p "$PTY"
SOCAT_PID=
# pty_up: the pair, the board's end given to rackd's user.
pty_up() {
	socat -d -d "pty,raw,echo=0,link=$PTY/server0" \
		"pty,raw,echo=0,link=$PTY/board0" 2>>"$TMP/socat.log" &
	SOCAT_PID=$!
	on_exit "kill $SOCAT_PID"
	wait_for 50 test -e "$PTY/board0" -a -e "$PTY/server0" ||
		{ echo "socat made no ptys"; cat "$TMP/socat.log"; exit 1; }
	chown rackd "$(readlink -f "$PTY/board0")"
}
pty_down() {
	kill "$SOCAT_PID" 2>/dev/null
	wait "$SOCAT_PID" 2>/dev/null
	rm -f "$PTY/board0" "$PTY/server0"
}
# The server's end is read by cat into a file, in the background.
SERVER_OUT=$TMP/server.out
server_read() {
	: >"$SERVER_OUT"
	timeout 60 cat "$PTY/server0" >"$SERVER_OUT" &
	CAT_PID=$!
	on_exit "kill $CAT_PID"
}
# sse SECONDS FILE [curl args]: the console stream of n1 into FILE.
sse() {
	local t=$1 f=$2
	shift 2
	curl -s -N --max-time "$t" -H "Authorization: Bearer $TOKEN" "$@" \
		"$URL/api/v1/nodes/n1/console" >"$f" 2>/dev/null
}
# decoded FILE: the bytes of the stream's output events.
decoded() {
	grep '^data: {"data"' "$1" | sed 's/^data: //' | jq -r .data |
		while read -r b; do printf '%s' "$b" | base64 -d; done
}

pty_up
rackd_start --slots n1,n2 --manage-links=no \
	--console-slots "$PTY/board0=n1"
wait_for 50 grep -q "console of slot n1: .* open" "$RACKD_LOG" &&
	ok "the console of n1 is open" || fail "console of n1 not opened"

# ---- the bad ones first --------------------------------------------------
"$RACKD" --check --console-speed 12345 >/dev/null 2>&1 &&
	fail "console_speed 12345 taken" || ok "a speed termios lacks is refused"
"$RACKD" --check --console-speed 9600 >/dev/null 2>&1 &&
	ok "console_speed 9600 taken" || fail "console_speed 9600 refused"
"$RACKD" --check --console-slots '/dev/../x=n1' >/dev/null 2>&1 &&
	fail "a device path with .. taken" || ok "a device path with .. is refused"

# ---- live output ---------------------------------------------------------
sse 4 "$TMP/live.sse" &
SSE_PID=$!
sleep 1
printf 'hello from the server\r\n' >"$PTY/server0"
wait "$SSE_PID"
grep -q '^event: output' "$TMP/live.sse" && ok "the stream sends output events" ||
	fail "no output event: $(head -c 300 "$TMP/live.sse")"
decoded "$TMP/live.sse" | grep -q 'hello from the server' &&
	ok "the server's output arrives on the stream" ||
	fail "output not on the stream: $(head -c 300 "$TMP/live.sse")"
grep -q '<' "$TMP/live.sse" && fail "HTML in the stream" || ok "no HTML in the stream"

# ---- the ring's replay -----------------------------------------------------
sse 2 "$TMP/replay.sse"
decoded "$TMP/replay.sse" | grep -q 'hello from the server' &&
	ok "a new stream gets the ring first" || fail "no replay: $(head -c 300 "$TMP/replay.sse")"

# ---- typing ----------------------------------------------------------------
server_read
sleep 0.3
api POST /api/v1/nodes/n1/console -d "{\"data\":\"$(printf 'root\r' | base64)\"}" >/dev/null
check_status 200 "POST input with the API token"
check_jq '.written == 5' "all 5 bytes written"
wait_for 30 grep -q root "$SERVER_OUT" && ok "the typed bytes arrive at the server's end" ||
	fail "typed bytes missing: $(od -c "$SERVER_OUT" | head -3)"
api POST /api/v1/nodes/n1/console -d "{\"data\":\"$(printf 'x' | base64)\"}" >/dev/null
[ "$(grep -c 'audit: API token types into the console of slot n1' "$RACKD_LOG")" = 1 ] &&
	ok "typing is audited once per caller and slot" ||
	fail "audit lines: $(grep -c audit "$RACKD_LOG")"
kill "$CAT_PID" 2>/dev/null

raw POST /api/v1/nodes/n1/console -H 'Content-Type: application/json' -d '{"data":"eA=="}'
[ "$STATUS" = 401 ] || [ "$STATUS" = 403 ] && ok "input without a token is refused ($STATUS)" ||
	fail "input without a token: $STATUS"
raw GET /api/v1/nodes/n1/console --max-time 2
[ "$STATUS" = 401 ] && ok "the stream without a token is refused" || fail "stream without a token: $STATUS"
for body in '{}' '{"data":5}' '{"data":""}' '{"data":"!!!"}' '{"data":"eA==","x":1}'; do
	api POST /api/v1/nodes/n1/console -d "$body" >/dev/null
	check_error 400 "input body $body"
done
api POST /api/v1/nodes/n1/console -d "{\"data\":\"$(head -c 5000 /dev/zero | base64 -w0)\"}" >/dev/null
check_error 400 "input over 4096 bytes"
api POST /api/v1/nodes/n2/console -d '{"data":"eA=="}' >/dev/null
check_error 404 "input into a slot without a console"
api GET /api/v1/nodes/n2/console >/dev/null
check_error 404 "stream of a slot without a console"

# ---- rackctl console -----------------------------------------------------------
server_read
sleep 0.3
{ sleep 1.5; printf 'from rackctl\r'; sleep 1; printf '~~x\r'; sleep 1; printf '~.'; sleep 3; } |
	RACKD_TOKEN=$TOKEN timeout 20 "$RACKCTL" console "$URL" n1 >"$TMP/rackctl.out" 2>"$TMP/rackctl.err"
RC=$?
check_eq "$RC" 0 "rackctl console leaves with ~. (exit 0)"
grep -aq 'hello from the server' "$TMP/rackctl.out" && ok "rackctl console prints the ring" ||
	fail "rackctl output: $(head -c 200 "$TMP/rackctl.out") $(cat "$TMP/rackctl.err")"
wait_for 30 grep -q 'from rackctl' "$SERVER_OUT" && ok "what rackctl console types arrives" ||
	fail "rackctl input missing: $(od -c "$SERVER_OUT" | head -3)"
wait_for 30 grep -q '~x' "$SERVER_OUT" && ok "~~ sends one ~" || fail "~~: $(od -c "$SERVER_OUT" | head -3)"
grep -q '~~' "$SERVER_OUT" && fail "~~ sent twice" || ok "~. is not sent"
kill "$CAT_PID" 2>/dev/null
# On a terminal (a pty here): raw while attached, as it was after ~. or a
# signal.
for how in escape signal; do
	RACKD_TOKEN=$TOKEN timeout 20 python3 - "$RACKCTL" "$URL" "$how" >"$TMP/tty.out" 2>&1 <<'PY'
import os, pty, signal, sys, termios, time
rackctl, url, how = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(rackctl, [rackctl, "console", url, "n1"])
before = termios.tcgetattr(fd)
raw = False
for _ in range(50):
    time.sleep(0.1)
    if not termios.tcgetattr(fd)[3] & termios.ICANON:
        raw = True
        break
if how == "escape":
    os.write(fd, b"\r~.")
else:
    os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
after = termios.tcgetattr(fd)
print("raw" if raw else "not-raw", "restored" if after == before else "changed",
      os.waitstatus_to_exitcode(status))
PY
	case $how in
	escape) want="raw restored 0" ;;
	signal) want="raw restored -15" ;;
	esac
	check_eq "$(tail -n 1 "$TMP/tty.out")" "$want" "rackctl console on a terminal: raw, restored after $how"
done
# The stream drops (rackd restarts): rackctl console opens it again, the
# terminal still raw, and ~. still leaves.
rm -f "$TMP/attached" "$TMP/restarted"
RACKD_TOKEN=$TOKEN timeout 60 python3 - "$RACKCTL" "$URL" "$TMP" >"$TMP/reconnect.out" 2>&1 <<'PY' &
import os, pty, select, sys, termios, time
rackctl, url, tmp = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(rackctl, [rackctl, "console", url, "n1"])
before = termios.tcgetattr(fd)
seen = b""
def read_for(secs, want=None):
    global seen
    end = time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                return False
        if want is not None and want in seen:
            return True
    return want is None
raw1 = False
for _ in range(50):
    read_for(0.1)
    if not termios.tcgetattr(fd)[3] & termios.ICANON:
        raw1 = True
        break
read_for(1)
open(tmp + "/attached", "w").close()
for _ in range(300):
    if os.path.exists(tmp + "/restarted"):
        break
    read_for(0.1)
got = read_for(30, b"after the restart")
raw2 = not termios.tcgetattr(fd)[3] & termios.ICANON
retried = b"again in" in seen
os.write(fd, b"\r~.")
_, status = os.waitpid(pid, 0)
after = termios.tcgetattr(fd)
print("output" if got else "no-output", "raw" if raw1 and raw2 else "not-raw",
      "told" if retried else "not-told", "restored" if after == before else "changed",
      os.waitstatus_to_exitcode(status))
PY
PY_PID=$!
wait_for 100 test -e "$TMP/attached" || fail "rackctl console did not attach"
opens=$(grep -c 'console of slot n1: .* open' "$RACKD_LOG")
rackd_stop || fail "rackd did not stop"
sleep 1
rackd_start --slots n1,n2 --manage-links=no --console-slots "$PTY/board0=n1"
reopened() { [ "$(grep -c 'console of slot n1: .* open' "$RACKD_LOG")" -gt "$opens" ]; }
wait_for 50 reopened || fail "the new rackd did not open n1's console"
printf 'after the restart\r\n' >"$PTY/server0"
touch "$TMP/restarted"
wait "$PY_PID"
check_eq "$(tail -n 1 "$TMP/reconnect.out")" "output raw told restored 0" \
	"rackctl console reconnects after a restart: output, still raw, said so, ~. leaves"
RACKD_TOKEN=nope-nope-nope-nope timeout 10 "$RACKCTL" console "$URL" n1 </dev/null >/dev/null 2>"$TMP/rackctl.err"
check_eq "$?" 1 "rackctl console with a wrong token fails"
"$RACKCTL" console "$URL" 'bad slot' </dev/null >/dev/null 2>&1
check_eq "$?" 2 "rackctl console with a bad slot name is a usage error"

# ---- a flood keeps rackd's memory bounded -----------------------------------
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$RACKD_PID/status"; }
RSS0=$(rss)
sse 30 /dev/null &
SLOW_PID=$!
T0=$(date +%s)
timeout 60 head -c 50M /dev/urandom >"$PTY/server0"
T1=$(date +%s)
sleep 1
RSS1=$(rss)
echo "# flood: 50 MiB in $((T1 - T0)) s; rackd's RSS $RSS0 KiB before, $RSS1 KiB after"
[ "$RSS1" -lt 40960 ] && ok "RSS under 40 MiB after a 50 MiB flood ($RSS1 KiB)" ||
	fail "RSS $RSS1 KiB after the flood"
kill "$SLOW_PID" 2>/dev/null
sse 4 "$TMP/after.sse" &
SSE_PID=$!
sleep 1
printf 'after the flood\r\n' >"$PTY/server0"
wait "$SSE_PID"
decoded "$TMP/after.sse" | grep -aq 'after the flood' &&
	ok "the stream works after the flood" || fail "no output after the flood"
grep -q '^event: lost' "$TMP/after.sse" && fail "a fresh stream was told of lost bytes" ||
	ok "a fresh stream starts at the ring's oldest byte"

# ---- unplugged and plugged back ----------------------------------------------
pty_down
wait_for 50 grep -q "console of slot n1 .*: \(unplugged\|gone\)" "$RACKD_LOG" &&
	ok "the unplugged console is closed" || fail "unplug not seen"
api POST /api/v1/nodes/n1/console -d '{"data":"eA=="}' >/dev/null
check_error 409 "input into an unplugged console"
pty_up
opened_twice() { [ "$(grep -c 'console of slot n1: .* open' "$RACKD_LOG")" -ge 2 ]; }
wait_for 50 opened_twice &&
	ok "the console comes back when the pty does" || fail "console not reopened"
sse 4 "$TMP/back.sse" &
SSE_PID=$!
sleep 1
printf 'back again\r\n' >"$PTY/server0"
wait "$SSE_PID"
decoded "$TMP/back.sse" | grep -aq 'back again' && ok "output after the replug" ||
	fail "no output after the replug"

# ---- a job's console log -----------------------------------------------------
test_images
reimage n1 test:1
sleep 2		# console.c looks at the active jobs every second
printf 'job output line\r\n' >"$PTY/server0"
wait_for 30 grep -q 'job output line' "$STATE/jobs/$JOB.console" &&
	ok "the job's console log gets the output" || fail "no job console log"
api GET "/api/v1/jobs/$JOB/console" >/dev/null
check_status 200 "GET the job's console log"
printf '%s' "$BODY" | grep -q 'job output line' && ok "the log is served" ||
	fail "log body: ${BODY:0:200}"
grep -q 'hello from the server' "$STATE/jobs/$JOB.console" &&
	fail "output from before the job is in its log" || ok "only the job's own output"
api GET /api/v1/jobs/99999/console >/dev/null
check_error 404 "the console log of no job"
raw GET "/api/v1/jobs/$JOB/console"
check_status 401 "the job's log without a token"

rackd_stop && ok "rackd stops with a console open" || fail "rackd did not stop"

# ---- SIGHUP applies every console_* option -------------------------------------
CONF=$TMP/rackd.conf
cat >"$CONF" <<EOF2
[rackd]
slots = n1,n2
manage_links = no
console_slots = $PTY/board0=n1
console_ring = 64K
EOF2
rackd_start -c "$CONF"
wait_for 50 grep -q "console of slot n1: .* open at 115200 baud" "$RACKD_LOG" ||
	fail "n1's console not open at 115200 baud"
sse 3 "$TMP/pre.sse" &
PRE_PID=$!
sleep 0.5
sed -i "s|^console_slots = .*|console_slots = $PTY/board0=n2|; s|^console_ring = .*|console_ring = 8K|" "$CONF"
printf 'console_speed = 9600\nconsole_log_max = 128K\n' >>"$CONF"
kill -HUP "$RACKD_PID"
wait_for 50 grep -q "console of slot n2: .* open at 9600 baud" "$RACKD_LOG" &&
	ok "SIGHUP: the pty is n2's console now, at 9600 baud" || fail "no n2 console after SIGHUP"
grep -q "console of slot n1 .*console_slots maps it to another slot\|console of slot n1 .*no longer in console_slots" "$RACKD_LOG" &&
	ok "n1's console retired, and the log says why" || fail "n1's console not retired"
grep -q "takes effect at the next start" "$RACKD_LOG" &&
	fail "a console option waits for the next start: $(grep 'next start' "$RACKD_LOG")" ||
	ok "no console option waits for the next start"
wait "$PRE_PID"
api GET /api/v1/nodes/n1/console --max-time 2 >/dev/null
check_error 404 "n1 has no console after the reload"
head -c 20000 /dev/zero | tr '\0' 'r' >"$PTY/server0"
printf 'after the reload\r\n' >"$PTY/server0"
sleep 1
curl -s -N --max-time 2 -H "Authorization: Bearer $TOKEN" "$URL/api/v1/nodes/n2/console" >"$TMP/n2.sse" 2>/dev/null
decoded "$TMP/n2.sse" | grep -aq 'after the reload' && ok "n2's console shows the output" ||
	fail "no output on n2's console"
got=$(decoded "$TMP/n2.sse" | wc -c)
[ "$got" -le 8192 ] && [ "$got" -ge 8000 ] && ok "the ring's replay is the new console_ring, 8K ($got bytes)" ||
	fail "the replay is $got bytes, not 8K"
rackd_stop || fail "rackd did not stop"
finish
