# tests/lib_ipmi.sh — a BMC for the tests: OpenIPMI's ipmi_sim in a network
# namespace, whose chassis control starts and kills a QEMU VM and keeps
# the boot device. Sourced after tests/lib.sh (it uses TMP, on_exit,
# in_ns, wait_for).
#
#   ipmi_chassis QEMU-ARGS...  writes $TMP/chassis.sh: "set power 1" runs
#       qemu-system-x86_64 QEMU-ARGS (setsid, in the background, its pid in
#       $TMP/qemu.pid, its output in $TMP/qemu.log; IPMI_VM_WRAP, words
#       before it, say "ip netns exec NS" or "timeout 300"), "set power 0"
#       kills it and its children, "set boot DEV" keeps DEV in $TMP/boot;
#       every call is logged in $TMP/chassis.log ("power on" too).
#       With IPMI_BOOT_ORDER=1 the boot device also rules the VM's boot
#       order, as a BMC's does a server's firmware: QEMU-ARGS name the NIC
#       net0 and the disk disk0 (-device ...,id=net0 / id=disk0); the VM
#       starts paused with a QMP socket, and at power on and at each "set
#       boot" their bootindex becomes disk first for "default" (IPMI's
#       hard disk), else network first (QMP qom-set; QEMU reads it again
#       at the VM's next reset, so a reboot of the guest follows the BMC);
#       each order given is a line "order: ..." in chassis.log.
#   ipmi_lan_conf ADDR PORT PASS [LINE...]  writes $TMP/lan.conf: LAN
#       channel 1 on ADDR:PORT, user 2 "admin" with PASS (admin), the
#       chassis above, and each LINE inside the MC's block (a second LAN,
#       a "serial" or "sol" line).
#   ipmi_lan_lines ADDR PORT [GUID]  a LAN channel's lines, for more
#       channels (or more BMCs: tools/demo.sh).
#   ipmi_sim_start NS ADDR PORT [ipmi_sim args]  runs ipmi_sim in
#       namespace NS on $TMP/lan.conf (its console on a FIFO this shell
#       holds open, its output in $TMP/sim.log) and waits up to 5 s for
#       it to listen on ADDR:PORT; sets SIM_PID; stopped on exit.

ipmi_chassis() {
	local args="" a qmp=""
	for a in "$@"; do args+=" $(printf '%q' "$a")"; done
	[ "${IPMI_BOOT_ORDER:-}" != 1 ] ||
		qmp=" -S -qmp unix:$TMP/qmp.sock,server=on,wait=off"
	cat >"$TMP/chassis.sh" <<EOF
#!/bin/bash
d=$TMP
echo "\$*" >>\$d/chassis.log
alive() { [ -s \$d/qemu.pid ] && kill -0 "\$(cat \$d/qemu.pid)" 2>/dev/null; }
order() {	# [QMP COMMAND...]: the boot order the boot device says, then these
	local net=1 disk=2 c
	[ "\$(cat \$d/boot 2>/dev/null)" = default ] && net=2 disk=1
	echo "order: net0 \$net disk0 \$disk" >>\$d/chassis.log
	{
		echo '{"execute":"qmp_capabilities"}'
		for c in net0:8 disk0:9 disk0:\$disk net0:\$net; do
			echo "{\\"execute\\":\\"qom-set\\",\\"arguments\\":{\\"path\\":\\"/machine/peripheral/\${c%:*}\\",\\"property\\":\\"bootindex\\",\\"value\\":\${c#*:}}}"
		done
		for c in "\$@"; do echo "{\\"execute\\":\\"\$c\\"}"; done
		sleep 0.5
	} | socat -t 2 - UNIX-CONNECT:\$d/qmp.sock >>\$d/qmp.log 2>&1
}
op=\$1; shift
while [ \$# -gt 0 ]; do
	name=\$1; shift
	case \$op:\$name in
	get:power) alive && echo power:1 || echo power:0 ;;
	get:boot) echo "boot:\$(cat \$d/boot 2>/dev/null || echo none)" ;;
	set:power)
		if [ "\$1" = 1 ]; then
			alive || {
				echo "power on, boot \$(cat \$d/boot 2>/dev/null)" >>\$d/chassis.log
				rm -f \$d/qmp.sock
				setsid ${IPMI_VM_WRAP:-} qemu-system-x86_64$args$qmp \\
				    </dev/null >>\$d/qemu.log 2>&1 &
				echo \$! >\$d/qemu.pid
				if [ -n "$qmp" ]; then
					for i in \$(seq 50); do [ -S \$d/qmp.sock ] && break; sleep 0.1; done
					order system_reset cont
				fi
			}
		elif alive; then
			pid=\$(cat \$d/qemu.pid)
			pkill -P "\$pid"; kill "\$pid"
			for i in \$(seq 20); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.1; done
			kill -9 "\$pid" 2>/dev/null
		fi
		shift ;;
	set:boot) echo "\$1" >\$d/boot; shift
		[ -z "$qmp" ] || ! alive || order ;;
	*) exit 1 ;;
	esac
done
exit 0
EOF
	chmod +x "$TMP/chassis.sh"
	on_exit '[ -s "$TMP/qemu.pid" ] && pkill -9 -P "$(cat "$TMP/qemu.pid")"; [ -s "$TMP/qemu.pid" ] && kill -9 "$(cat "$TMP/qemu.pid")"'
}

# The LAN channel's lines: any login type, the privilege up to admin
# (tools/demo.sh uses them too, for each of its BMCs).
ipmi_lan_lines() {	# ADDR PORT [GUID]
	cat <<EOF
    addr $1 $2
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid ${3:-a123456789abcdefa123456789abcdef}
EOF
}

ipmi_lan_conf() {
	local addr=$1 port=$2 pass=$3 l
	shift 3
	{
		echo 'name "rackbmc"'
		echo 'set_working_mc 0x20'
		echo '  startlan 1'
		ipmi_lan_lines "$addr" "$port"
		echo '  endlan'
		for l in "$@"; do echo "  $l"; done
		echo "  chassis_control \"$TMP/chassis.sh\""
		echo '  poweroff_wait 2'
		echo '  kill_wait 2'
		echo "  user 2 true \"admin\" \"$pass\" admin 10 none md2 md5 straight"
	} >"$TMP/lan.conf"
}

ipmi_sim_start() {
	local ns=$1 addr=$2 port=$3
	shift 3
	cat >"$TMP/bmc.emu" <<'EOF'
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
mc_enable 0x20
EOF
	[ -z "${IPMI_SIM_DEBUG:-}" ] || echo "debug msg" >>"$TMP/bmc.emu"
	mkdir -p "$TMP/simstate"
	mkfifo "$TMP/sim.in"
	in_ns "$ns" stdbuf -oL ipmi_sim -c "$TMP/lan.conf" -f "$TMP/bmc.emu" \
		-s "$TMP/simstate" "$@" <"$TMP/sim.in" >"$TMP/sim.log" 2>&1 &
	SIM_PID=$!
	exec 7>"$TMP/sim.in"
	on_exit "exec 7>&-; kill $SIM_PID; sleep 0.2; kill -9 $SIM_PID"
	wait_for 50 sh -c "ip netns exec $NS-$ns ss -uln | grep -q '$addr:$port'" ||
		{ echo "ipmi_sim did not start"; cat "$TMP/sim.log"; exit 1; }
}
