#!/bin/bash
# A diskless boot under Secure Boot: a virtual server with no disk (QEMU
# q35, software emulation, OVMF enforcing Secure Boot with Microsoft's
# keys; boot_vm secure) on the tap usb5, the rack's secure_boot on, the
# slot diskless with a rootfs image. Debian's signed shim and GRUB over
# TFTP from the node's dir, its grub.cfg (no token in it) boots the signed
# clone kernel, whose initramfs fetches the rest of its command line (the
# diskless job and its token) from GET /boot/usb5.cmdline, then the image,
# and switches into it: the image's marker on the console, the job done,
# and no iPXE anywhere.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/initrd.img" ] || { echo "no clone initramfs: make pxe"; exit 1; }
[ -f "$TOP/build/pxe/SHA256SUMS" ] || { echo "no UEFI loaders: make pxe"; exit 1; }
[ -f /usr/share/OVMF/OVMF_CODE_4M.ms.fd ] || { echo "no OVMF with Secure Boot (Debian's ovmf)"; exit 1; }

sh "$TOP/tests/images/make-rootfs.sh" "$TMP/tiny.tar.zst" sb-diskless
ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start --links 'usb*' --pxe-dir "$TOP/build/pxe" --boot-timeout 10m \
	--secure-boot=yes
"$RACKCTL" image import "$TMP/tiny.tar.zst" --kind rootfs --name tiny:1 --store "$STATE/store" \
	>"$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; exit 1; }
kill -HUP "$RACKD_PID"
wait_image tiny 1 || fail "image tiny:1 not indexed"
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/nodes/usb5 | jq -r .link.state)" = up ] && break
	sleep 0.2
done
api PATCH /api/v1/nodes/usb5 -d '{"label":"S9","image":"tiny:1","boot_mode":"diskless"}' >/dev/null
check_status 200 "usb5: diskless, tiny:1, label S9"
NODE=$(api GET /api/v1/nodes/usb5 | jq -r .link.node_addr)
CFG=$STATE/tftp/if/usb5/$NODE/grub/grub.cfg
wait_for 50 grep -q "diskless boot of tiny:1" "$CFG" &&
	ok "the node's grub.cfg boots the clone kernel for a diskless boot" ||
	{ fail "no diskless boot in $CFG"; cat "$CFG"; }
grep -q "rackd.token" "$CFG" && fail "grub.cfg holds a token" || ok "grub.cfg holds no token"

boot_vm secure diskless
start=$(date +%s)
timeout "${VM_TIMEOUT:-400}" "${VM[@]}" >"$TMP/diskless.qemu" 2>&1
secs=$(( $(date +%s) - start ))
if grep -aq "RACKD-DISKLESS: sb-diskless host=S9" "$TMP/diskless.serial"; then
	ok "the VM ran the image from RAM as S9 under Secure Boot (${secs}s)"
else
	fail "no marker with host=S9 on the console in ${secs}s"
	tail -c 3000 "$TMP/diskless.serial"
fi
grep -aq "Secure boot enabled" "$TMP/diskless.serial" && ok "the clone kernel ran with Secure Boot on" ||
	fail "the clone kernel did not say Secure Boot is enabled"
grep -aqE "Access Denied|Security Violation" "$TMP/diskless.serial" &&
	fail "the firmware refused a loader" || ok "no refusal in the signed chain"
grep -q "sent .*/if/usb5/$NODE/shimx64.efi to" "$RACKD_LOG" && ok "shim from the node's dir" ||
	fail "shimx64.efi was not served"
grep -q "sent .*/if/usb5/$NODE/grub/grub.cfg to" "$RACKD_LOG" && ok "GRUB read the node's grub.cfg" ||
	fail "grub.cfg was not served"
grep -q "slot usb5 fetched its command line (diskless)" "$RACKD_LOG" &&
	ok "the initramfs fetched its command line over HTTP" || fail "no command line fetched"
grep -q "fetched its boot script" "$RACKD_LOG" && fail "an iPXE boot script was fetched" ||
	ok "no iPXE on the way"
JOB=$(api GET '/api/v1/jobs?node=usb5&limit=1' | jq -r '.[0].id')
check_eq "$(api GET "/api/v1/jobs/$JOB" | jq -r '"\(.action) \(.state) \(.image)"')" "diskless done tiny:1" \
	"the diskless job is done"
check_eq "$(api GET /api/v1/nodes/usb5 | jq -r .booted_secure)" true "the node shows it booted with Secure Boot"
api GET "/api/v1/jobs/$JOB" | jq -r '.events[] | "    \(.at) \(.state) \(.message // "")"'

# Back to local: GRUB's configuration chainloads the disk again.
api PATCH /api/v1/nodes/usb5 -d '{"boot_mode":"local"}' >/dev/null
check_status 200 "usb5 back to local"
wait_for 50 grep -q "booting the local disk" "$CFG" && ok "grub.cfg boots the local disk again" ||
	{ fail "grub.cfg does not boot the local disk"; cat "$CFG"; }
finish
