#!/bin/bash
# tests/bench/dhcp.sh — DHCP and network boot figures of rackd's management
# links (issue 3).
#
# A rack namespace runs rackd and its dnsmasq; four node namespaces are
# joined to it by veth pairs whose rack ends are usb1..usb4 (as in
# tests/integration/links.sh). Each node first gets its slot's address
# with busybox udhcpc. Then:
#
#  1. leases/s, busybox udhcpc: the four nodes at once, each running
#     `udhcpc -n -q` (a whole DISCOVER/OFFER/REQUEST/ACK exchange and a
#     new process each time) in a loop bounded by UDHCPC_COUNT and SECONDS.
#  2. leases/s, tight renewals: the four nodes at once, each running
#     tests/bench/dhcp_renew.py (a DHCPREQUEST in the RENEWING state,
#     unicast to the board, the next as soon as the DHCPACK is in), bounded
#     by RENEW_COUNT and SECONDS. This is what dnsmasq itself answers.
#     For both: rackd's and dnsmasq's CPU (utime + stime from /proc/PID/stat)
#     over the run, in % of one CPU and per 1000 leases.
#  3. links flapping: a loop deleting and re-creating the four veth pairs
#     (FLAPS rounds, bounded by FLAP_SECONDS); rackd's CPU over the loop
#     (its own, and its reaped children's), per flap; then the time until
#     every link is up again and each node gets its address again. The
#     CPU window ends SETTLE (2) s after the links are all up.
#     rackd idle over IDLE_SECONDS for comparison.
#  4. boot: QEMU (software emulation, -accel tcg, BIOS, its iPXE ROM) on a
#     tap named usb5 in the rack namespace, -boot n: time from QEMU's start
#     to rackd's DHCPACK on usb5 and to /boot/usb5.ipxe fetched (rackd's
#     log, polled every 20 ms); BOOTS runs, median. QEMU's ROM is iPXE, so
#     dnsmasq hands it the HTTP URL at once; a plain PXE ROM would first
#     load undionly.kpxe over TFTP and then DHCP again: the TFTP leg is
#     timed apart (tftp-hpa fetching undionly.kpxe from a node, BOOTS runs).
#
# Figures (medians of REPEAT runs for 1 and 2) go to build/bench/dhcp.txt.
# Environment: SECONDS_ (10, per run), REPEAT (3), UDHCPC_COUNT (5000),
# RENEW_COUNT (200000), FLAPS (20), FLAP_SECONDS (60), IDLE_SECONDS (5),
# BOOTS (3), BOOT_MAX (180 s per boot). Root only; traffic stays inside
# the namespaces the script makes.
set -u
. "$(dirname "$0")/../lib.sh"

DUR=${SECONDS_:-10}
REPEAT=${REPEAT:-3}
UDHCPC_COUNT=${UDHCPC_COUNT:-5000}
RENEW_COUNT=${RENEW_COUNT:-200000}
FLAPS=${FLAPS:-20}
FLAP_SECONDS=${FLAP_SECONDS:-60}
IDLE_SECONDS=${IDLE_SECONDS:-5}
SETTLE=${SETTLE:-2}
BOOTS=${BOOTS:-3}
BOOT_MAX=${BOOT_MAX:-180}
OUT_DIR=$TOP/build/bench
REPORT=$OUT_DIR/dhcp.txt
HZ=$(getconf CLK_TCK)
BENCH=$TOP/tests/bench

