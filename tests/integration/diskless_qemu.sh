#!/bin/bash
# Diskless end to end: a virtual server with no disk at all (QEMU, software
# emulation, BIOS, its iPXE ROM) on a tap management link named usb5 in a
# rack namespace. The test builds a busybox root file system tarball whose
# /sbin/init prints a marker with its hostname and root's SSH key count,
# imports it as a rootfs image, makes usb5 diskless with it and label U7,
# and boots the VM: iPXE -> clone kernel and initramfs in diskless mode ->
# image fetched, verified, unpacked into a tmpfs -> switch_root -> the
# marker with host=U7 on the serial console, and the job done. Then usb5
# goes back to local, and its next boot asks for the local disk.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/initrd.img" ] || { echo "no clone initramfs: make pxe"; exit 1; }

sh "$TOP/tests/images/make-rootfs.sh" "$TMP/tiny.tar.zst" diskless-e2e
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJhY2tkLWRpc2tsZXNzLXRlc3Qta2V5LTAwMDAw test@rackd" >"$TMP/keys"

ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start --links 'usb*' --pxe-dir "$TOP/build/pxe" --ssh-keys "$TMP/keys" \
	--boot-timeout 10m
"$RACKCTL" image import "$TMP/tiny.tar.zst" --kind rootfs --name tiny:1 --store "$STATE/store" \
	>"$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; fail "import"; finish; }
kill -HUP "$RACKD_PID"
for ((i = 0; i < 50; i++)); do
	api GET /api/v1/images/tiny >/dev/null
	[ "$STATUS" = 200 ] && api GET /api/v1/nodes/usb5 >/dev/null && [ "$STATUS" = 200 ] && break
	sleep 0.2
done
api PATCH /api/v1/nodes/usb5 -d '{"label":"U7","image":"tiny:1","boot_mode":"diskless"}' >/dev/null
check_status 200 "usb5: diskless, tiny:1, label U7"

# vm NAME: QEMU with no disk, network boot, until it powers off or the
# time runs out; the serial console goes to $TMP/NAME.serial.
vm() {
	pxe_vm "$TMP/$1.serial" 512
	timeout "${2:-600}" "${VM[@]}" >"$TMP/$1.qemu" 2>&1
}

start=$(date +%s)
vm diskless
secs=$(( $(date +%s) - start ))
if grep -aq "RACKD-DISKLESS: diskless-e2e host=U7 keys=1" "$TMP/diskless.serial"; then
	ok "the VM ran the image from RAM as U7 with the operator's key (${secs}s)"
else
	fail "no marker with host=U7 keys=1 on the console in ${secs}s"
	tail -c 3000 "$TMP/diskless.serial"
fi
JOB=$(api GET '/api/v1/jobs?node=usb5&limit=1' | jq -r '.[0].id')
check_eq "$(api GET "/api/v1/jobs/$JOB" | jq -r '"\(.action) \(.state) \(.image)"')" "diskless done tiny:1" \
	"the diskless job is done"
api GET "/api/v1/jobs/$JOB" | jq -r '.events[] | "    \(.at) \(.state) \(.message // "")"'
api GET /api/v1/nodes/usb5 >/dev/null
check_eq "$(jq -r '"\(.boot_mode) \(.image) \(.last_result)"' <<<"$BODY")" "diskless tiny:1 done" \
	"the node shows diskless, its image and the result"
grep -a "rack-diskless.*done:" "$TMP/diskless.serial" | tail -1

# Back to local: the next boot asks for the local disk (there is none).
api PATCH /api/v1/nodes/usb5 -d '{"boot_mode":"local"}' >/dev/null
check_status 200 "usb5 back to local"
lines=$(wc -l <"$RACKD_LOG")
pxe_vm "$TMP/local.serial" 512
"${VM[@]}" >"$TMP/local.qemu" 2>&1 &
QEMU_PID=$!
on_exit "kill -9 $QEMU_PID"
for ((i = 0; i < 300; i++)); do
	tail -n +"$((lines + 1))" "$RACKD_LOG" | grep -q "slot usb5 fetched its boot script" && break
	kill -0 "$QEMU_PID" 2>/dev/null || break
	sleep 1
done
got=$(tail -n +"$((lines + 1))" "$RACKD_LOG" | grep -o "slot usb5 fetched its boot script ([a-z ]*)" | head -1)
check_eq "$got" "slot usb5 fetched its boot script (local disk)" "the next boot is the local disk"
kill -9 "$QEMU_PID" 2>/dev/null
finish
