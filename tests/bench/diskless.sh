#!/bin/bash
# tests/bench/diskless.sh — time from power-on to the image's marker for a
# diskless server with a 200 MiB root file system, over a management link
# limited by tc to 40 MB/s (USB 2 class), delivering the image as one
# compressed stream (GET /boot/SLOT/rootfs: the stored zstd chunks back to
# back) and chunk by chunk (GET /chunks/HASH on one keep-alive
# connection). Both verify every chunk against the manifest.
#
# The rootfs: tests/images/make-rootfs.sh with FILL_MIB of this machine's
# programs and libraries (a realistic mix), imported with rackctl's
# defaults. The server: QEMU with no disk on a tap device usb5 in a rack
# namespace; the tap's egress (rack board -> server) goes through a tbf
# qdisc at RATE. The limit is checked first on a veth pair with the same
# qdisc (curl of the whole stream from a node namespace).
#
# Per run: power-on to marker (the serial console is polled every 0.1 s),
# the job's fetch+unpack span (its streaming -> verifying events), bytes
# fetched, and rack-diskless's memory line (its peak RSS, cpio's, and
# MemAvailable after unpacking). Modes alternate, RUNS times each; the
# report gives every run and the medians. Figures go to
# build/bench/diskless.txt.
#
# Environment: RUNS (2), FILL_MIB (200), RATE (320mbit = 40 MB/s), ACCEL
# (tcg, software emulation like the tests; kvm where it works), MEM (1024
# MiB), VM_TIMEOUT (900 s).
set -u
. "$(dirname "$0")/../lib.sh"

RUNS=${RUNS:-2}
FILL_MIB=${FILL_MIB:-200}
RATE=${RATE:-320mbit}
MEM=${MEM:-1024}
VM_TIMEOUT=${VM_TIMEOUT:-900}
OUT_DIR="$TOP/build/bench"
REPORT="$OUT_DIR/diskless.txt"
mkdir -p "$OUT_DIR"

