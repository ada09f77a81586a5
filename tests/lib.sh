# tests/lib.sh — shared helpers for the integration tests (bash).
# A test sources this, calls rackd_start, drives it with curl, and calls
# ok/fail/check_*; everything it started is stopped and removed on exit,
# also when it fails.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# RACKD_BUILD=build/asan tests another build of the programs (make asan).
BUILD_DIR="$TOP/${RACKD_BUILD:-build}"
RACKD="$BUILD_DIR/rackd"
RACKCTL="$BUILD_DIR/rackctl"
TMP=$(mktemp -d /tmp/rackd-test.XXXXXX)
chmod 755 "$TMP"	# dnsmasq, as its own user, reads rackd's state dir
FAILS=0
CLEANUP=()

cleanup() {
	local i
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

on_exit() { CLEANUP+=("$*"); }

ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed"
		[ -n "${RACKD_LOG:-}" ] && [ -f "$RACKD_LOG" ] && {
			echo "--- rackd log (last 40 lines)"; tail -n 40 "$RACKD_LOG"; }
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

# A free TCP port on loopback.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# rackd_start [extra rackd options...]: runs rackd in the foreground in the
# background with a fresh state dir; sets PORT, URL, STATE, TOKEN, RACKD_PID.
# With RACKD_NS=NAME it runs in that namespace (made with ns_add), listening
# on all its addresses, and the helpers below talk to it there.
WRAP=()
rackd_start() {
	local listen
	PORT=${PORT:-$(free_port)}
	URL="http://127.0.0.1:$PORT"
	STATE=${STATE:-$TMP/state}
	RACKD_LOG=${RACKD_LOG:-$TMP/rackd.log}
	listen="127.0.0.1:$PORT"
	if [ -n "${RACKD_NS:-}" ]; then
		WRAP=(ip netns exec "$NS-$RACKD_NS")
		listen="${RACKD_LISTEN:-0.0.0.0}:$PORT"
	fi
	"${WRAP[@]}" "$RACKD" -d --state-dir "$STATE" --listen "$listen" "$@" \
		>>"$RACKD_LOG" 2>&1 &
	RACKD_PID=$!
	on_exit "kill -9 $RACKD_PID"
	wait_http "$URL/healthz" || { echo "rackd did not start"; cat "$RACKD_LOG"; exit 1; }
	TOKEN=$(cat "$STATE/api.token")
}

# descendant PID NAME: the pid of a process named NAME below PID (rackd's
# dnsmasq runs under a keeper, under rackd's privileged helper).
descendant() {
	local want=$1 name=$2
	ps -e -o pid=,ppid=,comm= | awk -v root="$want" -v name="$name" '
		{ parent[$1] = $2; comm[$1] = $3 }
		END { for (p in comm) if (comm[p] == name) {
			for (q = parent[p]; q > 1; q = parent[q]) if (q == root) { print p; exit } } }'
}

rackd_stop() {	# SIGTERM and wait (bounded)
	kill -TERM "$RACKD_PID" 2>/dev/null
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$RACKD_PID" 2>/dev/null || { wait "$RACKD_PID" 2>/dev/null; return 0; }
		sleep 0.1
	done
	echo "rackd did not stop in 10 s"
	return 1
}

wait_http() {	# URL: wait up to 10 s for any answer
	local i
	for ((i = 0; i < 100; i++)); do
		"${WRAP[@]}" curl -s -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
	done
	return 1
}

# api METHOD PATH [curl args...]: prints the body; the status goes to $STATUS.
api() {
	local m=$1 p=$2
	shift 2
	local out
	out=$("${WRAP[@]}" curl -s -X "$m" -H "Authorization: Bearer $TOKEN" \
		-w '\n%{http_code}' --max-time 10 "$@" "$URL$p")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	printf '%s' "$BODY"
}

# check_status WANT WHAT: compares $STATUS.
check_status() {
	if [ "$STATUS" = "$1" ]; then ok "$2 ($1)"; else fail "$2: status $STATUS, want $1; body: ${BODY:0:300}"; fi
}

check_eq() {	# GOT WANT WHAT
	if [ "$1" = "$2" ]; then ok "$3"; else fail "$3: got '$1', want '$2'"; fi
}

# check_jq FILTER WHAT: the last body ($BODY) satisfies the jq filter.
check_jq() {
	if printf '%s' "$BODY" | jq -e "$1" >/dev/null 2>&1; then ok "$2"
	else fail "$2: $1 is false for ${BODY:0:300}"; fi
}

# check_error STATUS WHAT: the status, and a JSON body {"error": "..."}.
check_error() {
	check_status "$1" "$2"
	if ! printf '%s' "$BODY" | jq -e '.error | type == "string" and length > 0' >/dev/null 2>&1; then
		fail "$2: not a JSON error body: ${BODY:0:200}"
	fi
}

# raw METHOD PATH [curl args]: no token; the head to $H, the body to $B
# (and its first 4 KiB to $BODY), the status to $STATUS.
H=$TMP/headers
B=$TMP/body
raw() {
	local m=$1 p=$2
	shift 2
	rm -f "$H" "$B"
	STATUS=$("${WRAP[@]}" curl -s -X "$m" -D "$H" -o "$B" -w '%{http_code}' \
		--max-time 10 "$@" "$URL$p")
	touch "$H" "$B"	# curl writes no file for an empty body
	BODY=$(head -c 4096 "$B" | tr -d '\0')
}
# hdr NAME: the last value of header NAME in $H.
hdr() { grep -i "^$1:" "$H" | tail -n 1 | cut -d' ' -f2- | tr -d '\r'; }

# metric NAME [URL]: the value of one /metrics line, given its name and
# labels (empty if there is none); rackd at $URL unless given.
metric() {
	"${WRAP[@]}" curl -s --max-time 5 "${2:-$URL}/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}

# wait_for TRIES CMD...: run CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
	return 1
}

# ---- jobs and images on the rackd of rackd_start ---------------------------
# sql QUERY: a query on rackd's database (waiting out its lock).
sql() { sqlite3 -cmd '.timeout 5000' "$STATE/rackd.db" "$1"; }
# job_token ID: the agent token of job ID (handed out by the boot script).
job_token() { sql "SELECT token FROM jobs WHERE id = $1"; }
# job_field ID FILTER: a field of GET /api/v1/jobs/ID.
job_field() {
	api GET "/api/v1/jobs/$1" >/dev/null
	printf '%s' "$BODY" | jq -r "$2"
}
# job_ended ID: job ID is done or failed.
job_ended() { case "$(job_field "$1" .state)" in done | failed) return 0 ;; esac; return 1; }
# reimage SLOT IMAGE: queues a job (a check); sets JOB and JOB_TOKEN.
reimage() {
	api POST "/api/v1/nodes/$1/reimage" -d "{\"image\":\"$2\"}" >/dev/null
	check_status 202 "reimage $1 with $2 queued"
	JOB=$(printf '%s' "$BODY" | jq -r .id)
	JOB_TOKEN=$(job_token "$JOB")
	[ -n "$JOB_TOKEN" ] || fail "no token for job $JOB in the database"
}
# wait_image NAME VERSION [TRIES]: until rackd lists it (after SIGHUP),
# TRIES times 0.1 s (100: 10 s).
wait_image() {
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		api GET "/api/v1/images/$1" >/dev/null
		if printf '%s' "$BODY" | jq -e --arg v "$2" \
		    '[.. | objects | select(.version? == $v)] | length > 0' >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
# image_import FILE NAME:VERSION [rackctl args]: rackctl image import into
# rackd's store (a failure is a failed check).
image_import() {
	local f=$1 ref=$2
	shift 2
	"$RACKCTL" image import "$f" --name "$ref" --store "$STATE/store" -q "$@" >/dev/null ||
		fail "rackctl image import $ref"
}

# test_images: test:1 (random, a zero slot, random: 427680 bytes) and
# test:2 (random) in 64 KiB chunks, indexed by SIGHUP (a check); sets
# MANIFEST (test:1's), HASH, CHUNK and SIZE (its first chunk's file).
test_images() {
	{ head -c 262144 /dev/urandom; head -c 65536 /dev/zero; head -c 100000 /dev/urandom; } >"$TMP/disk1.img"
	head -c 200000 /dev/urandom >"$TMP/disk2.img"
	image_import "$TMP/disk1.img" test:1 --chunk-size 64K
	image_import "$TMP/disk2.img" test:2 --chunk-size 64K
	kill -HUP "$RACKD_PID"
	wait_for 50 test_images_in && ok "SIGHUP indexes the imported images" ||
		fail "images not indexed: $BODY"
	MANIFEST=$STATE/store/manifests/test/1.json
	HASH=$(jq -r '.chunks[0].hash' "$MANIFEST")
	CHUNK=$STATE/store/chunks/${HASH:0:2}/$HASH
	SIZE=$(stat -c %s "$CHUNK")
}
test_images_in() { api GET /api/v1/images/test >/dev/null; [ "$STATUS" = 200 ] &&
	[ "$(printf '%s' "$BODY" | jq '.versions | length')" = 2 ]; }

# ---- rack-agent --------------------------------------------------------------
AGENT=${AGENT:-$BUILD_DIR/rack-agent}	# AGENT=... runs another build (sanitizers)
AGENT_TIMEOUT=120			# seconds, any one agent run
# run_agent LOG [args...]: the agent on $DISK, bounded in time; sets RC.
run_agent() {
	local log=$1
	shift
	timeout -k 5 "$AGENT_TIMEOUT" "$AGENT" --no-reboot --cmdline /dev/null \
		--disk "dev:$DISK" "$@" >"$log" 2>&1
	RC=$?
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		fail "the agent ran longer than $AGENT_TIMEOUT s"
	fi
}
show_log() {	# LOG: on failure, the agent's console
	echo "--- $1"
	tail -n 30 "$1"
}

# ---- network namespaces (root only) --------------------------------------
# ns_add NAME: a new namespace "$NS-NAME" with lo up, removed on exit.
NS="rt$$"
ns_add() {
	ip netns add "$NS-$1" || { echo "cannot make namespace $NS-$1"; exit 1; }
	on_exit "ip netns del $NS-$1"
	ip -n "$NS-$1" link set lo up
}
# in NAME command...: run in namespace NAME.
in_ns() { local n=$1; shift; ip netns exec "$NS-$n" "$@"; }
# veth_link RACKNS RACKIF NODENS [NODEIF [MAC]]: a veth pair standing in for
# a USB link; the node end is brought up.
veth_link() {
	local mac=${5:+address $5}
	ip link add "$2" netns "$NS-$1" type veth peer name "${4:-eth0}" $mac \
		netns "$NS-$3" || return 1
	ip -n "$NS-$3" link set "${4:-eth0}" up
}
# dhcp NS [IF]: busybox udhcpc, one try of a few seconds; prints
# "ADDR HOSTNAME" and configures the address, or fails.
dhcp() {
	local script=$TMP/udhcpc.sh
	[ -x "$script" ] || {
		cat >"$script" <<'EOS'
#!/bin/sh
if [ "$1" = bound ]; then
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	echo "$ip ${hostname:-}" >"${UDHCPC_OUT:-/dev/stdout}"
fi
exit 0
EOS
		chmod +x "$script"
	}
	UDHCPC_OUT=$TMP/dhcp.$1 in_ns "$1" timeout 15 busybox udhcpc -i "${2:-eth0}" \
		-n -q -t "${DHCP_TRIES:-4}" -T 1 -s "$script" >>"$TMP/udhcpc.log" 2>&1 &&
		cat "$TMP/dhcp.$1"
}

# ---- QEMU (root only) ------------------------------------------------------
# pxe_vm SERIAL [MEM_MIB [ACCEL]]: sets VM to the command line of a server
# with no disk (QEMU, BIOS and its own iPXE ROM) that boots from the network
# on the tap usb5 in the rack namespace (ns_add rack), its serial console to
# the file SERIAL. The caller runs "${VM[@]}" as it needs (in the
# background, under timeout), so that its pid is QEMU's.
pxe_vm() {
	VM=(ip netns exec "$NS-rack" qemu-system-x86_64 -accel "${3:-tcg}"
		-m "${2:-256}" -display none -monitor none -serial "file:$1"
		-netdev tap,id=n0,ifname=usb5,script=no,downscript=no
		-device virtio-net-pci,netdev=n0 -boot n)
}

# boot_vm KIND NAME [DISK]: sets VM to the command line of a server (QEMU
# q35 under OVMF, or the default machine under SeaBIOS) that boots the
# network first on the tap usb5 of the rack namespace, then DISK (a raw
# file) if given; its serial console goes to $TMP/NAME.serial and OVMF's
# variables are a fresh copy in $TMP/NAME.vars. KIND:
#   bios    SeaBIOS with the NIC's iPXE option ROM (QEMU's own);
#   uefi    OVMF's PXE (no option ROM), which TFTPs iPXE's snponly.efi;
#   secure  OVMF enforcing Secure Boot with Microsoft's keys (.ms.fd, SMM);
#   http    OVMF with PXE off (fw_cfg): UEFI HTTP boot only.
# VM_MEM sets the MiB (768). The caller runs "${VM[@]}" (under timeout, in
# the background or not) so that its pid is QEMU's.
boot_vm() {
	local kind=$1 name=$2 disk=${3:-} code=/usr/share/OVMF/OVMF_CODE_4M.fd
	local vars=/usr/share/OVMF/OVMF_VARS_4M.fd fw=() nic=,bootindex=1,romfile=
	case $kind in
	bios) nic=,bootindex=1 ;;
	uefi) ;;
	secure) code=/usr/share/OVMF/OVMF_CODE_4M.ms.fd vars=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
		fw=(-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on) ;;
	http) fw=(-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n
		-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n) ;;
	*) echo "boot_vm: no kind $kind" >&2; return 1 ;;
	esac
	if [ "$kind" != bios ]; then
		[ "$kind" = secure ] || fw=(-machine q35 "${fw[@]}")
		cp "$vars" "$TMP/$name.vars" || return 1
		fw+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
			-drive "if=pflash,format=raw,unit=1,file=$TMP/$name.vars")
	fi
	VM=(ip netns exec "$NS-rack" qemu-system-x86_64 -accel tcg -m "${VM_MEM:-768}"
		"${fw[@]}" -display none -monitor none -serial "file:$TMP/$name.serial"
		-netdev tap,id=n0,ifname=usb5,script=no,downscript=no
		-device "virtio-net-pci,netdev=n0$nic")
	[ -z "$disk" ] || VM+=(-drive "if=none,id=d0,file=$disk,format=raw"
		-device virtio-blk-pci,drive=d0,bootindex=2)
}

