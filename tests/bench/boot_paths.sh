#!/bin/bash
# tests/bench/boot_paths.sh — power-on to the clone environment's first
# report to rackd, for each way a server boots from the rack board:
#   bios    SeaBIOS, the NIC's iPXE ROM: boot script and kernel over HTTP
#   uefi    OVMF's PXE: iPXE's snponly.efi over TFTP, then as above
#   secure  OVMF enforcing Secure Boot: shim and GRUB over TFTP, GRUB's
#           grub.cfg, the signed kernel and the initramfs over TFTP
#   http    OVMF's UEFI HTTP boot: snponly.efi over HTTP, then as bios
# One QEMU server (software emulation, -accel tcg, as the tests; boot_vm
# of tests/lib.sh) with a blank disk on the tap usb5 of a rack namespace;
# each run queues a reimage, powers the VM on and stops it at the job's
# first transition out of "booting" (the agent's first report), then
# cancels the job. Paths take turns, RUNS rounds; medians per path.
#
# Each run is cut into spans by timestamps in rackd's log (dnsmasq's lines
# and its own, stamped as they are written) and the serial console (looked
# at every 0.1 s):
#   fw      power-on to the firmware's first DHCPACK (firmware init)
#   loader  that to the boot program's configuration: iPXE fetching
#           /boot/SLOT.ipxe, or GRUB being sent grub.cfg (the loaders'
#           transfer and start)
#   kernel  that to the kernel's first line on the serial console (the
#           kernel and initramfs over HTTP or TFTP, and their unpacking)
#   agent   that to the first report (kernel boot, drivers, DHCP, agent)
# Figures go to build/bench/boot_paths.txt.
#
# Environment: RUNS (3), PATHS ("bios uefi secure http"), VM_TIMEOUT (400 s
# for one run), VM_MEM (768).
set -u
. "$(dirname "$0")/../lib.sh"

RUNS=${RUNS:-3}
PATHS=${PATHS:-bios uefi secure http}
VM_TIMEOUT=${VM_TIMEOUT:-400}
REPORT="$TOP/build/bench/boot_paths.txt"
mkdir -p "$TOP/build/bench"

die() { echo "boot_paths: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
[ -f "$TOP/build/pxe/initrd.img" ] || die "no clone initramfs: make pxe"
[ -f "$TOP/build/pxe/SHA256SUMS" ] || die "no UEFI loaders: make pxe"
[ -f /usr/share/OVMF/OVMF_CODE_4M.ms.fd ] || die "no OVMF (Debian's ovmf)"

ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start --links 'usb*' --pxe-dir "$TOP/build/pxe" --boot-timeout 10m
head -c 1M /dev/urandom >"$TMP/bench.img"
image_import "$TMP/bench.img" bench:1
kill -HUP "$RACKD_PID"
wait_image bench 1 || die "image bench:1 not indexed"
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/nodes/usb5 | jq -r .link.state)" = up ] && break
	sleep 0.2
done
truncate -s 64M "$TMP/disk"
stamp_log
VMPID=
on_exit 'kill $VMPID'

