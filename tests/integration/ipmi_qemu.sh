#!/bin/bash
# The ipmi power method against a real BMC: OpenIPMI's ipmi_sim, on an
# address of a network namespace of its own, owns a QEMU VM (software
# emulation, no disk, no OS; the VM's KCS interface is wired to the BMC).
# ipmi_sim hands chassis control to a small program (its chassis_control
# line): power starts and stops the VM, the boot device is kept in a file.
# build/tests/power_run drives the method (appliance/power_ipmi.c) in that
# namespace: status, on, off, cycle, the boot device (the raw Set System
# Boot Options request is read from ipmi_sim's message dump, and
# FreeIPMI's ipmi-chassis reads the device back), a wrong password, an
# address where nothing answers.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_ipmi.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
RUN=$BUILD_DIR/tests/power_run
[ -x "$RUN" ] || { echo "no $RUN: make all first"; exit 1; }

BMC=10.231.0.2		# ipmi_sim's LAN
NOBODY=10.231.0.9	# on the same link, nobody there
ALT_PORT=6230		# ipmi_sim's second LAN channel listens here
PASS=rack-secret-1

ns_add bmc
# a link of its own: a veth pair whose far end nobody answers on
ip -n "$NS-bmc" link add bmc0 type veth peer name bmc1
ip -n "$NS-bmc" addr add "$BMC/24" dev bmc0
ip -n "$NS-bmc" link set bmc0 up
ip -n "$NS-bmc" link set bmc1 up
KCS_PORT=$(free_port)	# ipmi_sim's side of the VM's KCS, in the namespace

# The chassis: "set power 1|0", "get power", "set boot DEV", "get boot"
# (tests/lib_ipmi.sh); the VM has no disk and no OS, its KCS on the BMC.
ipmi_chassis -accel tcg -M q35 -m 64 -name rackd-ipmi-test -nographic \
	-nodefaults -serial none -monitor none -display none \
	-chardev "socket,id=ipmi0,host=127.0.0.1,port=$KCS_PORT,reconnect=10" \
	-device ipmi-bmc-extern,chardev=ipmi0,id=bmc0 -device isa-ipmi-kcs,bmc=bmc0
ipmi_lan_conf "$BMC" 623 "$PASS" \
	"startlan 2
$(ipmi_lan_lines "$BMC" "$ALT_PORT")
  endlan" \
	"serial 15 127.0.0.1 $KCS_PORT codec VM"
# -d dumps every message (read below)
IPMI_SIM_DEBUG=1 ipmi_sim_start bmc "$BMC" 623 -d
wait_for 50 sh -c "ip netns exec $NS-bmc ss -uln | grep -q '$BMC:$ALT_PORT'" ||
	{ echo "ipmi_sim did not open its second LAN"; cat "$TMP/sim.log"; exit 1; }

set_json() { echo "$2" >"$TMP/$1.json"; }
set_json admin "{\"method\": \"ipmi\", \"user\": \"admin\", \"password\": \"$PASS\"}"
# as the configuration file gives them: strings
set_json alt "{\"address\": \"$BMC\", \"port\": \"$ALT_PORT\", \"user\": \"admin\", \"password\": \"$PASS\", \"cipher_suite\": \"3\"}"
set_json lan "{\"address\": \"$BMC\", \"port\": $ALT_PORT, \"user\": \"admin\", \"password\": \"$PASS\", \"protocol\": \"lan\"}"
set_json efi "{\"user\": \"admin\", \"password\": \"$PASS\", \"boot_type\": \"efi\"}"
set_json wrong "{\"user\": \"admin\", \"password\": \"not-$PASS\"}"
set_json nobody "{\"address\": \"$NOBODY\", \"user\": \"admin\", \"password\": \"$PASS\"}"
set_json unknown "{\"user\": \"admin\", \"pasword\": \"$PASS\"}"

# run SETTINGS OP: power_run in the namespace, the BMC address as the
# slot's BMC lease; sets OUT and SECS.
run() {
	local t0=$SECONDS
	OUT=$(in_ns bmc timeout 60 "$RUN" ipmi "$TMP/$1.json" "$2" usb0 \
		52:54:00:12:34:56 "$BMC" 2>&1)
	RC=$?
	SECS=$((SECONDS - t0))
}
expect() {	# SETTINGS OP WANT
	run "$1" "$2"
	local rc_want=0
	[ "${3%%:*}" = error ] && rc_want=1
	if [ "$OUT" = "$3" ] && [ "$RC" = "$rc_want" ]; then
		ok "$2 ($1): $OUT"
	else
		fail "$2 ($1): got '$OUT' (exit $RC), want '$3'"
	fi
}
qemu_pid() { [ -s "$TMP/qemu.pid" ] && kill -0 "$(cat "$TMP/qemu.pid")" 2>/dev/null &&
	cat "$TMP/qemu.pid"; }
