#!/bin/bash
# Management links and network boot, in network namespaces: a rack
# namespace runs rackd and its dnsmasq; four node namespaces are joined to
# it by veth pairs named like USB links; one more veth is the uplink.
# Real clients: busybox udhcpc, tftp-hpa, curl.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }

ns_add rack
ns_add lan
for i in 1 2 3 4; do
	ns_add "n$i"
	veth_link rack "usb$i" "n$i" || { fail "veth usb$i"; finish; }
done
ip link add uplink0 netns "$NS-rack" type veth peer name eth0 netns "$NS-lan"
ip -n "$NS-lan" link set eth0 up

RACKD_NS=rack rackd_start --links 'usb*,uplink*' --uplink uplink0 \
	--link-subnet-pool 10.213.0.0/24
RACK="$NS-rack"

# Every link gets its slot and a subnet; the uplink none.
for ((i = 0; i < 50; i++)); do
	n=$(api GET /api/v1/nodes | jq '[.[] | select(.link.state == "up")] | length')
	[ "$n" = 4 ] && break
	sleep 0.2
done
check_eq "$n" 4 "four management links up"
api GET /api/v1/nodes/uplink0 >/dev/null
check_status 404 "the uplink is no slot"
declare -A ADDR
for i in 1 2 3 4; do
	ADDR[$i]=$(api GET "/api/v1/nodes/usb$i" | jq -r .link.node_addr)
done
check_eq "$(printf '%s\n' "${ADDR[@]}" | sort -u | wc -l)" 4 "four distinct node addresses"

# Each node gets its own slot's address, and its slot's name as hostname.
for i in 1 2 3 4; do
	got=$(dhcp "n$i")
	check_eq "$got" "${ADDR[$i]} usb$i" "n$i gets its slot's address by DHCP"
done

# The node's MAC is learnt from the lease.
mac1=$(ip -n "$NS-n1" -j link show eth0 | jq -r '.[0].address')
for ((i = 0; i < 30; i++)); do
	got=$(api GET /api/v1/nodes/usb1 | jq -r .mac)
	[ "$got" = "$mac1" ] && break
	sleep 0.2
done
check_eq "$got" "$mac1" "the node's MAC is on its node"

# A label becomes the node's hostname.
api PATCH /api/v1/nodes/usb2 -d '{"label":"U12"}' >/dev/null
check_status 200 "label slot usb2"
sleep 0.5
check_eq "$(dhcp n2)" "${ADDR[2]} U12" "the label is the hostname"

# Flap: the link is deleted and made again (a new MAC at the node end).
ip -n "$RACK" link del usb1
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/nodes/usb1 | jq -r .link.state)" = down ] && break
	sleep 0.1
done
check_eq "$(api GET /api/v1/nodes/usb1 | jq -r .link.state)" down "usb1 down when its link goes"
veth_link rack usb1 n1 eth0 02:00:00:00:01:99
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/nodes/usb1 | jq -r .link.state)" = up ] && break
	sleep 0.1
done
check_eq "$(api GET /api/v1/nodes/usb1 | jq -r .link.state)" up "usb1 up again"
sleep 0.5
got=$(dhcp n1)
check_eq "${got%% *}" "${ADDR[1]}" "after the flap, the same address again (new MAC)"
hist=$(api GET /api/v1/nodes/usb1 | jq -r .link.state)

# TFTP: the iPXE binaries, and nothing outside the TFTP root.
board1=$(api GET /api/v1/nodes/usb1 | jq -r .link.board_addr)
(cd "$TMP" && in_ns n1 tftp -4 -m binary "$board1" -c get undionly.kpxe)
cmp -s "$TMP/undionly.kpxe" /usr/lib/ipxe/undionly.kpxe && ok "tftp undionly.kpxe" || fail "tftp undionly.kpxe"
(cd "$TMP" && in_ns n1 tftp -4 -m binary "$board1" -c get snponly.efi) >/dev/null 2>&1
cmp -s "$TMP/snponly.efi" /usr/lib/ipxe/snponly.efi && ok "tftp snponly.efi" || fail "tftp snponly.efi"
for bad in ../rackd.db ../api.token /etc/passwd ../../../../etc/passwd; do
	rm -f "$TMP/out"
	(cd "$TMP" && in_ns n1 tftp -4 -m binary "$board1" -c get "$bad" out) >/dev/null 2>&1
	if [ -s "$TMP/out" ]; then fail "tftp $bad was served"; else ok "tftp $bad refused"; fi
done

# A node's own TFTP root (tftp/if/IFNAME/ADDR): its grub.cfg, never
# another node's.
for i in 1 2; do
	rm -f "$TMP/grub.cfg"
	b=$(api GET "/api/v1/nodes/usb$i" | jq -r .link.board_addr)
	(cd "$TMP" && in_ns "n$i" tftp -4 -m binary "$b" -c get grub/grub.cfg grub.cfg) >/dev/null 2>&1
	if grep -q "slot usb$i: booting the local disk" "$TMP/grub.cfg" 2>/dev/null; then
		ok "n$i gets its own grub/grub.cfg over TFTP"
	else
		fail "n$i: no grub/grub.cfg of usb$i over TFTP"
	fi