die() { echo "diskless: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, tc)"
[ -f "$TOP/build/pxe/initrd.img" ] || die "no clone initramfs: make pxe"
ACCEL=${ACCEL:-tcg}
echo "diskless: QEMU -accel $ACCEL; building a rootfs with $FILL_MIB MiB of programs and libraries"
sh "$TOP/tests/images/make-rootfs.sh" "$TMP/big.tar.zst" bench "$FILL_MIB" || die "make-rootfs"

ns_add rack
ns_add node
ip -n "$NS-rack" tuntap add usb5 mode tap
veth_link rack usb6 node || die "veth"
# diskless_stream comes from a config file, read again on SIGHUP
echo "diskless_stream = yes" >"$TMP/rackd.conf"
RACKD_NS=rack rackd_start -c "$TMP/rackd.conf" --links 'usb*' --pxe-dir "$TOP/build/pxe" \
	--boot-timeout 30m
t0=$(date +%s.%N)
"$RACKCTL" image import "$TMP/big.tar.zst" --kind rootfs --name big:1 --store "$STATE/store" \
	>"$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; die "import"; }
t1=$(date +%s.%N)
kill -HUP "$RACKD_PID"
wait_image big 1 200 || die "the image was not indexed"
M=$STATE/store/manifests/big/1.json
SIZE=$(jq .size "$M")
STORED=$(jq '[.chunks[].stored] | add' "$M")
NCHUNKS=$(jq '.chunks | length' "$M")

# The limit, checked on a veth pair: the whole stream to a node namespace.
for s in usb5 usb6; do
	ip netns exec "$NS-rack" tc qdisc add dev "$s" root tbf rate "$RATE" burst 256kb latency 100ms ||
		die "tc on $s"
done
api PATCH /api/v1/nodes/usb6 -d '{"image":"big:1","boot_mode":"diskless"}' >/dev/null
[ "$STATUS" = 200 ] || die "PATCH usb6: $BODY"
dhcp node >/dev/null || die "no DHCP in the node namespace"
B6=$(api GET /api/v1/nodes/usb6 | jq -r .link.board_addr)
in_ns node curl -s -o /dev/null "http://$B6:$PORT/boot/usb6.ipxe"	# starts a diskless job
LINK=$(in_ns node curl -s -o /dev/null -w '%{size_download} %{time_total}' \
	"http://$B6:$PORT/boot/usb6/rootfs")
LINK_MBS=$(awk -v s="${LINK% *}" -v t="${LINK#* }" 'BEGIN { printf "%.1f", s / t / 1e6 }')
echo "diskless: the link: ${LINK% *} bytes in ${LINK#* } s = $LINK_MBS MB/s (tbf $RATE)"
api PATCH /api/v1/nodes/usb6 -d '{"boot_mode":"local"}' >/dev/null

api PATCH /api/v1/nodes/usb5 -d '{"label":"B1","image":"big:1","boot_mode":"diskless"}' >/dev/null
[ "$STATUS" = 200 ] || die "PATCH usb5: $BODY"

# run MODE N: one boot; appends a line to $TMP/runs
run() {
	local mode=$1 n=$2 serial=$TMP/$1.$2.serial start now t_marker job ev span fetched mem pid
	if [ "$mode" = stream ]; then v=yes; else v=no; fi
	echo "diskless_stream = $v" >"$TMP/rackd.conf"
	kill -HUP "$RACKD_PID"
	sleep 1
	: >"$serial"
	start=$(date +%s.%N)
	pxe_vm "$serial" "$MEM" "$ACCEL"
	"${VM[@]}" >"$TMP/$mode.$n.qemu" 2>&1 &
	pid=$!
	t_marker=
	for ((i = 0; i < VM_TIMEOUT * 10; i++)); do
		if grep -aq "RACKD-DISKLESS: bench host=B1" "$serial"; then
			now=$(date +%s.%N)
			t_marker=$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -n "$t_marker" ] || { tail -c 2000 "$serial"; die "$mode run $n: no marker"; }
	job=$(api GET '/api/v1/jobs?node=usb5&limit=1' | jq '.[0].id')
	ev=$(api GET "/api/v1/jobs/$job")
	[ "$(jq -r .state <<<"$ev")" = done ] || die "$mode run $n: job $job is $(jq -r .state <<<"$ev")"
	local q s v d
	at() { date -d "$(jq -r ".events[] | select(.state == \"$1\") | .at" <<<"$ev")" +%s.%N; }
	q=$(at queued) s=$(at streaming) v=$(at verifying) d=$(at done)
	span=$(awk -v a="$s" -v b="$v" 'BEGIN { printf "%.1f", b - a }')
	phases=$(awk -v t0="$start" -v q="$q" -v s="$s" -v d="$d" -v m="$t_marker" \
		'BEGIN { printf "%5.1f %5.1f %5.1f", q - t0, s - q, m - (d - t0) }')
	fetched=$(jq .bytes_fetched <<<"$ev")
	mem=$(grep -a "rack-diskless.*done:" "$serial" | sed 's/.*peak memory //' | tr -d '\r')
	printf '%-7s %d  %8s   %s %8s %12s  %s\n' "$mode" "$n" "$t_marker" "$phases" "$span" "$fetched" "$mem" \
		>>"$TMP/runs"
	echo "diskless: $mode run $n: marker at ${t_marker}s (to script, kernel, after done: $phases), fetch+unpack ${span}s, $fetched bytes; $mem"
}

# rackd's CPU time so far (user + system), ms
rackd_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$RACKD_PID/stat"
}

