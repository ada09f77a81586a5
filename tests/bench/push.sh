#!/bin/bash
# tests/bench/push.sh — pushing an image to a rack (issue 5), against
# the plain tools an operator would otherwise use, in the same run, over
# the same link.
#
# Everything runs in one network namespace, so its loopback carries this
# benchmark's traffic and nothing else: "wire bytes" are the loopback's
# tx bytes (IP packets, both directions, headers included) during one
# transfer. Files live on a private tmpfs (the host's disk is shared and
# would time other people's work). The image is 2 GiB with 60% holes
# (tests/bench/push_image.py), imported with rackctl at its defaults:
#   bench:1  the image;
#   bench:2  5% of its data chunks rewritten (new content);
#   bench:3  5% of its data chunks edited (8 bytes in the middle of each).
#
# Per repetition, with a fresh rack:
#   full:  rackctl push bench:1 to the empty rack, against curl -T of the
#          same image compressed as one file (zstd at rackctl's level) to
#          nginx (WebDAV PUT);
#   delta: rackctl push bench:2 (then bench:3) to the rack holding bench:1,
#          against rsync of the raw image v2 (then v3) to an rsync daemon
#          whose copy is v1 (rsync's delta transfer), plain and with -z
#          (zstd). bench:3's edited chunks go as patches; it is pushed
#          again with --no-patch (whole chunks) for comparison.
# The same again with the link limited by tc (RATE, a WAN-ish 400mbit),
# with fewer repetitions. Medians of RUNS repetitions.
# Goals (issue 5): the delta push moves fewer bytes than rsync and takes
# less time than rsync; the full push takes less time than curl -T.
#
# Environment: RUNS (3), RATE_RUNS (2), RATE (400mbit; empty: no limited
# pass), IMAGE_MIB (2048), HOLES (0.6), CHANGED (0.05), STREAMS (4).
# Root only (namespace, tc, tmpfs); traffic stays inside the namespace.
set -u
. "$(dirname "$0")/../lib.sh"

RUNS=${RUNS:-3}
RATE_RUNS=${RATE_RUNS:-2}
RATE=${RATE-400mbit}
IMAGE_MIB=${IMAGE_MIB:-2048}
HOLES=${HOLES:-0.6}
CHANGED=${CHANGED:-0.05}
STREAMS=${STREAMS:-4}
RUN_MAX=600			# seconds, any one transfer
OUT_DIR=$TOP/build/bench
REPORT=$OUT_DIR/push.txt

