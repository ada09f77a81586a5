# shellcheck shell=bash
# tests/deb/board.sh: an emulated rack board for the tests (bash, sourced
# after tests/lib.sh). A Debian 12 root of architecture ARCH made by
# mmdebstrap (arm64: --architectures=arm64, qemu-user-static through
# binfmt_misc runs its maintainer scripts), put on an ext4 disk image and
# booted in software emulation, -accel tcg (arm64: qemu-system-aarch64 -M
# virt -cpu cortex-a72; amd64: qemu-system-x86_64 -M q35, for comparison)
# with the root's own kernel and initramfs, root on a virtio disk. The host
# shares a folder with the board over virtio-9p (/share: the packages, the
# script the board runs at boot, what it writes back) and reaches the
# board's port 8080 at 127.0.0.1:$BOARD_PORT (user-mode network, hostfwd on
# loopback only; the board's networkd configures that NIC alone, by its
# MAC). With BOARD_NS and BOARD_TAP set, the board runs in the network
# namespace BOARD_NS (made by the test) with a second NIC on the tap
# BOARD_TAP there, MAC $BOARD_MGMT_MAC, left alone by networkd: its
# management link; then 127.0.0.1:$BOARD_PORT is that namespace's, and
# "${BOARD_WRAP[@]}" runs a command there.
#
# The disk, kernel and initramfs are kept in build/board-ARCH/, named by the
# packages the root holds, so that a rerun boots at once; every boot runs on
# a copy-on-write overlay in $TMP, the cached disk stays clean.

# arm64_binfmt: qemu-aarch64-static registered for arm64 programs (as
# systemd-binfmt would from /usr/lib/binfmt.d/qemu-aarch64.conf).
arm64_binfmt() {
	local d=/proc/sys/fs/binfmt_misc
	[ -e "$d/qemu-aarch64" ] && return 0
	[ -e "$d/register" ] || mount -t binfmt_misc binfmt_misc "$d" || return 1
	[ -e "$d/qemu-aarch64" ] ||
		tr -d '\n' </usr/lib/binfmt.d/qemu-aarch64.conf >"$d/register" || return 1
	[ -e "$d/qemu-aarch64" ]
}

# board_root ARCH INCLUDE: the cached board root of ARCH (arm64, amd64)
# holding the packages INCLUDE (comma separated); sets BOARD_DISK,
# BOARD_KERNEL, BOARD_INITRD. BOARD_RECIPE names the way the root is made
# (in the cache key): a change to the hooks below changes it.
BOARD_RECIPE=2
BOARD_NET_MAC=52:54:00:12:34:56
BOARD_MGMT_MAC=52:54:00:00:15:01
board_root() {
	local arch=$1
	local include="systemd,systemd-sysv,udev,kmod,procps,iproute2,linux-image-$arch,$2"
	local cache="$TOP/build/board-$arch" key dir
	key=$(printf '%s %s' "$BOARD_RECIPE" "$include" | sha256sum | cut -c1-16)
	BOARD_DISK=$cache/$key/disk.img
	BOARD_KERNEL=$cache/$key/vmlinuz
	BOARD_INITRD=$cache/$key/initrd.img
	[ -f "$BOARD_DISK" ] && [ -f "$BOARD_KERNEL" ] && [ -f "$BOARD_INITRD" ] && return 0
	if [ "$arch" != "$(dpkg --print-architecture)" ]; then
		arm64_binfmt || { echo "cannot register qemu-aarch64 with binfmt_misc"; return 1; }
	fi
	rm -rf "$cache" && mkdir -p "$cache/$key"
	# Made outside the source tree: debian/rules clean walks it.
	dir=$TMP/root-$arch
	# The board: networkd on its user-mode NIC (DHCP from QEMU), /share from the
	# host, and rackd-test.service running /share/board.sh once booted.
	# The initramfs holds the few modules the board needs to mount its
	# root (MODULES=list): MODULES=most under qemu-user takes half an hour.
	cat >"$TMP/initramfs-hook" <<-'EOF'
	#!/bin/sh
	case "$1" in prereqs) exit 0 ;; esac
	. /usr/share/initramfs-tools/hook-functions
	for m in virtio_pci virtio_mmio virtio_blk ext4; do
		manual_add_modules $m && echo $m >>"$DESTDIR/conf/modules"
	done
	EOF
	timeout 3600 mmdebstrap --architectures="$arch" --variant=apt --include="$include" \
		--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"' \
		--essential-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/board"' \
		--essential-hook="install -m 755 $TMP/initramfs-hook \"\$1/etc/initramfs-tools/hooks/board\"" \
		--customize-hook='echo rackboard >"$1/etc/hostname"' \
		--customize-hook='printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\nshare /share 9p trans=virtio,version=9p2000.L,msize=262144,nofail 0 0\n" >"$1/etc/fstab"' \
		--customize-hook='mkdir -p "$1/share"' \
		--customize-hook='printf "[Match]\nMACAddress='"$BOARD_NET_MAC"'\n\n[Network]\nDHCP=ipv4\n" >"$1/etc/systemd/network/50-board.network"' \
		--customize-hook='printf "[Unit]\nDescription=rackd board test\nRequiresMountsFor=/share\nAfter=network-online.target\nWants=network-online.target\nConditionPathExists=/share/board.sh\n\n[Service]\nType=oneshot\nExecStart=/bin/sh /share/board.sh\nTimeoutStartSec=1800\n\n[Install]\nWantedBy=multi-user.target\n" >"$1/etc/systemd/system/rackd-test.service"' \
		--customize-hook='chroot "$1" systemctl enable systemd-networkd rackd-test.service' \
		--customize-hook='chroot "$1" passwd -d root' \
		bookworm "$dir" http://deb.debian.org/debian >"$cache/mmdebstrap.log" 2>&1 ||
		{ tail -20 "$cache/mmdebstrap.log"; echo "mmdebstrap ($arch) failed"; return 1; }
	cp "$(ls "$dir"/boot/vmlinuz-* | head -1)" "$BOARD_KERNEL.tmp" &&
		cp "$(ls "$dir"/boot/initrd.img-* | head -1)" "$BOARD_INITRD.tmp" ||
		{ echo "no kernel or initramfs in the $arch root"; return 1; }
	truncate -s 4G "$BOARD_DISK.tmp" &&
		mkfs.ext4 -q -F -L root -d "$dir" "$BOARD_DISK.tmp" ||
		{ echo "cannot make the $arch disk"; return 1; }
	rm -rf "$dir"
	mv "$BOARD_KERNEL.tmp" "$BOARD_KERNEL"
	mv "$BOARD_INITRD.tmp" "$BOARD_INITRD"
	mv "$BOARD_DISK.tmp" "$BOARD_DISK"
}

