#!/bin/busybox sh
# The diskless stage of the clone environment (rackd.mode=diskless on the
# kernel command line): /init runs it once the link to the rack board is
# up. rack-diskless fetches the node's rootfs image, verifies it, unpacks
# it into a tmpfs and writes the node's overlay there; then this script
# switches into it. No disk of the server is touched. On failure it
# reboots, and the next boot tries again.
export PATH=/bin:/sbin
url= job= token= slot= fetch=stream init=/sbin/init tmpfs=90%
for w in $(cat "${RACKD_CMDLINE:-/proc/cmdline}"); do
	case "$w" in
	rackd.url=*) url=${w#*=} ;;
	rackd.job=*) job=${w#*=} ;;
	rackd.token=*) token=${w#*=} ;;
	rackd.slot=*) slot=${w#*=} ;;
	rackd.fetch=*) fetch=${w#*=} ;;
	rackd.init=*) init=${w#*=} ;;
	rackd.tmpfs=*) tmpfs=${w#*=} ;;
	esac
done

fail() {
	echo "rackd diskless: $*; rebooting in 15 s"
	sleep 15
	reboot -f
}

echo "rackd diskless: slot $slot, job $job, the image by $fetch"
mkdir -p /newroot
mount -t tmpfs -o "mode=0755,size=$tmpfs" rootfs /newroot || fail "no tmpfs"
rack-diskless --url "$url" --job "$job" --token "$token" --slot "$slot" \
	--root /newroot --fetch "$fetch" || fail "the root file system did not arrive"

# This kernel's modules for the new system, unless it brings its own.
kver=$(uname -r)
if [ -d "/lib/modules/$kver" ] && [ ! -e "/newroot/lib/modules/$kver" ]; then
	case "$(readlink /newroot/lib)" in
	/*) ;;	# an absolute link would point into this initramfs
	*) mkdir -p /newroot/lib/modules && cp -a "/lib/modules/$kver" /newroot/lib/modules/ ;;
	esac
fi
[ -L "/newroot$init" ] || [ -x "/newroot$init" ] || fail "the image has no $init"
for m in dev proc sys; do
	[ -d "/newroot/$m" ] && mount --move "/$m" "/newroot/$m"
done
echo "rackd diskless: starting $init of the image as $(hostname)"
exec switch_root /newroot "$init"