# native MODE N: rack-diskless itself in the node namespace (this
# machine's CPU, not an emulated one) over the veth with the same tbf,
# into a tmpfs: the delivery alone, where the link is what limits.
native() {
	local mode=$1 n=$2 script url job token out
	api PATCH /api/v1/nodes/usb6 -d '{"boot_mode":"diskless"}' >/dev/null
	script=$(in_ns node curl -s "http://$B6:$PORT/boot/usb6.ipxe")
	for w in $script; do
		case "$w" in rackd.url=*) url=${w#*=} ;; rackd.job=*) job=${w#*=} ;;
		rackd.token=*) token=${w#*=} ;; esac
	done
	mkdir -p "$TMP/nroot" && mount -t tmpfs -o size=1g tmpfs "$TMP/nroot" || die "tmpfs"
	local t0 t1 rss c0 c1
	c0=$(rackd_cpu)
	t0=$(date +%s.%N)
	in_ns node unshare --uts "$TOP/build/rack-diskless" --url "$url" --job "$job" --token "$token" \
		--slot usb6 --root "$TMP/nroot" --fetch "$mode" 2>"$TMP/native.$mode.$n.log"
	t1=$(date +%s.%N)
	c1=$(rackd_cpu)
	umount "$TMP/nroot"
	grep -q "done:" "$TMP/native.$mode.$n.log" || { tail -5 "$TMP/native.$mode.$n.log"; die "native $mode"; }
	out=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	rss=$(sed -n 's/.*peak memory \([0-9]*\) KiB.*/\1/p' "$TMP/native.$mode.$n.log")
	printf '%-7s %d  %8s %10s %10s\n' "$mode" "$n" "$out" "$rss" "$((c1 - c0))" >>"$TMP/native"
	echo "diskless: native $mode run $n: $out s, peak RSS $rss KiB, rackd CPU $((c1 - c0)) ms"
}
: >"$TMP/native"
for ((r = 1; r <= RUNS + 1; r++)); do
	if [ $((r % 2)) = 1 ]; then native stream "$r"; native chunks "$r"; else native chunks "$r"; native stream "$r"; fi
done
api PATCH /api/v1/nodes/usb6 -d '{"boot_mode":"local"}' >/dev/null

for ((r = 1; r <= RUNS; r++)); do
	if [ $((r % 2)) = 1 ]; then run stream "$r"; run chunks "$r"; else run chunks "$r"; run stream "$r"; fi
done

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
{
	echo "rackd diskless boot: power-on to marker, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "image: $FILL_MIB MiB of files in a rootfs: cpio stream $SIZE bytes, $NCHUNKS chunks, stored (zstd) $STORED bytes"
	echo "import: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s ($(tail -1 "$TMP/import.log" | cut -c1-100))"
	echo "link: tbf $RATE on the tap (rack -> server); measured on a veth with the same qdisc: $LINK_MBS MB/s"
	echo "server: QEMU -accel $ACCEL, $MEM MiB, virtio-net, no disk"
	echo
	echo "QEMU runs. marker: power-on to the image's marker; script: power-on to the boot script"
	echo "fetched; kernel: boot script to rack-diskless calling in (iPXE loads and boots the clone"
	echo "kernel and initramfs); after: job done to marker (switch_root, the image's init)."
	echo "fetch+unpack: the job's streaming -> verifying (fetch, verify, cpio into the tmpfs)."
	echo
	echo "mode    run   marker(s)  script kernel after  fetch+unpack(s) fetched(B)  rack-diskless peak RSS (cpio), MemAvailable after unpack"
	cat "$TMP/runs"
	echo
	echo "Native runs: rack-diskless on this machine's CPU in the node namespace, the same image over"
	echo "the veth with the same tbf, into a tmpfs: elapsed s (job, fetch, unpack, overlay, reports),"
	echo "peak RSS of rack-diskless, CPU time rackd spent serving the boot."
	echo "mode    run   elapsed(s) peakRSS(KiB) rackdCPU(ms)"
	cat "$TMP/native"
	echo
	for mode in stream chunks; do
		printf 'median %-7s power-on to marker %ss, fetch+unpack %ss, peak RSS %s KiB, MemAvailable %s KiB (QEMU);\n' \
			"$mode" \
			"$(awk -v m="$mode" '$1 == m { print $3 }' "$TMP/runs" | median)" \
			"$(awk -v m="$mode" '$1 == m { print $7 }' "$TMP/runs" | median)" \
			"$(awk -v m="$mode" '$1 == m { print $9 }' "$TMP/runs" | median)" \
			"$(awk -v m="$mode" '$1 == m { for (i = 1; i < NF; i++) if ($i == "MemAvailable") print $(i + 1) }' "$TMP/runs" | median)"
		printf '       %-7s native %ss, peak RSS %s KiB, rackd CPU %s ms\n' "$mode" \
			"$(awk -v m="$mode" '$1 == m { print $3 }' "$TMP/native" | median)" \
			"$(awk -v m="$mode" '$1 == m { print $4 }' "$TMP/native" | median)" \
			"$(awk -v m="$mode" '$1 == m { print $5 }' "$TMP/native" | median)"
	done
} | tee "$REPORT"
