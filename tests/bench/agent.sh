#!/bin/bash
# tests/bench/agent.sh — how fast rack-agent reimages a disk over a
# management link, next to a plain download pipeline (issue 4).
#
# A rack namespace runs rackd (links usb*, its dnsmasq); a node namespace is
# joined to it by a veth pair (rack end usb1) and gets the slot's node
# address. The node's "disk" is a file on a private tmpfs (so the shared
# host's disk does not time the runs). The image is 2 GiB with 60% holes
# (tests/bench/agent_image.py): bench:1, and bench:2 = bench:1 with 5% of
# its chunks changed, imported with rackctl at its default level.
#
#  1. Pipeline, link unlimited: rack-agent (fetch, decompress, hash check,
#     write, fsync, read-back verification) writing bench:1 onto a blank
#     disk, and onto a used one (every byte random: the scan hashes every
#     chunk's old bytes, every hole is zeroed), against `curl -s URL | zstd -d | dd of=DISK bs=4M` run in the
#     node namespace on the same image compressed as one file, served by
#     the same rackd (GET /pxe/bench.img.zst: the store's chunk frames and
#     zero frames for the holes, concatenated in image order: the same
#     compressed bytes the agent gets). Runs alternate; ratio = curl time /
#     agent time per repetition, then the median. Goal: >= 1.0.
#  2. USB 2 class link: both veth ends limited by tc (tbf RATE, 320mbit =
#     40 MB/s). Full reimage (bench:1 onto a blank disk), then delta
#     reimage (bench:2 onto the disk holding bench:1); time, bytes the
#     agent fetched (chunk bodies) and bytes on the wire (usb1 tx). The
#     curl pipeline at the same rate for reference. Goal: full time /
#     delta time >= 5.
#
# Every disk written is checked: the first run of each kind compares the
# whole disk with the image, every job must end done.
# Environment: RUNS (5, pipeline repetitions), TC_RUNS (3), IMAGE_MIB
# (2048), HOLES (0.6), CHANGED (0.05), RATE (320mbit), WORKERS (empty: the
# agent's default). Root only; traffic stays inside the two namespaces.
set -u
. "$(dirname "$0")/../lib.sh"	# TMP, NS helpers, rackd_start, on_exit

RUNS=${RUNS:-5}
TC_RUNS=${TC_RUNS:-3}
IMAGE_MIB=${IMAGE_MIB:-2048}
HOLES=${HOLES:-0.6}
CHANGED=${CHANGED:-0.05}
RATE=${RATE:-320mbit}
WORKERS=${WORKERS:-}
AGENT=${AGENT:-$TOP/build/rack-agent}
AGENT_MAX=300			# seconds, any one transfer
RATIO_GOAL=1.0
DELTA_GOAL=5
OUT_DIR=$TOP/build/bench
REPORT=$OUT_DIR/agent.txt
HZ=$(getconf CLK_TCK)

