#!/bin/sh
# Install the Debian packages rackd needs to build, test and run its demo,
# and create the system user rackd runs as.
# Idempotent: packages already installed are left alone, and apt is only
# called when something is missing.
set -eu

BUILD="build-essential pkg-config xxd libmicrohttpd-dev libsqlite3-dev
libarchive-dev libjansson-dev libinih-dev libzstd-dev libcurl4-openssl-dev
libmnl-dev libblkid-dev libsodium-dev libsystemd-dev libfreeipmi-dev
libipmiconsole-dev libhidapi-dev libext2fs-dev"
# The dashboard's xterm.js comes from npm at build (tools/webui-vendor.sh).
BUILD="$BUILD nodejs"
RUN="dnsmasq-base ipxe"
PXE="kmod cpio zstd busybox"
CHECK="cppcheck clang-format"
TEST="libcmocka-dev curl sqlite3 zstd xz-utils bzip2 gzip jq iproute2 procps
python3 busybox tftp-hpa qemu-system-x86 ovmf syslinux syslinux-common
syslinux-efi mtools dosfstools fdisk e2fsprogs"
# Power and console peers: a BMC (ipmi_sim), FreeIPMI's tools to check it,
# ptys for serial consoles, openssl for a Redfish test BMC's certificate,
# nginx for image origins and site caches.
TEST="$TEST openipmi freeipmi-tools socat openssl nginx-light"
# The S3 test peer (tests/integration/s3_peer.py) checks AWS Signature v4
# with botocore's signer, run by Debian's python3.
TEST="$TEST python3-botocore"
# The dashboard's browser tests: Debian's chromium, driven by playwright-core
# from npm (tests/browser).
TEST="$TEST chromium nodejs"
BENCH="nginx-light wrk rsync partclone bc"
# make asan (gcc's sanitizers come with build-essential) and make fuzz
# (clang's libFuzzer and sanitizer runtimes; llvm-symbolizer for reports).
FUZZ="clang libclang-rt-14-dev llvm"
# make deb (debhelper, lintian) and make test-deb (a Debian 12 root made by
# mmdebstrap, booted with systemd-nspawn).
DEB="debhelper dpkg-dev lintian mmdebstrap systemd-container"
# make deb ARCH=arm64 (a cross build: the cross compiler, the cross
# pkg-config and the :arm64 -dev package of every library rackd and rackctl
# link) and make test-arm64 (an arm64 Debian 12 root booted under
# qemu-system-aarch64; qemu-user-static runs its maintainer scripts; the
# board reimages a qemu-system-x86 server with a marker image, made with
# syslinux, mtools, dosfstools and fdisk, over a bridge where busybox's
# udhcpc and tftp-hpa's tftp check its DHCP and TFTP).
ARM64="crossbuild-essential-arm64 pkgconf:arm64 libmicrohttpd-dev:arm64
libsqlite3-dev:arm64 libjansson-dev:arm64 libinih-dev:arm64
libsodium-dev:arm64 libzstd-dev:arm64 libarchive-dev:arm64
libcurl4-openssl-dev:arm64 libmnl-dev:arm64 libblkid-dev:arm64
libsystemd-dev:arm64 libhidapi-dev:arm64"
# Debian 12's FreeIPMI packages are not Multi-Arch: same, so
# libfreeipmi-dev:arm64 cannot be installed next to libfreeipmi-dev (apt
# would remove the amd64 one): tools/cross-sysroot.sh unpacks the arm64
# ones under build/arm64-sysroot/ for the cross build instead.
ARM64_TEST="qemu-system-arm qemu-user-static qemu-efi-aarch64 mmdebstrap arch-test
qemu-system-x86 curl jq busybox tftp-hpa syslinux syslinux-common mtools dosfstools
fdisk qemu-utils"

case "${1:-all}" in
build) want="$BUILD $RUN" ;;
pxe) want="$BUILD $PXE" ;;
test) want="$BUILD $RUN $PXE $CHECK $TEST" ;;
bench) want="$BUILD $RUN $PXE $TEST $BENCH" ;;
fuzz) want="$BUILD $RUN $PXE $TEST $FUZZ" ;;
deb) want="$BUILD $PXE $DEB" ;;
arm64) want="$BUILD $PXE $DEB $ARM64" ;;
arm64-test) want="$BUILD $PXE $DEB $ARM64 $ARM64_TEST" ;;
all) want="$BUILD $RUN $PXE $CHECK $TEST $BENCH $FUZZ $DEB" ;;
*) echo "usage: $0 [build|pxe|test|bench|fuzz|deb|arm64|arm64-test|all]" >&2; exit 2 ;;
esac

# rackd runs as its own user (its `user` option); a helper keeps root.
case "${1:-all}" in pxe | deb | arm64 | arm64-test) need_user=no ;; *) need_user=yes ;; esac
if [ "$need_user" = yes ] && ! getent passwd rackd >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: no user rackd (run as root to create it)" >&2
		exit 1
	fi
	echo "deps: creating the system user rackd"
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin rackd
fi

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# Debian's nodejs comes without npm (its own package); other builds of
# nodejs carry npm inside.
case " $want " in *" nodejs "*)
	command -v npm >/dev/null 2>&1 || case " $missing " in *" nodejs "*) ;; *) missing="$missing npm" ;; esac
esac
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# The :arm64 packages come from the same archive once dpkg knows the
# architecture.
case "$missing" in *:arm64*)
	dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
esac
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
if case " $want " in *" nodejs "*) true ;; *) false ;; esac &&
    ! command -v npm >/dev/null 2>&1; then
	apt-get install -y -q --no-install-recommends npm
fi