die() { echo "dhcp bench: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces)"
for t in busybox python3 jq curl tftp qemu-system-x86_64 timeout ip; do
	command -v "$t" >/dev/null 2>&1 || die "$t is missing (tools/deps.sh bench)"
done
[ -x "$RACKD" ] || die "$RACKD is missing: run make first"
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
RES=$TMP/res
mkdir -p "$RES"

ns_add rack
for i in 1 2 3 4; do
	ns_add "n$i"
	veth_link rack "usb$i" "n$i" || die "veth usb$i"
done
RACKD_NS=rack rackd_start --links 'usb*' --link-subnet-pool 10.213.0.0/24
[ "$(cat "/proc/$RACKD_PID/comm")" = rackd ] || die "pid $RACKD_PID is not rackd"

links_up() {	# how many of usb1..usb4 rackd sees up
	api GET /api/v1/nodes >/dev/null
	printf '%s' "$BODY" | jq '[.[] | select((.slot // .name // "") | test("^usb[1-4]$"))
	    | select(.link.state == "up")] | length' 2>/dev/null || echo 0
}
wait_links() {	# up to 20 s; prints the ms it took
	local t0 i
	t0=$(date +%s%N)
	for ((i = 0; i < 400; i++)); do
		[ "$(links_up)" = 4 ] && break
		sleep 0.05
	done
	echo $((($(date +%s%N) - t0) / 1000000))
	[ "$(links_up)" = 4 ]
}
wait_links >/dev/null || die "the four links did not come up"
declare -A ADDR BOARD MAC
for i in 1 2 3 4; do
	api GET "/api/v1/nodes/usb$i" >/dev/null
	ADDR[$i]=$(printf '%s' "$BODY" | jq -r .link.node_addr)
	BOARD[$i]=$(printf '%s' "$BODY" | jq -r .link.board_addr)
done
for i in 1 2 3 4; do
	got=$(dhcp "n$i") || die "n$i got no lease"
	[ "${got%% *}" = "${ADDR[$i]}" ] || die "n$i got ${got%% *}, want ${ADDR[$i]}"
	MAC[$i]=$(ip -n "$NS-n$i" -j link show eth0 | jq -r '.[0].address')
done

# CPU ticks: own (utime + stime) and reaped children (cutime + cstime).
cpu_of() {	# PID -> "own children", or "0 0" when it is gone
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || { echo "0 0"; return; }
	set -- ${line##*) }
	echo "$((${12} + ${13})) $((${14} + ${15}))"
}
# rackd -> its keeper process (a fork of rackd) -> dnsmasq.
# dnsmasq runs under its keeper, under rackd's privileged helper.
dnsmasq_pid() { descendant "$RACKD_PID" dnsmasq; }
pct() { awk -v t="$1" -v s="$2" -v hz="$HZ" 'BEGIN { printf "%.1f", t / hz / s * 100 }'; }
per_k() { awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { if (n == 0) print "n/a"; else printf "%.1f", t / hz * 1000 / n * 1000 }'; }
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit }
	    if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2];
	    else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
put() { echo "$2" >>"$RES/$1"; }
med() { median <"$RES/$1"; }
list() { tr '\n' ' ' <"$RES/$1" | sed 's/ $//'; }

# udhcpc_loop NS OUT: udhcpc -n -q until COUNT or DUR seconds; the number
# of leases into OUT.
UDHCPC_SCRIPT=$TMP/udhcpc-quiet.sh
printf '#!/bin/sh\nexit 0\n' >"$UDHCPC_SCRIPT"
chmod +x "$UDHCPC_SCRIPT"
udhcpc_loop() {
	local end n=0 i
	end=$(($(date +%s%N) + DUR * 1000000000))
	for ((i = 0; i < UDHCPC_COUNT; i++)); do
		[ "$(date +%s%N)" -lt "$end" ] || break
		in_ns "$1" timeout 5 busybox udhcpc -i eth0 -n -q -t 1 -T 1 \
		    -s "$UDHCPC_SCRIPT" >/dev/null 2>&1 && n=$((n + 1))
	done
	echo "$n" >"$2"
}

