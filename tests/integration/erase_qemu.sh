#!/bin/bash
# Erase end to end: a virtual server (QEMU, software emulation) boots the
# clone environment from rackd over a tap management link and its agent
# erases the disk. An NVMe disk (-device nvme) full of random bytes with
# method auto: the job's events say NVMe Format NVM ran and what was
# checked, and the disk file reads all zeros. A virtio disk with method
# overwrite: the same. After each erase the server powers itself off (the
# VM ends) instead of booting its empty disk. Also the API's refusals and
# the agent's note endpoint (POST /api/v1/agent/jobs/ID/event).
# ERASE_CASES picks the cases ("nvme virtio" here; erase_sata_qemu.sh runs
# "sata": a SATA disk, ahci + ide-hd, with auto; erase_cancel_qemu.sh
# "cancel": an overwrite cancelled midway), so that each test stays within
# three minutes under TCG.
CASES=" ${ERASE_CASES:-nvme virtio} "
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/initrd.img" ] || { echo "no clone initramfs: make pxe"; exit 1; }

ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start --links 'usb*' --pxe-dir "$TOP/build/pxe" --boot-timeout 10m
wait_for 50 sh -c "[ \"\$(${WRAP[*]} curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $TOKEN' $URL/api/v1/nodes/usb5)\" = 200 ]" ||
	{ echo "no node usb5"; exit 1; }

# ---- the API's refusals ----
refusals() {
api POST /api/v1/nodes/usb5/erase -d '{"method":"shred"}' >/dev/null
check_error 400 "erase with an unknown method"
check_jq '.error | test("auto") and test("overwrite")' "the refusal names the methods"
api POST /api/v1/nodes/usb5/erase -d '{"method":"auto","disk":"sda"}' >/dev/null
check_error 400 "erase with an unknown key"
api POST /api/v1/nodes/usb5/erase -d '{"method":1}' >/dev/null
check_error 400 "erase with a method that is not a string"
api POST /api/v1/nodes/nosuch/erase -d '{"method":"auto"}' >/dev/null
check_error 404 "erase of a slot without a node"
"${WRAP[@]}" curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"method":"auto"}' \
	"$URL/api/v1/nodes/usb5/erase" >"$TMP/st"
check_eq "$(cat "$TMP/st")" 401 "erase without a token is refused"
# rackctl without --yes and without a terminal: it names the slot, says
# its disks are not known (no inventory yet) and refuses.
RACKD_TOKEN=$TOKEN "${WRAP[@]}" "$RACKCTL" erase "$URL" usb5 </dev/null >/dev/null 2>"$TMP/rackctl.err"
check_eq "$?" 1 "rackctl erase without --yes and no terminal is refused"
if grep -q "not known yet" "$TMP/rackctl.err" && grep -q "add --yes" "$TMP/rackctl.err"; then
	ok "rackctl says the disks are not known yet and asks for --yes"
else
	fail "rackctl erase said: $(cat "$TMP/rackctl.err")"
fi
check_eq "$(sql "SELECT count(*) FROM jobs WHERE action = 'erase'")" 0 "no erase job was made"
RACKD_TOKEN=$TOKEN "$RACKCTL" erase "$URL" usb5 --method shred --yes >/dev/null 2>&1
check_eq "$?" 2 "rackctl erase --method shred is a usage error"
}

# vm NAME DEVICE DISK [QEMU ARGS]: runs the server until it powers off (bounded); the
# serial console goes to $TMP/NAME.serial.
vm() {
	local name=$1 dev=$2 disk=$3
	shift 3
	timeout "${VM_TIMEOUT:-300}" ip netns exec "$NS-rack" qemu-system-x86_64 -accel tcg -m 512 \
		-display none -monitor none -serial "file:$TMP/$name.serial" \
		-netdev tap,id=n0,ifname=usb5,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,bootindex=1 \
		-drive "if=none,id=d0,file=$disk,format=raw,discard=unmap" \
		"$@" -device "$dev,drive=d0" >"$TMP/$name.qemu" 2>&1
	VM_RC=$?
}

