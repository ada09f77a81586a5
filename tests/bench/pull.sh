#!/bin/bash
# tests/bench/pull.sh — a thousand racks, in small (issue 16): N racks
# get one image, once by pulling through one site cache (rackctl publish
# to a directory origin served by nginx, a second nginx with proxy_cache
# in front of it, rackctl pull-to the N racks), once by rackctl push from
# one host to the same N racks. Each phase starts from empty racks (and
# the pull from an empty cache).
#
# Measured per round: the bytes the origin sent (its access log's
# $body_bytes_sent; goal: one copy of the image, its stored bytes, for N
# racks) against the bytes the push host sent (rackctl push --json:
# bytes_sent and manifest_bytes of every rack, N copies), and the total
# time of each. Medians over ROUNDS.
#
# Environment: RACKS (32), IMAGE_MIB (2048), HOLES (0.6), ROUNDS (1),
# JOBS (racks at once, for both; 8), BENCH_DIR (/var/tmp). Everything on
# loopback. The files (the central store, the origin, the cache, every
# rack's state and store) go on disk, in a private directory made under
# BENCH_DIR and removed on exit. Each phase's rack stores (and the cache)
# are deleted before the next phase, so the disk holds one phase at a
# time: at most (RACKS + 3) copies of the image's data, plus 5% and 1 GiB
# (the default size: 2048 MiB * 0.4 * 1.05 * 35 + 1024 = 30.4 GiB). The
# bench says that peak up front and refuses to start on a file system
# with less free space. The chunks compress (one copy is 464 MiB stored,
# 0.57 of its data), so a phase at the default size ends at 16 GiB; a
# round takes 4 to 5 minutes on two cores, making the image 2 more.
set -u
. "$(dirname "$0")/../lib.sh"

RACKS=${RACKS:-32}
IMAGE_MIB=${IMAGE_MIB:-2048}
HOLES=${HOLES:-0.6}
ROUNDS=${ROUNDS:-1}
JOBS=${JOBS:-8}
RUN_MAX=3600			# seconds, one pull-to or push of all racks
OUT_DIR=$TOP/build/bench
REPORT=$OUT_DIR/pull.txt

