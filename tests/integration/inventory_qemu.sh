#!/bin/bash
# Inventory and enrolment end to end. A virtual server (QEMU, software
# emulation, BIOS) with known SMBIOS strings, memory and two disks with
# serials (virtio-blk and NVMe) is new in slot usb5: at its first network
# boot rackd enrols it (an inventory job; no power method), rack-agent
# reads the hardware in the clone environment and the API shows exactly
# those values. Then the NVMe disk's serial is changed and an inventory is
# asked for by POST: the change is a job event, an "inventory" event on
# /api/v1/events, and the node is flagged until acknowledged. And a new
# link in a slot with a power method (a veth, the command method) starts
# an inventory job by itself, which switches the server on.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/initrd.img" ] || { echo "no clone initramfs: make pxe"; exit 1; }

MEM_MB=768

# The power method's program: one line a call in $PD/power.log.
PD=$TMP/p
mkdir -m 1777 "$PD"
: >"$PD/power.log"
chmod 666 "$PD/power.log"
cat >"$TMP/power.sh" <<EOS
#!/bin/sh
echo "\$*" >>"$PD/power.log"
case "\$1" in status) echo off ;; esac
exit 0
EOS
chmod 755 "$TMP/power.sh"
cat >"$TMP/rackd.conf" <<EOS
[rackd]
boot_timeout = 10m

[power.usb6]
method = command
program = $TMP/power.sh
timeout = 5
EOS

ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start -c "$TMP/rackd.conf" --links 'usb*' --pxe-dir "$TOP/build/pxe"

# vm NAME NVME_SERIAL: runs the VM (inventory_vm of tests/lib.sh) until
# the agent reboots it (QEMU's -no-reboot ends it then; bounded).
vm() {
	VM_MEM=$MEM_MB inventory_vm bios "$1" "$2" || return 1
	timeout "${VM_TIMEOUT:-240}" "${VM[@]}" >"$TMP/$1.qemu" 2>&1
}

# run NAME NVME_SERIAL: one inventory, its job done; sets JOB.
run() {
	local start secs state
	start=$(date +%s)
	vm "$1" "$2"
	secs=$(( $(date +%s) - start ))
	JOB=$(api GET "/api/v1/jobs?node=usb5&limit=1" | jq -r '.[0].id')
	state=$(api GET "/api/v1/jobs/$JOB" | jq -r '"\(.action) \(.state)"')
	check_eq "$state" "inventory done" "$1: inventory job $JOB done (${secs}s)"
	if [ "$state" != "inventory done" ]; then
		tail -c 3000 "$TMP/$1.serial"
		api GET "/api/v1/jobs/$JOB" | jq -c .
	fi
}

# ---- enrolment at the first network boot (no power method) -----------------
node_seen() { api GET /api/v1/nodes/usb5 >/dev/null; [ "$STATUS" = 200 ]; }
wait_for 100 node_seen || fail "no node usb5 for the link"
api GET /api/v1/nodes/usb5/inventory >/dev/null
check_status 404 "no inventory before the server booted"
case "$BODY" in *"no inventory yet"*) ok "the 404 says so: $BODY" ;; *) fail "404 body: $BODY" ;; esac
run first NVME-0001
api GET "/api/v1/jobs/$JOB" | jq -r '.events[].message' | grep -q "enrolment: a new node booted the network" &&
	ok "the job says it is an enrolment" || fail "no enrolment event: $(api GET "/api/v1/jobs/$JOB" | jq -c .events)"
api GET /api/v1/nodes/usb5/inventory >"$TMP/inv.json"
check_status 200 "GET the inventory"
INV=$(cat "$TMP/inv.json")
echo "$INV" | jq -c .inventory
check_eq "$(echo "$INV" | jq -r .slot)" usb5 "slot"
check_eq "$(echo "$INV" | jq -r '.inventory.system | "\(.vendor)|\(.model)|\(.serial)|\(.uuid)"')" \
	"RackTest Inc|RT-1000|SN-4242|$INV_UUID" "the SMBIOS system fields, exactly"
check_eq "$(echo "$INV" | jq .inventory.memory_bytes)" $((MEM_MB * 1024 * 1024)) "memory: ${MEM_MB} MiB"
check_eq "$(echo "$INV" | jq -r '[.inventory.disks[] | "\(.name)=\(.serial)"] | sort | join(",")')" \
	"nvme0n1=NVME-0001,vda=VBLK-0001" "both disks and their serials"
