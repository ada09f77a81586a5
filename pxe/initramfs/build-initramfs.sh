#!/bin/sh
# make pxe: the clone kernel and initramfs, in build/pxe/ (vmlinuz,
# initrd.img). The kernel and its modules come from Debian's kernel
# package, unpacked here (not installed); busybox, rack-agent,
# rack-diskless (and /etc/diskless.sh, the diskless stage) and the
# libraries they need come from this machine; init, udhcpc.script,
# modules.txt and diskless.sh from this folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build/pxe
work=$out/work
agent=$top/build/rack-agent
diskless=$top/build/rack-diskless
[ -x "$agent" ] || { echo "build/rack-agent is missing: run make first" >&2; exit 1; }
[ -x "$diskless" ] || { echo "build/rack-diskless is missing: run make first" >&2; exit 1; }

mkdir -p "$out/cache"
# The kernel image package linux-image-amd64 points at.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$kpkg" ]; then
	apt-get update -q >/dev/null
	kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[ -n "$kpkg" ] || { echo "no Debian kernel package found" >&2; exit 1; }
deb=$(ls "$out/cache/${kpkg}_"*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
	echo "pxe: downloading $kpkg"
	(cd "$out/cache" && apt-get download "$kpkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
	deb=$(ls "$out/cache/${kpkg}_"*.deb | head -1)
fi
rm -rf "$work"
mkdir -p "$work/kernel" "$work/root"
dpkg-deb -x "$deb" "$work/kernel"
kver=$(ls "$work/kernel/lib/modules" | head -1)
cp "$work/kernel/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
depmod -b "$work/kernel" "$kver"

root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" \
	"$root/dev" "$root/tmp" "$root/lib/modules/$kver"
cp "$here/init" "$root/init"
cp "$here/udhcpc.script" "$root/etc/udhcpc.script"
chmod 755 "$root/init" "$root/etc/udhcpc.script"
grep -v '^[[:space:]]*\(#\|$\)' "$here/modules.txt" >"$root/etc/modules"
cp /usr/bin/busybox "$root/bin/busybox"
cp "$agent" "$root/sbin/rack-agent"
cp "$diskless" "$root/sbin/rack-diskless"
cp "$here/diskless.sh" "$root/etc/diskless.sh"
chmod 755 "$root/etc/diskless.sh"

# Shared libraries of the programs, with the loader.
for prog in "$root/bin/busybox" "$root/sbin/rack-agent" "$root/sbin/rack-diskless"; do
	ldd "$prog" | awk '/=>/ {print $3} /^\t\// {print $1}' | while read -r lib; do
		[ -f "$lib" ] || continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
# libcurl reads CA certificates only for https; rackd is plain http.

# Modules and what they need.
missing=""
for m in $(cat "$root/etc/modules"); do
	deps=$(modprobe -d "$work/kernel" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}') || true
	if [ -z "$deps" ]; then
		grep -q "/$m.ko" "$work/kernel/lib/modules/$kver/modules.builtin" 2>/dev/null || missing="$missing $m"
		continue
	fi
	for ko in $deps; do
		rel=${ko#"$work/kernel"}
		mkdir -p "$root$(dirname "$rel")"
		cp "$ko" "$root$rel"
	done
done
[ -z "$missing" ] || echo "pxe: modules not in $kpkg:$missing"
cp "$work/kernel/lib/modules/$kver/modules.builtin" \
	"$work/kernel/lib/modules/$kver/modules.order" "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	zstd -q -19 -T0 >"$out/initrd.img.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.img.tmp" "$out/initrd.img"
echo "$kver" >"$out/kernel-version"
nko=$(find "$root/lib/modules" -name '*.ko' | wc -l)
rm -rf "$work"
printf 'pxe: kernel %s: vmlinuz %s KiB, initrd.img %s KiB (%s module files)\n' "$kver" \
	$(( $(stat -c %s "$out/vmlinuz") / 1024 )) $(( $(stat -c %s "$out/initrd.img") / 1024 )) "$nko"
