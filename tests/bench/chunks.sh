#!/bin/bash
# tests/bench/chunks.sh — how fast rackd serves image chunks, next to
# Debian's nginx serving the same files, and how much memory rackd uses.
#
# A 1 GiB test image (tests/bench/chunks_image.py) is imported with rackctl
# into a temporary state dir. Three servers run on loopback at once:
#   nginx      Debian's nginx, its own config (sendfile, keep-alive),
#              root = the same store, /chunks/HASH -> chunks/XX/HASH
#   rackd t1   rackd --http-threads 1 (one epoll thread)
#   rackd t2   rackd --http-threads 2 (a pool of two), on a second state
#              dir whose store holds hard links to the same chunk files
# All three get the same client: wrk with tests/bench/chunks_walk.lua,
# which walks the image's chunk URL list over keep-alive connections for
# DURATION seconds. Runs are interleaved (each repetition measures every
# server, in alternating order) and every figure is the median of RUNS.
# MB/s = bytes received (bodies and response heads) / elapsed, 1 MB = 10^6.
# Ratios are rackd/nginx within one repetition, then the median.
#
# The main table is rackd with its default http_threads; the goals are
# checked on it: ratio >= 0.95 at 1 and 16 clients, VmHWM < 20 MiB while
# serving 16 clients. A missed goal prints GOAL MISSED but does not fail the
# script; a run that cannot be made (a server does not start, wrong bytes,
# HTTP errors) does.
#
# The host may be shared: for each run the script also measures the CPU
# the host spent on other work; a run where that exceeds OTHER_MAX % of a
# CPU is made again (at most RETRIES times) and the least disturbed attempt
# is kept. The report gives every server's CPU time per GB as well, which
# other work disturbs less than MB/s.
#
# Environment: RUNS (5), DURATION (5 s), IMAGE_MIB (1024), WRK_THREADS (2,
# wrk threads for 16 clients; 1 client uses 1), NGINX_WORKERS (auto, as in
# Debian's nginx.conf), OTHER_MAX (20), RETRIES (2). Needs root for nginx;
# traffic only to 127.0.0.1.
set -u
. "$(dirname "$0")/../lib.sh"	# TMP, cleanup on exit, on_exit, free_port

RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
IMAGE_MIB=${IMAGE_MIB:-1024}
WRK_THREADS=${WRK_THREADS:-2}
NGINX_WORKERS=${NGINX_WORKERS:-auto}
OTHER_MAX=${OTHER_MAX:-20}	# % of a CPU used by other work: run again
RETRIES=${RETRIES:-2}		# at most this many times
CLIENTS="1 16"
RSS_GOAL_KB=$((20 * 1024))
RATIO_GOAL=0.95
BENCH="$TOP/tests/bench"
OUT_DIR="$TOP/build/bench"
REPORT="$OUT_DIR/chunks.txt"
RES="$TMP/results"

die() { echo "chunks: $*" >&2; exit 1; }

for tool in wrk nginx curl jq python3 timeout; do
	command -v "$tool" >/dev/null 2>&1 ||
	    die "$tool is missing (make bench installs what the bench needs)"
done
[ -x "$RACKD" ] || die "$RACKD is missing: run make first"
[ -x "$RACKCTL" ] || die "$RACKCTL is missing: run make first"
[ "$(id -u)" -eq 0 ] || die "run as root (nginx is started as root)"
mkdir -p "$OUT_DIR" "$RES" || die "cannot create $OUT_DIR"

# ---- the image ----------------------------------------------------------

STATE1="$TMP/state1"
STATE2="$TMP/state2"
STORE="$STATE1/store"
URLS="$TMP/urls.txt"

echo "chunks: making a ${IMAGE_MIB} MiB test image"
mkdir -p "$STORE" || die "cannot create $STORE"
python3 "$BENCH/chunks_image.py" "$IMAGE_MIB" "$TMP/bench.img" ||
    die "cannot make the test image"
"$RACKCTL" image import "$TMP/bench.img" --name bench:1 --store "$STORE" ||
    die "rackctl image import failed"
rm -f "$TMP/bench.img"
MANIFEST="$STORE/manifests/bench/1.json"
jq -r '.chunks[].hash | "/chunks/" + .' "$MANIFEST" >"$URLS" ||
    die "cannot read $MANIFEST"
