#!/bin/bash
# tests/bench/consoles.sh — what serial consoles and power polling cost
# rackd while it serves a rack's reimages: CPU (user + system time from
# /proc/PID/stat over the window, in % of one core) and memory (VmHWM,
# and the peak VmRSS sampled every 0.2 s).
#
# Two configurations of rackd on loopback, each a fresh rackd with 16
# slots, serving the same image's chunks to 16 streams:
#   baseline  streams only: no console_slots, no [power.SLOT];
#   consoles  the streams, plus a console per slot and a power method per
#             slot: console_slots names one end of a socat pty pair per
#             slot (a USB serial adapter's stand-in), and a writer at the
#             other end prints text at 115200 baud (11520 bytes/s, paced
#             every 20 ms, the way a USB serial adapter hands over what
#             it received); [power.SLOT] has the command method with a
#             status script that prints "on", so status polling runs at
#             its bounded rate (a slot every POWER_POLL_SECONDS); and 2
#             SSE readers follow the consoles of two slots (the
#             dashboard watching).
# The difference is the consoles' (and power polling's) cost. Before the
# window, each console is filled with console_ring bytes at once, so its
# ring is as full as after a long reimage (1 MiB at 115200 baud takes
# 91 s): the memory measured is the steady state, not a ring half empty.
#
# The streams stand in for 16 reimages: 16 curl clients, each walking the
# image's chunk list (from its own place in it) over one keep-alive
# connection, paced at STREAM_RATE each (curl --limit-rate), so that both
# configurations serve the same bytes and the CPU difference is the
# consoles' (a server at loopback speed would be CPU-bound in both, and the
# consoles' cost would hide as fewer MB/s). The power program's own CPU is
# its children's, not rackd's (reported apart). Every figure is the median
# of ROUNDS runs; the configurations alternate in order each round.
#
# Goals (the console issue): rackd's RSS stays under 20 MiB (VmHWM of the
# consoles run), the consoles cost under 2% of one core (median CPU of the
# consoles run minus the baseline's). A missed goal prints GOAL MISSED but
# does not fail the script; a run that cannot be made (rackd does not
# start, a console does not open, a stream fails) does.
#
# Environment: ROUNDS (3), WINDOW (60 s), SLOTS (16), STREAMS (16),
# STREAM_RATE (2M a stream, curl's --limit-rate), IMAGE_MIB (256), BAUD
# (115200), SSE_READERS (2), PREFILL (1: fill the rings first; 0: not),
# RING (the consoles run's console_ring; empty: rackd's default).
# Root (the ptys are given to rackd's user); traffic only to 127.0.0.1.
set -u
. "$(dirname "$0")/../lib.sh"	# TMP, cleanup on exit, on_exit, free_port

ROUNDS=${ROUNDS:-3}
WINDOW=${WINDOW:-60}
SLOTS=${SLOTS:-16}
STREAMS=${STREAMS:-16}
STREAM_RATE=${STREAM_RATE:-2M}
IMAGE_MIB=${IMAGE_MIB:-256}
BAUD=${BAUD:-115200}
SSE_READERS=${SSE_READERS:-2}
PREFILL=${PREFILL:-1}
RING=${RING:-}		# console_ring of the consoles run; "": rackd's default
WARMUP=3
RSS_GOAL_KB=$((20 * 1024))
CPU_GOAL=2
BENCH="$TOP/tests/bench"
OUT_DIR="$TOP/build/bench"
REPORT="$OUT_DIR/consoles.txt"
RES="$TMP/results"
PTY="$TMP/pty"

die() { echo "consoles: $*" >&2; exit 1; }

for tool in socat curl jq python3 timeout; do
	command -v "$tool" >/dev/null 2>&1 ||
	    die "$tool is missing (tools/deps.sh bench)"
