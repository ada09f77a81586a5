#!/bin/bash
# Re-enrolment of a server swapped in a slot with no power method, in
# network namespaces: a rack namespace runs rackd (enrol_relink 2s), a
# node namespace joined by a veth named like a USB link plays the server.
# It fetches the boot script the way iPXE does (curl /boot/usb1.ipxe from
# the slot's address) and plays rack-agent with the job's token (curl).
#   - a new node's first network boot is an inventory (boot.c's enrol);
#     once it is done the node boots its disk;
#   - a link blink shorter than enrol_relink marks nothing;
#   - a link down for longer and back marks the slot (the node's
#     enrol_at_boot), so its next network boot is an inventory; once that
#     job is done the node boots its disk, and again its disk: no second
#     inventory without another re-appearance;
#   - a cancelled (failed) inventory job also takes the mark away.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }

ns_add rack
ns_add n1
veth_link rack usb1 n1 || { fail "veth usb1"; finish; }
RACKD_NS=rack rackd_start --links 'usb*' --link-subnet-pool 10.213.0.0/24 \
	--enrol-relink 2s

link_state() { api GET /api/v1/nodes/usb1 >/dev/null; printf '%s' "$BODY" | jq -r .link.state; }
wait_link() {	# STATE
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(link_state)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_link up || { fail "usb1 not up"; finish; }
got=$(dhcp n1)
B1=$(api GET /api/v1/nodes/usb1 | jq -r .link.board_addr)
check_eq "${got%% *}" "$(api GET /api/v1/nodes/usb1 | jq -r .link.node_addr)" "n1 has its slot's address"
R1="http://$B1:$PORT"

# boot: the boot script iPXE fetches, into $TMP/boot.ipxe; sets KIND
# (clone or local) and JOB (the job in the script, clone only).
boot() {
	in_ns n1 curl -s --max-time 10 -o "$TMP/boot.ipxe" "$R1/boot/usb1.ipxe"
	JOB=$(sed -n 's/.*rackd\.job=\([0-9]*\) .*/\1/p' "$TMP/boot.ipxe" | head -n 1)
	if [ -n "$JOB" ]; then KIND=clone; elif grep -q "booting the local disk" "$TMP/boot.ipxe"; then KIND=local; else KIND=?; fi
}
# agent STATE|inventory: what rack-agent sends for job $JOB, with its token.
agent() {
	local tok
	tok=$(job_token "$JOB")
	if [ "$1" = inventory ]; then
		STATUS=$(in_ns n1 curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
			--data-binary "@$TOP/tests/fuzz/corpus/appliance_inventory/full" \
			"$R1/api/v1/agent/jobs/$JOB/inventory")
	else
		STATUS=$(in_ns n1 curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
			-d "{\"state\":\"$1\"}" "$R1/api/v1/agent/jobs/$JOB/report")
	fi
}
inventory_done() {	# WHAT
	agent streaming; agent verifying; agent inventory
	check_eq "$STATUS" 200 "$1: the inventory is taken"
	agent done
	check_eq "$(job_field "$JOB" .state)" done "$1: inventory job $JOB done"
}
marked() { api GET /api/v1/nodes/usb1 | jq -r .enrol_at_boot; }
inventories() { sql "SELECT count(*) FROM jobs WHERE slot = 'usb1' AND action = 'inventory'"; }
relink() {	# SECONDS: the server's end of the link down that long, then up
	ip -n "$NS-n1" link set eth0 down
	wait_link down || fail "usb1 did not go down"
	sleep "$1"
	ip -n "$NS-n1" link set eth0 up
	wait_link up || fail "usb1 did not come back"
	got=$(dhcp n1)
	sleep 0.3
}

# ---- a new node: its first network boot is its inventory ----
check_eq "$(marked)" false "a new node is not marked"
boot
check_eq "$KIND" clone "the new node's first network boot is the clone environment"
check_eq "$(job_field "$JOB" .action)" inventory "its job is an inventory"
inventory_done "first"
boot
check_eq "$KIND" local "once inventoried, the node boots its disk"

# ---- a blink: shorter than enrol_relink ----
relink 0
check_eq "$(marked)" false "a link down shorter than enrol_relink marks nothing"
boot
check_eq "$KIND" local "after a blink the node boots its disk"

# ---- away and back: its next network boot inventories it, once ----
relink 3
check_eq "$(marked)" true "a link down for longer than enrol_relink marks the slot"
grep -q "slot usb1: its link was down .* and is back" "$RACKD_LOG" &&
	ok "rackd's log says why" || fail "no log line for the re-appearance"
boot
check_eq "$KIND" clone "the next network boot is the clone environment"
check_eq "$(job_field "$JOB" .action)" inventory "for an inventory"
check_eq "$(job_field "$JOB" '[.events[] | select(.message | test("after its link went away and came back"))] | length')" 1 \
	"the job's events say why it was made"
boot
check_eq "$KIND" clone "a boot again while the inventory is active: the same job ($JOB)"
check_eq "$(inventories)" 2 "one inventory job for this re-appearance"
check_eq "$(marked)" true "the mark holds while the inventory runs"
inventory_done "re-appearance"
check_eq "$(marked)" false "the inventory done takes the mark away"
boot
check_eq "$KIND" local "after it, the node boots its disk"
boot
check_eq "$KIND" local "and again its disk: no loop"
check_eq "$(inventories)" 2 "no second inventory without another re-appearance"

# ---- away and back, the inventory cancelled: the mark goes too ----
relink 3
check_eq "$(marked)" true "a second re-appearance marks it again"
boot
check_eq "$KIND" clone "its next network boot is an inventory again"
api POST "/api/v1/jobs/$JOB/cancel" -d '{}' >/dev/null
check_status 200 "the inventory is cancelled"
check_eq "$(job_field "$JOB" .state)" failed "the cancelled inventory failed"
check_eq "$(marked)" false "an inventory that failed takes the mark away"
boot
check_eq "$KIND" local "then the node boots its disk"
check_eq "$(inventories)" 3 "three inventories for a new node and two re-appearances"
finish