# erase NAME METHOD DEVICE [QEMU ARGS]: queues the job, runs the VM; checks the job is
# done, the VM powered off and the disk reads zeros; sets JOB, EVENTS.
erase() {
	local name=$1 method=$2 dev=$3 disk=$TMP/$1.disk start secs size
	shift 3
	truncate -s 64M "$disk"
	head -c 64M /dev/urandom | dd of="$disk" conv=notrunc status=none
	if [ -n "${BY_RACKCTL:-}" ]; then
		RACKD_TOKEN=$TOKEN "${WRAP[@]}" "$RACKCTL" erase "$URL" usb5 --method "$method" --yes --json \
			>"$TMP/job.json" 2>"$TMP/rackctl.err"
		check_eq "$?" 0 "$name: rackctl erase --yes queues the erase ($method)"
		grep -q "Erase the disk of slot usb5" "$TMP/rackctl.err" &&
			ok "$name: rackctl names the slot" || fail "$name: rackctl did not name the slot: $(cat "$TMP/rackctl.err")"
	else
		api POST /api/v1/nodes/usb5/erase -d "{\"method\":\"$method\"}" >"$TMP/job.json"
		check_status 202 "$name: erase ($method) queued"
	fi
	JOB=$(jq -r .id "$TMP/job.json")
	check_eq "$(jq -r '.action + " " + .params.method' "$TMP/job.json")" "erase $method" \
		"$name: the job is an erase with its method"
	[ -n "${BEFORE_VM:-}" ] && "$BEFORE_VM"
	start=$(date +%s)
	vm "$name" "$dev" "$disk" "$@"
	secs=$(( $(date +%s) - start ))
	check_eq "$VM_RC" 0 "$name: the server powered itself off (${secs}s)"
	check_eq "$(job_field "$JOB" .state)" done "$name: job $JOB done"
	EVENTS=$(job_field "$JOB" '.events[] | .message')
	printf '%s\n' "$EVENTS" | sed 's/^/    /'
	if grep -aq "powering off" "$TMP/$name.serial"; then
		ok "$name: the agent powered off instead of booting the erased disk"
	else
		fail "$name: no 'powering off' on the console"
		tail -c 3000 "$TMP/$name.serial"
	fi
	size=$(stat -c %s "$disk")
	if cmp -s -n "$size" "$disk" /dev/zero; then
		ok "$name: all $size bytes of the disk read zeros"
	else
		fail "$name: the disk still holds data: $(cmp -n "$size" "$disk" /dev/zero 2>&1 | head -n 1)"
	fi
	has_event "verified: all 258 samples" "$name: the events say what was checked"
}
has_event() {	# TEXT WHAT
	if printf '%s\n' "$EVENTS" | grep -qF "$1"; then ok "$2"; else fail "$2: no event with '$1'"; fi
}

# ---- the note endpoint, on the first job before its server boots ----
notes() {
	local tok
	tok=$(job_token "$JOB")
	note() {	# BODY: posts it with the job's token; sets STATUS
		STATUS=$("${WRAP[@]}" curl -s -o "$TMP/note.out" -w '%{http_code}' \
			-H "Authorization: Bearer $tok" -d "$1" "$URL/api/v1/agent/jobs/$JOB/event")
	}
	"${WRAP[@]}" timeout 4 curl -s -N -H "Authorization: Bearer $TOKEN" \
		"$URL/api/v1/events" >"$TMP/events.sse" 2>/dev/null &
	local sse=$!
	sleep 0.5
	note '{"message":"test note: 1 2 3"}'
	check_eq "$STATUS" 200 "a note of the agent is taken"
	note '{"message":""}'; check_eq "$STATUS" 400 "an empty note is refused"
	note "{\"message\":\"$(head -c 200 /dev/zero | tr '\0' x)\"}"
	check_eq "$STATUS" 400 "a note of 200 characters is refused"
	note '{"message":"bell\u0007"}'; check_eq "$STATUS" 400 "a note with a control character is refused"
	note '{"message":"nul\u0000x"}'; check_eq "$STATUS" 400 "a note with a NUL is refused"
	note '{"message":"caf\u00e9"}'; check_eq "$STATUS" 400 "a note that is not ASCII is refused"
	note '{"message":"a","state":"done"}'; check_eq "$STATUS" 400 "a note with another key is refused"
	note '["message"]'; check_eq "$STATUS" 400 "a note that is not an object is refused"
	STATUS=$("${WRAP[@]}" curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		-d '{"message":"x"}' "$URL/api/v1/agent/jobs/$JOB/event")
	check_eq "$STATUS" 401 "a note with the API token (not the job's) is refused"
	check_eq "$(job_field "$JOB" '[.events[] | select(.message == "test note: 1 2 3")] | length')" 1 \
		"the note is one event of the job"
	wait "$sse"
	if grep -q '^event: job_event' "$TMP/events.sse" && grep -q 'test note: 1 2 3' "$TMP/events.sse"; then
		ok "the note is a job_event on /api/v1/events"
	else
		fail "no job_event on /api/v1/events: $(head -c 500 "$TMP/events.sse")"
	fi
}

