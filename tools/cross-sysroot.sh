#!/bin/sh
# tools/cross-sysroot.sh ARCH DIR: the libraries of a cross build that dpkg
# cannot install next to the build machine's own, unpacked under DIR.
# Debian 12's FreeIPMI packages are not Multi-Arch: same: installing
# libfreeipmi-dev:arm64 would remove libfreeipmi-dev (amd64). Their ARCH
# packages are fetched with apt-get download (the ones of the archive the
# machine uses) and unpacked, never installed:
#   DIR/root/   the files (lib, headers, .pc files pointing into DIR/root)
#   DIR/pkg/P/  package P as dpkg-deb -R leaves it (DEBIAN/shlibs and
#               symbols), for dpkg-shlibdeps -S when rackd links it.
# `make deb ARCH=arm64` runs it and puts DIR/root's pkgconfig on
# PKG_CONFIG_PATH. Idempotent: the packages are fetched again only when the
# archive's version changes.
set -eu
arch=${1:?usage: cross-sysroot.sh ARCH DIR}
dir=${2:?usage: cross-sysroot.sh ARCH DIR}
PKGS="libfreeipmi17 libfreeipmi-dev libipmiconsole2 libipmiconsole-dev"

mkdir -p "$dir/debs"
dir=$(cd "$dir" && pwd)
want=""
for p in $PKGS; do
	v=$(apt-cache policy "$p:$arch" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$v" ] && [ "$v" != "(none)" ] || {
		echo "cross-sysroot: no $p:$arch in apt's lists (dpkg --add-architecture $arch; apt-get update)" >&2
		exit 1
	}
	want="$want ${p}_$(printf '%s' "$v" | sed 's/:/%3a/')_$arch.deb"
done
stamp=$(printf '%s' "$want" | sha256sum | cut -c1-16)
[ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && exit 0

rm -rf "$dir/root" "$dir/pkg" "$dir/debs" "$dir/stamp"
mkdir -p "$dir/root" "$dir/pkg" "$dir/debs"
(cd "$dir/debs" && apt-get download -q $(for p in $PKGS; do printf '%s:%s ' "$p" "$arch"; done)) ||
	{ echo "cross-sysroot: apt-get download failed" >&2; exit 1; }
for f in $want; do
	[ -f "$dir/debs/$f" ] || { echo "cross-sysroot: $f not downloaded" >&2; exit 1; }
	p=${f%%_*}
	dpkg-deb -x "$dir/debs/$f" "$dir/root"
	dpkg-deb -R "$dir/debs/$f" "$dir/pkg/$p"
done
# The .pc files name /usr: they are made to name DIR/root/usr.
for pc in "$dir"/root/usr/lib/*/pkgconfig/*.pc; do
	[ -f "$pc" ] || continue
	sed -i "s|^prefix=/usr\$|prefix=$dir/root/usr|" "$pc"
done
echo "$stamp" >"$dir/stamp"