done
for bad in "../../usb2/${ADDR[2]}/grub/grub.cfg" "../usb2/${ADDR[2]}/grub/grub.cfg" \
    "if/usb2/${ADDR[2]}/grub/grub.cfg"; do
	rm -f "$TMP/out"
	(cd "$TMP" && in_ns n1 tftp -4 -m binary "$board1" -c get "$bad" out) >/dev/null 2>&1
	if [ -s "$TMP/out" ]; then fail "n1 got $bad"; else ok "n1 refused $bad"; fi
done

# Boot scripts: a node gets its own; another slot's is refused.
out=$(in_ns n1 curl -s -w ' %{http_code}' "http://$board1:$PORT/boot/usb1.ipxe")
case "$out" in "#!ipxe"*" 200") ok "n1 gets its boot script" ;; *) fail "n1 boot script: $out" ;; esac
out=$(in_ns n1 curl -s -o /dev/null -w '%{http_code}' "http://$board1:$PORT/boot/usb2.ipxe")
check_eq "$out" 403 "n1 asking for usb2's boot script"
out=$(in_ns n1 curl -s -o /dev/null -w '%{http_code}' "http://$board1:$PORT/boot/nosuch.ipxe")
check_eq "$out" 404 "a boot script of no slot"

# The uplink: no DHCP answer, ever.
DHCP_TRIES=3 dhcp lan >/dev/null && fail "DHCP answered on the uplink" || ok "no DHCP on the uplink"

# dnsmasq killed: rackd starts it again, and DHCP answers within 5 s.
dnsmasq_pid() { descendant "$RACKD_PID" dnsmasq; }
dpid=$(dnsmasq_pid)
if [ -z "$dpid" ]; then
	fail "no dnsmasq child of rackd"
else
	kill -9 "$dpid"
	start=$(date +%s%N)
	got=$(DHCP_TRIES=5 dhcp n3)
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	check_eq "${got%% *}" "${ADDR[3]}" "DHCP after dnsmasq was killed"
	[ "$ms" -le 5000 ] && ok "answered in ${ms} ms" || fail "answered only after ${ms} ms"
	npid=$(dnsmasq_pid)
	[ -n "$npid" ] && [ "$npid" != "$dpid" ] && ok "a new dnsmasq runs" || fail "no new dnsmasq"
fi

# /metrics counts the links up.
up=$(api GET /metrics | awk '$1 == "rackd_links_up" {print $2}')
check_eq "$up" 4 "metrics: links up"

# Shut down: dnsmasq goes with rackd, also when rackd is killed.
dpid=$(dnsmasq_pid)
rackd_stop
sleep 0.2
kill -0 "$dpid" 2>/dev/null && fail "dnsmasq outlived rackd" || ok "dnsmasq stopped with rackd"
# Listening on loopback only, rackd still serves the nodes on each link's
# board address: what nodes fetch, not the operator's API.
RACKD_LISTEN=127.0.0.1 RACKD_NS=rack rackd_start --links 'usb*,uplink*' \
	--uplink uplink0 --link-subnet-pool 10.213.0.0/24
for ((i = 0; i < 50; i++)); do dpid=$(dnsmasq_pid); [ -n "$dpid" ] && break; sleep 0.1; done
check_eq "$(api GET /api/v1/nodes/usb3 | jq -r .link.node_addr)" "${ADDR[3]}" "after a restart, usb3 keeps its subnet"
board3=$(api GET /api/v1/nodes/usb3 | jq -r .link.board_addr)
out=$(in_ns n3 curl -s -w ' %{http_code}' "http://$board3:$PORT/boot/usb3.ipxe")
case "$out" in "#!ipxe"*" 200") ok "n3 gets its boot script from the link's listener" ;; *) fail "n3 boot script: $out" ;; esac
out=$(in_ns n3 curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://$board3:$PORT/api/v1/nodes")
check_eq "$out" 404 "the operator's API is not served on a management link"
out=$(in_ns n3 curl -s -o /dev/null -w '%{http_code}' "http://$board3:$PORT/")
check_eq "$out" 404 "nor the dashboard"
kill -9 "$RACKD_PID"
for ((i = 0; i < 30; i++)); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$dpid" 2>/dev/null && fail "dnsmasq outlived a killed rackd" || ok "dnsmasq went with a killed rackd"
# dnsmasq's run dir (/run/rackd/DEV-INODE of the state dir) can outlive a
# rackd that was killed with its helper, with the leases in it: there,
# usb1's one address is leased to another server (the one in the slot
# before, or a state dir that had this inode before). Leases are not kept
# across a start of rackd, so n1 still gets its slot's address.
run=/run/rackd/$(printf '%x-%x' "$(stat -c '0x%D' "$STATE")" "$(stat -c %i "$STATE")")
mkdir -p "$run"
echo "$(( $(date +%s) + 3600 )) 02:00:00:00:0a:0a ${ADDR[1]} * 01:02:00:00:00:0a:0a" >"$run/leases"
# Started again at once: nothing of the killed one holds the state dir.
wait "$RACKD_PID" 2>/dev/null
RACKD_NS=rack rackd_start --links 'usb*,uplink*' --uplink uplink0 \
	--link-subnet-pool 10.213.0.0/24
ok "rackd starts again right after a kill -9"
got=$(DHCP_TRIES=8 dhcp n1)
check_eq "${got%% *}" "${ADDR[1]}" "a stale lease of another MAC does not hold the slot's address"
finish