done
[ -x "$RACKD" ] || die "$RACKD is missing: run make first"
[ -x "$RACKCTL" ] || die "$RACKCTL is missing: run make first"
[ "$(id -u)" -eq 0 ] || die "run as root (the ptys go to rackd's user)"
[ "$SLOTS" -ge "$SSE_READERS" ] || die "SSE_READERS above SLOTS"
[ "$WINDOW" -ge 5 ] && [ "$WINDOW" -le 3600 ] || die "WINDOW: 5 to 3600 s"
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ] || die "ROUNDS: 1 to 50"
mkdir -p "$OUT_DIR" "$RES" "$PTY" || die "cannot create $OUT_DIR"
RUSER=$(id -un rackd 2>/dev/null) || die "no user rackd (make install-user)"

# ---- the image ----------------------------------------------------------

STORE0="$TMP/store"
echo "consoles: making a ${IMAGE_MIB} MiB test image"
python3 "$BENCH/chunks_image.py" "$IMAGE_MIB" "$TMP/bench.img" ||
    die "cannot make the test image"
"$RACKCTL" image import "$TMP/bench.img" --name bench:1 --store "$STORE0" \
    -q >/dev/null || die "rackctl image import failed"
rm -f "$TMP/bench.img"
MANIFEST="$STORE0/manifests/bench/1.json"
jq -r '.chunks[].hash | "/chunks/" + .' "$MANIFEST" >"$TMP/urls.txt" ||
    die "cannot read $MANIFEST"
NCHUNKS=$(wc -l <"$TMP/urls.txt")
[ "$NCHUNKS" -gt 0 ] || die "$MANIFEST lists no chunks"
find "$STORE0/chunks" -type f -exec cat {} + >/dev/null	# page cache
# The pace of a stream: curl's --limit-rate alone lets a chunk that fits
# in loopback's socket buffers through at once, so --rate spaces the
# requests as well (chunks an hour, at the image's mean stored size).
RATE_BYTES=$(numfmt --from=iec "$STREAM_RATE") || die "STREAM_RATE: $STREAM_RATE"
PER_HOUR=$(jq --argjson r "$RATE_BYTES" \
    '[.chunks[].stored] | $r * 3600 / (add / length) | floor' "$MANIFEST")
[ "$PER_HOUR" -ge 1 ] || die "STREAM_RATE $STREAM_RATE is too low"

# ---- the consoles' stand-ins and the power program ----------------------

# One socat pty pair a slot: rackd opens board$i, the writer writes
# server$i. They live for the whole script; rackd opens them afresh each
# run.
for ((i = 1; i <= SLOTS; i++)); do
	socat "pty,raw,echo=0,link=$PTY/server$i" \
	    "pty,raw,echo=0,link=$PTY/board$i" 2>>"$TMP/socat.log" &
	on_exit "kill $!"
done
for ((i = 1; i <= SLOTS; i++)); do
	for ((t = 0; t < 50; t++)); do
		[ -e "$PTY/board$i" ] && [ -e "$PTY/server$i" ] && break
		sleep 0.1
	done
	[ -e "$PTY/board$i" ] || { cat "$TMP/socat.log"; die "socat made no pty $i"; }
	chown "$RUSER" "$(readlink -f "$PTY/board$i")" || die "chown pty $i"
done

# The writer: every 20 ms, BAUD/10 bytes a second's share of text lines to
# each server end, for at most SECONDS; with PREFILL bytes, that much to
# each at once first. Text like a booting server's (kernel and systemd
# lines), so the rings and the streams carry what a console does.
cat >"$TMP/writer.py" <<'PY'
import os, random, sys, time
ptydir, n, baud, seconds, prefill = sys.argv[1], int(sys.argv[2]), \
    int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rng = random.Random(115200)
words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9)))
         for _ in range(500)]
pool = "".join("[%5d.%06d] %s: %s\r\n" % (i // 50, rng.randrange(10**6),
               rng.choice(["kernel", "systemd[1]", "rack-agent", "sshd"]),
               " ".join(rng.choices(words, k=rng.randint(4, 12))))
               for i in range(4000)).encode()
fds = [os.open("%s/server%d" % (ptydir, i), os.O_WRONLY | os.O_NOCTTY)
       for i in range(1, n + 1)]
def put(fd, off, size):
    while size > 0:
        k = min(size, len(pool) - off)
        os.write(fd, pool[off:off + k])
        size -= k
        off = (off + k) % len(pool)
    return off
