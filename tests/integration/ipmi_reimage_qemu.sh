#!/bin/bash
# A reimage with no hand on the server: the Reimage request of the API is
# all. The server is a QEMU VM (software emulation, a blank disk) on the
# tap usb5 of the rack's namespace; its BMC is OpenIPMI's ipmi_sim in a
# namespace of its own, reached over a veth pair that link_slots makes the
# BMC link of usb5 (usb6=usb5/bmc): ipmi_sim listens on the node address
# rackd gives that link (read from usb5's node, "bmc"), and [power.usb5]
# names no address. ipmi_sim's chassis_control program starts and kills
# the VM and keeps the boot device. The VM's serial port is one end of a
# socat pty pair whose other end console_slots makes usb5's console.
# rackd sets PXE once over IPMI and switches the server on; the VM boots
# the clone environment, the job ends done, and the VM boots its disk and
# prints the image's marker. The clone environment's output is in the
# job's console log and on the live console stream, and what is typed into
# the console reaches the VM's tty: the clone environment runs no shell
# there, so the proof is the tty's echo in the VM's own serial output.
# Then a diskless boot: PATCH boot_mode diskless, which alone sets PXE
# once and switches the server on over IPMI,
# the rootfs image's marker on the serial log and in its job's console log
# (NO_DISKLESS=1 leaves it out).
# FIRMWARE=uefi (ipmi_uefi_qemu.sh) makes the server UEFI: OVMF on q35
# with its own variables, the network first in its boot order, boot_type
# efi, and a BMC whose boot device rules that order at the next reset
# (lib_ipmi.sh's IPMI_BOOT_ORDER): rackd must set the disk before the
# agent reboots, so that OVMF starts the disk's loader with no network
# boot in between.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_ipmi.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/initrd.img" ] || { echo "no clone initramfs: make pxe"; exit 1; }
command -v ipmi_sim >/dev/null || { echo "no ipmi_sim (openipmi): make deps"; exit 1; }
command -v socat >/dev/null || { echo "no socat: make deps"; exit 1; }
PASS=rack-secret-2
JOB_WAIT=${JOB_WAIT:-420}	# seconds: a reimage under TCG takes minutes
FIRMWARE=${FIRMWARE:-bios}
FW=() NIC= MEM=512 BOOT_TYPE=
if [ "$FIRMWARE" = uefi ]; then
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$TMP/vm.vars" || exit 1
	FW=(-machine q35
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
		-drive "if=pflash,format=raw,unit=1,file=$TMP/vm.vars")
	NIC=,romfile= MEM=768 BOOT_TYPE="boot_type = efi"
	export IPMI_BOOT_ORDER=1
fi

sh "$TOP/tests/images/make-bootable.sh" "$TMP/v1.img" "image-ipmi" 64
truncate -s 64M "$TMP/disk.img"

# ---- the console: a pty pair; the test holds the server's end open so
# that the pair lives on while the VM is off
PTY=$TMP/pty
mkdir -p "$PTY"
socat -d -d "pty,raw,echo=0,link=$PTY/server0" "pty,raw,echo=0,link=$PTY/board0" \
	2>>"$TMP/socat.log" &
SOCAT_PID=$!
on_exit "kill $SOCAT_PID"
wait_for 50 test -e "$PTY/board0" -a -e "$PTY/server0" ||
	{ echo "socat made no ptys"; cat "$TMP/socat.log"; exit 1; }
chown rackd "$(readlink -f "$PTY/board0")"
exec 8<>"$PTY/server0"
on_exit "exec 8>&-"

# ---- the rack: usb5 the server's link, usb6 its BMC's
ns_add rack
ns_add bmc
ip -n "$NS-rack" tuntap add usb5 mode tap
ip link add usb6 netns "$NS-rack" type veth peer name bmc0 netns "$NS-bmc"
ip -n "$NS-bmc" link set bmc0 up
# enrol = no: the server's link is up before the test asks for the
# reimage, which a new server's inventory job would otherwise be in the
# way of (inventory_qemu.sh tests enrolment).
cat >"$TMP/rackd.conf" <<EOF
[rackd]
enrol = no

