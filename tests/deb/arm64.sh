#!/bin/bash
# tests/deb/arm64.sh (make test-arm64): the arm64 package on an arm64 board.
# A Debian 12 arm64 system under qemu-system-aarch64 (software emulation,
# tests/deb/board.sh) installs the cross-built rackd_*_arm64.deb with
# rackd-clone-amd64, systemd starts rackd, and the host checks the
# dashboard, the API and /pxe/ over a port forwarded to 127.0.0.1 of the
# test's network namespace. Then the board reimages an x86-64 server end
# to end: the board's second NIC, its management link (named usb5 on the
# board, as a USB link would be), is a tap bridged in that namespace to the
# tap of a QEMU x86-64 server (-accel tcg, BIOS, its disk a file); the
# board's TFTP serves the iPXE of Debian's ipxe package, the host pushes a
# small bootable image to the board with rackctl, and the server
# PXE-boots from the board's dnsmasq, runs the clone environment of the
# rackd-clone-amd64 package installed on the board, writes and verifies
# the image, reboots and boots the image's marker from its disk. Not part
# of make test: emulation is slow (some 11 minutes with the board's root
# cached: 3 for make deb ARCH=arm64, 3 booting the board, 2 to 3 the
# reimage, with both emulators on the machine's 2 cores; some 8 to 14 more
# the first time, when mmdebstrap builds the root).
#
# SERVER_TIMEOUT: seconds the x86-64 server may run, PXE to marker (1200).
#
# ARM64_DEBS: a folder holding rackd_*_arm64.deb (default: make deb
# ARCH=arm64). CLONE_DEB: rackd-clone-amd64's package (default: the one in
# build/deb/, else made with make deb).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/board.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root (mmdebstrap, binfmt_misc, namespaces)"; exit 1; }
[ -x "$RACKCTL" ] && [ -f "$TOP/build/pxe/vmlinuz" ] || { echo "no build: make all pxe"; exit 1; }
for t in mmdebstrap qemu-system-aarch64 qemu-aarch64-static qemu-system-x86_64 qemu-img \
	mkfs.ext4 dpkg-deb curl jq tftp busybox syslinux mcopy sfdisk; do
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
mkdir -p "$SHARE/debs" "$SHARE/out" "$SHARE/ctl"
cp "$RACKD_DEB" "$CLONE_DEB" "$SHARE/debs/"
echo "$BOARD_MGMT_MAC" >"$SHARE/mgmt_mac"
# board.sh: what the board does once booted (rackd-test.service); every
# answer is written to /share/out, "done" last. Then it waits for the
# host's /share/ctl/end (the reimage over) and writes rackd's journal.
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
# The API and the dashboard for the host, through the forwarded port;
# the management link: the NIC of /share/mgmt_mac, named usb5.
mac=$(cat /share/mgmt_mac)
nic=$(ip -o link | awk -v m="$mac" 'index($0, m) { sub(/:$/, "", $2); print $2; exit }')
echo "$nic" >$out/mgmt_nic
ip link set dev "$nic" down && ip link set dev "$nic" name usb5 && ip link set dev usb5 up
printf 'listen = 0.0.0.0:8080\nlinks = usb5\nboot_timeout = 30m\n' >>/etc/rackd/rackd.conf
systemctl restart rackd
i=0
while [ $i -lt 300 ] && [ "$(systemctl is-active rackd)" != active ]; do sleep 1; i=$((i + 1)); done
systemctl show -p MainPID --value rackd >$out/mainpid
ps -o user= -p "$(cat $out/mainpid)" >$out/user
i=0
while [ $i -lt 300 ] && ! { ip -4 -o addr show dev usb5 | grep -q inet && pgrep -x dnsmasq >/dev/null &&
	[ -n "$(ss -Hlun 'sport = :69')" ]; }; do sleep 1; i=$((i + 1)); done
ip -4 -o addr show dev usb5 | awk '{ print $4 }' >$out/mgmt_addr
pgrep -x dnsmasq >$out/dnsmasq
sha256sum /usr/lib/ipxe/undionly.kpxe | cut -d' ' -f1 >$out/undionly.sha256
dpkg -S /usr/lib/ipxe/undionly.kpxe | cut -d: -f1 >$out/undionly.pkg
cp /var/lib/rackd/api.token $out/api.token
journalctl -u rackd -o cat --no-pager >$out/journal
sync
echo done >$out/done
i=0
while [ ! -e /share/ctl/end ] && [ $i -lt 3600 ]; do sleep 1; i=$((i + 1)); done
journalctl -u rackd -o cat --no-pager >$out/journal.end
sync
echo done >$out/end
EOF

