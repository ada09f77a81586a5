#!/bin/bash
# tests/bench/arm64.sh — the arm64 rackd serving chunks on an emulated
# board, next to the amd64 rackd on an emulated x86-64 board of the same
# kind (tests/deb/board.sh: Debian 12, the packages of make deb and make
# deb ARCH=arm64, systemd, QEMU -accel tcg, user-mode network). Each board
# is booted once and measured ROUNDS times: in a round 16 curl clients on
# the host fetch every chunk of one image at once over keep-alive
# connections, and the board reads rackd's VmHWM (reset first through
# /proc/PID/clear_refs) and its CPU time (utime + stime of all its
# threads) before and after. The figures of a board are the medians of its
# rounds, and only ratios arm64/amd64 of those medians are printed: in
# software emulation absolute times mean nothing. Not in run.sh: the first
# run builds two Debian roots (4 and 8 to 14 minutes); later runs take
# about 13.
#
# Environment: IMAGE_MIB (16, the image each client fetches whole),
# CLIENTS (16), ROUNDS (3), BOARDS ("amd64 arm64"; one of them measures
# that board alone, and the ratios use the other's last figures, kept in
# build/bench/arm64-board-ARCH.txt, and say when each was measured).
# Writes build/bench/arm64.txt. Traffic only to 127.0.0.1.
set -u
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/deb/board.sh"