# measure KIND: one run of the four clients at once; LEASES, SECS, and
# the CPU ticks of rackd (RT) and dnsmasq (DT) over it.
measure() {
	local t0 t1 r0 r1 d0 d1 dp i pids=()
	dp=$(dnsmasq_pid)
	[ -n "$dp" ] || die "no dnsmasq"
	read -r r0 _ <<<"$(cpu_of "$RACKD_PID")"
	read -r d0 _ <<<"$(cpu_of "$dp")"
	t0=$(date +%s%N)
	for i in 1 2 3 4; do
		if [ "$1" = udhcpc ]; then
			udhcpc_loop "n$i" "$TMP/out.$i" &
		else
			in_ns "n$i" timeout -k 5 $((DUR + 15)) python3 "$BENCH/dhcp_renew.py" \
			    "${ADDR[$i]}" "${BOARD[$i]}" "${MAC[$i]}" "$RENEW_COUNT" "$DUR" \
			    >"$TMP/out.$i" &
		fi
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	t1=$(date +%s%N)
	read -r r1 _ <<<"$(cpu_of "$RACKD_PID")"
	[ "$(dnsmasq_pid)" = "$dp" ] || die "dnsmasq was restarted during the run"
	read -r d1 _ <<<"$(cpu_of "$dp")"
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	LEASES=0
	FAILS_=0
	for i in 1 2 3 4; do
		read -r a n t _ <"$TMP/out.$i" || die "no result from n$i"
		LEASES=$((LEASES + a))
		FAILS_=$((FAILS_ + ${n:-0} + ${t:-0}))
	done
	RT=$((r1 - r0))
	DT=$((d1 - d0))
}

for kind in udhcpc renew; do
	echo "dhcp bench: $kind, 4 nodes at once, ${DUR}s per run, $REPEAT runs"
	for ((rep = 1; rep <= REPEAT; rep++)); do
		measure "$kind"
		lps=$(awk -v n="$LEASES" -v s="$SECS" 'BEGIN { printf "%.1f", n / s }')
		put "$kind.lps" "$lps"
		put "$kind.rackd" "$(pct "$RT" "$SECS")"
		put "$kind.dnsmasq" "$(pct "$DT" "$SECS")"
		put "$kind.rackd_k" "$(per_k "$RT" "$LEASES")"
		put "$kind.dnsmasq_k" "$(per_k "$DT" "$LEASES")"
		put "$kind.fails" "$FAILS_"
		echo "  run $rep: $LEASES leases in $SECS s = $lps/s (not answered: $FAILS_);" \
		    "rackd $(pct "$RT" "$SECS")% dnsmasq $(pct "$DT" "$SECS")% of a CPU;" \
		    "load $(cut -d' ' -f1 /proc/loadavg)"
	done
done

# ---- idle, then links flapping -------------------------------------------
read -r r0 _ <<<"$(cpu_of "$RACKD_PID")"
sleep "$IDLE_SECONDS"
read -r r1 _ <<<"$(cpu_of "$RACKD_PID")"
IDLE=$(pct $((r1 - r0)) "$IDLE_SECONDS")
echo "dhcp bench: rackd idle: $IDLE% of a CPU over ${IDLE_SECONDS}s"

echo "dhcp bench: links flapping: $FLAPS rounds of deleting and re-creating usb1..usb4"
rss0=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$RACKD_PID/status")
logoff=$(stat -c %s "$RACKD_LOG")
dp0=$(dnsmasq_pid)
read -r d0 _ <<<"$(cpu_of "$dp0")"	# the CPU dnsmasq had used before
read -r r0 c0 <<<"$(cpu_of "$RACKD_PID")"
t0=$(date +%s%N)
end=$((t0 + FLAP_SECONDS * 1000000000))
flaps=0
for ((round = 0; round < FLAPS; round++)); do
	[ "$(date +%s%N)" -lt "$end" ] || break
	for i in 1 2 3 4; do
		ip -n "$NS-rack" link del "usb$i" 2>/dev/null
		veth_link rack "usb$i" "n$i" || die "cannot re-create usb$i"
		flaps=$((flaps + 1))
	done