die() { echo "agent bench: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, tc, tmpfs)"
for t in curl zstd jq sqlite3 python3 tc ip timeout cmp dd; do
	command -v "$t" >/dev/null 2>&1 || die "$t is missing (tools/deps.sh bench)"
done
for p in "$RACKD" "$RACKCTL" "$AGENT"; do
	[ -x "$p" ] || die "$p is missing: run make first"
done
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"

# ---- a private tmpfs for images, store and disk --------------------------
FS=$TMP/fs
mkdir -p "$FS" && mount -t tmpfs -o size=$((IMAGE_MIB * 4 + 2048))m rackd-bench "$FS" ||
    die "cannot mount a tmpfs on $FS"
on_exit "umount -l $FS"
SIZE=$((IMAGE_MIB * 1048576))
DISK=$FS/disk.img
STATE=$FS/state
PXE=$FS/pxe
mkdir -p "$STATE" "$PXE"

echo "agent bench: making the images (${IMAGE_MIB} MiB, holes $HOLES, changed $CHANGED)"
python3 "$TOP/tests/bench/agent_image.py" "$IMAGE_MIB" "$FS/v1.img" "$FS/v2.img" \
    "$HOLES" "$CHANGED" 1 >"$TMP/changed.txt" || die "cannot make the images"
# A used disk: every byte random (old data under chunks and holes alike).
python3 -c 'import random, sys
r = random.Random(99)
with open(sys.argv[1], "wb") as f:
    for _ in range(int(sys.argv[2])):
        f.write(r.randbytes(1 << 20))' "$FS/dirty.img" "$IMAGE_MIB" ||
    die "cannot make the used disk"
t0=$(date +%s)
for v in 1 2; do
	"$RACKCTL" image import "$FS/v$v.img" --name "bench:$v" --store "$STATE/store" -q ||
	    die "import of bench:$v failed"
	"$RACKCTL" image show "bench:$v" --store "$STATE/store" --json >"$TMP/m$v.json" ||
	    die "cannot read bench:$v"
done
IMPORT_S=$(($(date +%s) - t0))
NCHUNKS=$(jq '.chunks | length' "$TMP/m1.json")
STORED1=$(jq '[.chunks[].stored] | add' "$TMP/m1.json")
DELTA_STORED=$(jq -n --slurpfile a "$TMP/m1.json" --slurpfile b "$TMP/m2.json" '
    ($a[0].chunks | map({key: "\(.offset)", value: .hash}) | from_entries) as $o
    | [$b[0].chunks[] | select($o["\(.offset)"] != .hash) | .stored] | add // 0')
DELTA_CHUNKS=$(jq -n --slurpfile a "$TMP/m1.json" --slurpfile b "$TMP/m2.json" '
    ($a[0].chunks | map({key: "\(.offset)", value: .hash}) | from_entries) as $o
    | [$b[0].chunks[] | select($o["\(.offset)"] != .hash)] | length')

# The same image as one compressed file: the chunk frames and zero frames
# for the holes, in image order (zstd -d decodes concatenated frames).
python3 - "$TMP/m1.json" "$STATE/store" "$PXE/bench.img.zst" <<'EOF' ||
import json, subprocess, sys
m = json.load(open(sys.argv[1]))
store, out = sys.argv[2], open(sys.argv[3], "wb")
frames = {}
def zeros(n):
    while n:
        k = min(n, m["chunk_size"])
        if k not in frames:
            frames[k] = subprocess.run(["zstd", "-q", "-c"], input=bytes(k),
                                       stdout=subprocess.PIPE, check=True).stdout
        out.write(frames[k])
        n -= k
pos = 0
for c in m["chunks"]:
    zeros(c["offset"] - pos)
    h = c["hash"]
    out.write(open("%s/chunks/%s/%s" % (store, h[:2], h), "rb").read())
    pos = c["offset"] + c["length"]
zeros(m["size"] - pos)
EOF
    die "cannot make the one-file image"
ONEFILE=$(stat -c %s "$PXE/bench.img.zst")

# ---- namespaces, rackd, the node's address -------------------------------
ns_add rack
ns_add node
veth_link rack usb1 node eth0 || die "cannot make the veth pair"
RACKD_NS=rack rackd_start --links 'usb*' --link-subnet-pool 10.213.0.0/24 \
    --pxe-dir "$PXE" --slots usb1
for ((i = 0; i < 100; i++)); do
	api GET /api/v1/nodes/usb1 >/dev/null
	node=$(printf '%s' "$BODY" | jq -r '.link.node_addr // empty' 2>/dev/null)
	board=$(printf '%s' "$BODY" | jq -r '.link.board_addr // empty' 2>/dev/null)
	[ -n "$node" ] && [ -n "$board" ] &&
	    [ "$(printf '%s' "$BODY" | jq -r .link.state 2>/dev/null)" = up ] && break
	sleep 0.1
done
[ -n "${node:-}" ] && [ -n "${board:-}" ] || die "usb1 got no addresses"
prefix=$(api GET /api/v1/nodes/usb1 | jq -r '.link.prefix // 30')
ip -n "$NS-node" addr add "$node/$prefix" dev eth0 || die "cannot address the node"
BASE="http://$board:$PORT"
in_ns node curl -sf -o /dev/null --max-time 10 "$BASE/healthz" ||
    die "the node cannot reach rackd at $BASE"
for v in 1 2; do
	api GET "/api/v1/images/bench" >/dev/null
	printf '%s' "$BODY" | grep -q "\"$v\"" || die "rackd does not list bench:$v"
done

# ---- measuring helpers ---------------------------------------------------
# CPU ticks of this shell's waited-for children into CT (no subshell).
ticks() {
	local line
	read -r line <"/proc/$BASHPID/stat"
	set -- ${line##*) }	# cutime(14) cstime(15)
	CT=$((${14} + ${15}))
}
tx_bytes() { ip -n "$NS-rack" -s -j link show usb1 | jq '.[0].stats64.tx.bytes'; }
blank_disk() { rm -f "$DISK" && truncate -s "$SIZE" "$DISK"; }
stream_secs() {	# LOG: the agent's streaming time (its "written" line)
	sed -n 's/.* written .*; \([0-9.]*\) s; queue peak.*/\1/p' "$1" | tail -n 1
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

# measure LOG CMD...: CMD in the node namespace, bounded by AGENT_MAX, its
# output to LOG; sets RC, SECS, CPU (s, of this shell's children) and WIRE
# (bytes sent by rackd's end of usb1). Called in this shell, not in $(...).
measure() {
	local log=$1 t0 t1 c0 w0
	shift
	w0=$(tx_bytes)
	ticks; c0=$CT
	t0=$(date +%s%N)
	in_ns node timeout -k 5 "$AGENT_MAX" "$@" >"$log" 2>&1
	RC=$?
	t1=$(date +%s%N)
	ticks
	SECS=$(secs "$t0" "$t1")
	CPU=$(awk -v t=$((CT - c0)) -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')
	WIRE=$(($(tx_bytes) - w0))
}

# run_agent IMAGE LOG: a reimage job of usb1, the agent in the node
# namespace; sets SECS, CPU (s), FETCHED, WIRE, STATE_.
run_agent() {
	local job token
	api POST /api/v1/nodes/usb1/reimage -d "{\"image\":\"$1\"}" >/dev/null
	[ "$STATUS" = 202 ] || die "reimage with $1: HTTP $STATUS: $BODY"
	job=$(printf '%s' "$BODY" | jq -r .id)
	token=$(sqlite3 "$STATE/rackd.db" "select token from jobs where id=$job")
	[ -n "$token" ] || die "no token for job $job"
	measure "$2" "$AGENT" --no-reboot --cmdline /dev/null \
	    --disk "dev:$DISK" --url "$BASE" --job "$job" --token "$token" \
	    ${WORKERS:+--workers "$WORKERS"}
	api GET "/api/v1/jobs/$job" >/dev/null
	STATE_=$(printf '%s' "$BODY" | jq -r .state)
	FETCHED=$(printf '%s' "$BODY" | jq -r .bytes_fetched)
	if [ "$RC" -ne 0 ] || [ "$STATE_" != done ]; then
		tail -n 20 "$2" >&2
		die "agent on $1: exit $RC, job $STATE_"
	fi
}

# run_curl LOG: the download pipeline in the node namespace; SECS, CPU, WIRE.
run_curl() {
	measure "$1" bash -o pipefail -c \
	    'curl -s "$1" | zstd -d -q | dd of="$2" bs=4M status=none' _ \
	    "$BASE/pxe/bench.img.zst" "$DISK"
	[ "$RC" -eq 0 ] || { cat "$1" >&2; die "curl pipeline: exit $RC"; }
}

check_disk() {	# IMAGE_FILE WHAT
	cmp -s -n "$SIZE" "$1" "$DISK" || die "$2: the disk does not hold the image"
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit }
	    if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2];
	    else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
RES=$TMP/res
mkdir -p "$RES"
put() { echo "$2" >>"$RES/$1"; }	# SERIES VALUE
med() { median <"$RES/$1"; }
list() { tr '\n' ' ' <"$RES/$1" | sed 's/ $//'; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }
other_load() { cut -d' ' -f1 /proc/loadavg; }

# ---- 1. the pipeline, link unlimited -------------------------------------
echo "agent bench: $NCHUNKS chunks, $STORED1 bytes stored; one-file image $ONEFILE bytes"
echo "agent bench: pipeline, link unlimited, $RUNS runs each (alternating)"
for ((rep = 1; rep <= RUNS; rep++)); do
	case $((rep % 3)) in
	1) order="agent dirty curl" ;;
	2) order="curl agent dirty" ;;
	0) order="dirty curl agent" ;;
	esac
	for who in $order; do
		case $who in
		dirty) cp "$FS/dirty.img" "$DISK" || die "cannot make the disk" ;;
		*) blank_disk || die "cannot make the disk" ;;
		esac
		case $who in
		agent | dirty)
			run_agent bench:1 "$TMP/$who.$rep.log"
			[ "$rep" -eq 1 ] && check_disk "$FS/v1.img" "agent ($who disk)"
			put "$who.stream" "$(stream_secs "$TMP/$who.$rep.log")"
			;;
		curl)
			run_curl "$TMP/curl.$rep.log"
			[ "$rep" -le 2 ] && check_disk "$FS/v1.img" "curl pipeline"
			;;
		esac
		put "$who.s" "$SECS"
		put "$who.cpu" "$CPU"
		echo "  run $rep $who: $SECS s, $(mbps "$SIZE" "$SECS") MB/s of image, CPU $CPU s, load $(other_load)"
	done
	for who in agent dirty; do
		awk -v a="$(tail -n 1 "$RES/$who.s")" -v c="$(tail -n 1 "$RES/curl.s")" \
		    'BEGIN { printf "%.3f\n", c / a }' >>"$RES/ratio.$who"
	done
