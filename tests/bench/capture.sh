#!/bin/bash
# tests/bench/capture.sh — capture (a node's disk becomes an image) over a
# 40 MB/s link: rack-agent, run as a process on a disk file (as
# tests/integration/capture.sh does), uploading to rackd, against
# `partclone.ext4 -c -s DISK -o - | zstd | curl -T -` to nginx (WebDAV PUT)
# over the same link.
#   disk: 4 GiB ext4 (whole disk, no partition table), about 30% used by
#         files of random data; its free space holds old random data (files
#         written then deleted); the rest of the file is sparse.
#   link: a veth pair between two namespaces the bench makes, the sender's
#         end shaped with tc tbf at 320mbit (40 MB/s).
#   figures: wall time and the bytes the sender's veth sent, medians of
#         RUNS (3); rackd's store is emptied between runs; then a second
#         capture after a small change (one 1 MiB file), to the same rack.
#   agent: pass 1 reads and hashes only (no compression), the manifest
#         goes up, then CAPTURE_SENDERS threads read, check, compress
#         (zstd 12) and upload the missing chunks; rackd's commit reads
#         back only the chunks its upload did not add (capture_seen.c).
# Report in build/bench/capture.txt, the agents' and the last rackd's logs
# beside it. Root only; everything removed on exit.
source "$(dirname "$0")/../lib.sh"

RUNS=${RUNS:-3}
DISK_GIB=${DISK_GIB:-4}
FILES=${FILES:-11}		# files of 100 MiB random: about 30% with metadata
OLD=${OLD:-10}			# files of 100 MiB random, deleted: old data
RATE=${RATE:-320mbit}
REPORT=$TOP/build/bench/capture.txt
AGENT=${AGENT:-$BUILD_DIR/rack-agent}
die() { echo "capture bench: $*" >&2; exit 1; }
for p in "$RACKD" "$AGENT"; do [ -x "$p" ] || die "$p missing: run make"; done
for c in partclone.ext4 zstd curl nginx tc jq mkfs.ext4 debugfs dumpe2fs; do
	command -v "$c" >/dev/null || die "$c is needed (tools/deps.sh bench)"
done
mkdir -p "$TOP/build/bench"

# ---- the disk ----------------------------------------------------------------
DISK=$TMP/disk.img
echo "capture bench: making the ${DISK_GIB} GiB disk"
mkdir -p "$TMP/tree/data" "$TMP/tree/old"
for ((i = 0; i < FILES; i++)); do
	head -c $((100 << 20)) /dev/urandom >"$TMP/tree/data/f$i.bin"
done
for ((i = 0; i < OLD; i++)); do
	head -c $((100 << 20)) /dev/urandom >"$TMP/tree/old/o$i.bin"
done
truncate -s "${DISK_GIB}G" "$DISK"
mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=0 -d "$TMP/tree" "$DISK" ||
	die "mkfs.ext4"
rm -rf "$TMP/tree"
for ((i = 0; i < OLD; i++)); do
	debugfs -w -R "rm /old/o$i.bin" "$DISK" >/dev/null 2>&1 || die "debugfs rm"
done
bs=$(dumpe2fs -h "$DISK" 2>/dev/null | awk -F: '/^Block size/ {print $2+0}')
blocks=$(dumpe2fs -h "$DISK" 2>/dev/null | awk -F: '/^Block count/ {print $2+0}')
free=$(dumpe2fs -h "$DISK" 2>/dev/null | awk -F: '/^Free blocks/ {print $2+0}')
USED=$(((blocks - free) * bs))
SIZE=$(stat -c %s "$DISK")
ONDISK=$(($(stat -c %b "$DISK") * 512))
echo "capture bench: $USED of $SIZE bytes used, $ONDISK written in the file"

# ---- the link: snd (the node) -- rcv (the rack) --------------------------------
ns_add snd
ns_add rcv
ip link add v0 netns "$NS-snd" type veth peer name v1 netns "$NS-rcv" || die "veth"
ip -n "$NS-snd" addr add 10.251.0.1/30 dev v0
ip -n "$NS-rcv" addr add 10.251.0.2/30 dev v1
ip -n "$NS-snd" link set v0 up
ip -n "$NS-rcv" link set v1 up
in_ns snd tc qdisc add dev v0 root tbf rate "$RATE" burst 256kb latency 100ms ||
	die "cannot shape v0 to $RATE"
tx() { in_ns snd cat /sys/class/net/v0/statistics/tx_bytes; }
now() { date +%s.%N; }

NGX=$TMP/nginx
NPORT=18080
mkdir -p "$NGX/root/up" "$NGX/tmp"
cat >"$NGX/nginx.conf" <<EOF
# nginx for the rackd capture benchmark (WebDAV PUT); started and stopped by it.
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
		listen 10.251.0.2:$NPORT;
		root $NGX/root;
		location /up/ { dav_methods PUT DELETE; create_full_put_path on; }
	}
}
EOF
in_ns rcv nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" >"$TMP/nginx.out" 2>&1 &
NGINX_PID=$!
on_exit "kill -9 $NGINX_PID"