done
t1=$(date +%s%N)
settle=$(wait_links) || die "the links did not come back after flapping"
sleep "$SETTLE"	# deferred work (lease drops, dnsmasq reloads) counts too
read -r r1 c1 <<<"$(cpu_of "$RACKD_PID")"
t2=$(date +%s%N)
rss1=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$RACKD_PID/status")
FLAP_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
ALL_S=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
FLAP_PCT=$(pct $((r1 - r0)) "$ALL_S")
FLAP_MS=$(awk -v t=$((r1 - r0)) -v n="$flaps" -v hz="$HZ" 'BEGIN { printf "%.1f", t / hz * 1000 / n }')
# dnsmasq's CPU over the window: the ones reaped (their keepers' children
# time, less what the first had used before), and the one running now.
dp1=$(dnsmasq_pid)
read -r d1 _ <<<"$(cpu_of "$dp1")"
if [ "$dp1" = "$dp0" ]; then
	dticks=$((c1 - c0 + d1 - d0))
else
	dticks=$((c1 - c0 - d0 + d1))
fi
RESTARTS=$(tail -c +$((logoff + 1)) "$RACKD_LOG" | grep -c "dnsmasq started")
FLAP_CHILD_MS=$(awk -v t="$dticks" -v n="$flaps" -v hz="$HZ" 'BEGIN { printf "%.1f", t / hz * 1000 / n }')
echo "  $flaps flaps in $FLAP_S s; all up again ${settle} ms later; rackd $FLAP_PCT% of a CPU," \
    "$FLAP_MS ms CPU per flap; dnsmasq $FLAP_CHILD_MS ms per flap, restarted $RESTARTS times; VmRSS $rss0 -> $rss1 kB"
relet=0
for i in 1 2 3 4; do
	got=$(DHCP_TRIES=5 dhcp "n$i") && [ "${got%% *}" = "${ADDR[$i]}" ] && relet=$((relet + 1))
done
echo "  after flapping: $relet of 4 nodes got their slot's address again"

