#!/bin/bash
# A virtual server PXE-boots over a management link: QEMU (software
# emulation, BIOS, its own iPXE ROM) on a tap device named usb5 in the rack
# namespace gets DHCP from rackd's dnsmasq and fetches /boot/usb5.ipxe.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }

ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start --links 'usb*'

pxe_vm "$TMP/serial.log"
"${VM[@]}" >"$TMP/qemu.log" 2>&1 &
QEMU_PID=$!
on_exit "kill -9 $QEMU_PID"

start=$(date +%s)
for ((i = 0; i < 240; i++)); do
	grep -q "slot usb5 fetched its boot script" "$RACKD_LOG" && break
	kill -0 "$QEMU_PID" 2>/dev/null || break
	sleep 1
done
secs=$(( $(date +%s) - start ))
if grep -q "slot usb5 fetched its boot script" "$RACKD_LOG"; then
	ok "the VM fetched /boot/usb5.ipxe (${secs}s after start)"
else
	fail "the VM did not fetch its boot script in ${secs}s"
	cat "$TMP/qemu.log"
fi
grep -q "DHCPACK(usb5)" "$RACKD_LOG" && ok "dnsmasq gave usb5 its lease" || fail "no DHCPACK on usb5"
mac=$(api GET /api/v1/nodes/usb5 | jq -r .mac)
check_eq "$mac" 52:54:00:12:34:56 "the VM's MAC on node usb5"
finish
