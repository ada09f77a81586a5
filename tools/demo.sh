#!/bin/bash
# make demo: a simulated rack on this machine, inside a network namespace
# of its own (rackd-demo), so that the host's interfaces are never touched.
# In it: four tap devices rdemo1..rdemo4 stand in for the USB links to four
# servers; QEMU virtual servers (software emulation, blank disks) sit
# behind them; each server has a BMC, OpenIPMI's ipmi_sim on 127.0.1.N
# port 623 of the namespace's loopback, whose chassis control starts and
# stops the server's VM; rackd (state in ./var) powers the servers through
# them with the ipmi method ([power.serverN] of build/demo/rackd.conf) and
# runs dnsmasq there. Each VM's serial port is one end of a socat pty
# pair; console_slots gives the other end to its slot, so the node pages
# show live consoles (and build/demo/serverN.console keeps a copy). The
# dashboard is on http://127.0.0.1:8080/ of the host, through a forwarder
# on the host's loopback. Two disk images are imported; the demo reimages
# server1 (rackd sets PXE once over IPMI and switches it on), shows its
# marker, then leaves the rack running: reimage, power, inventory,
# capture or erase any server from the dashboard. Ctrl-C stops everything
# and removes the namespace.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
state=$top/var
demo=$top/build/demo
port=8080
url="http://127.0.0.1:$port"
nodes=4
ns=rackd-demo
pass=demo-bmc-pw

[ "$(id -u)" -eq 0 ] || { echo "make demo runs as root (it makes a network namespace, tap devices and runs dnsmasq)"; exit 1; }
sh tools/deps.sh test >/dev/null || exit 1
for p in ipmi_sim socat qemu-system-x86_64; do
	command -v "$p" >/dev/null || { echo "make demo needs $p: make deps"; exit 1; }