offs = [rng.randrange(len(pool)) for _ in fds]
if prefill:
    for j, fd in enumerate(fds):
        offs[j] = put(fd, offs[j], prefill)
    print("prefilled", flush=True)
tick = 0.02
per_tick = baud / 10 * tick          # 8N1: 10 bits a byte
start = time.monotonic()
sent = 0.0
k = 0
while time.monotonic() - start < seconds:
    k += 1
    want = int(per_tick * k) - int(per_tick * (k - 1))
    for j, fd in enumerate(fds):
        offs[j] = put(fd, offs[j], want)
    sent += want
    delay = start + k * tick - time.monotonic()
    if delay > 0:
        time.sleep(delay)
print("sent %d bytes a console in %.1f s" % (sent, time.monotonic() - start),
      flush=True)
PY

mkdir -m 1777 "$TMP/p" || die "cannot create $TMP/p"
cat >"$TMP/power.sh" <<EOS
#!/bin/sh
# The power program of the console benchmark: every server is on; each
# call is a line of $TMP/p/calls.
echo "\$1 \$2" >>"$TMP/p/calls"
case "\$1" in
status) echo on ;;
esac
exit 0
EOS
chmod 755 "$TMP/power.sh"
: >"$TMP/p/calls"
chmod 666 "$TMP/p/calls"

RING_DEFAULT=$("$RACKD" --help 2>&1 |
    sed -n 's/.*--console-ring SIZE.*\[\(.*\)\]$/\1/p')
{
	printf '[rackd]\n'; seq -f 'slots = s%g' 1 "$SLOTS"
} >"$TMP/baseline.conf"
{
	printf '[rackd]\n'; seq -f 'slots = s%g' 1 "$SLOTS"
	[ -n "$RING" ] && printf 'console_ring = %s\n' "$RING"
	for ((i = 1; i <= SLOTS; i++)); do	# one line an entry: lines are short
		printf 'console_slots = %s/board%d=s%d\n' "$PTY" "$i" "$i"
	done
	for ((i = 1; i <= SLOTS; i++)); do
		printf '\n[power.s%d]\nmethod = command\nprogram = %s\n' \
		    "$i" "$TMP/power.sh"
	done
} >"$TMP/consoles.conf"
"$RACKD" -n -c "$TMP/consoles.conf" >/dev/null 2>&1 ||
    die "rackd -n refuses the consoles configuration: $("$RACKD" -n -c "$TMP/consoles.conf" 2>&1)"
RING_BYTES=$(numfmt --from=iec "${RING:-$RING_DEFAULT}") || die "RING: $RING"
[ "$PREFILL" = 1 ] && PREFILL_BYTES=$RING_BYTES || PREFILL_BYTES=0

# ---- one run --------------------------------------------------------------