# run PATH N: one measured boot; appends "PATH N total fw loader kernel
# agent" to $TMP/runs.
run() {
	local path=$1 n=$2 sb=false from t0 t_dhcp t_conf t_kern t_rep i vmpid job
	[ "$path" = secure ] && sb=true
	api PATCH /api/v1/nodes/usb5 -d "{\"secure_boot\":$sb}" >/dev/null
	[ "$STATUS" = 200 ] || die "PATCH secure_boot: $BODY"
	sleep 1	# dnsmasq reads its new configuration
	api POST /api/v1/nodes/usb5/reimage -d '{"image":"bench:1"}' >/dev/null
	[ "$STATUS" = 202 ] || die "reimage: $BODY"
	job=$(printf '%s' "$BODY" | jq -r .id)
	from=$(wc -l <"$STAMPED")
	boot_vm "$path" "$path$n" "$TMP/disk"
	: >"$TMP/$path$n.serial"
	t0=$EPOCHREALTIME
	timeout "$VM_TIMEOUT" "${VM[@]}" >"$TMP/$path$n.qemu" 2>&1 &
	vmpid=$!
	VMPID=$vmpid
	t_kern=
	for ((i = 0; i < VM_TIMEOUT * 10; i++)); do
		if [ -z "$t_kern" ] && grep -aq "Linux version" "$TMP/$path$n.serial"; then
			t_kern=$EPOCHREALTIME
		fi
		tail -n +"$((from + 1))" "$STAMPED" | grep -q "job $job (reimage usb5): booting -> " &&
			break
		kill -0 "$vmpid" 2>/dev/null || break
		sleep 0.1
	done
	# Stopped, and waited for by polling (bash's wait on the pid can
	# hang once it has been reaped).
	kill "$vmpid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$vmpid" 2>/dev/null || break
		sleep 0.1
	done
	t_rep=$(at_line "$from" "job $job \\(reimage usb5\\): booting -> ")
	t_dhcp=$(at_line "$from" "DHCPACK\\(usb5\\)")
	if [ "$path" = secure ]; then
		t_conf=$(at_line "$from" "sent .*/grub/grub.cfg to")
	else
		t_conf=$(at_line "$from" "slot usb5 fetched its boot script")
	fi
	api POST "/api/v1/jobs/$job/cancel" -d '{}' >/dev/null
	wait_for 100 job_ended "$job" || die "job $job did not end after its cancel"
	if [ -z "$t_rep" ] || [ -z "$t_dhcp" ] || [ -z "$t_conf" ] || [ -z "$t_kern" ]; then
		tail -c 1500 "$TMP/$path$n.serial"
		tail -n 30 "$RACKD_LOG"
		die "$path run $n: no first report (report '$t_rep', DHCP '$t_dhcp', config '$t_conf', kernel '$t_kern')"
	fi
	# The secure path: the firmware really enforced Secure Boot.
	if [ "$path" = secure ] && ! grep -aq "Secure boot enabled" "$TMP/$path$n.serial"; then
		die "secure run $n: the kernel did not boot with Secure Boot on"
	fi
	awk -v p="$path" -v n="$n" -v a="$t0" -v b="$t_dhcp" -v c="$t_conf" -v d="$t_kern" \
		-v e="$t_rep" 'function s(x, y) { return y - x }
		BEGIN { printf "%s %d %.1f %.1f %.1f %.1f %.1f\n", p, n, s(a, e), s(a, b),
			s(b, c), s(c, d), s(d, e) }' >>"$TMP/runs"
	tail -n 1 "$TMP/runs"
}

echo "boot_paths: QEMU -accel tcg, $RUNS rounds of: $PATHS"
echo "boot_paths: vmlinuz $(($(stat -c %s "$TOP/build/pxe/vmlinuz") / 1024)) KiB," \
	"initrd.img $(($(stat -c %s "$TOP/build/pxe/initrd.img") / 1024)) KiB"
echo "path run total fw loader kernel agent (seconds)"
for ((r = 1; r <= RUNS; r++)); do
	for p in $PATHS; do
		run "$p" "$r"
	done
done

# The table: medians per path, and each against BIOS+iPXE.
{
	echo "boot_paths: power-on to the clone environment's first report, QEMU -accel tcg,"
	echo "median of $RUNS runs each, seconds ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs)"
	awk 'function med(v, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
	{ k = $1; c[k]++; if (!(k in seen)) { seen[k] = 1; order[++np] = k }
	  for (f = 3; f <= 7; f++) col[k, f, c[k]] = $f }
	END {
		name["bios"] = "BIOS+iPXE"; name["uefi"] = "UEFI+iPXE"
		name["secure"] = "UEFI Secure Boot+shim+GRUB"; name["http"] = "UEFI HTTP boot+iPXE"
		printf "%-28s %7s %6s %7s %7s %6s %9s\n", "path", "total", "fw", "loader",
			"kernel", "agent", "vs BIOS"
		for (i = 1; i <= np; i++) { k = order[i]
			for (f = 3; f <= 7; f++) { delete v
				for (j = 1; j <= c[k]; j++) v[j] = col[k, f, j]
				m[k, f] = med(v, c[k]) } }
		for (i = 1; i <= np; i++) { k = order[i]
			printf "%-28s %7.1f %6.1f %7.1f %7.1f %6.1f %8.2fx\n", name[k], m[k, 3],
				m[k, 4], m[k, 5], m[k, 6], m[k, 7],
				(("bios", 3) in m) ? m[k, 3] / m["bios", 3] : 0 } }' "$TMP/runs"
	echo "every run (path run total fw loader kernel agent):"
	sed 's/^/  /' "$TMP/runs"
} | tee "$REPORT"
