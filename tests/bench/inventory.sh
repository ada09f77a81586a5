#!/bin/bash
# tests/bench/inventory.sh — an inventory's time from power-on: QEMU start
# to the inventory job done (as the API tells it), for a BIOS server
# (SeaBIOS, the NIC's iPXE ROM) and a UEFI one (OVMF's PXE, iPXE's
# snponly.efi), cut in two at the job's first transition out of
# "booting" (the agent's first report):
#   boot     power-on to the first report (booting the clone environment)
#   inv      first report to done (rack-agent reading the hardware and
#            posting it, rackd recording it), itself cut in two:
#   read     the "streaming" report to "verifying" (reading the hardware)
#   post     that to done (the inventory posted, checked and recorded)
# Times are those rackd's log lines were read (tail -F, stamped as they
# come), to the millisecond or so.
# The server is the inventory test's (inventory_vm of tests/lib.sh: SMBIOS
# strings, a virtio-blk and an NVMe disk with serials), software emulation
# (-accel tcg), on the tap usb5 of a rack namespace, with no power method:
# each run POSTs an inventory and powers the VM on; QEMU ends when the
# agent reboots it. Kinds take turns, RUNS rounds; medians per kind, and
# inv/total, the inventory's own share of the whole.
#
# The boot part is compared with boot_paths.sh's BIOS+iPXE power-on to
# first report (a reimage's), read from build/bench/boot_paths.txt when
# that is from the last 12 hours (make bench runs boot_paths first), else
# measured here by boot_paths.sh with PATHS=bios.
# Figures go to build/bench/inventory.txt.
#
# $TMP/runs and the table: "KIND N total boot inv read post".
# Environment: RUNS (3), KINDS ("bios uefi"), VM_TIMEOUT (400 s a run).
set -u
. "$(dirname "$0")/../lib.sh"

RUNS=${RUNS:-3}
KINDS=${KINDS:-bios uefi}
VM_TIMEOUT=${VM_TIMEOUT:-400}
REPORT="$TOP/build/bench/inventory.txt"
BP="$TOP/build/bench/boot_paths.txt"
mkdir -p "$TOP/build/bench"