die() { echo "push bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (namespace, tc, tmpfs)"
for t in rsync nginx curl zstd jq python3 tc ip timeout cmp; do
	command -v "$t" >/dev/null 2>&1 || die "$t is missing (tools/deps.sh bench)"
done
for p in "$RACKD" "$RACKCTL"; do [ -x "$p" ] || die "$p is missing: run make first"; done
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"

FS=$TMP/fs
mkdir -p "$FS" && mount -t tmpfs -o size=$((IMAGE_MIB * 4 + 4096))m rackd-push-bench "$FS" ||
	die "cannot mount a tmpfs on $FS"
on_exit "umount -l $FS"
C=$FS/central
LEVEL=$("$RACKCTL" image --help | sed -n 's/.*zstd level [0-9]*\.\.[0-9]* (default \([0-9]*\)).*/\1/p')
[ -n "$LEVEL" ] || die "cannot read rackctl's default level"

# ---- images ------------------------------------------------------------------
echo "push bench: making the images (${IMAGE_MIB} MiB, holes $HOLES, changed $CHANGED)"
python3 "$TOP/tests/bench/push_image.py" "$IMAGE_MIB" "$FS/v1.img" "$FS/v2.img" "$FS/v3.img" \
	"$HOLES" "$CHANGED" 1 >"$TMP/nchanged" || die "cannot make the images"
t0=$(date +%s)
for v in 1 2 3; do
	"$RACKCTL" image import "$FS/v$v.img" --name "bench:$v" --store "$C" -q >/dev/null ||
		die "import of bench:$v failed"
	"$RACKCTL" image show "bench:$v" --store "$C" --json >"$TMP/m$v.json" || die "show bench:$v"
done
zstd -q -T0 "-$LEVEL" -c "$FS/v1.img" >"$FS/v1.img.zst" || die "cannot compress the image"
echo "push bench: imported and compressed in $(($(date +%s) - t0)) s"
DATA_CHUNKS=$(jq '.chunks | length' "$TMP/m1.json")
STORED1=$(jq '[.chunks[].stored] | add' "$TMP/m1.json")
delta_of() {	# manifest: stored bytes and count of the chunks bench:1 lacks
	jq -rn --slurpfile a "$TMP/m1.json" --slurpfile b "$1" '
	    ($a[0].chunks | map({key: .hash, value: 1}) | from_entries) as $o
	    | [$b[0].chunks | unique_by(.hash) | .[] | select($o[.hash] == null)]
	    | "\(map(.stored) | add // 0) \(length)"'
}
read -r DELTA2 NCH2 <<<"$(delta_of "$TMP/m2.json")"
read -r DELTA3 NCH3 <<<"$(delta_of "$TMP/m3.json")"
ONEFILE=$(stat -c %s "$FS/v1.img.zst")

# ---- the namespace: rackd, nginx (WebDAV), an rsync daemon ---------------------
ns_add bench
nsx() { in_ns bench "$@"; }
lo_tx() { nsx cat /sys/class/net/lo/statistics/tx_bytes; }
free_port_ns() { nsx python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

NGX=$FS/nginx
mkdir -p "$NGX/root/up" "$NGX/tmp"
NPORT=$(free_port_ns)
cat >"$NGX/nginx.conf" <<EOF
# nginx for the rackd push benchmark (WebDAV PUT); started and stopped by it.
user root;
worker_processes 1;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_max_body_size 0;
	client_body_temp_path $NGX/tmp;
	proxy_temp_path $NGX/tmp;
	fastcgi_temp_path $NGX/tmp;
	uwsgi_temp_path $NGX/tmp;
	scgi_temp_path $NGX/tmp;
	server {
		listen 127.0.0.1:$NPORT;
		root $NGX/root;
		location /up/ { dav_methods PUT DELETE; create_full_put_path on; }
	}
}
EOF
ip netns exec "$NS-bench" nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" >"$TMP/nginx.out" 2>&1 &
on_exit "kill $!; sleep 0.2; pkill -KILL -F $NGX/nginx.pid"
RPORT=$(free_port_ns)
mkdir -p "$FS/dst"
cat >"$FS/rsyncd.conf" <<EOF
# rsync daemon for the rackd push benchmark
pid file = $FS/rsyncd.pid
use chroot = false
[dst]
	path = $FS/dst
	read only = false
	uid = root
	gid = root
EOF
ip netns exec "$NS-bench" rsync --daemon --no-detach --config="$FS/rsyncd.conf" --port="$RPORT" --address=127.0.0.1 \
	--log-file="$TMP/rsyncd.log" &
on_exit "kill $!"
for ((i = 0; i < 100; i++)); do
	nsx curl -s -o /dev/null "http://127.0.0.1:$NPORT/" && nsx rsync "rsync://127.0.0.1:$RPORT/" >/dev/null 2>&1 && break
	sleep 0.1
done
[ "$i" -lt 100 ] || die "nginx or the rsync daemon did not start"

RPID=""
rack_up() {	# a fresh rackd: RURL, RTOKEN
	local port
	port=$(free_port_ns)
	rm -rf "$FS/rack"
	ip netns exec "$NS-bench" "$RACKD" -d --state-dir "$FS/rack" --listen "127.0.0.1:$port" --manage-links=no \
		>>"$TMP/rackd.log" 2>&1 &
	RPID=$!
	on_exit "kill -9 $RPID"
	RURL="http://127.0.0.1:$port"
	for ((i = 0; i < 100; i++)); do
		nsx curl -s -o /dev/null "$RURL/healthz" && break
		sleep 0.1
	done
	RTOKEN=$(cat "$FS/rack/api.token") || die "rackd did not start"
}
rack_down() { kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; rm -rf "$FS/rack"; }

# ---- measuring -------------------------------------------------------------
declare -A R		# "PASS.WHAT.secs|bytes" -> values, space separated
# timed PASS WHAT COMMAND...: runs it in the namespace; records time and wire bytes.
timed() {
	local pass=$1 what=$2 b0 b1 t0 t1
	shift 2
	b0=$(lo_tx)
	t0=$(date +%s.%N)
	timeout -k 5 "$RUN_MAX" ip netns exec "$NS-bench" "$@" >"$TMP/out" 2>"$TMP/err" ||
		die "$what failed: $(tail -c 600 "$TMP/err") $(tail -c 300 "$TMP/out")"
	t1=$(date +%s.%N)
	b1=$(lo_tx)
	R[$pass.$what.secs]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') "
	R[$pass.$what.bytes]+="$((b1 - b0)) "
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
med() { echo "${R[$1]:-}" | median; }
reset_dst() {	# the rsync daemon's copy back to v1, older than the source
	cp --sparse=always "$FS/v1.img" "$FS/dst/image.img" && touch -d 2000-01-01 "$FS/dst/image.img"
}

one_run() {	# PASS FIRST(1|0)
	local pass=$1 first=$2 v
	rack_up
	timed "$pass" full.rackctl env RACKD_TOKEN="$RTOKEN" "$RACKCTL" push bench:1 "$RURL" --store "$C" \
		--streams "$STREAMS" --json
	[ "$(jq -r '.racks[0].result' "$TMP/out")" = ok ] || die "full push: $(cat "$TMP/out")"
	timed "$pass" full.curl curl -sf -T "$FS/v1.img.zst" "http://127.0.0.1:$NPORT/up/v1.img.zst"
	rm -f "$NGX/root/up/v1.img.zst"
	for v in 2 3; do
		timed "$pass" "delta$v.rackctl" env RACKD_TOKEN="$RTOKEN" "$RACKCTL" push "bench:$v" "$RURL" \
			--store "$C" --streams "$STREAMS" --json
		[ "$(jq -r '.racks[0].result' "$TMP/out")" = ok ] || die "delta push: $(cat "$TMP/out")"
		if [ "$v" = 2 ]; then	# rewritten chunks go whole
			[ "$(jq -r '.racks[0].bytes_sent' "$TMP/out")" = "$DELTA2" ] ||
				die "delta push of bench:2 sent $(jq -r '.racks[0].bytes_sent' "$TMP/out") bytes of chunks"
		else			# edited chunks go as patches
			[ "$(jq -r '.racks[0].chunks_patched' "$TMP/out")" = "$NCH3" ] ||
				die "delta push of bench:3 patched $(jq -r '.racks[0].chunks_patched' "$TMP/out") of $NCH3 chunks"
			nsx curl -sf -o /dev/null -X DELETE -H "Authorization: Bearer $RTOKEN" \
				"$RURL/api/v1/images/bench/versions/3" || die "cannot delete bench:3 from the rack"
			timed "$pass" delta3.whole env RACKD_TOKEN="$RTOKEN" "$RACKCTL" push bench:3 "$RURL" \
				--store "$C" --streams "$STREAMS" --json --no-patch
			[ "$(jq -r '.racks[0].bytes_sent' "$TMP/out")" = "$DELTA3" ] ||
				die "delta push of bench:3 --no-patch sent $(jq -r '.racks[0].bytes_sent' "$TMP/out") bytes"
		fi
		reset_dst
		timed "$pass" "delta$v.rsync" rsync --stats "$FS/v$v.img" "rsync://127.0.0.1:$RPORT/dst/image.img"
		if [ "$first" = 1 ]; then
			cmp -s "$FS/v$v.img" "$FS/dst/image.img" || die "rsync did not make v$v"
		fi
		reset_dst
		timed "$pass" "delta$v.rsyncz" rsync -z --compress-choice=zstd --stats "$FS/v$v.img" \
			"rsync://127.0.0.1:$RPORT/dst/image.img"
	done
	if [ "$first" = 1 ]; then
		nsx curl -s -H "Authorization: Bearer $RTOKEN" "$RURL/api/v1/images/bench" |
			jq -e '.versions | length == 3' >/dev/null || die "the rack does not list bench:1..3"
	fi
	rack_down
}

PASSES="lo"
echo "push bench: $RUNS runs on the namespace's loopback (no limit)"
for ((r = 1; r <= RUNS; r++)); do one_run lo "$((r == 1))"; echo "  run $r done"; done
if [ -n "$RATE" ]; then
	PASSES="lo rate"
	nsx tc qdisc add dev lo root tbf rate "$RATE" burst 256kb latency 100ms ||
		die "cannot limit the loopback to $RATE"
	echo "push bench: $RATE_RUNS runs with the loopback limited to $RATE"
	for ((r = 1; r <= RATE_RUNS; r++)); do one_run rate 0; echo "  run $r done"; done
	nsx tc qdisc del dev lo root
fi

# ---- report -------------------------------------------------------------------
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
row() {	# PASS WHAT LABEL
	printf "  %-44s %9s s %10s MB\n" "$3" "$(med "$1.$2.secs")" "$(mb "$(med "$1.$2.bytes")")"
}
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
goal() {	# WHAT A B (a < b wanted)
	if lt "$2" "$3"; then echo "GOAL MET: $1 ($2 < $3)"; else echo "GOAL MISSED: $1 ($2 >= $3)"; fi
}
{
	echo "rackd push benchmark: rackctl push vs rsync and curl -T, same namespace, same link"
	echo "image: $IMAGE_MIB MiB, holes $HOLES, $DATA_CHUNKS data chunks of 1 MiB, stored $(mb "$STORED1") MB"
	echo "       (zstd level $LEVEL); one-file zstd -$LEVEL: $(mb "$ONEFILE") MB"
	echo "v2: $NCH2 chunks rewritten ($(mb "$DELTA2") MB stored); v3: $NCH3 chunks with 8 bytes edited ($(mb "$DELTA3") MB stored)"
	echo "rackctl --streams $STREAMS; rsync $(rsync --version | sed -n '1s/.*version \([^ ]*\).*/\1/p'); nginx WebDAV PUT; files on tmpfs"
	echo "wire bytes: the namespace loopback's tx bytes during the transfer (both directions)"
	for pass in $PASSES; do
		echo
		[ "$pass" = lo ] && echo "loopback, no limit (median of $RUNS)" ||
			echo "loopback limited to $RATE by tc (median of $RATE_RUNS)"
		echo "  full push (empty rack)"
		row "$pass" full.rackctl "rackctl push bench:1"
		row "$pass" full.curl "curl -T v1.img.zst to nginx"
		rate_of() { awk -v b="$(med "$pass.full.$1.bytes")" -v t="$(med "$pass.full.$1.secs")" \
			'BEGIN { printf "%.1f", b / t / 1e6 }'; }
		echo "    wire rate: rackctl $(rate_of rackctl) MB/s, curl $(rate_of curl) MB/s;" \
			"bytes rackctl/curl $(awk -v a="$(med "$pass.full.rackctl.bytes")" \
			-v b="$(med "$pass.full.curl.bytes")" 'BEGIN { printf "%.3f", a / b }')" \
			"(chunks compressed one by one vs one zstd stream)"
		echo "  delta, 5% of chunks rewritten (rack/copy holds v1)"
		row "$pass" delta2.rackctl "rackctl push bench:2"
		row "$pass" delta2.rsync "rsync v2.img"
		row "$pass" delta2.rsyncz "rsync -z (zstd) v2.img"
		echo "  delta, 5% of chunks with 8 bytes edited"
		row "$pass" delta3.rackctl "rackctl push bench:3 (as patches)"
		row "$pass" delta3.whole "rackctl push bench:3 --no-patch"
		row "$pass" delta3.rsync "rsync v3.img"
		row "$pass" delta3.rsyncz "rsync -z (zstd) v3.img"
		for v in 2 3; do
			rb=$(med "$pass.delta$v.rackctl.bytes")
			best=$(printf '%s\n' "$(med "$pass.delta$v.rsync.bytes")" "$(med "$pass.delta$v.rsyncz.bytes")" | sort -g | head -1)
			goal "[$pass] delta v$v: fewer wire bytes than rsync (best of plain, -z)" "$rb" "$best"
			rt=$(med "$pass.delta$v.rackctl.secs")
			bt=$(printf '%s\n' "$(med "$pass.delta$v.rsync.secs")" "$(med "$pass.delta$v.rsyncz.secs")" | sort -g | head -1)
			goal "[$pass] delta v$v: faster than rsync (best of plain, -z)" "$rt" "$bt"
		done
		goal "[$pass] full push: faster than curl -T" "$(med "$pass.full.rackctl.secs")" \
			"$(med "$pass.full.curl.secs")"
	done
} | tee "$REPORT"
echo "push bench: report in $REPORT"