NCHUNKS=$(wc -l <"$URLS")
[ "$NCHUNKS" -gt 0 ] || die "$MANIFEST lists no chunks"
STORED=$(jq '[.chunks[].stored] | add' "$MANIFEST")
mkdir -p "$STATE2" && cp -al "$STORE" "$STATE2/store" ||
    die "cannot link the store into a second state dir"
# Every server reads from the page cache, not the disk.
find "$STORE/chunks" -type f -exec cat {} + >/dev/null

chunk_file() {	# URL path -> file in the store
	local h=${1#/chunks/}
	printf '%s/chunks/%s/%s' "$STORE" "${h:0:2}" "$h"
}

# ---- servers ------------------------------------------------------------

declare -A PORT_OF PID_OF PIDS_OF	# PIDS_OF: every process of a server

rackd_up() {	# NAME STATE_DIR THREADS
	local port log
	port=$(free_port)
	log="$TMP/$1.log"
	"$RACKD" -d --state-dir "$2" --listen "127.0.0.1:$port" \
	    $NO_LINKS --http-threads "$3" >>"$log" 2>&1 &
	PID_OF[$1]=$!
	PIDS_OF[$1]=$!
	PORT_OF[$1]=$port
	on_exit "rackd_down $!"
	wait_http "http://127.0.0.1:$port/healthz" || {
		tail -n 20 "$log"; die "$1 did not start"; }
}

rackd_down() {	# PID: SIGTERM, then SIGKILL after 5 s
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

nginx_stop() {	# master PID, then any worker it leaves behind
	local master=$1 workers i
	workers=$(ps -o pid= --ppid "$master" 2>/dev/null)
	kill -TERM "$master" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$master" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$master" $workers 2>/dev/null
	wait "$master" 2>/dev/null
	return 0
}

nginx_up() {
	local port dir="$TMP/nginx"
	port=$(free_port)
	mkdir -p "$dir" || die "cannot create $dir"
	cat >"$dir/nginx.conf" <<-EOF
	# nginx for the rackd chunk benchmark; started and stopped by it.
	daemon off;
	user root;
	worker_processes $NGINX_WORKERS;
	pid $dir/nginx.pid;
	error_log $dir/error.log warn;
	events { worker_connections 1024; }
	http {
		access_log off;
		default_type application/octet-stream;
		sendfile on;
		tcp_nopush on;
		keepalive_timeout 65;
		keepalive_requests 1000000;
		client_body_temp_path $dir/body;
		proxy_temp_path $dir/proxy;
		fastcgi_temp_path $dir/fastcgi;
		uwsgi_temp_path $dir/uwsgi;
		scgi_temp_path $dir/scgi;
		server {
			listen 127.0.0.1:$port;
			root $STORE;
			location ~ "^/chunks/([0-9a-f]{2})([0-9a-f]+)\$" {
				alias $STORE/chunks/\$1/\$1\$2;
			}
		}
	}
	EOF
	nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
	    >>"$dir/out.log" 2>&1 &
	PID_OF[nginx]=$!
	PORT_OF[nginx]=$port
	on_exit "nginx_stop $!"
	wait_http "http://127.0.0.1:$port/" || {
		cat "$dir/out.log" "$dir/error.log" 2>/dev/null
		die "nginx did not start"; }
	PIDS_OF[nginx]="${PID_OF[nginx]} $(ps -o pid= --ppid "${PID_OF[nginx]}" | tr '\n' ' ')"
}

# Chunk serving only: rackd leaves the host's network links alone.
NO_LINKS=""
"$RACKD" --help 2>&1 | grep -q -- '--manage-links' && NO_LINKS="--manage-links=no"
DEFAULT_THREADS=$("$RACKD" --help 2>&1 |
    sed -n 's/.*--http-threads N.*\[\([0-9]*\)\]$/\1/p')
DEFAULT_THREADS=${DEFAULT_THREADS:-1}
SERVERS="nginx rackd_t1 rackd_t2"
MAIN=rackd_t1
if [ "$DEFAULT_THREADS" = 2 ]; then
	MAIN=rackd_t2
elif [ "$DEFAULT_THREADS" != 1 ]; then	# measure the default as well
	SERVERS="$SERVERS rackd_def"
	MAIN=rackd_def
fi

nginx_up
rackd_up rackd_t1 "$STATE1" 1
rackd_up rackd_t2 "$STATE2" 2
if [ "$MAIN" = rackd_def ]; then
	mkdir -p "$TMP/state3" && cp -al "$STORE" "$TMP/state3/store" ||
	    die "cannot link the store into a third state dir"
	rackd_up rackd_def "$TMP/state3" "$DEFAULT_THREADS"
fi

# Every server answers with the stored bytes (first, middle, last chunk).
for s in $SERVERS; do
	for n in 1 $(((NCHUNKS + 1) / 2)) "$NCHUNKS"; do
		u=$(sed -n "${n}p" "$URLS")
		curl -sf --max-time 10 "http://127.0.0.1:${PORT_OF[$s]}$u" |
		    cmp -s - "$(chunk_file "$u")" ||
		    die "$s: $u is not the stored chunk"
	done
done

# ---- measuring ----------------------------------------------------------

# run_wrk SERVER CLIENTS SECONDS: prints MB/s, bytes received, the
# client's CPU ticks and the elapsed microseconds; fails on any HTTP error.
run_wrk() {
	local threads=1 out line bytes us reqs errs c0 c1
	[ "$2" -gt 1 ] && threads=$WRK_THREADS
	[ "$threads" -gt "$2" ] && threads=$2
	child_ticks c0
	out=$(CHUNKS_URLS="$URLS" timeout -k 5 $(($3 + 30)) wrk -t "$threads" \
	    -c "$2" -d "${3}s" --timeout 10s -s "$BENCH/chunks_walk.lua" \
	    "http://127.0.0.1:${PORT_OF[$1]}/" 2>&1) || {
		echo "$out" >&2; echo "chunks: $1: wrk failed" >&2; return 1; }
	child_ticks c1
	line=$(grep '^RESULT ' <<<"$out")
	read -r bytes us reqs errs < <(sed -n \
	    's/^RESULT bytes=\([0-9]*\) us=\([0-9]*\) requests=\([0-9]*\) errors=\([0-9]*\)$/\1 \2 \3 \4/p' \
	    <<<"$line")
	if [ -z "${bytes:-}" ] || [ "$us" -eq 0 ] || [ "$reqs" -eq 0 ] ||
	    [ "$errs" -ne 0 ]; then
		echo "$out" >&2
		echo "chunks: $1, $2 clients: no result or errors" >&2
		return 1
	fi
	awk -v b="$bytes" -v u="$us" -v c=$((c1 - c0)) \
	    'BEGIN { printf "%.1f %s %d %s\n", b / u, b, c, u }'
}

# Peak VmRSS of PID, sampled every 0.2 s while FILE exists, into OUT.
rss_sample() {	# PID FLAG OUT
	local max=0 k v rest
	while [ -e "$2" ]; do
		while read -r k v rest; do
			[ "$k" = VmRSS: ] && [ "$v" -gt "$max" ] && max=$v
		done <"/proc/$1/status"
		sleep 0.2
	done
	echo "$max" >"$3"
}

# CPU time (user + system, clock ticks) used so far by the PIDs.
HZ=$(getconf CLK_TCK)
cpu_ticks() {
	local p line sum=0
	for p in "$@"; do
		read -r line <"/proc/$p/stat" || continue
		set -- ${line##*) }	# state ppid ... utime(12) stime(13)
		sum=$((sum + ${12} + ${13}))
	done
	echo "$sum"
}

# child_ticks VAR: CPU ticks of this shell's waited-for children (wrk,
# through timeout) into VAR; no $(...), which would read a subshell's.
child_ticks() {
	local var=$1 line
	read -r line <"/proc/$BASHPID/stat"
	set -- ${line##*) }	# cutime(14) cstime(15)
	printf -v "$var" '%d' $((${14} + ${15}))
}

# Busy CPU ticks of the whole host (every CPU).
host_ticks() {
	local user nice sys irq softirq steal
	read -r _ user nice sys _ _ irq softirq steal _ </proc/stat
	echo $((user + nice + sys + irq + softirq + steal))
}

status_kb() {	# PID FIELD
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

median() {	# numbers on stdin
	sort -g | awk '{ v[NR] = $1 }
	    END { if (NR == 0) print "n/a";
	    else if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2];
	    else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "chunks: $NCHUNKS chunks, $STORED bytes stored; warming up"
for s in $SERVERS; do
	run_wrk "$s" 16 2 >/dev/null || die "warm-up of $s failed"
done
for s in $SERVERS; do
	[ "$s" = nginx ] && continue
	status_kb "${PID_OF[$s]}" VmRSS >"$RES/$s.rss_idle"
done

# measure SERVER CLIENTS: one wrk run; sets MBPS, CPUMS (server CPU ms per
# GB) and OTHER (CPU the host spent outside this server and wrk, in % of
# one CPU: other work competing with the run; interrupt time not charged
# to a process counts too).
measure() {
	local h0 h1 t0 t1 res bytes client us
	h0=$(host_ticks)
	t0=$(cpu_ticks ${PIDS_OF[$1]})
	res=$(run_wrk "$1" "$2" "$DURATION") || return 1
	t1=$(cpu_ticks ${PIDS_OF[$1]})
	h1=$(host_ticks)
	read -r MBPS bytes client us <<<"$res"
	CPUMS=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v b="$bytes" \
	    'BEGIN { printf "%.0f\n", t / hz * 1000 / (b / 1e9) }')
	OTHER=$(awk -v h=$((h1 - h0 - (t1 - t0) - client)) -v hz="$HZ" \
	    -v u="$us" 'BEGIN { o = h / hz / (u / 1e6) * 100;
	    printf "%.0f\n", o < 0 ? 0 : o }')
}

echo "chunks: $RUNS runs of ${DURATION}s per server and client count"
order=$SERVERS
reverse=$(echo "$SERVERS" | tr ' ' '\n' | tac | tr '\n' ' ')
for ((rep = 1; rep <= RUNS; rep++)); do
	for c in $CLIENTS; do
		for s in $order; do
			flag=""
			if [ "$s" != nginx ] && [ "$c" = 16 ]; then
				flag="$TMP/sampling"
				: >"$flag"
				rss_sample "${PID_OF[$s]}" "$flag" \
				    "$TMP/rss.$s.$rep" &
				sampler=$!
			fi
			# A run disturbed by other work on the host is made
			# again (at most RETRIES times); the least disturbed
			# attempt is kept.
			best=""
			for ((try = 0; try <= RETRIES; try++)); do
				measure "$s" "$c" || {
					rm -f "$TMP/sampling"
					die "run $rep failed"; }
				echo "  run $rep, $c client(s), $s: $MBPS MB/s," \
				    "$CPUMS CPU ms/GB, other load $OTHER% of a CPU"
				if [ -z "$best" ] || [ "$OTHER" -lt "${best##* }" ]; then
					best="$MBPS $CPUMS $OTHER"
				fi
				[ "$OTHER" -le "$OTHER_MAX" ] && break
			done
			read -r mbps cpums other <<<"$best"
			echo "$mbps" >>"$RES/$s.$c"
			echo "$cpums" >>"$RES/$s.$c.cpu"
			echo "$other" >>"$RES/$s.$c.other"
			if [ -n "$flag" ]; then
				rm -f "$flag"
				wait "$sampler"
				cat "$TMP/rss.$s.$rep" >>"$RES/$s.rss16"
			fi
		done
	done
	if [ "$order" = "$SERVERS" ]; then order=$reverse; else order=$SERVERS; fi
done
for s in $SERVERS; do
	[ "$s" = nginx ] && continue
	status_kb "${PID_OF[$s]}" VmHWM >"$RES/$s.hwm"
done

# ---- the report ---------------------------------------------------------

med() { median <"$RES/$1.$2"; }			# SERVER CLIENTS
ratio() {					# A B CLIENTS: median of A/B per run
	paste "$RES/$1.$3" "$RES/$2.$3" | awk '{ printf "%.4f\n", $1 / $2 }' |
	    median
}
kb_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

threads_label() {
	case $1 in
	rackd_t1) echo 1 ;; rackd_t2) echo 2 ;; *) echo "$DEFAULT_THREADS" ;;
	esac
}

{
	echo "rackd chunk serving: rackd vs nginx on 127.0.0.1"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); $("$RACKD" --version 2>&1 | head -n 1)"
	echo "host: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
	echo "image: ${IMAGE_MIB} MiB, $NCHUNKS chunks, $STORED bytes stored (zstd), page cache warm"
	echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'), worker_processes $NGINX_WORKERS, sendfile, keep-alive"
	echo "client: wrk, 1 client = 1 thread, 16 clients = $WRK_THREADS threads; ${DURATION}s per run; median of $RUNS runs"
	echo "MB/s = received bytes / s (10^6); ratio = median of rackd/nginx per run"
	echo "CPU ms/GB = the server's user + system CPU time per GB sent (all its"
	echo "  processes and threads); steadier than MB/s when the host is busy"
	echo
	echo "rackd (default: http_threads=$(threads_label "$MAIN")) vs nginx"
	printf '%-8s %10s %10s %6s %10s %10s  %s\n' clients "rackd MB/s" \
	    "nginx MB/s" ratio "rackd CPU" "nginx CPU" \
	    "rackd RSS (peak VmRSS / VmHWM)"
	for c in $CLIENTS; do
		rss="-"
		[ "$c" = 16 ] && rss="$(kb_mib "$(sort -n "$RES/$MAIN.rss16" | tail -n 1)") / $(kb_mib "$(cat "$RES/$MAIN.hwm")") MiB"
		printf '%-8s %10.1f %10.1f %6.3f %7.0f ms %7.0f ms  %s\n' "$c" \
		    "$(med "$MAIN" "$c")" "$(med nginx "$c")" \
		    "$(ratio "$MAIN" nginx "$c")" "$(med "$MAIN" "$c.cpu")" \
		    "$(med nginx "$c.cpu")" "$rss"
	done
	echo "  (CPU: ms per GB)"
	echo
	echo "rackd --http-threads 1 vs 2 (same runs)"
	printf '%-8s %8s %8s %6s %8s %8s %9s %9s\n' clients "t1 MB/s" \
	    "t2 MB/s" t2/t1 "t1 CPU" "t2 CPU" t1/nginx t2/nginx
	for c in $CLIENTS; do
		printf '%-8s %8.1f %8.1f %6.3f %5.0f ms %5.0f ms %9.3f %9.3f\n' \
		    "$c" "$(med rackd_t1 "$c")" "$(med rackd_t2 "$c")" \
		    "$(ratio rackd_t2 rackd_t1 "$c")" \
		    "$(med rackd_t1 "$c.cpu")" "$(med rackd_t2 "$c.cpu")" \
		    "$(ratio rackd_t1 nginx "$c")" "$(ratio rackd_t2 nginx "$c")"
	done
	for s in rackd_t1 rackd_t2; do
		echo "RSS $s: idle after warm-up $(kb_mib "$(cat "$RES/$s.rss_idle")") MiB," \
		    "peak VmRSS at 16 clients $(kb_mib "$(sort -n "$RES/$s.rss16" | tail -n 1)") MiB," \
		    "VmHWM $(kb_mib "$(cat "$RES/$s.hwm")") MiB"
	done
	echo
	echo "per-run MB/s [CPU ms/GB] {other load, % of a CPU}"
	echo "(run order alternates each repetition):"
	for s in $SERVERS; do
		for c in $CLIENTS; do
			echo "  $s, $c client(s): $(tr '\n' ' ' <"$RES/$s.$c")" \
			    "[$(tr '\n' ' ' <"$RES/$s.$c.cpu" | sed 's/ $//')]" \
			    "{$(tr '\n' ' ' <"$RES/$s.$c.other" | sed 's/ $//')}"
		done
	done
	other=$(cat "$RES"/*.other | median)
	echo "other load during the runs: median $(printf '%.0f' "$other")% of a CPU" \
	    "(of $(nproc) CPUs)"
	if awk -v o="$other" 'BEGIN { exit !(o > 25) }'; then
		echo "NOTE: the host was busy with other work; MB/s and ratios" \
		    "are unreliable (CPU ms/GB less so). Run again on a quiet host."
	fi
	echo
	for c in $CLIENTS; do
		r=$(ratio "$MAIN" nginx "$c")
		if awk -v r="$r" -v g="$RATIO_GOAL" 'BEGIN { exit !(r >= g) }'; then
			echo "GOAL MET: $c client(s): rackd/nginx $r >= $RATIO_GOAL"
		else
			echo "GOAL MISSED: $c client(s): rackd/nginx $r < $RATIO_GOAL"
		fi
	done
	hwm=$(cat "$RES/$MAIN.hwm")
	if [ "$hwm" -lt "$RSS_GOAL_KB" ]; then
		echo "GOAL MET: rackd VmHWM $(kb_mib "$hwm") MiB < 20 MiB with 16 clients"
	else
		echo "GOAL MISSED: rackd VmHWM $(kb_mib "$hwm") MiB >= 20 MiB with 16 clients"
	fi
} >"$REPORT.tmp" || die "cannot write the report"
mv "$REPORT.tmp" "$REPORT"
cat "$REPORT"
echo "chunks: figures written to ${REPORT#"$TOP"/}"
exit 0