# the VM's KCS connected to the BMC (ipmi_sim can hang when a VM is
# killed while it connects, so each power on waits for it)
kcs_up() { in_ns bmc ss -tnH state established "( sport = :$KCS_PORT )" |
	grep -q .; }
wait_qemu() {	# up|down: within 10 s
	local i
	for ((i = 0; i < 100; i++)); do
		if [ "$1" = up ]; then qemu_pid >/dev/null && kcs_up && return 0
		else qemu_pid >/dev/null || return 0; fi
		sleep 0.1
	done
	return 1
}
# the last Set System Boot Options request (netfn 0, cmd 8) for boot flags
boot_request() {
	tr -d '\r' <"$TMP/sim.log" | grep -A2 'netfn=0x0 cmd=0x8 ' |
		grep '^ 05 ' | tail -n 1 | sed 's/^ //'
}

expect admin status "ok state=off"
qemu_pid >/dev/null && fail "a VM runs before power on" || ok "no VM before power on"
expect admin on ok
wait_qemu up && ok "the VM runs (pid $(qemu_pid)), its KCS on the BMC" ||
	fail "no VM after power on"
expect admin status "ok state=on"
expect alt status "ok state=on"
expect lan status "ok state=on"

expect admin boot_net ok
check_eq "$(boot_request)" "05 80 04 00 00 00" \
	"boot_net: boot flags valid, next boot only, BIOS, PXE"
flags=$(in_ns bmc ipmi-chassis -h "$BMC" -u admin -p "$PASS" -l admin \
	--get-boot-flags 2>&1)
echo "$flags" | grep -q "Boot device selector *: Force PXE" &&
	ok "ipmi-chassis reads the boot device back: PXE" ||
	fail "ipmi-chassis: $flags"
check_eq "$(cat "$TMP/boot" 2>/dev/null)" pxe "the BMC's boot device"
expect efi boot_net ok
check_eq "$(boot_request)" "05 a0 04 00 00 00" "boot_net, boot_type efi: EFI"
expect admin boot_disk ok
check_eq "$(boot_request)" "05 c0 08 00 00 00" \
	"boot_disk: boot flags valid, persistent, BIOS, disk"
check_eq "$(cat "$TMP/boot" 2>/dev/null)" default "the BMC's boot device"

before=$(qemu_pid)
expect admin cycle ok
for ((i = 0; i < 100; i++)); do
	now=$(qemu_pid) && [ "$now" != "$before" ] && kcs_up && break
	sleep 0.1
done
[ -n "$now" ] && [ "$now" != "$before" ] &&
	ok "cycle: a new VM runs (pid $before, then $now)" ||
	fail "cycle: the VM did not restart (pid $before, now '${now:-}')"

expect admin off ok
wait_qemu down && ok "the VM is gone after power off" || fail "the VM still runs"
expect admin status "ok state=off"
expect admin cycle ok
wait_qemu up && ok "cycle of a server that is off powers it on" ||
	fail "no VM after cycle from off"
expect admin status "ok state=on"
expect admin off ok
wait_qemu down || fail "the VM still runs after the last off"

expect wrong status "error: BMC $BMC: wrong user or password"
[ "$SECS" -le 5 ] && ok "the wrong password is told in ${SECS}s" ||
	fail "the wrong password took ${SECS}s"
expect unknown status "error: unknown key \"pasword\" (the ipmi method takes address, port, user, password, protocol, cipher_suite, privilege, boot_type, sol, sol_workarounds)"
# POWER_TIMEOUT_MS is 15 s: the method gives up within it
t0=$(date +%s%N)
run nobody status
ms=$((($(date +%s%N) - t0) / 1000000))
if [[ $OUT =~ ^"error: BMC $NOBODY: no answer in "([0-9]+)" s"$ ]] &&
	[ "${BASH_REMATCH[1]}" -ge 10 ] && [ "${BASH_REMATCH[1]}" -le 15 ] &&
	[ "$ms" -ge 10000 ] && [ "$ms" -le 15500 ]; then
	ok "nobody at $NOBODY: '$OUT' after $ms ms (bound 15000)"
else
	fail "nobody at $NOBODY: '$OUT' after $ms ms (bound 15000)"
fi
finish