case $CASES in *" nvme "*)
	refusals
	BEFORE_VM=notes erase nvme auto nvme,serial=ERASE-NVME-1
	has_event "auto: NVMe Format NVM (user data erase)" "nvme: the events say Format NVM ran"
	has_event "NVMe QEMU NVMe Ctrl (serial ERASE-NVME-1)" "nvme: the events name the controller and its serial"
	has_event "erased by NVMe Format NVM" "nvme: the last event says the method that erased"
	;;
esac
case $CASES in *" virtio "*)
	BEFORE_VM= BY_RACKCTL=1 erase virtio overwrite virtio-blk-pci,serial=ERASE-VIRTIO-1
	has_event "erase /dev/vda of 64.0 MiB (rule largest), method overwrite" "virtio: the events name the disk and the method"
	has_event "erased by overwrite with zeros" "virtio: the events say the overwrite ran"
	api GET "/api/v1/jobs/$JOB" >/dev/null
	check_jq '.bytes_done == 67108864 and .bytes_total == 67108864' \
		"virtio: the job's size is the disk's (the agent's bytes_total) and its progress reached it"
	;;
esac
case $CASES in *" sata "*)
	# QEMU's IDE disk has no ATA Security feature set: auto says so and
	# goes on to the discard (TRIM, discard=unmap), which reads zeros.
	BEFORE_VM= erase sata auto ide-hd,bus=ahci0.0,serial=ERASE-SATA-1 -device ahci,id=ahci0
	has_event "auto: ATA not used: ATA QEMU HARDDISK: the Security feature set is not supported" \
		"sata: the events say ATA secure erase was not used, and why"
	has_event "auto: NVMe not used: not an NVMe disk" "sata: the events say NVMe was not used"
	has_event "erased by discard (BLKDISCARD) of the whole disk" "sata: the events say the discard erased it"
	;;
