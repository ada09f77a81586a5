# tests/lib.sh — shared helpers for the integration tests (bash).
# A test sources this, calls rackd_start, drives it with curl, and calls
# ok/fail/check_*; everything it started is stopped and removed on exit,
# also when it fails.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# RACKD_BUILD=build/asan tests another build of the programs (make asan).
BUILD_DIR="$TOP/${RACKD_BUILD:-build}"
RACKD="$BUILD_DIR/rackd"
RACKCTL="$BUILD_DIR/rackctl"
TMP=$(mktemp -d /tmp/rackd-test.XXXXXX)
chmod 755 "$TMP"	# dnsmasq, as its own user, reads rackd's state dir
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
# With RACKD_NS=NAME it runs in that namespace (made with ns_add), listening
# on all its addresses, and the helpers below talk to it there.
WRAP=()
rackd_start() {
	local listen
	PORT=${PORT:-$(free_port)}
	URL="http://127.0.0.1:$PORT"
	STATE=${STATE:-$TMP/state}
	RACKD_LOG=${RACKD_LOG:-$TMP/rackd.log}
	listen="127.0.0.1:$PORT"
	if [ -n "${RACKD_NS:-}" ]; then
		WRAP=(ip netns exec "$NS-$RACKD_NS")
		listen="${RACKD_LISTEN:-0.0.0.0}:$PORT"
	fi
	"${WRAP[@]}" "$RACKD" -d --state-dir "$STATE" --listen "$listen" "$@" \
		>>"$RACKD_LOG" 2>&1 &
	RACKD_PID=$!
	on_exit "kill -9 $RACKD_PID"
	wait_http "$URL/healthz" || { echo "rackd did not start"; cat "$RACKD_LOG"; exit 1; }
	TOKEN=$(cat "$STATE/api.token")
}

# descendant PID NAME: the pid of a process named NAME below PID (rackd's
# dnsmasq runs under a keeper, under rackd's privileged helper).
descendant() {
	local want=$1 name=$2
	ps -e -o pid=,ppid=,comm= | awk -v root="$want" -v name="$name" '
		{ parent[$1] = $2; comm[$1] = $3 }
		END { for (p in comm) if (comm[p] == name) {
			for (q = parent[p]; q > 1; q = parent[q]) if (q == root) { print p; exit } } }'
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
		"${WRAP[@]}" curl -s -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
	done
	return 1
}

# api METHOD PATH [curl args...]: prints the body; the status goes to $STATUS.
api() {
	local m=$1 p=$2
	shift 2
	local out
	out=$("${WRAP[@]}" curl -s -X "$m" -H "Authorization: Bearer $TOKEN" \
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

# ---- network namespaces (root only) --------------------------------------
# ns_add NAME: a new namespace "$NS-NAME" with lo up, removed on exit.
NS="rt$$"
ns_add() {
	ip netns add "$NS-$1" || { echo "cannot make namespace $NS-$1"; exit 1; }
	on_exit "ip netns del $NS-$1"
	ip -n "$NS-$1" link set lo up
}
# in NAME command...: run in namespace NAME.
in_ns() { local n=$1; shift; ip netns exec "$NS-$n" "$@"; }
# veth_link RACKNS RACKIF NODENS [NODEIF [MAC]]: a veth pair standing in for
# a USB link; the node end is brought up.
veth_link() {
	local mac=${5:+address $5}
	ip link add "$2" netns "$NS-$1" type veth peer name "${4:-eth0}" $mac \
		netns "$NS-$3" || return 1
	ip -n "$NS-$3" link set "${4:-eth0}" up
}
# dhcp NS [IF]: busybox udhcpc, one try of a few seconds; prints
# "ADDR HOSTNAME" and configures the address, or fails.
dhcp() {
	local script=$TMP/udhcpc.sh
	[ -x "$script" ] || {
		cat >"$script" <<'EOS'
#!/bin/sh
if [ "$1" = bound ]; then
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	echo "$ip ${hostname:-}" >"${UDHCPC_OUT:-/dev/stdout}"
fi
exit 0
EOS
		chmod +x "$script"
	}
	UDHCPC_OUT=$TMP/dhcp.$1 in_ns "$1" timeout 15 busybox udhcpc -i "${2:-eth0}" \
		-n -q -t "${DHCP_TRIES:-4}" -T 1 -s "$script" >>"$TMP/udhcpc.log" 2>&1 &&
		cat "$TMP/dhcp.$1"
}

# KEEP=1 keeps the temporary folder (for a look after a failure).
if [ -n "${KEEP:-}" ]; then
	trap 'echo "kept $TMP"; for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[$i]}" >/dev/null 2>&1 || true; done' EXIT
fi