done
grep -h "written " "$TMP/agent.1.log" | sed 's/^/  agent (blank disk): /'
grep -h "written " "$TMP/dirty.1.log" | sed 's/^/  agent (used disk): /'
rm -f "$DISK"

# ---- 2. USB 2 class link: full vs delta ----------------------------------
echo "agent bench: link limited to $RATE (tc tbf), $TC_RUNS runs"
for side in "rack usb1" "node eth0"; do
	set -- $side
	ip netns exec "$NS-$1" tc qdisc add dev "$2" root tbf rate "$RATE" \
	    burst 256kb latency 50ms || die "tc on $2"
	on_exit "ip netns exec $NS-$1 tc qdisc del dev $2 root"
done
for ((rep = 1; rep <= TC_RUNS; rep++)); do
	blank_disk || die "cannot make the disk"
	run_agent bench:1 "$TMP/full.$rep.log"
	put full.s "$SECS"; put full.fetched "$FETCHED"; put full.wire "$WIRE"
	echo "  run $rep full: $SECS s, fetched $FETCHED, wire $WIRE, load $(other_load)"
	run_agent bench:2 "$TMP/delta.$rep.log"
	[ "$rep" -eq 1 ] && check_disk "$FS/v2.img" "delta reimage"
	put delta.s "$SECS"; put delta.fetched "$FETCHED"; put delta.wire "$WIRE"
	echo "  run $rep delta: $SECS s, fetched $FETCHED, wire $WIRE, load $(other_load)"
	awk -v f="$(tail -n 1 "$RES/full.s")" -v d="$SECS" \
	    'BEGIN { printf "%.3f\n", f / d }' >>"$RES/speedup"
	blank_disk || die "cannot make the disk"
	run_curl "$TMP/tccurl.$rep.log"
	put tccurl.s "$SECS"; put tccurl.wire "$WIRE"
	echo "  run $rep curl pipeline: $SECS s, wire $WIRE"