IMAGE_MIB=${IMAGE_MIB:-16}
ROUNDS=${ROUNDS:-3}
BOARDS=${BOARDS:-amd64 arm64}
CLIENTS=${CLIENTS:-16}
OUT_DIR=$TOP/build/bench
REPORT=$OUT_DIR/arm64.txt
die() { echo "arm64 bench: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (mmdebstrap, binfmt_misc)"
for t in mmdebstrap qemu-system-aarch64 qemu-system-x86_64 qemu-img jq curl python3; do
	command -v "$t" >/dev/null || die "$t is missing: sh tools/deps.sh arm64-test"
done
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
deb_of() { ls "$1"/rackd_*_"$2".deb 2>/dev/null | head -1; }
[ -f "$(deb_of "$TOP/build/deb" amd64)" ] || make -C "$TOP" deb >"$TMP/deb.log" 2>&1 ||
	{ tail -20 "$TMP/deb.log"; die "make deb failed"; }
[ -f "$(deb_of "$TOP/build/arm64/deb" arm64)" ] || make -C "$TOP" deb ARCH=arm64 >"$TMP/deb.log" 2>&1 ||
	{ tail -20 "$TMP/deb.log"; die "make deb ARCH=arm64 failed"; }
[ -x "$RACKCTL" ] || make -C "$TOP" all >"$TMP/make.log" 2>&1 || die "make failed"

# ---- the image, one store shared by both boards ---------------------------
SHARE=$TMP/share
mkdir -p "$SHARE/store" "$SHARE/debs"
python3 "$TOP/tests/bench/chunks_image.py" "$IMAGE_MIB" "$TMP/bench.img" ||
	die "cannot make the test image"
"$RACKCTL" image import "$TMP/bench.img" --name bench:1 --store "$SHARE/store" -q >/dev/null ||
	die "rackctl image import failed"
rm -f "$TMP/bench.img"
jq -r '.chunks[].hash' "$SHARE/store/manifests/bench/1.json" >"$TMP/hashes" ||
	die "no manifest"
echo "arm64 bench: image of $IMAGE_MIB MiB, $(wc -l <"$TMP/hashes") chunks, $CLIENTS clients"

# The board: install rackd, its store from /share, listen for the host;
# then for each round N, on /share/ctl/start.N and /share/ctl/stop.N it
# writes rackd's CPU ticks (and at stop its VmHWM) to /share/out/*.N.
cat >"$SHARE/board.sh" <<'EOF'
#!/bin/sh
out=/share/out ctl=/share/ctl
exec >$out/board.log 2>&1
dpkg -i /share/debs/rackd_*.deb || exit 1
systemctl stop rackd
mkdir -p /var/lib/rackd/store && cp -a /share/store/. /var/lib/rackd/store/ || exit 1
chown -R rackd:rackd /var/lib/rackd/store
printf 'listen = 0.0.0.0:8080\n' >>/etc/rackd/rackd.conf
systemctl start rackd
pid=$(systemctl show -p MainPID --value rackd)
cat /var/lib/rackd/store/chunks/*/* >/dev/null	# from the page cache
ticks() { awk '{ print $14 + $15 }' /proc/$pid/stat; }
echo "$pid $(getconf CLK_TCK)" >$out/ready
n=1
while [ $n -le 100 ]; do
	i=0
	while [ ! -e $ctl/start.$n ] && [ ! -e $ctl/end ] && [ $i -lt 6000 ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ -e $ctl/start.$n ] || break
	echo 5 >/proc/$pid/clear_refs
	ticks >$out/cpu0.$n
	: >$out/started.$n
	i=0
	while [ ! -e $ctl/stop.$n ] && [ $i -lt 12000 ]; do sleep 0.1; i=$((i + 1)); done
	ticks >$out/cpu1.$n
	awk '/^VmHWM/ { print $2 }' /proc/$pid/status >$out/hwm.$n
	: >$out/stopped.$n
	n=$((n + 1))
done
EOF

# median VALUES...: the median of the numbers (the middle one, or the mean
# of the two middle ones).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# round ARCH N URL: one round on the booted board; sets CPU_S (rackd's CPU
# seconds) and HWM_KB.
round() {
	local arch=$1 n=$2 url=$3 t0 i bad bytes want hz
	: >"$SHARE/ctl/start.$n"
	board_wait "$SHARE/out/started.$n" 60 || die "$arch board did not start round $n"
	t0=$(date +%s)
	rm -f "$TMP"/client-"$arch"-*
	for ((i = 0; i < CLIENTS; i++)); do
		curl -s --max-time 1500 -w '%{http_code} %{size_download}\n' -K "$TMP/curl.cfg" \
			>"$TMP/client-$arch-$i" 2>&1 &
	done
	wait $(jobs -p | grep -vx "$BOARD_PID")
	: >"$SHARE/ctl/stop.$n"
	board_wait "$SHARE/out/stopped.$n" 60 || die "$arch board did not stop round $n"
	bytes=$(cat "$TMP"/client-"$arch"-* | awk '$1 == 200 { s += $2 } END { print s + 0 }')
	bad=$(cat "$TMP"/client-"$arch"-* | awk '$1 != 200' | wc -l)
	want=$(jq '[.chunks[].stored] | add' "$SHARE/store/manifests/bench/1.json")
	[ "$bad" -eq 0 ] && [ "$bytes" -eq $((want * CLIENTS)) ] ||
		die "$arch round $n: $bad failed fetches, $bytes bytes of $((want * CLIENTS))"
	BYTES=$bytes
	read -r _ hz <"$SHARE/out/ready"
	CPU_S=$(awk -v a="$(cat "$SHARE/out/cpu0.$n")" -v b="$(cat "$SHARE/out/cpu1.$n")" -v hz="$hz" \
		'BEGIN { printf "%.2f", (b - a) / hz }')
	HWM_KB=$(cat "$SHARE/out/hwm.$n")
	echo "arm64 bench: $arch round $n: $bytes bytes in $(($(date +%s) - t0)) s wall, rackd $CPU_S s CPU, VmHWM $HWM_KB kB"
}

# run_board ARCH: boot the board of ARCH, serve CLIENTS streams ROUNDS
# times; sets CPU_S and HWM_KB (the medians of the rounds), CPUS and HWMS
# (every round's), BYTES (bodies received in one round).
run_board() {
	local arch=$1 deb i n cpus=() hwms=()
	deb=$(deb_of "$TOP/build/$([ "$arch" = arm64 ] && echo arm64/)deb" "$arch")
	need=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/([^)]*)//; s/|.*//; s/[[:space:]]//g' |
		grep . | sort -u | tr '\n' ,)
	board_root "$arch" "${need%,}" || die "no $arch board root"
	rm -rf "$SHARE/out" "$SHARE/ctl" "$SHARE/debs"/*
	mkdir -p "$SHARE/out" "$SHARE/ctl"
	cp "$deb" "$SHARE/debs/"
	board_boot "$arch" "$SHARE" || die "cannot boot the $arch board"
	board_wait "$SHARE/out/ready" 1200 ||
		{ tail -20 "$TMP/board-$arch.log"; cat "$SHARE/out/board.log" 2>/dev/null; die "$arch board not ready"; }
	local url="http://127.0.0.1:$BOARD_PORT"
	for ((i = 0; i < 60; i++)); do
		curl -s -o /dev/null --max-time 5 "$url/healthz" && break
		sleep 1
	done
	sed "s|^|url = $url/chunks/|; a output = /dev/null" "$TMP/hashes" >"$TMP/curl.cfg"
	for ((n = 1; n <= ROUNDS; n++)); do
		round "$arch" "$n" "$url"
		cpus+=("$CPU_S")
		hwms+=("$HWM_KB")
	done
	: >"$SHARE/ctl/end"
	CPUS=${cpus[*]}
	HWMS=${hwms[*]}
	CPU_S=$(median "${cpus[@]}")
	HWM_KB=$(median "${hwms[@]}")
	echo "arm64 bench: $arch: medians of $ROUNDS rounds: rackd $CPU_S s CPU, VmHWM $HWM_KB kB"
	kill "$BOARD_PID"; sleep 2; kill -9 "$BOARD_PID" 2>/dev/null; wait "$BOARD_PID" 2>/dev/null
	return 0
}

for arch in $BOARDS; do
	run_board "$arch"
	echo "$CPU_S $BYTES $HWM_KB $(date -u +%FT%TZ) $ROUNDS ${CPUS// /,} ${HWMS// /,}" \
		>"$OUT_DIR/arm64-board-$arch.txt"
done
for arch in amd64 arm64; do
	[ -f "$OUT_DIR/arm64-board-$arch.txt" ] || { echo "arm64 bench: no $arch figures yet"; exit 0; }
done
read -r X_CPU X_BYTES X_HWM X_WHEN X_N X_CPUS X_HWMS <"$OUT_DIR/arm64-board-amd64.txt"
read -r A_CPU A_BYTES A_HWM A_WHEN A_N A_CPUS A_HWMS <"$OUT_DIR/arm64-board-arm64.txt"
{
	echo "rackd serving $CLIENTS chunk streams of a $IMAGE_MIB MiB image, emulated boards (QEMU tcg)"
	echo "(amd64 board measured $X_WHEN, arm64 board $A_WHEN; medians of ${X_N:-1} and ${A_N:-1} rounds)"
	echo "rounds: amd64 CPU s ${X_CPUS:-$X_CPU}, VmHWM kB ${X_HWMS:-$X_HWM}; arm64 CPU s ${A_CPUS:-$A_CPU}, VmHWM kB ${A_HWMS:-$A_HWM}"
	awk -v ac="$A_CPU" -v ab="$A_BYTES" -v xc="$X_CPU" -v xb="$X_BYTES" -v ah="$A_HWM" -v xh="$X_HWM" 'BEGIN {
		ag = ac / (ab / 1e9); xg = xc / (xb / 1e9)
		printf "CPU time per GB served, arm64 / amd64 (medians): %.2f\n", (xg > 0 ? ag / xg : 0)
		printf "VmHWM while serving, arm64 / amd64 (medians):    %.2f (arm64 %d kB, amd64 %d kB)\n", ah / xh, ah, xh
	}'
} | tee "$REPORT"
