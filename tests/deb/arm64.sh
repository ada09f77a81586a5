#!/bin/bash
# tests/deb/arm64.sh (make test-arm64): the arm64 package on an arm64 board.
# A Debian 12 arm64 system under qemu-system-aarch64 (software emulation,
# tests/deb/board.sh) installs the cross-built rackd_*_arm64.deb with
# rackd-clone-amd64, systemd starts rackd, and the host checks the
# dashboard, the API and /pxe/ over a port forwarded to 127.0.0.1. Not part
# of make test: emulation is slow (some 5 minutes with the board's root
# cached, 3 of them booting it; some 8 more the first time, when
# mmdebstrap builds it).
#
# ARM64_DEBS: a folder holding rackd_*_arm64.deb (default: make deb
# ARCH=arm64). CLONE_DEB: rackd-clone-amd64's package (default: the one in
# build/deb/, else made with make deb).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/board.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root (mmdebstrap, binfmt_misc)"; exit 1; }
for t in mmdebstrap qemu-system-aarch64 qemu-aarch64-static qemu-img mkfs.ext4 dpkg-deb curl; do
	command -v "$t" >/dev/null || { echo "$t is missing: sh tools/deps.sh arm64-test"; exit 1; }
done

ARM64_DEBS=${ARM64_DEBS:-}
if [ -z "$ARM64_DEBS" ]; then
	make -C "$TOP" deb ARCH=arm64 >"$TMP/make-deb-arm64.log" 2>&1 ||
		{ tail -30 "$TMP/make-deb-arm64.log"; echo "make deb ARCH=arm64 failed"; exit 1; }
	ARM64_DEBS=$TOP/build/arm64/deb
fi
RACKD_DEB=$(ls "$ARM64_DEBS"/rackd_*_arm64.deb 2>/dev/null | head -1)
[ -f "$RACKD_DEB" ] || { echo "no rackd_*_arm64.deb in $ARM64_DEBS"; exit 1; }
CLONE_DEB=${CLONE_DEB:-$(ls "$TOP"/build/deb/rackd-clone-amd64_*_all.deb 2>/dev/null | head -1)}
if [ ! -f "$CLONE_DEB" ]; then
	make -C "$TOP" deb >"$TMP/make-deb.log" 2>&1 ||
		{ tail -30 "$TMP/make-deb.log"; echo "make deb failed"; exit 1; }
	CLONE_DEB=$(ls "$TOP"/build/deb/rackd-clone-amd64_*_all.deb | head -1)
fi
check_eq "$(dpkg-deb -f "$RACKD_DEB" Architecture)" arm64 "$(basename "$RACKD_DEB") is arm64"
check_eq "$(dpkg-deb -f "$CLONE_DEB" Architecture)" all "$(basename "$CLONE_DEB") is all"
V=$(dpkg-deb -f "$RACKD_DEB" Version)

# ---- the board ------------------------------------------------------------
# Its root holds what rackd depends on (installed offline at boot).
need=$(dpkg-deb -f "$RACKD_DEB" Depends |
	tr ',' '\n' | sed 's/([^)]*)//; s/|.*//; s/[[:space:]]//g' | grep . | sort -u | tr '\n' ,)
board_root arm64 "${need%,}" || exit 1
ok "arm64 board root ready ($(basename "$(dirname "$BOARD_DISK")"))"

