# tests/lib.sh — shared helpers for the integration tests (bash).
# A test sources this, calls rackd_start, drives it with curl, and calls
# ok/fail/check_*; everything it started is stopped and removed on exit,
# also when it fails.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RACKD="$TOP/build/rackd"
RACKCTL="$TOP/build/rackctl"
TMP=$(mktemp -d /tmp/rackd-test.XXXXXX)
FAILS=0
CLEANUP=()

cleanup() {
	local i
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

on_exit() { CLEANUP+=("$*"); }

ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed"
		[ -n "${RACKD_LOG:-}" ] && [ -f "$RACKD_LOG" ] && {
			echo "--- rackd log (last 40 lines)"; tail -n 40 "$RACKD_LOG"; }
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

# A free TCP port on loopback.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# rackd_start [extra rackd options...]: runs rackd in the foreground in the
# background with a fresh state dir; sets PORT, URL, STATE, TOKEN, RACKD_PID.
rackd_start() {
	PORT=${PORT:-$(free_port)}
	URL="http://127.0.0.1:$PORT"
	STATE=${STATE:-$TMP/state}
	RACKD_LOG=${RACKD_LOG:-$TMP/rackd.log}
	"$RACKD" -d --state-dir "$STATE" --listen "127.0.0.1:$PORT" "$@" \
		>>"$RACKD_LOG" 2>&1 &
	RACKD_PID=$!
	on_exit "kill -9 $RACKD_PID"
	wait_http "$URL/healthz" || { echo "rackd did not start"; cat "$RACKD_LOG"; exit 1; }
	TOKEN=$(cat "$STATE/api.token")
}

rackd_stop() {	# SIGTERM and wait (bounded)
	kill -TERM "$RACKD_PID" 2>/dev/null
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$RACKD_PID" 2>/dev/null || { wait "$RACKD_PID" 2>/dev/null; return 0; }
		sleep 0.1
	done
	echo "rackd did not stop in 10 s"
	return 1
}

wait_http() {	# URL: wait up to 10 s for any answer
	local i
	for ((i = 0; i < 100; i++)); do
		curl -s -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
	done
	return 1
}

# api METHOD PATH [curl args...]: prints the body; the status goes to $STATUS.
api() {
	local m=$1 p=$2
	shift 2
	local out
	out=$(curl -s -X "$m" -H "Authorization: Bearer $TOKEN" \
		-w '\n%{http_code}' --max-time 10 "$@" "$URL$p")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	printf '%s' "$BODY"
}

# check_status WANT WHAT: compares $STATUS.
check_status() {
	if [ "$STATUS" = "$1" ]; then ok "$2 ($1)"; else fail "$2: status $STATUS, want $1; body: ${BODY:0:300}"; fi
}

check_eq() {	# GOT WANT WHAT
	if [ "$1" = "$2" ]; then ok "$3"; else fail "$3: got '$1', want '$2'"; fi
}