done
grep -h "written " "$TMP/delta.1.log" | sed 's/^/  agent (delta): /'

# ---- the report ----------------------------------------------------------
ratio=$(med ratio.agent)
ratio_used=$(med ratio.dirty)
speedup=$(med speedup)
{
	echo "rack-agent reimage over a veth management link (rack ns rackd, node ns agent)"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); $("$RACKD" --version 2>&1 | head -n 1)"
	echo "host: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
	echo "image: $IMAGE_MIB MiB, holes $HOLES, $NCHUNKS chunks of 1 MiB, $STORED1 bytes stored (zstd, rackctl default level); import of both versions ${IMPORT_S}s"
	echo "delta: bench:2 differs in $DELTA_CHUNKS chunks ($DELTA_STORED bytes stored)"
	echo "disk: a file on tmpfs; blank (sparse), or used (every byte random) before a full write"
	echo "agent: $(grep -ho 'streaming with [0-9]* worker(s)' "$TMP/agent.1.log" | head -n 1), verification on (read back after fsync)"
	echo "one-file image for curl: $ONEFILE bytes (the chunk frames and zero frames in order)"
	echo
	echo "1. link unlimited: median of $RUNS runs (MB/s = image bytes / wall time, 10^6)"
	printf '%-44s %7s %7s %7s %9s\n' "" "wall s" "MB/s" "CPU s" "stream s"
	printf '%-44s %7.2f %7s %7.2f %9.2f\n' "rack-agent, blank disk" \
	    "$(med agent.s)" "$(mbps "$SIZE" "$(med agent.s)")" "$(med agent.cpu)" "$(med agent.stream)"
	printf '%-44s %7.2f %7s %7.2f %9.2f\n' "rack-agent, used disk (scan hashes, holes zeroed)" \
	    "$(med dirty.s)" "$(mbps "$SIZE" "$(med dirty.s)")" "$(med dirty.cpu)" "$(med dirty.stream)"
	printf '%-44s %7.2f %7s %7.2f %9s\n' "curl -s | zstd -d | dd bs=4M" \
	    "$(med curl.s)" "$(mbps "$SIZE" "$(med curl.s)")" "$(med curl.cpu)" "-"
	echo "  (rack-agent: fetch + zstd + hash check + write, then fsync and read-back"
	echo "  verification; stream s = its time to the end of writing, the rest is verification)"
	echo "throughput ratio agent/curl (median of per-run curl time / agent time):"
	echo "  blank disk $ratio, used disk $ratio_used"
	echo "  agent s: $(list agent.s); used-disk agent s: $(list dirty.s); curl s: $(list curl.s)"
	echo "  ratios blank: $(list ratio.agent); used: $(list ratio.dirty)"
	echo
	echo "2. link limited to $RATE both ways (tc tbf): median of $TC_RUNS runs"
	printf '%-28s %8s %14s %14s\n' "" "wall s" "fetched B" "wire B (tx)"
	printf '%-28s %8.2f %14.0f %14.0f\n' "full reimage (blank disk)" \
	    "$(med full.s)" "$(med full.fetched)" "$(med full.wire)"
	printf '%-28s %8.2f %14.0f %14.0f\n' "delta reimage (5% changed)" \
	    "$(med delta.s)" "$(med delta.fetched)" "$(med delta.wire)"
	printf '%-28s %8.2f %14s %14.0f\n' "curl | zstd -d | dd" \
	    "$(med tccurl.s)" "-" "$(med tccurl.wire)"
	echo "full/delta time (median of per-run ratios): $speedup"
	echo "  full s: $(list full.s); delta s: $(list delta.s); curl s: $(list tccurl.s)"
	echo
	for r in "blank disk:$ratio" "used disk:$ratio_used"; do
		if awk -v r="${r#*:}" -v g="$RATIO_GOAL" 'BEGIN { exit !(r >= g) }'; then
			echo "GOAL MET: agent/curl throughput, ${r%%:*}, ${r#*:} >= $RATIO_GOAL (verification on)"
		else
			echo "GOAL MISSED: agent/curl throughput, ${r%%:*}, ${r#*:} < $RATIO_GOAL (verification on)"
		fi
	done
	if awk -v r="$speedup" -v g="$DELTA_GOAL" 'BEGIN { exit !(r >= g) }'; then
		echo "GOAL MET: delta reimage $speedup times faster than full (>= $DELTA_GOAL)"
	else
		echo "GOAL MISSED: delta reimage only $speedup times faster than full (< $DELTA_GOAL)"
	fi
} >"$REPORT.tmp" || die "cannot write the report"
mv "$REPORT.tmp" "$REPORT"
cat "$REPORT"
echo "agent bench: figures written to ${REPORT#"$TOP"/}"
exit 0