[power.usb5]
method = ipmi
user = admin
password = $PASS
$BOOT_TYPE
EOF
RACKD_NS=rack rackd_start -c "$TMP/rackd.conf" --links 'usb*' \
	--link-slots 'usb6=usb5/bmc' --pxe-dir "$TOP/build/pxe" \
	--boot-timeout 10m --console-slots "$PTY/board0=usb5"
"$RACKCTL" image import "$TMP/v1.img" --name "marker:1" --store "$STATE/store" \
	>"$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; exit 1; }
kill -HUP "$RACKD_PID"
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/images/marker | jq '.versions | length')" = 1 ] && break
	sleep 0.2
done
check_eq "$(api GET /api/v1/images/marker | jq '.versions | length')" 1 "marker:1 indexed"

# ---- the BMC link, as the API tells it
bmc_seen() { [ "$(api GET /api/v1/nodes/usb5 | jq -r '.bmc.slot // empty')" = usb5.bmc ]; }
wait_for 100 bmc_seen && ok "usb5's node names its BMC link usb5.bmc" ||
	fail "usb5's node has no bmc: $(api GET /api/v1/nodes/usb5)"
BMC=$(api GET /api/v1/nodes/usb5 | jq -r .bmc.address)
PREFIX=$(api GET /api/v1/nodes/usb5.bmc | jq -r .link.prefix)
check_eq "$(api GET /api/v1/nodes/usb5.bmc | jq -r .bmc_of)" usb5 \
	"the BMC link's node says whose BMC it is"
[[ $BMC =~ ^[0-9.]+$ ]] || { fail "no BMC address: '$BMC'"; finish; }
ip -n "$NS-bmc" addr add "$BMC/$PREFIX" dev bmc0

# ---- the BMC: ipmi_sim; its chassis runs the VM
IPMI_VM_WRAP="timeout $((JOB_WAIT + 300)) ip netns exec $NS-rack" ipmi_chassis \
	-accel tcg -m "$MEM" "${FW[@]}" -display none -monitor none \
	-chardev "tty,id=s0,path=$PTY/server0,logfile=$TMP/serial.log,logappend=on" \
	-serial chardev:s0 \
	-netdev tap,id=n0,ifname=usb5,script=no,downscript=no \
	-device "virtio-net-pci,netdev=n0,id=net0,bootindex=1$NIC" \
	-drive "if=none,id=d0,file=$TMP/disk.img,format=raw" \
	-device virtio-blk-pci,drive=d0,id=disk0,bootindex=2
ipmi_lan_conf "$BMC" 623 "$PASS"
# UEFI: the BMC's messages logged, to read the boot flags rackd sent.
if [ "$FIRMWARE" = uefi ]; then
	IPMI_SIM_DEBUG=1 ipmi_sim_start bmc "$BMC" 623 -d
else
	ipmi_sim_start bmc "$BMC" 623
fi
ok "ipmi_sim listens on usb5's BMC link, $BMC"
power_state() { api GET /api/v1/nodes/usb5 | jq -r .power.state; }
for ((i = 0; i < 30; i++)); do [ "$(power_state)" = off ] && break; sleep 0.5; done
check_eq "$(power_state)" off "rackd reads the server's power over IPMI: off"

