#!/bin/bash
# Capture end to end: a virtual server (QEMU, software emulation, BIOS)
# whose disk holds a GPT, a vfat ESP and an ext4 partition with files (its
# free space random bytes first) PXE-boots from rackd over a tap management
# link into a capture job (POST /api/v1/nodes/usb5/capture); the image is
# committed, marked captured, and only the used blocks went up. A second
# virtual server's random disk is then reimaged from the captured image
# through the ordinary reimage path: every block ext4 uses and the ESP's
# used regions are byte for byte the source's, e2fsck -n is clean and the
# files read back. Last, rackctl pull brings the image to a central store
# and a second pull fetches nothing. The VMs are stopped once their job
# ends (the disks have no boot loader to boot afterwards).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../capture_lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/initrd.img" ] || { echo "no clone initramfs: make pxe"; exit 1; }
for c in jq sfdisk mkfs.ext4 mkfs.vfat mcopy mtype debugfs e2fsck dumpe2fs \
    qemu-system-x86_64; do
	command -v "$c" >/dev/null || { echo "$c is needed"; exit 1; }
done

capture_make_disk "$TMP/vm1.disk" "$TMP/tree"

ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start --links 'usb*' --slots usb5 --pxe-dir "$TOP/build/pxe" --boot-timeout 10m
node_seen() { api GET /api/v1/nodes/usb5 >/dev/null; [ "$STATUS" = 200 ]; }
wait_for 100 node_seen && ok "slot usb5 seen on its link" || fail "no slot usb5"

# vm_job NAME DISK: runs a VM on DISK until job $JOB ends (at most
# VM_TIMEOUT s), then stops it; the serial console is $TMP/NAME.serial.
vm_job() {
	local name=$1 disk=$2 qpid i start state
	start=$(date +%s)
	ip netns exec "$NS-rack" qemu-system-x86_64 -accel tcg -m 512 \
		-display none -monitor none -serial "file:$TMP/$name.serial" \
		-netdev tap,id=n0,ifname=usb5,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,bootindex=1 \
		-drive "if=none,id=d0,file=$disk,format=raw" \
		-device virtio-blk-pci,drive=d0,bootindex=2 >"$TMP/$name.qemu" 2>&1 &
	qpid=$!
	on_exit "kill $qpid"
	for ((i = 0; i < ${VM_TIMEOUT:-300}; i++)); do
		job_ended "$JOB" && break
		kill -0 "$qpid" 2>/dev/null || break
		sleep 1
	done
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	state=$(job_field "$JOB" .state)
	check_eq "$state" done "$name: job $JOB done ($(( $(date +%s) - start )) s)"
	if [ "$state" != done ]; then
		job_field "$JOB" .reason
		tail -c 3000 "$TMP/$name.serial"
	fi
	job_field "$JOB" '.events[] | "    \(.at) \(.state) \(.message)"'
}

# ---- VM1: the capture ----
api POST /api/v1/nodes/usb5/capture -d '{"image":"golden:1"}' >/dev/null
check_status 202 "capture of usb5 as golden:1 queued"
JOB=$(printf '%s' "$BODY" | jq -r .id)
vm_job capture "$TMP/vm1.disk"
grep -aq "block bitmaps" "$TMP/capture.serial" && grep -aq "FAT1[26] table" "$TMP/capture.serial" &&
	ok "capture: the console says ext4 went by its block bitmaps, vfat by its FAT" ||
	fail "capture: no file system method on the console"
api GET /api/v1/images/golden >/dev/null
check_eq "$(printf '%s' "$BODY" | jq -r '.versions[0].captured.slot')" usb5 \
	"golden:1 marked as captured from usb5"
M=$STATE/store/manifests/golden/1.json
uploaded=$(job_field "$JOB" .bytes_fetched)
disk=$(stat -c %s "$TMP/vm1.disk")
check_eq "$uploaded" "$(jq '[.chunks[].stored] | add' "$M")" \
	"capture: uploaded every chunk's stored bytes once"
if [ "$uploaded" -le $((USED_BYTES + 4 * 1048576)) ] && [ "$uploaded" -lt $((disk / 4)) ]; then
	ok "capture: $uploaded bytes uploaded; the file systems use $USED_BYTES of $disk"
else
	fail "capture: $uploaded bytes uploaded; the file systems use $USED_BYTES of $disk"
fi

# ---- VM2: a reimage from it ----
head -c "$disk" /dev/urandom >"$TMP/vm2.disk"
api POST /api/v1/nodes/usb5/reimage -d '{"image":"golden:1"}' >/dev/null
check_status 202 "reimage of usb5 with golden:1 queued"
JOB=$(printf '%s' "$BODY" | jq -r .id)
vm_job reimage "$TMP/vm2.disk"
capture_compare "$TMP/vm1.disk" "$TMP/vm2.disk" "$TMP/tree"

# ---- rackctl pull, twice ----
pull() {
	ip netns exec "$NS-rack" env RACKD_TOKEN="$TOKEN" "$RACKCTL" pull "$URL" golden:1 \
		--store "$TMP/central" >"$1" 2>&1
}
pull "$TMP/pull1.log"
check_eq "$?" 0 "rackctl pull: exit status"
cmp -s "$M" "$TMP/central/manifests/golden/1.json" &&
	ok "rackctl pull: the manifest is the rack's" || { fail "rackctl pull: manifest"; cat "$TMP/pull1.log"; }
n=$(jq '[.chunks[].hash] | unique | length' "$M")
grep -q "fetched $n chunks" "$TMP/pull1.log" && ok "rackctl pull: fetched the $n chunks" ||
	{ fail "rackctl pull: did not fetch $n chunks"; cat "$TMP/pull1.log"; }
pull "$TMP/pull2.log"
check_eq "$?" 0 "second rackctl pull: exit status"
grep -q "fetched 0 chunks" "$TMP/pull2.log" && ok "second rackctl pull: nothing fetched" ||
	{ fail "second rackctl pull fetched something"; cat "$TMP/pull2.log"; }
finish