HZ=$(getconf CLK_TCK)
ticks() {	# PID: utime+stime and cutime+cstime, clock ticks
	local line
	read -r line <"/proc/$1/stat" || { echo "0 0"; return; }
	set -- ${line##*) }	# state(1) ... utime(12) stime(13) cutime(14)
	echo "$((${12} + ${13})) $((${14} + ${15}))"
}
status_kb() {	# PID FIELD
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}
# Peak VmRSS of PID, every 0.2 s while FLAG exists (at most LIMIT s).
rss_sample() {	# PID FLAG OUT LIMIT
	local max=0 k v rest i
	for ((i = 0; i < $4 * 5; i++)); do
		[ -e "$2" ] || break
		while read -r k v rest; do
			[ "$k" = VmRSS: ] && [ "$v" -gt "$max" ] && max=$v
		done <"/proc/$1/status"
		sleep 0.2
	done
	echo "$max" >"$3"
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

# The streams: client j starts at its own place in the chunk list and
# walks it round (as far as SECONDS at its pace takes it; the list repeats
# enough for an hour's window), every chunk's size on a line of its output.
for ((j = 0; j < STREAMS; j++)); do
	start=$((j * NCHUNKS / STREAMS + 1))
	{ tail -n +"$start" "$TMP/urls.txt"; head -n $((start - 1)) "$TMP/urls.txt"
	} >"$TMP/walk.$j.once"
	for ((k = 0; k * NCHUNKS < PER_HOUR * WINDOW / 3600 + 1; k++)); do
		cat "$TMP/walk.$j.once"
	done >"$TMP/walk.$j"
done
streams_run() {	# PORT SECONDS TAG: STREAMS curls, each for about SECONDS
	local j n pids=()
	n=$((PER_HOUR * $2 / 3600 + 1))	# chunks a stream fetches
	for ((j = 0; j < STREAMS; j++)); do
		head -n "$n" "$TMP/walk.$j" | sed "s|^|url = \"http://127.0.0.1:$1|;
		    s|\$|\"\noutput = /dev/null|" >"$TMP/walk.$j.cfg"
		timeout $(($2 * 2 + 30)) curl -s --fail \
		    --limit-rate "$STREAM_RATE" --rate "$PER_HOUR/h" \
		    -K "$TMP/walk.$j.cfg" -w '%{http_code} %{size_download}\n' \
		    >"$TMP/streams.$3.$j" 2>>"$TMP/curl.log" &
		pids+=($!)
	done
	for j in "${pids[@]}"; do
		wait "$j" || die "a stream failed (curl or its time bound)"
	done
}
# Bytes the streams received (completed chunks), and any HTTP error.
streams_bytes() {	# TAG
	cat "$TMP"/streams."$1".* | awk '$1 != 200 { bad++ } { b += $2 }
	    END { if (bad) exit 1; print b + 0 }'
}

# run CONFIG ROUND: one fresh rackd, the window measured; appends to RES.
run() {
	local cfg=$1 round=$2 port state log pid t0 t1 c0 c1 w0 w1 hwm ok i
	local writer="" sse=() sampler bytes cpu kids opened calls0 tok state_on
	port=$(free_port)
	state="$TMP/state.$cfg.$round"
	log="$TMP/rackd.$cfg.$round.log"
	mkdir -p "$state" && cp -al "$STORE0" "$state/store" ||
	    die "cannot link the store into $state"
	"$RACKD" -d -c "$TMP/$cfg.conf" --state-dir "$state" \
	    --listen "127.0.0.1:$port" --manage-links=no >>"$log" 2>&1 &
	pid=$!
	on_exit "rackd_down $pid"
	wait_http "http://127.0.0.1:$port/healthz" || {
		tail -n 20 "$log"; die "rackd ($cfg) did not start"; }
	curl -sf --max-time 10 "http://127.0.0.1:$port$(head -n 1 "$TMP/urls.txt")" \
	    -o /dev/null || die "rackd ($cfg) does not serve the image's chunks"
	if [ "$cfg" = consoles ]; then
		for ((i = 0; i < 100; i++)); do
			opened=$(grep -c 'console of slot s[0-9]*: .* open' "$log")
			[ "$opened" -ge "$SLOTS" ] && break
			sleep 0.1
		done
		[ "$opened" -ge "$SLOTS" ] ||
		    die "$opened of $SLOTS consoles opened: $(tail -n 5 "$log")"
		tok=$(cat "$state/api.token")
		for ((i = 1; i <= SSE_READERS; i++)); do
			curl -s -N --max-time $((WINDOW + WARMUP + 120)) \
			    -H "Authorization: Bearer $tok" \
			    "http://127.0.0.1:$port/api/v1/nodes/s$i/console" \
			    >"$TMP/sse.$round.$i" 2>/dev/null &
			sse+=($!)
			on_exit "kill $!"
		done
		: >"$TMP/writer.$round.log"
		python3 "$TMP/writer.py" "$PTY" "$SLOTS" "$BAUD" \
		    $((WINDOW + WARMUP + 60)) "$PREFILL_BYTES" \
		    >"$TMP/writer.$round.log" 2>&1 &
		writer=$!
		on_exit "kill $writer"
		for ((i = 0; i < 300; i++)); do
			grep -q prefilled "$TMP/writer.$round.log" && break
			kill -0 "$writer" 2>/dev/null || break
			sleep 0.1
		done
		grep -q prefilled "$TMP/writer.$round.log" ||
		    die "the writer did not start: $(cat "$TMP/writer.$round.log")"
		sleep 2		# the rings' filling read before the window
	fi
	# Warm-up: the streams, the consoles and the polls all running.
	streams_run "$port" "$WARMUP" "warm.$cfg.$round"
	: >"$TMP/sampling"
	rss_sample "$pid" "$TMP/sampling" "$TMP/rss.$cfg.$round" \
	    $((WINDOW + 60)) &
	sampler=$!
	calls0=$(wc -l <"$TMP/p/calls")
	read -r c0 w0 < <(ticks "$pid")
	t0=$(date +%s%N)
	streams_run "$port" "$WINDOW" "$cfg.$round"
	t1=$(date +%s%N)
	read -r c1 w1 < <(ticks "$pid")
	rm -f "$TMP/sampling"
	wait "$sampler"
	hwm=$(status_kb "$pid" VmHWM)
	status_kb "$pid" RssAnon >>"$RES/$cfg.anon"
	bytes=$(streams_bytes "$cfg.$round") ||
	    die "$cfg, round $round: a stream got an HTTP error"
	[ "$bytes" -gt 0 ] || die "$cfg, round $round: the streams got nothing"
	cpu=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v ns=$((t1 - t0)) \
	    'BEGIN { printf "%.2f", t / hz / (ns / 1e9) * 100 }')
	kids=$(awk -v t=$((w1 - w0)) -v hz="$HZ" -v ns=$((t1 - t0)) \
	    'BEGIN { printf "%.2f", t / hz / (ns / 1e9) * 100 }')
	echo "$cpu" >>"$RES/$cfg.cpu"
	echo "$kids" >>"$RES/$cfg.kids"
	echo "$hwm" >>"$RES/$cfg.hwm"
	cat "$TMP/rss.$cfg.$round" >>"$RES/$cfg.rss"
	awk -v b="$bytes" -v ns=$((t1 - t0)) \
	    'BEGIN { printf "%.1f\n", b / (ns / 1e3) }' >>"$RES/$cfg.mbps"
	local extra=""
	if [ "$cfg" = consoles ]; then
		ok=0
		for ((i = 1; i <= SSE_READERS; i++)); do
			grep -q '^event: output' "$TMP/sse.$round.$i" && ok=$((ok + 1))
		done
		[ "$ok" = "$SSE_READERS" ] ||
		    die "round $round: $ok of $SSE_READERS SSE readers got output"
		extra=", SSE readers got $(cat "$TMP"/sse."$round".* | wc -c) bytes"
		state_on=$(curl -s --max-time 10 -H "Authorization: Bearer $tok" \
		    "http://127.0.0.1:$port/api/v1/nodes/s$SLOTS" | jq -r .power.state)
		[ "$state_on" = on ] ||
		    die "round $round: s$SLOTS's power state is $state_on, not on"
		local calls
		calls=$(($(wc -l <"$TMP/p/calls") - calls0))
		awk -v c="$calls" -v ns=$((t1 - t0)) \
		    'BEGIN { printf "%.2f\n", c / (ns / 1e9) }' >>"$RES/polls"
		extra="$extra, $(tail -n 1 "$RES/polls") status calls/s"
	fi
	echo "  round $round, $cfg: rackd CPU $cpu% of a core (children" \
	    "$kids%), VmHWM $hwm KiB, peak VmRSS $(cat "$TMP/rss.$cfg.$round") KiB" \
	    "(RssAnon $(tail -n 1 "$RES/$cfg.anon") KiB)," \
	    "streams $(tail -n 1 "$RES/$cfg.mbps") MB/s$extra"
	[ -n "$writer" ] && { kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null; }
	for i in "${sse[@]}"; do kill "$i" 2>/dev/null; wait "$i" 2>/dev/null; done
	rackd_down "$pid"
	rm -rf "$state"
}

echo "consoles: $ROUNDS rounds of ${WINDOW}s: $SLOTS slots, $STREAMS streams" \
    "at $STREAM_RATE, consoles at $BAUD baud (rings prefilled: $PREFILL_BYTES bytes)"
order="baseline consoles"
for ((round = 1; round <= ROUNDS; round++)); do
	for cfg in $order; do
		run "$cfg" "$round"
	done
	if [ "$order" = "baseline consoles" ]; then order="consoles baseline"
	else order="baseline consoles"; fi
done

# ---- the report -----------------------------------------------------------

median() {	# numbers on stdin
	sort -g | awk '{ v[NR] = $1 }
	    END { if (NR == 0) print "n/a";
	    else if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2];
	    else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
med() { median <"$RES/$1.$2"; }
kb_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
{
	echo "rackd: the cost of serial consoles and power polling while serving chunks"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); $("$RACKD" --version 2>&1 | head -n 1)"
	echo "host: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
	echo "$SLOTS slots; $STREAMS chunk streams at $STREAM_RATE each (curl, keep-alive) of a"
	echo "  ${IMAGE_MIB} MiB image ($NCHUNKS chunks); ${WINDOW}s windows, median of $ROUNDS rounds"
	echo "consoles: $SLOTS socat pty pairs, text at $BAUD baud each (every 20 ms),"
	echo "  rings (console_ring ${RING:-$RING_DEFAULT}) prefilled with $PREFILL_BYTES bytes;"
	echo "  $SSE_READERS SSE readers; power: the command method on every slot"
	echo "CPU: rackd's utime+stime over the window, % of one core; children:"
	echo "  the power program's (cutime+cstime, not rackd's)"
	echo
	printf '%-10s %7s %10s %10s %12s %12s %7s\n' run "CPU %" "children %" \
	    "VmHWM MiB" "peak RSS MiB" "RssAnon MiB" "MB/s"
	for cfg in baseline consoles; do
		printf '%-10s %7.2f %10.2f %10s %12s %12s %7.1f\n' "$cfg" \
		    "$(med "$cfg" cpu)" "$(med "$cfg" kids)" \
		    "$(kb_mib "$(med "$cfg" hwm)")" "$(kb_mib "$(med "$cfg" rss)")" \
		    "$(kb_mib "$(med "$cfg" anon)")" "$(med "$cfg" mbps)"
	done
	echo "  (RssAnon: rackd's own memory at the window's end; the rest of"
	echo "  its RSS is the pages of its shared libraries)"
	diff_cpu=$(awk -v a="$(med consoles cpu)" -v b="$(med baseline cpu)" \
	    'BEGIN { printf "%.2f", a - b }')
	diff_hwm=$(awk -v a="$(med consoles hwm)" -v b="$(med baseline hwm)" \
	    'BEGIN { printf "%.1f", (a - b) / 1024 }')
	echo "consoles' cost: CPU $diff_cpu% of a core, VmHWM $diff_hwm MiB"
	echo "power status calls: $(median <"$RES/polls") a second (all $SLOTS slots)"
	echo
	echo "per round: CPU % [VmHWM KiB]"
	for cfg in baseline consoles; do
		echo "  $cfg: $(tr '\n' ' ' <"$RES/$cfg.cpu")[$(tr '\n' ' ' \
		    <"$RES/$cfg.hwm" | sed 's/ $//')]"
	done
	echo
	hwm=$(med consoles hwm)
	hwm=${hwm%.*}
	if [ "$hwm" -lt "$RSS_GOAL_KB" ]; then
		echo "GOAL MET: rackd VmHWM $(kb_mib "$hwm") MiB < 20 MiB with $SLOTS consoles, power polling and $STREAMS streams"
	else
		echo "GOAL MISSED: rackd VmHWM $(kb_mib "$hwm") MiB >= 20 MiB with $SLOTS consoles, power polling and $STREAMS streams"
	fi
	if awk -v d="$diff_cpu" -v g="$CPU_GOAL" 'BEGIN { exit !(d < g) }'; then
		echo "GOAL MET: consoles and power polling cost $diff_cpu% < $CPU_GOAL% of one core"
	else
		echo "GOAL MISSED: consoles and power polling cost $diff_cpu% >= $CPU_GOAL% of one core"
	fi
} >"$REPORT.tmp" || die "cannot write the report"
mv "$REPORT.tmp" "$REPORT"
cat "$REPORT"
echo "consoles: figures written to ${REPORT#"$TOP"/}"
exit 0