# ---- the reimage: the API request, nothing else
sse() {	# SECONDS FILE: usb5's console stream
	"${WRAP[@]}" curl -s -N --max-time "$1" -H "Authorization: Bearer $TOKEN" \
		"$URL/api/v1/nodes/usb5/console" >"$2" 2>/dev/null
}
decoded() {
	grep '^data: {"data"' "$1" | sed 's/^data: //' | jq -r .data |
		while read -r b; do printf '%s' "$b" | base64 -d; done
}
sse "$JOB_WAIT" "$TMP/live.sse" &
SSE_PID=$!
on_exit "kill $SSE_PID"
sleep 1
api POST /api/v1/nodes/usb5/reimage -d '{"image":"marker:1"}' >"$TMP/job.json"
check_status 202 "reimage queued"
JOB=$(jq -r .id "$TMP/job.json")
start=$SECONDS
typed=
state=
while [ $((SECONDS - start)) -lt "$JOB_WAIT" ]; do
	state=$(api GET "/api/v1/jobs/$JOB" | jq -r .state)
	case "$state" in done|failed) break ;; esac
	if [ -z "$typed" ] && grep -aq "rackd clone environment" "$TMP/serial.log" 2>/dev/null; then
		api POST /api/v1/nodes/usb5/console \
			-d "{\"data\":\"$(printf 'typed-into-usb5\r' | base64)\"}" >/dev/null
		check_status 200 "typed into usb5's console during the clone environment"
		typed=$SECONDS
	fi
	sleep 2
done
check_eq "$state" done "job $JOB done in $((SECONDS - start))s, by IPMI alone"
api GET "/api/v1/jobs/$JOB" | jq -r '.events[] | "    \(.state) \(.message)"'
api GET "/api/v1/jobs/$JOB" | jq -r '.events[].message' | grep -q '^power boot_net$' &&
	ok "the job set the network boot over IPMI" || fail "no power boot_net event"
grep -q "^set boot pxe" "$TMP/chassis.log" && ok "the BMC was told: boot pxe" ||
	fail "the BMC got no 'set boot pxe': $(cat "$TMP/chassis.log")"
grep -q "^power on" "$TMP/chassis.log" && ok "the BMC powered the VM on" ||
	fail "the BMC never powered the VM on"
for ((i = 0; i < 180; i++)); do
	grep -aq "RACKD-MARKER: image-ipmi" "$TMP/serial.log" 2>/dev/null && break
	sleep 1
done
grep -aq "RACKD-MARKER: image-ipmi" "$TMP/serial.log" &&
	ok "the server booted the image from its disk (serial log)" ||
	{ fail "no marker on the serial log"; tail -c 1500 "$TMP/serial.log"; }
if [ "$FIRMWARE" = uefi ]; then
	# One network boot (the clone environment's); the reboot after done
	# went to the disk's loader because the BMC already said "disk".
	check_eq "$(grep -c 'slot usb5 fetched its boot script' "$RACKD_LOG")" 1 \
		"UEFI: one network boot, none after the reimage"
	grep -q '^order: net0 2 disk0 1' "$TMP/chassis.log" &&
		ok "the BMC put the disk first before the agent's reboot" ||
		fail "no disk-first order: $(cat "$TMP/chassis.log")"
	# Set System Boot Options, parameter 5: valid, next boot or
	# persistent, EFI (0x20), PXE (0x04) or disk (0x08).
	flags=$(tr -d '\r' <"$TMP/sim.log" | grep -A2 'netfn=0x0 cmd=0x8 ' |
		grep '^ 05 ' | sed 's/^ //' | uniq | paste -sd, -)
	check_eq "$flags" "05 a0 04 00 00 00,05 e0 08 00 00 00" \
		"boot_type efi: PXE once, then the disk, both EFI"
fi
cmp -s -n "$(stat -c %s "$TMP/v1.img")" "$TMP/disk.img" "$TMP/v1.img" &&
	ok "the disk holds the image" || fail "the disk differs from the image"
wait_for 100 sh -c "grep -q '^set boot default' '$TMP/chassis.log'" &&
	ok "after the job the BMC boots from disk again" ||
	fail "no boot_disk after the job"

# ---- the console
api GET "/api/v1/jobs/$JOB/console" >"$TMP/job.console"
check_status 200 "GET the job's console log"
grep -aq "rackd clone environment" "$TMP/job.console" &&
	ok "the clone environment's output is in the job's console log" ||
	fail "job console log: $(head -c 300 "$TMP/job.console")"
