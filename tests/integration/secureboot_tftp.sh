#!/bin/bash
# What the per-node TFTP dirs (tftp/if/IFNAME/NODE_ADDR/, for shim and
# GRUB under Secure Boot) give, and to whom; and that stale ones go. No
# VM: a veth pair usb6 to a node namespace, busybox tftp and curl there.
# - A reimage's grub.cfg holds no job token; the node's own address gets
#   it over TFTP, and its token only over HTTP (GET /boot/usb6.cmdline).
# - Another address on the same link (the subnet's network address, which
#   the board treats as any other) gets no loader and no grub.cfg of its
#   own; but through dnsmasq's fallback to the link's root (tftp-unique-root
#   drops a client's dir that does not exist), or by its absolute name, it
#   reads the node's grub.cfg, which is why no token is in it; GET
#   /boot/usb6.cmdline and .ipxe refuse that address (403).
# - the slot's addresses changed while rackd was stopped: the node's new
#   dir is made and the old address's removed; the link deleted: its dirs
#   go.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/SHA256SUMS" ] || { echo "no UEFI loaders: make pxe"; exit 1; }

ns_add rack
ns_add node
veth_link rack usb6 node || { echo "no veth pair"; exit 1; }
RACKD_NS=rack rackd_start --links 'usb*' --pxe-dir "$TOP/build/pxe" \
	--secure-boot=yes
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/nodes/usb6 | jq -r .link.state)" = up ] && break
	sleep 0.2
done
NODE=$(api GET /api/v1/nodes/usb6 | jq -r .link.node_addr)
BOARD=$(api GET /api/v1/nodes/usb6 | jq -r .link.board_addr)
DIR=$STATE/tftp/if/usb6/$NODE
wait_for 50 test -f "$DIR/shimx64.efi" && ok "the node's dir $DIR has shim" ||
	fail "no $DIR/shimx64.efi"

test_images
reimage usb6 test:1
wait_for 50 grep -q "reimage with test:1 (job $JOB)" "$DIR/grub/grub.cfg" &&
	ok "grub.cfg boots the clone environment for job $JOB" ||
	{ fail "grub.cfg has no reimage"; cat "$DIR/grub/grub.cfg"; }
grep -qF "$JOB_TOKEN" "$DIR/grub/grub.cfg" && fail "grub.cfg holds the job's token" ||
	ok "grub.cfg holds no token"

# tftp_get NAME FILE: busybox tftp in the node namespace, from its address.
tftp_get() { rm -f "$2"; in_ns node timeout 10 busybox tftp -g -r "$1" -l "$2" "$BOARD" 2>/dev/null; }

# The node's own address.
[ "$(dhcp node | cut -d' ' -f1)" = "$NODE" ] && ok "the node got $NODE" || fail "no DHCP address $NODE"
tftp_get grub/grub.cfg "$TMP/own.cfg" && grep -q "rackd.slot=usb6" "$TMP/own.cfg" &&
	ok "the node reads its grub.cfg over TFTP" || fail "the node cannot read its grub.cfg"
tftp_get shimx64.efi "$TMP/shim" && cmp -s "$TMP/shim" "$TOP/build/pxe/shimx64.efi" &&
	ok "the node gets shim" || fail "the node does not get shim"
words=$(in_ns node curl -s --max-time 5 "http://$BOARD:$PORT/boot/usb6.cmdline")
check_eq "$words" "rackd.job=$JOB rackd.token=$JOB_TOKEN" "GET /boot/usb6.cmdline gives the node its job and token"
check_eq "$(job_field "$JOB" .state)" booting "the job is booting"

# Another address on the link: the subnet's network address.
NET=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_interface(sys.argv[1] + '/30').network.network_address)" "$NODE")
ip -n "$NS-node" addr flush dev eth0
ip -n "$NS-node" addr add "$NET/30" dev eth0
tftp_get shimx64.efi "$TMP/other.shim" && fail "$NET got shim" || ok "$NET gets no loader"
tftp_get grub/grub.cfg "$TMP/other.cfg" && fail "$NET got a grub.cfg" || ok "$NET has no grub.cfg of its own"
# What another address may read of the node's dir: nothing secret.
for p in "$NODE/grub/grub.cfg" "../usb6/$NODE/grub/grub.cfg" "$DIR/grub/grub.cfg"; do
	if tftp_get "$p" "$TMP/other.got"; then
		grep -qF "$JOB_TOKEN" "$TMP/other.got" && fail "$NET read the job's token as $p" ||
			ok "$NET reads the node's grub.cfg as $p, without a token"
	else
		ok "$NET cannot get $p"
	fi
done
code=$(in_ns node curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$BOARD:$PORT/boot/usb6.cmdline")
check_eq "$code" 403 "GET /boot/usb6.cmdline from $NET is refused"
code=$(in_ns node curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$BOARD:$PORT/boot/usb6.ipxe")
check_eq "$code" 403 "GET /boot/usb6.ipxe from $NET is refused"
grep -q "/boot/usb6.cmdline for slot usb6 asked for from $NET: refused" "$RACKD_LOG" &&
	ok "the refusal is logged" || fail "no refusal in the log"
api POST "/api/v1/jobs/$JOB/cancel" -d '{}' >/dev/null
wait_for 50 grep -q "booting the local disk" "$DIR/grub/grub.cfg" &&
	ok "the job cancelled, grub.cfg boots the disk" || fail "grub.cfg still boots the clone"

# A node address that changed (the slot's subnet moved while rackd was
# stopped): the new address's dir is made, the old one's removed.
rackd_stop || fail "rackd did not stop"
NEW=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]) + 64)" "$NODE")
NEWB=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]) + 64)" "$BOARD")
sql "UPDATE links SET board_addr = '$NEWB', node_addr = '$NEW' WHERE slot = 'usb6'"
RACKD_NS=rack rackd_start --links 'usb*' --pxe-dir "$TOP/build/pxe" \
	--secure-boot=yes
wait_for 100 test -f "$STATE/tftp/if/usb6/$NEW/shimx64.efi"
check_eq "$(api GET /api/v1/nodes/usb6 | jq -r .link.node_addr)" "$NEW" "the node's address is now $NEW"
test -f "$STATE/tftp/if/usb6/$NEW/grub/grub.cfg" && ok "its new dir has a grub.cfg" ||
	fail "no grub.cfg in tftp/if/usb6/$NEW"
wait_for 50 test ! -e "$DIR" && ok "the old address's dir is removed" ||
	{ fail "$DIR is still there"; ls -R "$STATE/tftp/if"; }
grep -q "TFTP dir if/usb6/$NODE removed" "$RACKD_LOG" && ok "its removal is logged" ||
	fail "no removal in the log"

# The link gone: its dirs go.
ip -n "$NS-rack" link del usb6
wait_for 50 test ! -e "$STATE/tftp/if/usb6" && ok "the link gone, tftp/if/usb6 is removed" ||
	{ fail "tftp/if/usb6 is still there"; ls -R "$STATE/tftp/if"; }
test -f "$STATE/tftp/shimx64.efi" && ok "the shared loaders stay" || fail "tftp/shimx64.efi is gone"
finish