done
ip netns list | grep -qw "$ns" && { echo "the namespace $ns exists: another demo runs (or ip netns del $ns)"; exit 1; }
ss -tlnH "sport = :$port" | grep -q . && { echo "port $port of this machine is taken"; exit 1; }
make -s all pxe || exit 1
mkdir -p "$demo/pty"
chmod 755 "$top" "$demo" 2>/dev/null
rm -f "$demo"/vm*.pid "$demo"/pty/* "$demo"/server*.console

pids=()
cleanup() {
	trap - EXIT
	echo
	echo "demo: stopping"
	local i p
	for i in $(seq 1 $nodes); do
		[ -s "$demo/vm$i.pid" ] && kill "$(cat "$demo/vm$i.pid")" 2>/dev/null
	done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	exec 7>&- 2>/dev/null
	for i in $(seq 1 $nodes); do eval "exec $((10 + i))>&-" 2>/dev/null; done
	sleep 1
	# whatever still runs in the demo's namespace is the demo's
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -f "$demo"/vm*.pid "$demo"/pty/*
}
trap cleanup EXIT
trap 'exit 0' INT TERM
inns() { ip netns exec "$ns" "$@"; }

# Images: the same small bootable disk, two versions.
for v in 1 2; do
	if [ ! -f "$state/store/manifests/demo/$v.json" ]; then
		sh tests/images/make-bootable.sh "$demo/demo-v$v.img" "demo image v$v" 64 || exit 1
		mkdir -p "$state/store"
		build/rackctl image import "$demo/demo-v$v.img" --name "demo:$v" --store "$state/store" || exit 1
	fi
done

ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up
for i in $(seq 1 $nodes); do
	ip -n "$ns" tuntap add "rdemo$i" mode tap
	[ -f "$demo/disk$i.img" ] || truncate -s 64M "$demo/disk$i.img"
done

# The consoles: a pty pair per server; the demo holds the server's end
# open so that the pair outlives a VM that is switched off.
for i in $(seq 1 $nodes); do
	socat "pty,raw,echo=0,link=$demo/pty/server$i" "pty,raw,echo=0,link=$demo/pty/board$i" \
		2>>"$demo/socat.log" &
	pids+=($!)
done
for i in $(seq 1 $nodes); do
	for s in $(seq 1 50); do [ -e "$demo/pty/board$i" ] && [ -e "$demo/pty/server$i" ] && break; sleep 0.1; done
	[ -e "$demo/pty/board$i" ] || { echo "socat made no pty for server$i"; exit 1; }
	chown rackd "$(readlink -f "$demo/pty/board$i")" 2>/dev/null
	eval "exec $((10 + i))<>\"$demo/pty/server$i\""
done

# The BMCs: ipmi_sim N, its chassis control the VM of server N; their LAN
# channels as the tests' (tests/lib_ipmi.sh).
. "$top/tests/lib_ipmi.sh"
cat >"$demo/chassis.sh" <<'EOF'
#!/bin/bash
# chassis.sh N get|set NAME [VALUE]...: ipmi_sim's chassis control of server N
i=$1 d=$(dirname "$0"); shift
alive() { [ -s "$d/vm$i.pid" ] && kill -0 "$(cat "$d/vm$i.pid")" 2>/dev/null; }
op=$1; shift
while [ $# -gt 0 ]; do
	name=$1; shift
	case $op:$name in
	get:power) alive && echo power:1 || echo power:0 ;;
	get:boot) echo "boot:$(cat "$d/boot$i" 2>/dev/null || echo none)" ;;
	set:power)
		if [ "$1" = 1 ]; then
			alive || {
				setsid qemu-system-x86_64 -accel tcg -m 512 -display none -monitor none \
				    -chardev "tty,id=s0,path=$d/pty/server$i,logfile=$d/server$i.console,logappend=on" \
				    -serial chardev:s0 \
				    -netdev "tap,id=n0,ifname=rdemo$i,script=no,downscript=no" \
				    -device "virtio-net-pci,netdev=n0,bootindex=1,mac=52:54:00:00:00:0$i" \
				    -drive "if=none,id=d0,file=$d/disk$i.img,format=raw" \
				    -device virtio-blk-pci,drive=d0,bootindex=2 \
				    </dev/null >>"$d/qemu$i.log" 2>&1 &
				echo $! >"$d/vm$i.pid"
			}
		elif alive; then
			pid=$(cat "$d/vm$i.pid")
			kill "$pid"
			for s in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -9 "$pid" 2>/dev/null
		fi
		shift ;;
	set:boot) echo "$1" >"$d/boot$i"; shift ;;
	*) exit 1 ;;
	esac
done
exit 0
EOF
chmod +x "$demo/chassis.sh"
for i in $(seq 1 $nodes); do
	printf '#!/bin/sh\nexec "%s/chassis.sh" %s "$@"\n' "$demo" "$i" >"$demo/chassis$i.sh"
	chmod +x "$demo/chassis$i.sh"
done
printf 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n' \
	>"$demo/bmc.emu"
: >"$demo/rackd.conf"
for i in $(seq 1 $nodes); do
	cat >"$demo/bmc$i.conf" <<EOF
name "demobmc$i"
set_working_mc 0x20
  startlan 1
$(ipmi_lan_lines "127.0.1.$i" 623 "a123456789abcdefa123456789abcde$i")
  endlan
  chassis_control "$demo/chassis$i.sh"
  poweroff_wait 2
  kill_wait 2
  user 2 true "admin" "$pass" admin 10 none md2 md5 straight
EOF
	mkdir -p "$demo/bmc$i.state"
	ip netns exec "$ns" ipmi_sim -n -c "$demo/bmc$i.conf" -f "$demo/bmc.emu" -s "$demo/bmc$i.state" \
		</dev/null >"$demo/bmc$i.log" 2>&1 &
	pids+=($!)
	printf '[power.server%s]\nmethod = ipmi\naddress = 127.0.1.%s\nuser = admin\npassword = %s\n\n' \
		"$i" "$i" "$pass" >>"$demo/rackd.conf"
done
chmod 600 "$demo/rackd.conf"
for i in $(seq 1 $nodes); do
	for s in $(seq 1 50); do inns ss -ulnH | grep -q "127.0.1.$i:623" && break; sleep 0.1; done
	inns ss -ulnH | grep -q "127.0.1.$i:623" || { echo "the BMC of server$i did not start:"; cat "$demo/bmc$i.log"; exit 1; }
done

slots="" consoles=""
for i in $(seq 1 $nodes); do
	slots="$slots${slots:+,}rdemo$i=server$i"
	consoles="$consoles${consoles:+,}$demo/pty/board$i=server$i"
done
ip netns exec "$ns" build/rackd -d -c "$demo/rackd.conf" --state-dir "$state" --listen "127.0.0.1:$port" \
	--links 'rdemo*' --link-slots "$slots" --console-slots "$consoles" \
	--pxe-dir "$top/build/pxe" --boot-timeout 10m >"$demo/rackd.log" 2>&1 &
pids+=($!)
# The dashboard on the host's loopback: each connection is carried into
# the namespace.
socat TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork \
	EXEC:"ip netns exec $ns socat STDIO TCP\:127.0.0.1\:$port" 2>>"$demo/socat.log" &
pids+=($!)
for i in $(seq 1 100); do curl -s -o /dev/null --max-time 1 "$url/healthz" && break; sleep 0.1; done
curl -s -o /dev/null --max-time 2 "$url/healthz" || { echo "rackd did not start:"; cat "$demo/rackd.log"; exit 1; }
token=$(cat "$state/api.token")
api() { curl -s --max-time 10 -H "Authorization: Bearer $token" "$@"; }

echo
echo "rackd is running: the dashboard is at $url/"
echo "API token: $token   (also in $state/api.token)"
[ -f "$state/dashboard.password" ] && echo "dashboard password: $(cat "$state/dashboard.password")"
echo "rackd's log: $demo/rackd.log; the servers' consoles: $demo/server*.console (live on each node's page)"
echo

# server1's node exists once rackd has seen its link (404 before). Should
# rackd be enrolling it (the enrol option: a new server whose link comes
# up is inventoried first), the reimage waits for that job (409 while it
# runs). At most 20 minutes.
echo "demo: reimaging server1 with demo:1 (powered through its BMC over IPMI)"
job=""
for s in $(seq 1 600); do
	r=$(api -w '\n%{http_code}' -X POST "$url/api/v1/nodes/server1/reimage" -d '{"image":"demo:1"}')
	code=${r##*$'\n'} body=${r%$'\n'*}
	if [ "$code" = 202 ]; then
		job=$(jq -r .id <<<"$body")
		break
	fi
	case "$code $body" in
	404*"no such node"*)	# its link not seen yet
		sleep 1 ;;
	409*"active job"*)
		[ -n "${said:-}" ] || echo "  server1 is busy with its enrolment inventory: the reimage waits for it"
		said=1
		sleep 2 ;;
	*)	echo "demo: the reimage was refused: HTTP $code $body"; exit 1 ;;
	esac
done
[ -n "$job" ] || { echo "demo: server1 stayed busy for 20 minutes"; exit 1; }
inv=$(api "$url/api/v1/nodes/server1/inventory")
jq -e .inventory >/dev/null 2>&1 <<<"$inv" &&
	echo "  server1's inventory: $(jq -r '.inventory | "\(.system.vendor) \(.system.model), \(.memory_bytes / 1048576 | floor) MiB, \(.disks | length) disk(s)"' <<<"$inv")"
last="" st=""
for s in $(seq 1 600); do
	j=$(api "$url/api/v1/jobs/$job")
	st=$(jq -r .state <<<"$j")
	line="job $job: $st $(jq -r '"\(.bytes_done) of \(.bytes_total) bytes"' <<<"$j")"
	[ "$line" != "$last" ] && echo "  $line"
	last=$line
	case "$st" in done|failed) break ;; esac
	sleep 1
done
jq -r '.events[]? | "  event: \(.message)"' <<<"$j" | grep power
[ "$st" = failed ] && echo "  reason: $(jq -r .reason <<<"$j")"
for s in $(seq 1 180); do
	grep -aq "RACKD-MARKER" "$demo/server1.console" 2>/dev/null && break
	sleep 1
done
grep -a "RACKD-MARKER" "$demo/server1.console" | tr -d '\r' | sed 's/^/  server1 console: /'

echo
echo "The rack is yours: reimage or power servers from $url/ (or the API);"
echo "rackd switches them on and off through their BMCs. Ctrl-C ends the demo."
wait "${pids[$((nodes * 2))]}"