SHARE=$TMP/share
mkdir -p "$SHARE/debs" "$SHARE/out"
cp "$RACKD_DEB" "$CLONE_DEB" "$SHARE/debs/"
# board.sh: what the board does once booted (rackd-test.service); every
# answer is written to /share/out, "done" last.
cat >"$SHARE/board.sh" <<'EOF'
#!/bin/sh
out=/share/out
exec >$out/board.log 2>&1
uname -m >$out/uname
dpkg --print-architecture >$out/arch
dpkg -i /share/debs/*.deb >$out/dpkg.log 2>&1
echo $? >$out/dpkg.rc
i=0
while [ $i -lt 300 ] && [ "$(systemctl is-active rackd)" != active ]; do sleep 1; i=$((i + 1)); done
systemctl is-active rackd >$out/active
systemctl is-enabled rackd >$out/enabled
# The API and the dashboard for the host, through the forwarded port.
printf 'listen = 0.0.0.0:8080\n' >>/etc/rackd/rackd.conf
systemctl restart rackd
i=0
while [ $i -lt 300 ] && [ "$(systemctl is-active rackd)" != active ]; do sleep 1; i=$((i + 1)); done
systemctl show -p MainPID --value rackd >$out/mainpid
ps -o user= -p "$(cat $out/mainpid)" >$out/user
cp /var/lib/rackd/api.token $out/api.token
journalctl -u rackd -o cat --no-pager >$out/journal
sync
echo done >$out/done
EOF

started=$(date +%s)
board_boot arm64 "$SHARE" || exit 1
if board_wait "$SHARE/out/done" 1200; then
	ok "the board booted and ran its script ($(($(date +%s) - started)) s)"
else
	tail -30 "$TMP/board-arm64.log"; cat "$TMP/qemu-arm64.log"
	cat "$SHARE/out/board.log" 2>/dev/null
	fail "the board did not finish within 1200 s"; finish
fi
out=$SHARE/out
check_eq "$(cat "$out/uname")" aarch64 "the board is aarch64"
check_eq "$(cat "$out/arch")" arm64 "its Debian is arm64"
if [ "$(cat "$out/dpkg.rc")" = 0 ]; then
	ok "dpkg -i rackd ($V, arm64) and rackd-clone-amd64 on the board"
else
	cat "$out/dpkg.log"; fail "dpkg -i on the board"
fi
check_eq "$(cat "$out/active")" active "systemd started rackd (Type=notify)"
check_eq "$(cat "$out/enabled")" enabled "rackd.service enabled"
check_eq "$(cat "$out/user" | tr -d ' ')" rackd "rackd's main process runs as rackd"
grep -q "rackd $V ready (state in /var/lib/rackd)" "$out/journal" &&
	ok "rackd's ready line is in the board's journal" || fail "journal: $(head -c 500 "$out/journal")"

# ---- the host talks to the board ------------------------------------------
URL="http://127.0.0.1:$BOARD_PORT"
TOKEN=$(cat "$out/api.token")
[ ${#TOKEN} -ge 16 ] && ok "API token made on the board" || fail "no API token"
for ((i = 0; i < 60; i++)); do
	curl -s -o /dev/null --max-time 10 "$URL/healthz" && break
	sleep 1
done
# get PATH [curl args]: the board's answer; STATUS and BODY.
get() {
	local p=$1 o
	shift
	o=$(curl -s -w '\n%{http_code}' --max-time 60 "$@" "$URL$p")
	STATUS=${o##*$'\n'}
	BODY=${o%$'\n'*}
}
get /healthz
check_eq "$STATUS ${BODY%$'\n'}" "200 ok" "/healthz from the host"
get /
[ "$STATUS" = 200 ] && grep -q '<html' <<<"$BODY" && ok "dashboard served by the arm64 rackd" ||
	fail "dashboard: $STATUS"
get /api/v1/nodes -H "Authorization: Bearer $TOKEN"
check_status 200 "GET /api/v1/nodes"
get /api/v1/nodes
check_status 401 "GET /api/v1/nodes without the token"
size=$(curl -s -o "$TMP/vmlinuz" -w '%{size_download} %{http_code}' --max-time 300 "$URL/pxe/vmlinuz")
check_eq "${size#* }" 200 "/pxe/vmlinuz (rackd-clone-amd64) served by the board"
cmp -s "$TMP/vmlinuz" <(dpkg-deb --fsys-tarfile "$CLONE_DEB" | tar -xO ./usr/share/rackd/pxe/vmlinuz) &&
	ok "the x86-64 clone kernel arrives whole (${size% *} bytes)" || fail "/pxe/vmlinuz differs"
finish
