# tests/images/busybox.sh: sourced by the image makers of this folder
# (make-bootable.sh, make-rootfs.sh), whose test systems are busybox alone:
# one place that knows how to copy it with the libraries it needs.

# busybox_root ROOT: /usr/bin/busybox as ROOT/bin/busybox, and every shared
# library ldd names for it at the same path under ROOT.
busybox_root()
{
	mkdir -p "$1/bin"
	cp /usr/bin/busybox "$1/bin/busybox"
	ldd /usr/bin/busybox | awk '/=>/ {print $3} /^\t\// {print $1}' |
	while read -r lib; do
		[ -f "$lib" ] || continue
		mkdir -p "$1$(dirname "$lib")"
		cp -L "$lib" "$1$lib"
	done
}