check_eq "$(echo "$INV" | jq '.inventory.disks[] | select(.name == "vda") | .size_bytes')" $((96 << 20)) "vda's size"
check_eq "$(echo "$INV" | jq '.inventory.disks[] | select(.name == "nvme0n1") | .size_bytes')" $((64 << 20)) "nvme0n1's size"
check_eq "$(echo "$INV" | jq -r '.inventory.disks[] | select(.name == "vda") | .smart')" unknown "virtio-blk has no SMART: unknown"
check_eq "$(echo "$INV" | jq -r '.inventory.disks[] | select(.name == "nvme0n1") | .smart')" passed "NVMe SMART log: passed"
check_eq "$(echo "$INV" | jq -r '.inventory.nics[] | select(.mac == "52:54:00:12:34:56") | .driver')" virtio_net "the NIC's MAC and driver"
check_eq "$(echo "$INV" | jq -r '.inventory.firmware | "\(.mode) \(.secure_boot)"')" "bios false" "firmware: BIOS"
check_eq "$(echo "$INV" | jq -r '.inventory.cpus.threads')" 1 "one CPU thread"
check_eq "$(echo "$INV" | jq -r .changed)" false "the first inventory is no change"
check_eq "$(api GET /api/v1/nodes/usb5 | jq -r '"\(.inventory.model) \(.inventory.disks) \(.inventory_changed)"')" \
	"RT-1000 2 false" "the node's summary"

# ---- the NVMe disk replaced: POST an inventory, see the change -------------
SSE=$TMP/sse.out
"${WRAP[@]}" curl -s -N --max-time 200 -H "Authorization: Bearer $TOKEN" "$URL/api/v1/events" >"$SSE" 2>/dev/null &
SSE_PID=$!
on_exit "kill $SSE_PID"
api POST /api/v1/nodes/usb5/inventory >"$TMP/job.json"
check_status 202 "POST an inventory"
check_eq "$(jq -r .action "$TMP/job.json")" inventory "an inventory job"
api POST /api/v1/nodes/usb5/inventory >/dev/null
check_status 409 "a second one while the first is active"
run second NVME-0002
check_eq "$JOB" "$(jq -r .id "$TMP/job.json")" "the POSTed job ran"
INV=$(api GET /api/v1/nodes/usb5/inventory)
check_eq "$(echo "$INV" | jq -r .changed)" true "the inventory is flagged changed"
check_eq "$(echo "$INV" | jq -r '.history | length')" 2 "two records in the history"
echo "$INV" | jq -r '.history[0].changes[]' | sed 's/^/    /'
echo "$INV" | jq -r '.history[0].changes[]' | grep -q "disk serial NVME-0001 .* is gone" &&
	ok "the change names the old disk" || fail "no 'gone' change: $(echo "$INV" | jq -c .history)"
echo "$INV" | jq -r '.history[0].changes[]' | grep -q "disk serial NVME-0002 .* is new" &&
	ok "the change names the new disk" || fail "no 'new' change"
api GET "/api/v1/jobs/$JOB" | jq -r '.events[].message' | grep -q "inventory changed: disk serial NVME-0002" &&
	ok "the change is a job event" || fail "no job event for the change"
check_eq "$(api GET /api/v1/nodes/usb5 | jq -r .inventory_changed)" true "the node is flagged"
sse_inv() { grep -q '^event: inventory$' "$SSE" && grep '^data:' "$SSE" | grep -q '"changed":true'; }
wait_for 50 sse_inv && ok "an inventory event on /api/v1/events" || fail "no inventory event: $(grep -A1 '^event: inventory' "$SSE" | head -c 600)"
api POST /api/v1/nodes/usb5/inventory/ack -d '{}' >/dev/null
check_status 200 "acknowledge the change"
check_eq "$(api GET /api/v1/nodes/usb5 | jq -r .inventory_changed)" false "the flag is gone"
kill "$SSE_PID" 2>/dev/null

# ---- enrolment when a link comes up in a slot with a power method ----------
ns_add n6
veth_link rack usb6 n6
wait_for 100 grep -q "slot usb6: a new server's link came up: inventory job" "$RACKD_LOG" &&
	ok "a new link with a power method starts an inventory job" ||
	fail "no enrolment for usb6: $(grep usb6 "$RACKD_LOG" | tail -n 5)"
check_eq "$(api GET "/api/v1/jobs?node=usb6&limit=1" | jq -r '.[0] | "\(.action) \(.state)"')" \
	"inventory queued" "usb6's inventory job waits for its boot"
wait_for 100 grep -q '^on usb6' "$PD/power.log" && ok "the server was switched on: $(grep -v '^status' "$PD/power.log" | tr '\n' ' ')" ||
	fail "the power method was not asked to switch usb6 on: $(cat "$PD/power.log")"
finish