RACKD_NS=rcv
PORT=18081
rack_up() {	# a fresh rackd (empty store)
	STATE=$TMP/state RACKD_LOG=$TMP/rackd.log
	rm -rf "$STATE"
	rackd_start --slots n1 --manage-links=no
	AURL="http://10.251.0.2:$PORT"
}
capture() {	# NAME:VERSION OUT: the agent's capture; OUT gets "secs bytes"
	local t0 b0 t1 b1 job tok
	api POST /api/v1/nodes/n1/capture -d "{\"image\":\"$1\"}" >/dev/null
	[ "$STATUS" = 202 ] || die "capture $1: HTTP $STATUS $BODY"
	job=$(printf '%s' "$BODY" | jq -r .id)
	tok=$(job_token "$job")
	b0=$(tx) t0=$(now)
	in_ns snd timeout -k 5 900 "$AGENT" --no-reboot --cmdline /dev/null \
		--disk "dev:$DISK" --url "$AURL" --job "$job" --token "$tok" \
		>"$TMP/agent.log" 2>&1 || { tail -20 "$TMP/agent.log"; die "agent failed"; }
	t1=$(now) b1=$(tx)
	cp "$TMP/agent.log" "$TOP/build/bench/capture-agent-${1//:/-}.log"
	[ "$(job_field "$job" .state)" = done ] || die "capture $1 not done"
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $((b1 - b0))" >>"$2"
	echo "  agent $1: $(tail -1 "$2") (s, bytes)"
}
partclone_run() {	# OUT
	local t0 b0 t1 b1
	rm -f "$NGX/root/up/disk.pc.zst"
	b0=$(tx) t0=$(now)
	in_ns snd bash -o pipefail -c "partclone.ext4 -q -c -s '$DISK' -o - 2>'$TMP/pc.log' |
		zstd -q -T0 -c | curl -sf -T - http://10.251.0.2:$NPORT/up/disk.pc.zst" ||
		{ tail -5 "$TMP/pc.log"; die "partclone | zstd | curl failed"; }
	t1=$(now) b1=$(tx)
	[ -s "$NGX/root/up/disk.pc.zst" ] || die "nginx holds no image"
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $((b1 - b0))" >>"$1"
	echo "  partclone: $(tail -1 "$1") (s, bytes; stored $(stat -c %s "$NGX/root/up/disk.pc.zst"))"
}

: >"$TMP/full" >"$TMP/second" >"$TMP/pc"
for ((r = 1; r <= RUNS; r++)); do
	echo "capture bench: run $r of $RUNS"
	rack_up
	capture "bench:$r" "$TMP/full"
	STORED=$(jq '[.chunks[].stored] | add' "$STATE/store/manifests/bench/$r.json")
	head -c $((1 << 20)) /dev/urandom >"$TMP/new.bin"
	debugfs -w -R "write $TMP/new.bin /data/new$r.bin" "$DISK" >/dev/null 2>&1 ||
		die "debugfs write"
	capture "bench:$r.1" "$TMP/second"
	rackd_stop
	cp "$RACKD_LOG" "$TOP/build/bench/capture-rackd.log"
	partclone_run "$TMP/pc"
done

# ---- report ----------------------------------------------------------------------
med() { cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
goal() {	# WHAT A B (a < b wanted)
	if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a < b) }'; then
		echo "GOAL MET: $1 ($2 < $3)"
	else
		echo "GOAL MISSED: $1 ($2 >= $3)"
	fi
}
AT=$(med "$TMP/full" 1) AB=$(med "$TMP/full" 2)
ST=$(med "$TMP/second" 1) SB=$(med "$TMP/second" 2)
PT=$(med "$TMP/pc" 1) PB=$(med "$TMP/pc" 2)
{
	echo "rackd capture benchmark: rack-agent capture vs partclone.ext4 | zstd | curl -T, same link"
	echo "disk: $(mb "$SIZE") MB ext4, $(mb "$USED") MB used (random files), old random data in free space"
	echo "link: veth between two namespaces, sender shaped by tc tbf $RATE; bytes: the sender's veth tx"
	echo "agent: hash pass, then parallel compress+upload, chunks zstd level 12 (the images' default); partclone $(partclone.ext4 -v 2>&1 | sed -n 's/.*v\([0-9.]*\).*/\1/p' | head -1) | zstd -3 -T0 | curl"
	echo "medians of $RUNS runs           time (s)   sent (MB)"
	printf "  %-28s %8s %11s\n" "rack-agent capture" "$AT" "$(mb "$AB")"
	printf "  %-28s %8s %11s\n" "partclone|zstd|curl -T" "$PT" "$(mb "$PB")"
	printf "  %-28s %8s %11s\n" "second capture (1 MiB new)" "$ST" "$(mb "$SB")"
	echo "ratios agent/partclone: time $(ratio "$AT" "$PT"), bytes $(ratio "$AB" "$PB")"
	echo "second capture / partclone (which sends all again): time $(ratio "$ST" "$PT"), bytes $(ratio "$SB" "$PB")"
	echo "stored in the rack (last run): $(mb "$STORED") MB"
	goal "capture: no slower than partclone|zstd|curl" "$AT" "$(awk -v p="$PT" 'BEGIN { print p * 1.05 }')"
	goal "capture: fewer bytes than partclone|zstd|curl" "$AB" "$(awk -v p="$PB" 'BEGIN { print p * 1.01 }')"
	goal "second capture: under a tenth of the bytes" "$SB" "$(awk -v p="$PB" 'BEGIN { print p / 10 }')"
} | tee "$REPORT"
echo "capture bench: report in $REPORT"
