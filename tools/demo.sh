#!/bin/bash
# make demo: a simulated rack on this machine. rackd runs with its built-in
# defaults (state in ./var, dashboard on http://127.0.0.1:8080/); four tap
# devices named rdemo1..rdemo4 stand in for the USB links to four servers,
# and QEMU virtual servers (software emulation, blank disks) sit behind
# them. Two disk images are imported; the demo reimages the first server
# for real and shows its console, then leaves the rack running: reimage
# any server from the dashboard, and the demo "presses its power button"
# (starts its VM) when a job is queued for it. Ctrl-C stops everything.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
state=$top/var
demo=$top/build/demo
port=8080
url="http://127.0.0.1:$port"
nodes=4

[ "$(id -u)" -eq 0 ] || { echo "make demo runs as root (it makes tap devices and runs dnsmasq)"; exit 1; }
sh tools/deps.sh test >/dev/null || exit 1
make -s all pxe || exit 1
mkdir -p "$demo"
chmod 755 "$top" "$demo" 2>/dev/null

pids=()
cleanup() {
	echo
	echo "demo: stopping"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for i in $(seq 1 $nodes); do [ -f "$demo/vm$i.pid" ] && kill "$(cat "$demo/vm$i.pid")" 2>/dev/null; done
	wait 2>/dev/null
	for i in $(seq 1 $nodes); do ip link del "rdemo$i" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# Images: the same small bootable disk, two versions.
for v in 1 2; do
	if [ ! -f "$state/store/manifests/demo/$v.json" ]; then
		sh tests/images/make-bootable.sh "$demo/demo-v$v.img" "demo image v$v" 64 || exit 1
		mkdir -p "$state/store"
		build/rackctl image import "$demo/demo-v$v.img" --name "demo:$v" --store "$state/store" || exit 1
	fi
done

for i in $(seq 1 $nodes); do
	ip link show "rdemo$i" >/dev/null 2>&1 || ip tuntap add "rdemo$i" mode tap
	[ -f "$demo/disk$i.img" ] || truncate -s 64M "$demo/disk$i.img"
done

slots=""
for i in $(seq 1 $nodes); do slots="$slots${slots:+,}rdemo$i=server$i"; done
build/rackd -d --state-dir "$state" --listen "127.0.0.1:$port" \
	--links 'rdemo*' --link-slots "$slots" --pxe-dir "$top/build/pxe" \
	--boot-timeout 10m >"$demo/rackd.log" 2>&1 &
pids+=($!)
for i in $(seq 1 100); do curl -s -o /dev/null "$url/healthz" && break; sleep 0.1; done
curl -s -o /dev/null "$url/healthz" || { echo "rackd did not start:"; cat "$demo/rackd.log"; exit 1; }
token=$(cat "$state/api.token")
api() { curl -s -H "Authorization: Bearer $token" "$@"; }

# The simulated power button: a server with a queued job is switched on.
vm() {	# N
	local i=$1
	[ -f "$demo/vm$i.pid" ] && kill -0 "$(cat "$demo/vm$i.pid")" 2>/dev/null && return
	qemu-system-x86_64 -accel tcg -m 512 -display none -monitor none \
		-serial "file:$demo/server$i.console" \
		-netdev "tap,id=n0,ifname=rdemo$i,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,bootindex=1,mac=52:54:00:00:00:0$i" \
		-drive "if=none,id=d0,file=$demo/disk$i.img,format=raw" \
		-device virtio-blk-pci,drive=d0,bootindex=2 >/dev/null 2>&1 &
	echo $! >"$demo/vm$i.pid"
}
power() {
	while sleep 2; do
		for i in $(seq 1 $nodes); do
			st=$(api "$url/api/v1/nodes/server$i" | jq -r .state 2>/dev/null)
			[ "$st" = queued ] && vm "$i"
		done
	done
}

echo
echo "rackd is running: the dashboard is at $url/"
echo "API token: $token   (also in $state/api.token)"
[ -f "$state/dashboard.password" ] && echo "dashboard password: $(cat "$state/dashboard.password")"
echo "rackd's log: $demo/rackd.log; the servers' consoles: $demo/server*.console"
echo

echo "demo: reimaging server1 with demo:1"
job=$(api -X POST "$url/api/v1/nodes/server1/reimage" -d '{"image":"demo:1"}' | jq -r .id)
vm 1
last=""
for s in $(seq 1 600); do
	j=$(api "$url/api/v1/jobs/$job")
	st=$(jq -r .state <<<"$j")
	line="job $job: $st $(jq -r '"\(.bytes_done) of \(.bytes_total) bytes"' <<<"$j")"
	[ "$line" != "$last" ] && echo "  $line"
	last=$line
	case "$st" in done|failed) break ;; esac
	sleep 1
done
[ "$st" = failed ] && echo "  reason: $(jq -r .reason <<<"$j")"
for s in $(seq 1 180); do
	grep -aq "RACKD-MARKER" "$demo/server1.console" 2>/dev/null && break
	sleep 1
done
grep -a "RACKD-MARKER" "$demo/server1.console" | sed 's/^/  server1 console: /'

power &
pids+=($!)
echo
echo "The rack is yours: reimage servers from $url/ (or the API);"
echo "the demo switches a server on when a job is queued for it. Ctrl-C ends the demo."
wait "${pids[0]}"
