#!/bin/bash
# tests/integration/browser.sh — the dashboard in a real browser. Builds
# the links rig (a rack namespace running rackd and its dnsmasq, four node
# namespaces joined by veth pairs usb1..usb4), gives the nodes their
# addresses by DHCP, flaps usb2 once (link history), imports a small image
# and indexes it (SIGHUP), then runs tests/browser/*.test.mjs under node's
# test runner inside the rack namespace: playwright-core driving Debian's
# chromium against rackd on the namespace's loopback; usb1's serial console
# is a pty pair made by socat. A second image is published to a directory
# origin that python3's http.server serves on the namespace's loopback
# (rackd's image_sources, pull_rate 256K): the images page's Pulls panel
# follows a pull of it live. The npm dependencies
# come from the committed package-lock.json (npm ci) when missing.
# Screenshots go to tests/artifacts/browser/.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
for p in "$RACKD" "$RACKCTL"; do
	[ -x "$p" ] || { echo "$p missing: run make"; exit 1; }
done
for c in node npm sqlite3 jq /usr/bin/chromium; do
	command -v "$c" >/dev/null || { echo "$c is needed (make deps)"; exit 1; }
done

BROWSER_DIR=$TOP/tests/browser
ARTIFACTS=${ARTIFACTS:-$TOP/tests/artifacts/browser}
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png

# ---- npm dependencies (playwright-core only; no browser download) --------
if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
	(cd "$BROWSER_DIR" && timeout 300 npm ci --no-audit --no-fund) ||
		{ echo "npm ci failed in tests/browser"; exit 1; }
fi

# ---- the rig ----------------------------------------------------------------
ns_add rack
for i in 1 2 3 4; do
	ns_add "n$i"
	veth_link rack "usb$i" "n$i" || { fail "veth usb$i"; finish; }
done
# usb1's serial console: a pty pair (the server's end for the test, the
# board's end for rackd).
command -v socat >/dev/null || { echo "socat is needed (make deps)"; exit 1; }
PTY=$TMP/pty
mkdir -p "$PTY"
socat -d -d "pty,raw,echo=0,link=$PTY/server0" "pty,raw,echo=0,link=$PTY/board0" \
	2>>"$TMP/socat.log" &
on_exit "kill $!"
for ((i = 0; i < 50; i++)); do [ -e "$PTY/board0" ] && [ -e "$PTY/server0" ] && break; sleep 0.1; done
chown rackd "$(readlink -f "$PTY/board0")" || { fail "no pty pair"; finish; }
# The origin of pulls: pulled:1 published from a store of its own.
ORIGIN=$TMP/origin
mkdir -p "$ORIGIN"
python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(9).randbytes(2 << 20))' >"$TMP/pulled.img"
"$RACKCTL" image import "$TMP/pulled.img" --name pulled:1 --store "$TMP/central" \
	--chunk-size 256K -q >/dev/null &&
	"$RACKCTL" publish pulled:1 "$ORIGIN" --store "$TMP/central" >/dev/null ||
	{ fail "publish pulled:1"; finish; }
OPORT=$(free_port)
in_ns rack python3 -m http.server --bind 127.0.0.1 --directory "$ORIGIN" "$OPORT" \
	>>"$TMP/origin.log" 2>&1 &
on_exit "kill $!"
RACKD_ARGS=(--links 'usb*' --link-subnet-pool 10.213.0.0/24 --webui-dir "$TOP/webui"
	--console-slots "$PTY/board0=usb1" --image-sources "http://127.0.0.1:$OPORT"
	--pull-rate 256K)
RACKD_NS=rack rackd_start "${RACKD_ARGS[@]}"
# The tests restart rackd (the same command as rackd_start's) to see the
# page reconnect; the new rackd's pid lands in this file.
RACKD_PID_FILE=$TMP/rackd-restarted.pid
on_exit '[ -f "$RACKD_PID_FILE" ] && kill -9 "$(cat "$RACKD_PID_FILE")"'
RACKD_CMD=$(jq -cn --args '$ARGS.positional' -- "$RACKD" -d --state-dir "$STATE" \
	--listen "0.0.0.0:$PORT" "${RACKD_ARGS[@]}")
PASSWORD=$(cat "$STATE/dashboard.password")

links_up() {
	[ "$(api GET /api/v1/nodes | jq '[.[] | select(.link.state == "up")] | length')" = 4 ]
}
for ((i = 0; i < 50; i++)); do links_up && break; sleep 0.2; done
links_up && ok "four links up" || { fail "links not up: $(api GET /api/v1/nodes)"; finish; }
for i in 1 2 3 4; do
	dhcp "n$i" >/dev/null || {
		fail "DHCP for n$i"
		echo "--- udhcpc"; tail -n 20 "$TMP/udhcpc.log"
		echo "--- rackd and dnsmasq"; grep -E 'dnsmasq|DHCP|link' "$RACKD_LOG" | tail -n 40
		dp=$(descendant "$RACKD_PID" dnsmasq)
		[ -n "$dp" ] && { echo "--- dnsmasq $dp"; grep -E 'State|wchan' "/proc/$dp/status"; cat "/proc/$dp/wchan"; echo; }
	}
done

# usb2 goes down and up once: its node page has a link history.
ip -n "$NS-rack" link set usb2 down
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/nodes/usb2 | jq -r .link.state)" = down ] && break
	sleep 0.1
done
ip -n "$NS-rack" link set usb2 up
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/nodes/usb2 | jq -r .link.state)" = up ] && break
	sleep 0.1
done
check_eq "$(api GET /api/v1/nodes/usb2/links | jq length)" 3 "usb2: up, down, up in its link history"

# ---- a small image, indexed by SIGHUP -----------------------------------------
python3 -c 'import random, sys; r = random.Random(6); sys.stdout.buffer.write(r.randbytes(3 << 20) + bytes(1 << 20) + r.randbytes(700000))' >"$TMP/demo.img"
"$RACKCTL" image import "$TMP/demo.img" --name demo:1 --store "$STATE/store" \
	--chunk-size 1M -q >/dev/null || { fail "rackctl image import"; finish; }
kill -HUP "$RACKD_PID"
wait_image demo 1
check_status 200 "the image is indexed"

# ---- the browser tests ------------------------------------------------------------
# Bounded: node's runner stops a file after its timeout; timeout(1) is
# the last word.
if (cd "$BROWSER_DIR" && RACKD_URL=$URL RACKD_STATE=$STATE RACKD_TOKEN=$TOKEN \
	RACKD_PASSWORD=$PASSWORD ARTIFACTS=$ARTIFACTS TEST_IMAGE=demo TEST_VERSION=1 \
	PULL_IMAGE=pulled:1 \
	NODE4_NS=$NS-n4 RACKD_PID=$RACKD_PID RACKD_CMD=$RACKD_CMD RACKD_LOG=$RACKD_LOG \
	RACKD_PID_FILE=$RACKD_PID_FILE RACKD_CWD=$PWD CONSOLE_SERVER=$PTY/server0 \
	timeout -k 10 300 ip netns exec "$NS-rack" \
	node --test --test-timeout=240000 --test-reporter=spec ./*.test.mjs); then
	ok "browser tests"
else
	fail "browser tests (screenshots in $ARTIFACTS)"
fi
n=$(ls "$ARTIFACTS"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 10 ] && ok "$n screenshots in $ARTIFACTS" || fail "only $n screenshots in $ARTIFACTS"
finish