die() { echo "inventory: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
[ -f "$TOP/build/pxe/initrd.img" ] || die "no clone initramfs: make pxe"
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || die "no OVMF (Debian's ovmf)"

# The reimage's BIOS+iPXE figure first, so that the two QEMU runs do not
# share the CPUs.
if [ -z "$(find "$BP" -mmin -720 2>/dev/null)" ] || ! grep -q '^BIOS+iPXE ' "$BP"; then
	echo "inventory: no recent $BP: boot_paths.sh for BIOS+iPXE first"
	PATHS=bios RUNS=$RUNS timeout -k 30 $((RUNS * VM_TIMEOUT + 300)) \
		bash "$TOP/tests/bench/boot_paths.sh" || die "boot_paths.sh failed"
fi
BP_BIOS=$(awk '/^BIOS\+iPXE / { print $2; exit }' "$BP")
[ -n "$BP_BIOS" ] || die "no BIOS+iPXE line in $BP"

ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start --links 'usb*' --pxe-dir "$TOP/build/pxe" --boot-timeout 10m
node_seen() { api GET /api/v1/nodes/usb5 >/dev/null; [ "$STATUS" = 200 ]; }
wait_for 100 node_seen || die "no node usb5 for the link"
stamp_log
VMPID=
on_exit 'kill $VMPID'

# run KIND N: one measured inventory; appends "KIND N total boot inv" to
# $TMP/runs.
run() {
	local kind=$1 n=$2 from t0 t_rep t_ver t_done i vmpid job state
	api POST /api/v1/nodes/usb5/inventory >/dev/null
	[ "$STATUS" = 202 ] || die "POST inventory: $STATUS $BODY"
	job=$(printf '%s' "$BODY" | jq -r .id)
	from=$(wc -l <"$STAMPED")
	inventory_vm "$kind" "$kind$n" NVME-0001
	: >"$TMP/$kind$n.serial"
	t0=$EPOCHREALTIME
	timeout "$VM_TIMEOUT" "${VM[@]}" >"$TMP/$kind$n.qemu" 2>&1 &
	vmpid=$!
	VMPID=$vmpid
	for ((i = 0; i < VM_TIMEOUT * 10; i++)); do
		tail -n +"$((from + 1))" "$STAMPED" | grep -qE "job $job \\(inventory usb5\\): .* -> (done|failed)" &&
			break
		kill -0 "$vmpid" 2>/dev/null || break
		sleep 0.1
	done
	# The done line may follow QEMU's end (the agent's last report, then
	# its reboot): a few seconds more for it.
	for ((i = 0; i < 100; i++)); do
		tail -n +"$((from + 1))" "$STAMPED" | grep -qE "job $job \\(inventory usb5\\): .* -> (done|failed)" && break
		sleep 0.1
	done
	kill "$vmpid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$vmpid" 2>/dev/null || break
		sleep 0.1
	done
	t_rep=$(at_line "$from" "job $job \\(inventory usb5\\): booting -> ")
	t_ver=$(at_line "$from" "job $job \\(inventory usb5\\): .* -> verifying")
	t_done=$(at_line "$from" "job $job \\(inventory usb5\\): .* -> done")
	state=$(job_field "$job" .state)
	if [ "$state" != done ] || [ -z "$t_rep" ] || [ -z "$t_ver" ] || [ -z "$t_done" ]; then
		tail -c 1500 "$TMP/$kind$n.serial"
		tail -n 30 "$RACKD_LOG"
		die "$kind run $n: job $job $state (first report '$t_rep', done '$t_done')"
	fi
	awk -v k="$kind" -v n="$n" -v a="$t0" -v b="$t_rep" -v c="$t_done" -v v="$t_ver" \
		'BEGIN { printf "%s %d %.3f %.3f %.3f %.3f %.3f\n", k, n, c - a, b - a, c - b,
			v - b, c - v }' >>"$TMP/runs"
	tail -n 1 "$TMP/runs"
}

echo "inventory: QEMU -accel tcg, $RUNS rounds of: $KINDS"
echo "kind run total boot inv read post (seconds)"
for ((r = 1; r <= RUNS; r++)); do
	for k in $KINDS; do
		run "$k" "$r"
	done
done

{
	echo "inventory: power-on to the inventory job done, QEMU -accel tcg,"
	echo "median of $RUNS runs each, seconds ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs)"
	awk -v bp="$BP_BIOS" 'function med(v, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
	{ k = $1; c[k]++; if (!(k in seen)) { seen[k] = 1; order[++np] = k }
	  for (f = 3; f <= 7; f++) col[k, f, c[k]] = $f }
	END {
		name["bios"] = "BIOS+iPXE"; name["uefi"] = "UEFI+iPXE"
		printf "%-10s %7s %6s %6s %6s %6s %9s %12s\n", "kind", "total", "boot",
			"inv", "read", "post", "inv/total", "boot/reimage"
		for (i = 1; i <= np; i++) { k = order[i]
			for (f = 3; f <= 7; f++) { delete v
				for (j = 1; j <= c[k]; j++) v[j] = col[k, f, j]
				m[f] = med(v, c[k]) }
			printf "%-10s %7.2f %6.2f %6.3f %6.3f %6.3f %8.2f%% %11.2fx\n", name[k],
				m[3], m[4], m[5], m[6], m[7], 100 * m[5] / m[3], m[4] / bp }
		printf "(reimage, BIOS+iPXE, power-on to first report: %.1f s, boot_paths.sh)\n", bp }' "$TMP/runs"
	echo "every run (kind run total boot inv read post):"
	sed 's/^/  /' "$TMP/runs"
} | tee "$REPORT"