# inventory_vm KIND NAME NVME_SERIAL: boot_vm KIND NAME, made the virtual
# server of the inventory test: known SMBIOS strings (RackTest Inc,
# RT-1000, SN-4242, $INV_UUID), NIC MAC 52:54:00:12:34:56, and two disks
# with serials, $TMP/vda.img (virtio-blk, VBLK-0001, 96 MiB) and
# $TMP/nvme.img (NVMe, NVME_SERIAL, 64 MiB), made if missing; QEMU ends
# when the agent reboots it (-no-reboot).
INV_UUID=5e1f4c2a-0b3d-4c6e-8f70-91a2b3c4d5e6
inventory_vm() {
	[ -f "$TMP/vda.img" ] || truncate -s 96M "$TMP/vda.img" || return 1
	[ -f "$TMP/nvme.img" ] || truncate -s 64M "$TMP/nvme.img" || return 1
	boot_vm "$1" "$2" || return 1
	VM+=(-no-reboot
		-smbios "type=1,manufacturer=RackTest Inc,product=RT-1000,serial=SN-4242,uuid=$INV_UUID"
		-global virtio-net-pci.mac=52:54:00:12:34:56
		-drive "if=none,id=d0,file=$TMP/vda.img,format=raw"
		-device virtio-blk-pci,drive=d0,serial=VBLK-0001
		-drive "if=none,id=d1,file=$TMP/nvme.img,format=raw"
		-device "nvme,drive=d1,serial=$3")
}

# stamp_log: from now on $STAMPED holds rackd's log, each line stamped
# with the time it was read (dnsmasq's own lines carry none): "EPOCH.USEC
# LINE". at_line FROM PATTERN: when the first line after line FROM of
# $STAMPED matching PATTERN (grep -E) was written, or nothing.
stamp_log() {
	STAMPED=$TMP/stamped.log
	tail --pid="$RACKD_PID" -n +1 -F "$RACKD_LOG" 2>/dev/null | while IFS= read -r l; do
		printf '%s %s\n' "$EPOCHREALTIME" "$l"
	done >"$STAMPED" &
	on_exit "kill $!"
}
at_line() {
	local l
	l=$(tail -n +"$(($1 + 1))" "$STAMPED" | grep -m1 -E "$2") || return 0
	printf '%s' "${l%% *}"
}

# KEEP=1 keeps the temporary folder (for a look after a failure).
if [ -n "${KEEP:-}" ]; then
	trap 'echo "kept $TMP"; for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[$i]}" >/dev/null 2>&1 || true; done' EXIT
fi