kill "$SSE_PID" 2>/dev/null
wait "$SSE_PID" 2>/dev/null
decoded "$TMP/live.sse" | grep -aq "rackd clone environment" &&
	ok "the clone environment's output is on the live console stream" ||
	fail "not on the live stream: $(head -c 300 "$TMP/live.sse")"
if [ -n "$typed" ]; then
	grep -aq "typed-into-usb5" "$TMP/serial.log" &&
		ok "the typed text reached the VM's tty (its echo on the serial port)" ||
		fail "no echo of the typed text from the VM"
	decoded "$TMP/live.sse" | grep -aq "typed-into-usb5" &&
		ok "the echo is on the live stream too" || fail "no echo on the stream"
else
	fail "the clone environment was never seen on the serial log to type into"
fi

# ---- a diskless boot, switched on through the BMC alone
[ -n "${NO_DISKLESS:-}" ] && finish
sh "$TOP/tests/images/make-rootfs.sh" "$TMP/tiny.tar.zst" diskless-ipmi
"$RACKCTL" image import "$TMP/tiny.tar.zst" --kind rootfs --name tiny:1 --store "$STATE/store" \
	>"$TMP/import2.log" 2>&1 || { cat "$TMP/import2.log"; fail "import tiny:1"; finish; }
kill -HUP "$RACKD_PID"
for ((i = 0; i < 50; i++)); do
	api GET /api/v1/images/tiny >/dev/null; [ "$STATUS" = 200 ] && break
	sleep 0.2
done
for ((i = 0; i < 100; i++)); do [ "$(power_state)" = off ] && break; sleep 1; done
check_eq "$(power_state)" off "the server is off after its marker"
# The PATCH alone boots it: PXE once and power on over IPMI (no POST).
api PATCH /api/v1/nodes/usb5 -d '{"image":"tiny:1","boot_mode":"diskless"}' >/dev/null
check_status 200 "usb5: diskless, tiny:1"
check_jq '.job.action == "diskless" and .job.state == "queued"' "the PATCH made the diskless job"
PJOB=$(printf '%s' "$BODY" | jq -r .job.id)
start=$SECONDS
for ((i = 0; i < 300; i++)); do
	grep -aq "RACKD-DISKLESS: diskless-ipmi" "$TMP/serial.log" && break
	sleep 1
done
grep -aq "RACKD-DISKLESS: diskless-ipmi" "$TMP/serial.log" &&
	ok "powered on over IPMI, the server ran tiny:1 from RAM ($((SECONDS - start))s)" ||
	{ fail "no diskless marker on the serial log"; tail -c 1500 "$TMP/serial.log"; }
DJOB=$(api GET '/api/v1/jobs?node=usb5&limit=1' | jq -r '.[0].id')
check_eq "$(api GET "/api/v1/jobs/$DJOB" | jq -r .action)" diskless "the last job is the diskless boot"
check_eq "$DJOB" "$PJOB" "the boot took the PATCH's job"
check_eq "$(api GET "/api/v1/jobs/$DJOB" | jq -c '[.events[].message | select(startswith("power"))]')" \
	'["power boot_net","power on"]' "the job set PXE once and switched the server on"
# the job's log ends with the job (rack-diskless done, before the image's
# own init); the console's ring has what came after
for ((i = 0; i < 30; i++)); do
	api GET "/api/v1/jobs/$DJOB/console" >"$TMP/djob.console"
	grep -aq "rack-diskless.*done:" "$TMP/djob.console" && break
	sleep 1
done
grep -aq "rack-diskless.*done:" "$TMP/djob.console" &&
	ok "the diskless job's console log holds rack-diskless's output" ||
	fail "diskless job console log: $(tail -c 300 "$TMP/djob.console")"
sse 3 "$TMP/ring.sse"
decoded "$TMP/ring.sse" | grep -aq "RACKD-DISKLESS: diskless-ipmi" &&
	ok "the image's marker is on usb5's console (the ring's replay)" ||
	fail "no diskless marker on the console stream"
finish
