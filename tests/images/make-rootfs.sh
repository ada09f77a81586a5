#!/bin/sh
# make-rootfs.sh OUT.tar[.gz|.xz|.zst] MARKER [FILL_MIB]: a small root file
# system tarball for diskless tests: busybox and its libraries, and a
# /sbin/init that prints "RACKD-DISKLESS: MARKER host=HOSTNAME keys=N" on
# the console (N: lines of root's authorized_keys, from rackd's overlay)
# and powers off. FILL_MIB adds that many MiB of this machine's programs
# and libraries under /opt/fill (a realistic mix for benchmarks).
set -eu
. "$(dirname "$0")/busybox.sh"
out=$1
marker=$2
fill=${3:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" \
	"$root/dev" "$root/tmp" "$root/root"
busybox_root "$root"
for app in sh cat hostname mount poweroff sleep wc; do
	ln -s busybox "$root/bin/$app"
done
cat >"$root/sbin/init" <<EOS
#!/bin/busybox sh
export PATH=/bin
[ -e /proc/self ] || mount -t proc proc /proc
keys=0
[ -f /root/.ssh/authorized_keys ] && keys=\$(wc -l </root/.ssh/authorized_keys)
echo "RACKD-DISKLESS: $marker host=\$(hostname) keys=\$keys"
sleep 1
poweroff -f
EOS
chmod 755 "$root/sbin/init"
echo "$marker" >"$root/etc/rackd-test-image"

if [ "$fill" -gt 0 ]; then
	# Programs and libraries of this machine, in a fixed order, up to FILL MiB.
	mkdir -p "$root/opt/fill"
	find /usr/bin /usr/lib/x86_64-linux-gnu /usr/share/perl /usr/share/doc \
		-type f -size -8M -printf '%s %p\n' 2>/dev/null | LC_ALL=C sort -k2 |
		awk -v max=$((fill * 1024 * 1024)) '{ sum += $1; if (sum > max) exit; print $2 }' |
		xargs -d '\n' cp --parents -t "$root/opt/fill"
fi

case "$out" in
*.tar.gz) z=--gzip ;;
*.tar.xz) z=--xz ;;
*.tar.zst) z=--zstd ;;
*) z= ;;
esac
tar -C "$root" --numeric-owner --owner=0 --group=0 $z -cf "$out" .