# ---- boot: QEMU on a tap named usb5 --------------------------------------
echo "dhcp bench: QEMU PXE boot on usb5, $BOOTS runs"
ip -n "$NS-rack" tuntap add usb5 mode tap || die "cannot make the tap usb5"
on_exit "ip -n $NS-rack link del usb5"
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
logfrom() { tail -c +$(($1 + 1)) "$RACKD_LOG"; }	# OFFSET: the log since
for ((b = 1; b <= BOOTS; b++)); do
	off=$(stat -c %s "$RACKD_LOG")
	t0=$(date +%s%N)
	pxe_vm "$TMP/serial.$b.log"
	"${VM[@]}" >"$TMP/qemu.$b.log" 2>&1 &
	qpid=$!
	on_exit "kill -9 $qpid"
	ack=""
	got=""
	end=$((t0 + BOOT_MAX * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ] && kill -0 "$qpid" 2>/dev/null; do
		now=$(date +%s%N)
		[ -z "$ack" ] && logfrom "$off" | grep -q "DHCPACK(usb5)" &&
		    ack=$(since "$t0" "$now")
		if logfrom "$off" | grep -q "slot usb5 fetched its boot script"; then
			got=$(since "$t0" "$now")
			break
		fi
		sleep 0.02
	done
	kill -9 "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	[ -n "$got" ] || { cat "$TMP/qemu.$b.log"; die "boot $b: no boot script within ${BOOT_MAX}s"; }
	[ -n "$ack" ] || ack=$got
	put boot.ack "$ack"
	put boot.script "$got"
	put boot.gap "$(awk -v a="$ack" -v b="$got" 'BEGIN { printf "%.2f", b - a }')"
	echo "  boot $b: DHCPACK at $ack s, boot script fetched at $got s"
	sleep 1
done
tftp_path=$(grep -c "sent .*undionly.kpxe" "$RACKD_LOG")
for ((b = 1; b <= BOOTS; b++)); do
	rm -f "$TMP/undionly.kpxe"
	t0=$(date +%s%N)
	(cd "$TMP" && in_ns n1 timeout 30 tftp -4 -m binary "${BOARD[1]}" -c get undionly.kpxe) ||
	    die "tftp of undionly.kpxe failed"
	t1=$(date +%s%N)
	cmp -s "$TMP/undionly.kpxe" /usr/lib/ipxe/undionly.kpxe || die "tftp: wrong undionly.kpxe"
	put tftp.s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
done
KPXE=$(stat -c %s /usr/lib/ipxe/undionly.kpxe)

# ---- the report ----------------------------------------------------------
{
	echo "rackd management links: DHCP, flapping links, PXE boot (namespaces, veth)"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); $("$RACKD" --version 2>&1 | head -n 1)"
	echo "host: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
	echo "dnsmasq: $(dnsmasq --version | head -n 1)"
	echo
	echo "1-2. leases per second, 4 nodes at once, ${DUR}s per run, median of $REPEAT runs"
	printf '%-30s %9s %9s %10s %11s %11s\n' client "leases/s" "rackd %" "dnsmasq %" \
	    "rackd ms/k" "dnsmasq ms/k"
	for kind in udhcpc renew; do
		case $kind in
		udhcpc) label="busybox udhcpc -n -q (full)" ;;
		renew) label="renewal (dhcp_renew.py)" ;;
		esac
		printf '%-30s %9.1f %9.1f %10.1f %11s %11s\n' "$label" "$(med "$kind.lps")" \
		    "$(med "$kind.rackd")" "$(med "$kind.dnsmasq")" \
		    "$(med "$kind.rackd_k")" "$(med "$kind.dnsmasq_k")"
	done
	echo "  (% = of one CPU over the run; ms/k = CPU ms per 1000 leases)"
	echo "  udhcpc leases/s per run: $(list udhcpc.lps); not answered: $(list udhcpc.fails)"
	echo "  renewal leases/s per run: $(list renew.lps); not answered: $(list renew.fails)"
	echo
	echo "3. links flapping: $flaps flaps (usb1..usb4 deleted and re-created) in $FLAP_S s"
	echo "  rackd CPU: $FLAP_PCT% of a CPU from the first flap until ${SETTLE}s after all four"
	echo "  were up again ($ALL_S s), $FLAP_MS ms per flap"
	echo "  dnsmasq: restarted $RESTARTS times by rackd, $FLAP_CHILD_MS ms CPU per flap"
	echo "  all links up ${settle} ms after the last flap; $relet of 4 nodes leased again"
	echo "  rackd idle: $IDLE% of a CPU; VmRSS before/after flapping: $rss0 / $rss1 kB"
	echo
	echo "4. PXE boot: QEMU -accel tcg, BIOS, virtio-net iPXE ROM, tap usb5; median of $BOOTS runs"
	echo "  QEMU start -> DHCPACK(usb5): $(med boot.ack) s   (runs: $(list boot.ack))"
	echo "  QEMU start -> /boot/usb5.ipxe fetched: $(med boot.script) s   (runs: $(list boot.script))"
	echo "  DHCPACK -> boot script: $(med boot.gap) s   (runs: $(list boot.gap))"
	if [ "$tftp_path" -eq 0 ]; then
		echo "  path: the ROM is iPXE, so dnsmasq gave it the HTTP URL at once (no TFTP)"
	fi
	echo "  TFTP leg of a plain PXE ROM: undionly.kpxe ($KPXE bytes) over TFTP from a"
	echo "  node: $(med tftp.s) s median (runs: $(list tftp.s))"
} >"$REPORT.tmp" || die "cannot write the report"
mv "$REPORT.tmp" "$REPORT"
cat "$REPORT"
echo "dhcp bench: figures written to ${REPORT#"$TOP"/}"
exit 0