# ---- the rack's network: a namespace with a bridge ------------------------
# brd0, the board's management NIC, and srv0, the x86-64 server's, both
# taps bridged on br0; the board's user-mode port is forwarded to the
# namespace's loopback.
ns_add rack
in_ns rack ip link add br0 type bridge &&
	in_ns rack ip tuntap add brd0 mode tap && in_ns rack ip tuntap add srv0 mode tap &&
	in_ns rack ip link set brd0 master br0 && in_ns rack ip link set srv0 master br0 &&
	in_ns rack ip link set brd0 up && in_ns rack ip link set srv0 up &&
	in_ns rack ip link set br0 up || { echo "cannot make the rack's bridge"; exit 1; }

started=$(date +%s)
BOARD_NS=$NS-rack BOARD_TAP=brd0 board_boot arm64 "$SHARE" || exit 1
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
	"${BOARD_WRAP[@]}" curl -s -o /dev/null --max-time 10 "$URL/healthz" && break
	sleep 1
done
# get PATH [curl args]: the board's answer; STATUS and BODY.
get() {
	local p=$1 o
	shift
	o=$("${BOARD_WRAP[@]}" curl -s -w '\n%{http_code}' --max-time 60 "$@" "$URL$p")
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
size=$("${BOARD_WRAP[@]}" curl -s -o "$TMP/vmlinuz" -w '%{size_download} %{http_code}' --max-time 300 "$URL/pxe/vmlinuz")
check_eq "${size#* }" 200 "/pxe/vmlinuz (rackd-clone-amd64) served by the board"
cmp -s "$TMP/vmlinuz" <(dpkg-deb --fsys-tarfile "$CLONE_DEB" | tar -xO ./usr/share/rackd/pxe/vmlinuz) &&
	ok "the x86-64 clone kernel arrives whole (${size% *} bytes)" || fail "/pxe/vmlinuz differs"

# ---- the management link ----------------------------------------------
mgmt=$(cat "$out/mgmt_addr")
[[ $mgmt == 10.213.*/30 ]] && ok "usb5 ($(cat "$out/mgmt_nic") renamed) has $mgmt from link_subnet_pool" ||
	fail "no slot subnet on the board's management link: '$mgmt'"
[ -s "$out/dnsmasq" ] && ok "the board's rackd runs dnsmasq for usb5" || fail "no dnsmasq on the board"
check_eq "$(cat "$out/undionly.pkg")" ipxe "the board's /usr/lib/ipxe/undionly.kpxe is Debian's ipxe package's"
# DHCP and TFTP from the namespace, over the bridge, as the server will
# ask: a veth on br0 with the server's MAC (so the slot's one address is
# leased to that MAC) gets a lease from the board's dnsmasq, then iPXE by
# TFTP from the address that gave it; the veth is removed before the
# server starts.
SERVER_MAC=52:54:00:00:15:02
cat >"$TMP/lease.sh" <<'EOS'
#!/bin/sh
[ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface" && echo "$ip $serverid" >"$LEASE"
exit 0
EOS
chmod +x "$TMP/lease.sh"
in_ns rack ip link add probe0 address "$SERVER_MAC" type veth peer name probe1 &&
	in_ns rack ip link set probe1 master br0 && in_ns rack ip link set probe1 up &&
	in_ns rack ip link set probe0 up || fail "cannot make the probe veth"
LEASE=$TMP/lease in_ns rack timeout 60 busybox udhcpc -i probe0 -n -q -t 10 -T 3 \
	-s "$TMP/lease.sh" >"$TMP/udhcpc.log" 2>&1
lease_ip="" lease_server=""
[ -f "$TMP/lease" ] && read -r lease_ip lease_server <"$TMP/lease"
[ -n "$lease_server" ] && [ "$lease_server" = "${mgmt%/*}" ] &&
	ok "DHCP over the bridge: $lease_ip from the board's dnsmasq ($lease_server)" ||
	{ cat "$TMP/udhcpc.log"; fail "no lease from the board on the bridge"; }
if [ -n "$lease_server" ]; then
	in_ns rack timeout 120 tftp -m binary "$lease_server" -c get undionly.kpxe \
		"$TMP/undionly.kpxe" >"$TMP/tftp.log" 2>&1
	check_eq "$(sha256sum <"$TMP/undionly.kpxe" 2>/dev/null | cut -d' ' -f1)" \
		"$(cat "$out/undionly.sha256")" "TFTP from the board: undionly.kpxe, as Debian's ipxe packages it"
fi
in_ns rack ip link del probe0

# ---- reimage an x86-64 server through the board -------------------------
# The image: a 32 MiB disk that boots by BIOS and prints its marker, built
# on the host and pushed to the board's rackd by the host's rackctl.
sh "$TOP/tests/images/make-bootable.sh" "$TMP/marker.img" image-arm64 32 ||
	{ echo "cannot make the marker image"; exit 1; }
"$RACKCTL" image import "$TMP/marker.img" --name marker:1 --store "$TMP/store" -q \
	>"$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; fail "rackctl image import"; finish; }
if "${BOARD_WRAP[@]}" env RACKD_TOKEN="$TOKEN" "$RACKCTL" push marker:1 "$URL" \
	--store "$TMP/store" -q >"$TMP/push.log" 2>&1; then
	ok "rackctl push marker:1 to the arm64 rackd"
else
	cat "$TMP/push.log"; fail "rackctl push to the board"; finish
fi
get /api/v1/nodes/usb5/reimage -H "Authorization: Bearer $TOKEN" -X POST -d '{"image":"marker:1"}'
check_status 202 "reimage usb5 (the board's management link) with marker:1"
JOB=$(printf '%s' "$BODY" | jq -r .id)
# The server: BIOS, the network first (QEMU's iPXE ROM), then its disk,
# which starts blank; it powers off after printing the marker.
truncate -s 64M "$TMP/server.disk"
t0=$(date +%s)
timeout "${SERVER_TIMEOUT:-1200}" ip netns exec "$NS-rack" qemu-system-x86_64 -accel tcg -m 512 \
	-display none -monitor none -serial "file:$TMP/server.serial" \
	-netdev tap,id=n0,ifname=srv0,script=no,downscript=no \
	-device "virtio-net-pci,netdev=n0,mac=$SERVER_MAC,bootindex=1" \
	-drive "if=none,id=d0,file=$TMP/server.disk,format=raw" \
	-device virtio-blk-pci,drive=d0,bootindex=2 >"$TMP/server.qemu" 2>&1
rc=$?
secs=$(($(date +%s) - t0))
[ "$rc" = 0 ] && ok "the x86-64 server powered off by itself (${secs} s)" ||
	fail "the x86-64 server: QEMU rc $rc after ${secs} s (124: over ${SERVER_TIMEOUT:-1200} s)"
get "/api/v1/jobs/$JOB" -H "Authorization: Bearer $TOKEN"
check_eq "$(printf '%s' "$BODY" | jq -r .state)" done "job $JOB done on the arm64 rackd"
printf '%s' "$BODY" | jq -r '.events[]? | "    \(.at) \(.state) \(.message)"'
printf '%s' "$BODY" | jq -e '[.events[]?.state] | index("verifying") != null' >/dev/null &&
	ok "the job went through verifying" || fail "no verifying step in job $JOB"
grep -aq "Linux version $(cat "$TOP/build/pxe/kernel-version" 2>/dev/null)" "$TMP/server.serial" &&
	ok "the server ran the clone kernel of rackd-clone-amd64" ||
	fail "the clone kernel did not start on the server"
if grep -aq "RACKD-MARKER: image-arm64" "$TMP/server.serial"; then
	ok "the server booted the image's marker from its disk"
else
	fail "no marker on the server's console"; tail -c 3000 "$TMP/server.serial"
fi
cmp -s -n "$(stat -c %s "$TMP/marker.img")" "$TMP/server.disk" "$TMP/marker.img" &&
	ok "the server's disk holds exactly the image" || fail "the server's disk differs from the image"

: >"$SHARE/ctl/end"
if board_wait "$SHARE/out/end" 120; then
	grep -q "undionly.kpxe" "$out/journal.end" && ok "the board's journal: dnsmasq sent undionly.kpxe" ||
		fail "the board's journal has no TFTP of undionly.kpxe"
else
	fail "the board did not write its journal"
fi
[ "$FAILS" -eq 0 ] || { echo "--- the board's rackd (last 40 lines)"; tail -n 40 "$out/journal.end" 2>/dev/null; }
finish
