#!/bin/bash
# Reimage end to end: a virtual server (QEMU, software emulation) with a
# blank disk PXE-boots from rackd over a tap management link, runs the
# clone environment, writes the image, reboots from its disk and prints
# the image's marker. BIOS and UEFI (OVMF); then a delta reimage to a close
# version onto the same disk moves little more than the changed chunks.
# Both boot the network first: after the reimage, the local-boot script
# boots the disk (BIOS: iPXE's sanboot; UEFI: Debian's network GRUB with
# rackd's per-node grub.cfg, chainloading the disk's EFI loader).
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/initrd.img" ] || { echo "no clone initramfs: make pxe"; exit 1; }

sh "$TOP/tests/images/make-bootable.sh" "$TMP/v1.img" "image-v1" 64
sh "$TOP/tests/images/make-bootable.sh" "$TMP/v2.img" "image-v2" 64

ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start --links 'usb*' --pxe-dir "$TOP/build/pxe" --boot-timeout 10m
for v in 1 2; do
	"$RACKCTL" image import "$TMP/v$v.img" --name "marker:$v" \
		--store "$STATE/store" >"$TMP/import$v.log" 2>&1 || { cat "$TMP/import$v.log"; exit 1; }
done
kill -HUP "$RACKD_PID"
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/images/marker | jq '.versions | length')" = 2 ] && break
	sleep 0.2
done
check_eq "$(api GET /api/v1/images/marker | jq '.versions | length')" 2 "both versions indexed"

# vm NAME FIRMWARE DISK: run a VM until it powers off (bounded); the serial
# console goes to $TMP/NAME.serial.
vm() {
	local name=$1 fw=$2 disk=$3 firmware=() netboot=,bootindex=1 diskboot=,bootindex=2
	if [ "$fw" = uefi ]; then
		# With this boot order OVMF keeps only the network boot option:
		# iPXE's exit would stop in its boot manager, GRUB must start
		# the disk.
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$TMP/$name.vars"
		firmware=(-machine q35
			-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
			-drive "if=pflash,format=raw,file=$TMP/$name.vars")
	fi
	timeout "${VM_TIMEOUT:-600}" ip netns exec "$NS-rack" qemu-system-x86_64 -accel tcg -m 512 \
		"${firmware[@]}" -display none -monitor none \
		-serial "file:$TMP/$name.serial" \
		-netdev tap,id=n0,ifname=usb5,script=no,downscript=no \
		-device "virtio-net-pci,netdev=n0$netboot" \
		-drive "if=none,id=d0,file=$disk,format=raw" \
		-device "virtio-blk-pci,drive=d0$diskboot" >"$TMP/$name.qemu" 2>&1
}

# reimage NAME FIRMWARE DISK VERSION: the whole flow; sets JOB.
reimage() {
	local name=$1 fw=$2 disk=$3 v=$4 start secs state
	api POST /api/v1/nodes/usb5/reimage -d "{\"image\":\"marker:$v\"}" >"$TMP/job.json"
	check_status 202 "$name: reimage queued"
	JOB=$(jq -r .id "$TMP/job.json")
	start=$(date +%s)
	vm "$name" "$fw" "$disk"
	secs=$(( $(date +%s) - start ))
	state=$(api GET "/api/v1/jobs/$JOB" | jq -r .state)
	check_eq "$state" done "$name: job $JOB done (${secs}s)"
	if grep -aq "RACKD-MARKER: image-v$v" "$TMP/$name.serial"; then
		ok "$name: the server booted the new image from its disk"
	else
		fail "$name: no marker image-v$v on the console"
		tail -c 2000 "$TMP/$name.serial"
	fi
	if cmp -s -n "$(stat -c %s "$TMP/v$v.img")" "$disk" "$TMP/v$v.img"; then
		ok "$name: the disk holds exactly the image"
	else
		fail "$name: the disk differs from the image"
	fi
	api GET "/api/v1/jobs/$JOB" | jq -r '.events[] | "    \(.at) \(.state) \(.message)"'
}

FIRMWARES=${FIRMWARES:-bios uefi}
case " $FIRMWARES " in *" uefi "*)
	[ -f "$TOP/build/pxe/SHA256SUMS" ] || { echo "no UEFI loaders: make pxe"; exit 1; }
	truncate -s 64M "$TMP/uefi.disk"
	reimage uefi uefi "$TMP/uefi.disk" 1
	if grep -aq "rackd: chainloading the disk's loader" "$TMP/uefi.serial"; then
		ok "uefi: GRUB chainloaded the disk's loader"
	else
		fail "uefi: no chainloading line on the console"
	fi
	if grep -q "sent $STATE/tftp/if/usb5/[0-9.]*/grub/grub.cfg to " "$RACKD_LOG"; then
		ok "uefi: GRUB read the node's own grub.cfg (tftp/if/usb5/ADDR)"
	else
		fail "uefi: GRUB did not read tftp/if/usb5/ADDR/grub/grub.cfg"
		grep dnsmasq-tftp "$RACKD_LOG" | tail -n 10
	fi
	;;
esac
case " $FIRMWARES " in *" bios "*) ;; *) finish ;; esac
truncate -s 64M "$TMP/bios.disk"
head -c 4M /dev/urandom | dd of="$TMP/bios.disk" conv=notrunc status=none
reimage bios bios "$TMP/bios.disk" 1
full=$(api GET "/api/v1/jobs/$JOB" | jq .bytes_fetched)

# Delta: v2 differs from v1 in a few chunks; only those travel.
reimage delta bios "$TMP/bios.disk" 2
fetched=$(api GET "/api/v1/jobs/$JOB" | jq .bytes_fetched)
changed=$(jq -n --slurpfile a "$STATE/store/manifests/marker/1.json" \
	--slurpfile b "$STATE/store/manifests/marker/2.json" \
	'[$b[0].chunks[] | select(.hash as $h | [$a[0].chunks[].hash] | index($h) | not) | .stored] | add // 0')
echo "full reimage fetched $full bytes; delta fetched $fetched; changed chunks hold $changed"
if [ "$fetched" -le $((changed + changed / 10 + 65536)) ]; then
	ok "delta fetched only the changed chunks ($fetched <= $changed + margin)"
else
	fail "delta fetched $fetched bytes, changed chunks hold $changed"
fi
finish
