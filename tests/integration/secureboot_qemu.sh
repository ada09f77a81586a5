#!/bin/bash
# Secure Boot end to end: a virtual server (QEMU q35, software emulation)
# with OVMF enforcing Secure Boot with Microsoft's keys (OVMF_CODE_4M.ms.fd
# and a copy of OVMF_VARS_4M.ms.fd), the network first in its boot order.
# First the proof that the firmware checks: the slot's secure_boot off, it
# gets iPXE's unsigned snponly.efi and refuses it. Then with the rack's
# secure_boot on (the slot's null): Debian's signed shim and network GRUB
# over TFTP, the node's grub.cfg (written by rackd when the job is queued,
# no token in it), the signed clone kernel over TFTP with Secure Boot on
# (reported), its job and token from GET /boot/usb5.cmdline, the reimage,
# and the disk's own shim and GRUB booting the image's marker.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/initrd.img" ] || { echo "no clone initramfs: make pxe"; exit 1; }
[ -f "$TOP/build/pxe/SHA256SUMS" ] || { echo "no UEFI loaders: make pxe"; exit 1; }
[ -f /usr/share/OVMF/OVMF_CODE_4M.ms.fd ] || { echo "no OVMF with Secure Boot (Debian's ovmf)"; exit 1; }

SIGNED=1 sh "$TOP/tests/images/make-bootable.sh" "$TMP/v1.img" "image-sb1" 64

ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start --links 'usb*' --pxe-dir "$TOP/build/pxe" --boot-timeout 10m \
	--secure-boot=yes
"$RACKCTL" image import "$TMP/v1.img" --name "sb:1" --store "$STATE/store" \
	>"$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; exit 1; }
kill -HUP "$RACKD_PID"
wait_image sb 1 || fail "image sb:1 not indexed"
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/nodes/usb5 | jq -r .link.state)" = up ] && break
	sleep 0.2
done

# vm NAME SECONDS: the VM (boot_vm secure: OVMF enforcing Secure Boot,
# the network first, then $TMP/disk) until it powers off or SECONDS pass;
# the serial console goes to $TMP/NAME.serial. Run in a subshell (it
# execs timeout).
vm() {
	boot_vm secure "$1" "$TMP/disk"
	exec timeout "$2" "${VM[@]}" >"$TMP/$1.qemu" 2>&1
}
truncate -s 64M "$TMP/disk"

# The PATCH field: a slot's own setting, and null for the rack's.
api PATCH /api/v1/nodes/usb5 -d '{"secure_boot":"yes"}' >/dev/null
check_error 400 "secure_boot must be a boolean or null"
api PATCH /api/v1/nodes/usb5 -d '{"secure_boot":false}' >/dev/null
check_status 200 "secure_boot off for slot usb5"
check_jq '.secure_boot == false' "the node shows its own secure_boot"

# 1. An unsigned loader: the firmware refuses it.
sleep 1
(vm unsigned 240) &
VMPID=$!
on_exit "kill $VMPID"
for ((i = 0; i < 240; i++)); do
	grep -aqE "Access Denied|Security Violation" "$TMP/unsigned.serial" 2>/dev/null && break
	kill -0 "$VMPID" 2>/dev/null || break
	sleep 1
done
if grep -aqE "Access Denied|Security Violation" "$TMP/unsigned.serial"; then
	ok "Secure Boot refuses iPXE's unsigned loader ($(grep -aoE "Access Denied|Security Violation" "$TMP/unsigned.serial" | head -1))"
else
	fail "no refusal of the unsigned loader on the console"
	tail -c 1500 "$TMP/unsigned.serial"
fi
grep -q "sent .*/snponly.efi to" "$RACKD_LOG" && ok "it was served snponly.efi" ||
	fail "snponly.efi was not served"
kill "$VMPID" 2>/dev/null
wait "$VMPID" 2>/dev/null
check_eq "$(api GET /api/v1/nodes/usb5 | jq -r .booted_secure)" null "nothing reported of Secure Boot yet"

# 2. The rack's setting (the slot's null): shim, GRUB, a reimage.
api PATCH /api/v1/nodes/usb5 -d '{"secure_boot":null}' >/dev/null
check_status 200 "secure_boot of usb5 back to the rack's"
check_jq '.secure_boot == null' "the node's secure_boot is null"
sleep 1
api POST /api/v1/nodes/usb5/reimage -d '{"image":"sb:1"}' >"$TMP/job.json"
check_status 202 "reimage queued"
JOB=$(jq -r .id "$TMP/job.json")
CFG=$STATE/tftp/if/usb5/$(api GET /api/v1/nodes/usb5 | jq -r .link.node_addr)/grub/grub.cfg
wait_for 50 grep -q "reimage with sb:1 (job $JOB)" "$CFG" && ok "grub.cfg boots the clone environment" ||
	fail "grub.cfg has no reimage"
grep -qF "$(job_token "$JOB")" "$CFG" && fail "grub.cfg holds the job's token" ||
	ok "grub.cfg holds no token"
start=$(date +%s)
(vm signed "${VM_TIMEOUT:-700}")
secs=$(( $(date +%s) - start ))
check_eq "$(api GET "/api/v1/jobs/$JOB" | jq -r .state)" done "job $JOB done (${secs}s)"
grep -q "sent .*/if/usb5/[0-9.]*/shimx64.efi to" "$RACKD_LOG" && ok "shimx64.efi served from the node's dir" ||
	fail "shimx64.efi was not served"
grep -q "sent .*/if/usb5/[0-9.]*/grubx64.efi to" "$RACKD_LOG" && ok "grubx64.efi served" ||
	fail "grubx64.efi was not served"
grep -q "sent .*/if/usb5/[0-9.]*/vmlinuz to" "$RACKD_LOG" &&
	ok "GRUB fetched the clone kernel from the node's dir" || fail "the clone kernel was not fetched over TFTP"
grep -q "slot usb5 fetched its command line (clone)" "$RACKD_LOG" &&
	ok "the clone environment fetched its job and token over HTTP" || fail "no command line fetched"
check_eq "$(api GET /api/v1/nodes/usb5 | jq -r .booted_secure)" true "the clone environment reported Secure Boot on"
grep -aq "Secure boot enabled" "$TMP/signed.serial" && ok "the clone kernel runs with Secure Boot on" ||
	fail "the clone kernel did not say Secure Boot is enabled"
grep -aq "rackd: chainloading the disk's loader" "$TMP/signed.serial" &&
	ok "GRUB chainloaded the disk's shim" || fail "no chainloading line"
if grep -aq "RACKD-MARKER: image-sb1" "$TMP/signed.serial"; then
	ok "the disk's signed shim and GRUB booted the image"
else
	fail "no marker image-sb1 on the console"
	tail -c 2000 "$TMP/signed.serial"
fi
if grep -aqE "Access Denied|Security Violation" "$TMP/signed.serial"; then
	fail "the firmware refused a loader of the signed chain"
else
	ok "no refusal in the signed chain"
fi
api GET "/api/v1/jobs/$JOB" | jq -r '.events[] | "    \(.at) \(.state) \(.message)"'
finish