die() { echo "pull bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (as make bench does: rackd's helpers, nginx's user root)"
for t in nginx jq python3 timeout bc df; do
	command -v "$t" >/dev/null 2>&1 || die "$t is missing (tools/deps.sh bench)"
done
for p in "$RACKD" "$RACKCTL"; do [ -x "$p" ] || die "$p is missing: run make first"; done
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"

# ---- the disk: one phase at a time ------------------------------------------------
# An upper bound of one copy's stored bytes: the image's data (zstd does not
# make a 1 MiB chunk bigger by more than a frame header), plus 5%. The peak
# is the central store, the origin, the cache and every rack's store (the
# push phase has no cache), plus 1 GiB for logs, nginx's temporary files and
# the databases. Making the image first needs its three versions: less.
COPY_MIB=$(echo "($IMAGE_MIB * (1 - $HOLES) * 1.05 + 0.5) / 1" | bc)
PEAK_MIB=$((COPY_MIB * (RACKS + 3) + 1024))
BENCH_DIR=${BENCH_DIR:-/var/tmp}
[ -d "$BENCH_DIR" ] || die "BENCH_DIR $BENCH_DIR is not a directory"
FREE_MIB=$(df -P -m "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
[ -n "$FREE_MIB" ] || die "cannot read the free space of $BENCH_DIR (df)"
echo "pull bench: peak disk use about $PEAK_MIB MiB ($((RACKS + 3)) copies of ~$COPY_MIB MiB, +1 GiB)" \
	"in $BENCH_DIR, $FREE_MIB MiB free there"
[ "$FREE_MIB" -ge "$PEAK_MIB" ] ||
	die "not enough free space in $BENCH_DIR: $PEAK_MIB MiB needed, $FREE_MIB MiB free" \
		"(set BENCH_DIR to a larger file system, or lower RACKS or IMAGE_MIB)"
FS=$(mktemp -d "$BENCH_DIR/rackd-pull-bench.XXXXXX") || die "cannot make a directory in $BENCH_DIR"
on_exit "rm -rf $FS"
chmod 755 "$FS"
C=$FS/central ORIGIN=$FS/origin

# ---- the image, published ------------------------------------------------------
echo "pull bench: making the image (${IMAGE_MIB} MiB, holes $HOLES)"
python3 "$TOP/tests/bench/push_image.py" "$IMAGE_MIB" "$FS/v1.img" "$FS/v2.img" "$FS/v3.img" \
	"$HOLES" 0.05 1 >/dev/null || die "cannot make the image"
rm -f "$FS/v2.img" "$FS/v3.img"
"$RACKCTL" image import "$FS/v1.img" --name bench:1 --store "$C" -q >/dev/null || die "import failed"
rm -f "$FS/v1.img"
"$RACKCTL" image show bench:1 --store "$C" --json >"$TMP/m.json" || die "show"
STORED=$(jq '[.chunks | unique_by(.hash) | .[].stored] | add' "$TMP/m.json")
"$RACKCTL" publish bench:1 "$ORIGIN" --store "$C" -q >/dev/null || die "publish failed"

# ---- origin and cache ------------------------------------------------------------
P1=$(free_port) P2=$(free_port)
NGINX_DIR=$FS NGINX_CONNECTIONS=4096
. "$TOP/tests/lib_nginx.sh"
nginx_run() {	# NAME HTTP-BLOCK PORT: a new prefix (an empty cache), started
	rm -rf "$FS/nginx-$1"
	nginx_conf "$1" "$2"
	nginx_start "$1" "$3"
}
nginx_run origin "server {
		listen 127.0.0.1:$P1;
		access_log $FS/nginx-origin/logs/access.log sent;
		root $ORIGIN;
	}" "$P1"
cache_conf="proxy_cache_path $FS/nginx-cache/cache levels=1:2 keys_zone=images:10m max_size=$((IMAGE_MIB * 2))m inactive=30d use_temp_path=off;
	server {
		listen 127.0.0.1:$P2;
		proxy_cache images;
		proxy_cache_lock on;
		proxy_cache_lock_timeout 120s;
		proxy_cache_lock_age 120s;
		location /chunks/ { proxy_pass http://127.0.0.1:$P1; proxy_cache_valid 200 365d; }
		location /manifests/ { proxy_pass http://127.0.0.1:$P1; proxy_cache_valid 200 60s; }
	}"

# ---- racks ------------------------------------------------------------------------
PORTS=() RPIDS=()
for ((i = 0; i < RACKS; i++)); do PORTS[$i]=$(free_port); done
racks_kill() { [ "${#RPIDS[@]}" -eq 0 ] || kill -9 "${RPIDS[@]}"; }
on_exit racks_kill
racks_start() {	# fresh state for every rack; the racks file in $TMP/racks
	local i
	: >"$TMP/racks"
	for ((i = 0; i < RACKS; i++)); do
		rm -rf "$FS/rack$i"
		"$RACKD" -d --state-dir "$FS/rack$i" --listen "127.0.0.1:${PORTS[$i]}" --manage-links=no \
			--image-sources "http://127.0.0.1:$P2" >>"$TMP/rack$i.log" 2>&1 &
		RPIDS[$i]=$!
	done
	for ((i = 0; i < RACKS; i++)); do
		wait_http "http://127.0.0.1:${PORTS[$i]}/healthz" || die "rack $i did not start"
		echo "http://127.0.0.1:${PORTS[$i]} $(cat "$FS/rack$i/api.token")" >>"$TMP/racks"
	done
}
racks_stop() {	# and their stores deleted: the next phase starts on a free disk
	local i
	for ((i = 0; i < RACKS; i++)); do kill -TERM "${RPIDS[$i]}" 2>/dev/null; done
	for ((i = 0; i < RACKS; i++)); do wait "${RPIDS[$i]}" 2>/dev/null; done
	RPIDS=()
	for ((i = 0; i < RACKS; i++)); do rm -rf "$FS/rack$i"; done
}
cache_stop() {	# the cache's copy deleted too
	[ -n "${NGINX_cache:-}" ] || return 0
	kill -9 "$NGINX_cache" 2>/dev/null
	wait "$NGINX_cache" 2>/dev/null
	NGINX_cache=""
	rm -rf "$FS/nginx-cache"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
load() { cut -d ' ' -f 1-3 /proc/loadavg; }
used() { du -sm "$FS" | cut -f 1; }	# MiB, at the end of a phase: its peak

: >"$TMP/pull.t" ; : >"$TMP/pull.b" ; : >"$TMP/push.t" ; : >"$TMP/push.b"
for ((r = 1; r <= ROUNDS; r++)); do
	# pull: an empty cache, an empty origin log
	nginx_run cache "$cache_conf" "$P2"
	: >"$FS/nginx-origin/logs/access.log"
	racks_start
	echo "pull bench: round $r: pull-to $RACKS racks (load $(load))"
	t0=$(now)
	timeout -k 5 "$RUN_MAX" "$RACKCTL" pull-to --racks "$TMP/racks" bench:1 --jobs "$JOBS" --json \
		>"$TMP/pull.json" 2>"$TMP/pull.err" || die "pull-to failed: $(tail -c 400 "$TMP/pull.err")"
	echo "$(now) - $t0" | bc >>"$TMP/pull.t"
	awk '$1 ~ /^\/chunks\// || $1 ~ /^\/manifests\// { s += $3 } END { print s + 0 }' \
		"$FS/nginx-origin/logs/access.log" >>"$TMP/pull.b"
	echo "pull bench: round $r: pull done in $(tail -n 1 "$TMP/pull.t") s (load $(load)," \
		"disk $(used) MiB)"
	racks_stop
	cache_stop
	# push: the same racks, empty again, from the central store
	racks_start
	echo "pull bench: round $r: push to $RACKS racks (load $(load))"
	t0=$(now)
	timeout -k 5 "$RUN_MAX" "$RACKCTL" push bench:1 --racks "$TMP/racks" --store "$C" --jobs "$JOBS" --json \
		>"$TMP/push.json" 2>"$TMP/push.err" || die "push failed: $(tail -c 400 "$TMP/push.err")"
	echo "$(now) - $t0" | bc >>"$TMP/push.t"
	jq '[.racks[] | .bytes_sent + .manifest_bytes] | add' "$TMP/push.json" >>"$TMP/push.b"
	echo "pull bench: round $r: push done in $(tail -n 1 "$TMP/push.t") s (load $(load)," \
		"disk $(used) MiB)"
	racks_stop
	echo "pull bench: round $r: pull $(tail -n 1 "$TMP/pull.t") s, $(tail -n 1 "$TMP/pull.b") origin bytes;" \
		"push $(tail -n 1 "$TMP/push.t") s, $(tail -n 1 "$TMP/push.b") bytes"
done

PT=$(median <"$TMP/pull.t") PB=$(median <"$TMP/pull.b")
UT=$(median <"$TMP/push.t") UB=$(median <"$TMP/push.b")
{
	echo "pull bench: $RACKS racks, image ${IMAGE_MIB} MiB (holes $HOLES), one copy = $STORED stored bytes," \
		"jobs $JOBS, medians of $ROUNDS round(s)"
	printf '  pull through one cache: %8.2f s  origin sent %14s bytes (%.3f copies)\n' "$PT" "$PB" \
		"$(echo "$PB / $STORED" | bc -l)"
	printf '  push from one host:     %8.2f s  host sent   %14s bytes (%.3f copies)\n' "$UT" "$UB" \
		"$(echo "$UB / $STORED" | bc -l)"
	if [ "$(echo "$PB <= $STORED * 1.01" | bc)" = 1 ]; then
		echo "GOAL MET: the origin sent one copy for $RACKS racks"
	else
		echo "GOAL MISSED: the origin sent more than one copy"
	fi
} | tee "$REPORT"