esac
case $CASES in *" cancel "*)
	# An overwrite cancelled midway: the agent stops, and says what the
	# disk holds (zeros up to where it got, the rest untouched).
	disk=$TMP/cancel.disk
	truncate -s 1G "$disk"
	head -c 16M /dev/urandom | dd of="$disk" conv=notrunc status=none
	# Old data between them too (bytes 0xaa), to tell where the zeros end.
	head -c 992M /dev/zero | tr '\0' '\252' | dd of="$disk" bs=1M seek=16 conv=notrunc status=none
	head -c 16M /dev/urandom | dd of="$disk" bs=1M seek=1008 conv=notrunc status=none
	api POST /api/v1/nodes/usb5/erase -d '{"method":"overwrite"}' >"$TMP/job.json"
	check_status 202 "cancel: erase (overwrite) queued"
	JOB=$(jq -r .id "$TMP/job.json")
	vm cancel virtio-blk-pci "$disk" -no-reboot &
	vmpid=$!
	on_exit "kill $vmpid"
	for ((i = 0; i < 600; i++)); do
		[ "$(job_field "$JOB" '.state == "streaming" and .bytes_done > 16777216')" = true ] && break
		kill -0 "$vmpid" 2>/dev/null || break
		sleep 0.5
	done
	check_eq "$(job_field "$JOB" .state)" streaming "cancel: the overwrite is under way"
	api POST "/api/v1/jobs/$JOB/cancel" -d '{}' >/dev/null
	check_status 200 "cancel: the job is cancelled midway"
	wait "$vmpid"
	check_eq "$(job_field "$JOB" .state)" failed "cancel: the job failed (cancelled)"
	if grep -aq "the disk is partly erased: zeros over its first" "$TMP/cancel.serial"; then
		ok "cancel: the agent says what the disk holds: $(grep -ao 'the disk is partly erased[^[:cntrl:]]*' "$TMP/cancel.serial" | head -n 1)"
	else
		fail "cancel: the agent did not say what the disk holds"
		tail -c 2000 "$TMP/cancel.serial"
	fi
	# The job's events say what the disk holds: rackd's note at the
	# cancel (the method and its last progress report) and the agent's
	# own last word, taken after the cancel without reopening the job.
	EVENTS=$(job_field "$JOB" '.events[] | .message')
	printf '%s\n' "$EVENTS" | sed 's/^/    /'
	if printf '%s\n' "$EVENTS" | grep -Eq '^cancelled during overwrite at [0-9]+% \([0-9.]+ MiB of 1\.0 GiB\): the disk is partly erased: zeros over its first [0-9.]+ MiB'; then
		ok "cancel: rackd's note says the overwrite was cancelled midway and how far the zeros got"
	else
		fail "cancel: no note of rackd's on the disk's state"
	fi
	last=$(printf '%s\n' "$EVENTS" | grep '^the agent, after the cancel: the disk is partly erased: zeros over its first' | head -n 1)
	if [ -n "$last" ]; then
		ok "cancel: the agent's last word is an event of the job"
	else
		fail "cancel: the agent's note after the cancel is not an event of the job"
	fi
	# The agent's byte count: zeros up to there, old data just after.
	upto=$(printf '%s\n' "$last" | sed -n 's/.*(bytes 0 to \([0-9]*\)).*/\1/p')
	if [ -n "$upto" ] && [ "$upto" -ge 16777216 ] && cmp -s -n "$upto" "$disk" /dev/zero &&
		[ "$upto" -lt 1073741824 ] && ! cmp -s -n 1048576 -i "$upto:0" "$disk" /dev/zero; then
		ok "cancel: the disk agrees with the agent's note (zeros over bytes 0 to $upto, not after)"
	else
		fail "cancel: the disk does not agree with the agent's note (up to '${upto}')"
	fi
	check_eq "$(job_field "$JOB" .state)" failed "cancel: the job stays failed after the agent's note"
	check_eq "$(job_field "$JOB" '[.events[] | select(.message | startswith("the agent, after the cancel")) | .state] | unique | join(",")')" failed \
		"cancel: the notes after the cancel are events of the failed job"
	tok=$(job_token "$JOB")
	st=$("${WRAP[@]}" curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
		-d '{"state":"streaming","bytes_done":1}' "$URL/api/v1/agent/jobs/$JOB/report")
	check_eq "$st" 409 "cancel: the job's token no longer reports progress"
	n=0
	for i in 1 2 3 4 5; do
		st=$("${WRAP[@]}" curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
			-d '{"message":"late note"}' "$URL/api/v1/agent/jobs/$JOB/event")
		[ "$st" = 200 ] && n=$((n + 1))
	done
	# The agent used one of the three notes of the grace.
	check_eq "$n" 2 "cancel: the grace takes a bounded count of notes (the rest 409)"
	cmp -s -n 16777216 "$disk" /dev/zero && ok "cancel: the start of the disk is zeros" ||
		fail "cancel: the start of the disk is not zero"
	if cmp -s -n 16777216 -i 1056964608:0 "$disk" /dev/zero; then
		fail "cancel: the end of the disk was erased too"
	else
		ok "cancel: the end of the disk is untouched, as the agent says"
	fi
	;;
esac
finish
