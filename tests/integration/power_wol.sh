#!/bin/bash
# tests/integration/power_wol.sh — the "wol" power method in network
# namespaces: a rack namespace runs rackd; two node namespaces are joined
# to it by veth pairs named like USB links. Each node learns its address
# by DHCP (so that rackd knows its MAC); a capture on each node's link
# (python3, AF_PACKET) then sees what power on of slot usb1 sends: exactly
# one magic packet with usb1's MAC on usb1's link, nothing on usb2's.
# Off and status are refused (Wake-on-LAN can only switch on).
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }

ns_add rack
for i in 1 2; do
	ns_add "n$i"
	veth_link rack "usb$i" "n$i" || { fail "veth usb$i"; finish; }
done
RACKD_NS=rack rackd_start --links 'usb*' --link-subnet-pool 10.214.0.0/24

for ((i = 0; i < 50; i++)); do
	n=$(api GET /api/v1/nodes | jq '[.[] | select(.link.state == "up")] | length')
	[ "$n" = 2 ] && break
	sleep 0.2
done
check_eq "$n" 2 "two management links up"
declare -A MAC
for i in 1 2; do
	dhcp "n$i" >/dev/null || fail "n$i has no address by DHCP"
	MAC[$i]=$(ip -n "$NS-n$i" -j link show eth0 | jq -r '.[0].address')
	for ((t = 0; t < 30; t++)); do
		[ "$(api GET "/api/v1/nodes/usb$i" | jq -r .mac)" = "${MAC[$i]}" ] && break
		sleep 0.2
	done
	check_eq "$(api GET "/api/v1/nodes/usb$i" | jq -r .mac)" "${MAC[$i]}" "rackd knows usb$i's MAC"
done

# capture NAME SECONDS: UDP to port 9 on the node's eth0, one line a
# packet: "MAC-IN-PAYLOAD VALID" (VALID: 6 x ff then 16 x the MAC).
cat >"$TMP/capture.py" <<'EOS'
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("eth0", 0))
s.settimeout(0.2)
end = time.time() + float(sys.argv[1])
open(sys.argv[2], "w").close()
print("ready", flush=True)
while time.time() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    ip = f[14:]
    if len(ip) < 28 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    udp = ip[ihl:]
    if int.from_bytes(udp[2:4], "big") != 9:
        continue
    p = udp[8:]
    mac = p[6:12]
    ok = len(p) == 102 and p[:6] == b"\xff" * 6 and p[6:] == mac * 16
    with open(sys.argv[2], "a") as o:
        o.write("%s %s\n" % (":".join("%02x" % b for b in mac), "valid" if ok else "bad"))
EOS
declare -A CAP
for i in 1 2; do
	in_ns "n$i" timeout 20 python3 "$TMP/capture.py" 6 "$TMP/cap.$i" >"$TMP/ready.$i" 2>&1 &
	CAP[$i]=$!
	on_exit "kill ${CAP[$i]} 2>/dev/null"
done
for i in 1 2; do
	wait_for 50 grep -q ready "$TMP/ready.$i" || fail "capture in n$i did not start"
done

api PATCH /api/v1/nodes/usb1 -d '{"power":{"method":"wol"}}' >/dev/null
check_status 200 "PATCH usb1 power wol"
check_jq '.power.can == ["on"] and .power.note == "Wake-on-LAN can only switch on"' "wol can only switch on"
api PATCH /api/v1/nodes/usb2 -d '{"power":{"method":"wol","port":"9"}}' >/dev/null
check_status 200 "PATCH usb2 power wol"
api POST /api/v1/nodes/usb1/power -d '{"action":"on"}' >/dev/null
check_status 202 "power on usb1 queued"
JOB=$(printf '%s' "$BODY" | jq .id)
wait_for 50 job_ended "$JOB"
check_eq "$(job_field "$JOB" .state)" done "the wol job is done"
api POST /api/v1/nodes/usb1/power -d '{"action":"off"}' >/dev/null
check_error 409 "wol cannot switch off"
check_jq '.error | test("Wake-on-LAN can only switch on")' "and says so"
api POST /api/v1/nodes/usb1/power -d '{"action":"status"}' >/dev/null
check_error 409 "wol cannot tell the state"
wait "${CAP[1]}" "${CAP[2]}"
check_eq "$(cat "$TMP/cap.1")" "${MAC[1]} valid" "n1 got exactly one magic packet with its MAC"
check_eq "$(wc -l <"$TMP/cap.2")" 0 "n2 got nothing"

finish
