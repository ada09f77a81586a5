#!/bin/sh
# make pxe: the UEFI network loaders rackd serves over TFTP, in build/pxe/:
# grubx64.efi (Debian's signed network GRUB, grubnetx64.efi.signed of
# grub-efi-amd64-signed) and shimx64.efi (Debian's Microsoft-signed shim,
# shimx64.efi.signed of shim-signed), and SHA256SUMS of both. The packages
# come by apt-get download (apt checks them against the archive's signed
# Release file); they are unpacked here, not installed. rackd checks each
# loader against SHA256SUMS before it serves it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build/pxe
cache=$out/cache
work=$out/efi-work
mkdir -p "$cache"

# fetch PACKAGE: the path of its .deb in the cache.
fetch() {
	deb=$(ls "$cache/${1}_"*.deb 2>/dev/null | head -1 || true)
	if [ -z "$deb" ]; then
		echo "pxe: downloading $1" >&2
		(cd "$cache" && apt-get download "$1" 2>&1 |
			grep -v '^W: Download is performed unsandboxed' >&2 || true)
		deb=$(ls "$cache/${1}_"*.deb 2>/dev/null | head -1 || true)
	fi
	[ -n "$deb" ] || { echo "pxe: cannot download Debian's $1" >&2; exit 1; }
	echo "$deb"
}

rm -rf "$work"
mkdir -p "$work"
dpkg-deb -x "$(fetch grub-efi-amd64-signed)" "$work"
dpkg-deb -x "$(fetch shim-signed)" "$work"
cp "$work/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" "$out/grubx64.efi"
cp "$work/usr/lib/shim/shimx64.efi.signed" "$out/shimx64.efi"
# The disk's loaders for the test images (tests/images/make-bootable.sh):
# the signed GRUB of a disk, and shim's fallback and MOK manager.
cp "$work/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$out/grubx64-disk.efi"
rm -rf "$work"
(cd "$out" && sha256sum grubx64.efi shimx64.efi >SHA256SUMS.tmp &&
	mv SHA256SUMS.tmp SHA256SUMS)
echo "pxe: UEFI loaders: $(cd "$out" && tr '\n' ' ' <SHA256SUMS)"