# board_boot ARCH SHARE: boot the board of ARCH (board_root first) with
# SHARE as its /share (SHARE/board.sh runs once it is up); sets BOARD_PORT
# and BOARD_PID, the console is in $TMP/board-ARCH.log. Stopped on exit.
board_boot() {
	local arch=$1 share=$2 qemu console mgmt=()
	case "$arch" in
	arm64) qemu=(qemu-system-aarch64 -M virt -cpu cortex-a72); console=ttyAMA0 ;;
	amd64) qemu=(qemu-system-x86_64 -M q35 -cpu max); console=ttyS0 ;;
	*) echo "board_boot: no board for $arch"; return 1 ;;
	esac
	BOARD_PORT=$(free_port)
	BOARD_WRAP=()
	if [ -n "${BOARD_NS:-}" ]; then
		BOARD_WRAP=(ip netns exec "$BOARD_NS")
		mgmt=(-netdev "tap,id=n1,ifname=$BOARD_TAP,script=no,downscript=no"
			-device "virtio-net-pci,netdev=n1,mac=$BOARD_MGMT_MAC")
	fi
	qemu-img create -q -f qcow2 -b "$BOARD_DISK" -F raw "$TMP/board-$arch.qcow2" ||
		{ echo "qemu-img failed"; return 1; }
	"${BOARD_WRAP[@]}" "${qemu[@]}" -accel tcg -smp 2 -m 1536 \
		-nographic -monitor none -serial "file:$TMP/board-$arch.log" \
		-kernel "$BOARD_KERNEL" -initrd "$BOARD_INITRD" \
		-append "root=/dev/vda rw console=$console quiet systemd.show_status=0" \
		-drive "if=none,id=d0,file=$TMP/board-$arch.qcow2,format=qcow2" \
		-device virtio-blk-pci,drive=d0 \
		-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$BOARD_PORT-:8080" \
		-device "virtio-net-pci,netdev=n0,mac=$BOARD_NET_MAC" "${mgmt[@]}" \
		-fsdev "local,id=s0,path=$share,security_model=none" \
		-device virtio-9p-pci,fsdev=s0,mount_tag=share \
		</dev/null >"$TMP/qemu-$arch.log" 2>&1 &
	BOARD_PID=$!
	on_exit "kill $BOARD_PID; sleep 1; kill -9 $BOARD_PID"
}

# board_wait FILE SECONDS: wait for the board to write FILE (bounded; fails
# early when QEMU is gone).
board_wait() {
	local i
	for ((i = 0; i < $2; i++)); do
		[ -e "$1" ] && return 0
		kill -0 "$BOARD_PID" 2>/dev/null || { echo "QEMU exited"; return 1; }
		sleep 1
	done
	return 1
}
