#!/bin/sh
# make-bootable.sh OUT MARKER [SIZE_MIB]: a small disk image that boots by
# BIOS (syslinux) and by UEFI (syslinux.efi as \EFI\BOOT\BOOTX64.EFI; with
# SIGNED=1 Debian's signed shim and GRUB instead, which Secure Boot with
# Microsoft's keys accepts), runs Debian's kernel (the one make pxe unpacked) with a tiny initramfs that prints "RACKD-MARKER:
# MARKER" on the serial console and powers off. The tests reimage virtual
# servers with it and look for the marker.
set -eu
. "$(dirname "$0")/busybox.sh"
out=$1
marker=$2
size=${3:-64}
top=$(cd "$(dirname "$0")/../.." && pwd)
kernel=$top/build/pxe/vmlinuz
[ -f "$kernel" ] || { echo "no $kernel: run make pxe" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The initramfs: busybox and its libraries, and an init that says the marker.
root=$work/root
mkdir -p "$root/bin" "$root/proc" "$root/dev"
busybox_root "$root"
cat >"$root/init" <<EOS
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev
echo "RACKD-MARKER: $marker"
/bin/busybox sleep 1
/bin/busybox poweroff -f
EOS
chmod 755 "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 >"$work/initrd.gz"

cat >"$work/syslinux.cfg" <<EOF2
SERIAL 0 115200
DEFAULT marker
TIMEOUT 1
LABEL marker
  LINUX /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0,115200 quiet panic=5
EOF2

# A FAT partition from 1 MiB to the end, bootable, in an MBR disk.
part_mib=$((size - 1))
mkfs.vfat -C -n RACKDTEST "$work/part.img" $((part_mib * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -i "$work/part.img" "$kernel" ::/vmlinuz
mcopy -i "$work/part.img" "$work/initrd.gz" ::/initrd.gz
mcopy -i "$work/part.img" "$work/syslinux.cfg" ::/syslinux.cfg
mmd -i "$work/part.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/part.img" /usr/lib/SYSLINUX.EFI/efi64/syslinux.efi ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$work/part.img" /usr/lib/syslinux/modules/efi64/ldlinux.e64 ::/EFI/BOOT/ldlinux.e64
mcopy -i "$work/part.img" "$work/syslinux.cfg" ::/EFI/BOOT/syslinux.cfg
if [ "${SIGNED:-0}" = 1 ]; then
	# shim (as the fallback loader) starts grubx64.efi beside it; that
	# GRUB reads grub.cfg beside itself ($cmdpath) and boots the signed
	# kernel through shim's check.
	for f in shimx64.efi grubx64-disk.efi; do
		[ -f "$top/build/pxe/$f" ] || { echo "no build/pxe/$f: run make pxe" >&2; exit 1; }
	done
	cat >"$work/grub.cfg" <<EOF3
echo "disk: GRUB of the image $marker"
linux /vmlinuz console=ttyS0,115200 quiet panic=5
initrd /initrd.gz
boot
EOF3
	mdel -i "$work/part.img" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i "$work/part.img" "$top/build/pxe/shimx64.efi" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i "$work/part.img" "$top/build/pxe/grubx64-disk.efi" ::/EFI/BOOT/grubx64.efi
	mcopy -i "$work/part.img" "$work/grub.cfg" ::/EFI/BOOT/grub.cfg
fi
syslinux --install "$work/part.img"

rm -f "$out"
truncate -s "${size}M" "$out"
printf 'label: dos\nstart=2048, type=c, bootable\n' | sfdisk -q "$out"
dd if="$work/part.img" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$out" bs=440 count=1 conv=notrunc status=none
