#!/bin/bash
# UEFI HTTP boot end to end: OVMF's own network stack (no iPXE option ROM,
# PXE turned off by fw_cfg) asks DHCP as "HTTPClient" (client-arch 16);
# dnsmasq answers with http://BOARD:PORT/pxe/snponly.efi (and option 60
# HTTPClient), iPXE runs the slot's boot script, the clone environment
# reimages the disk, and up to there TFTP is never used. (The local boot
# after it is iPXE chaining GRUB, which fetches its files over TFTP.)
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -f "$TOP/build/pxe/initrd.img" ] || { echo "no clone initramfs: make pxe"; exit 1; }

sh "$TOP/tests/images/make-bootable.sh" "$TMP/v1.img" "image-http1" 64
ns_add rack
ip -n "$NS-rack" tuntap add usb5 mode tap
RACKD_NS=rack rackd_start --links 'usb*' --pxe-dir "$TOP/build/pxe" --boot-timeout 10m
"$RACKCTL" image import "$TMP/v1.img" --name "http:1" --store "$STATE/store" \
	>"$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; exit 1; }
kill -HUP "$RACKD_PID"
wait_image http 1 || fail "image http:1 not indexed"
for ((i = 0; i < 50; i++)); do
	[ "$(api GET /api/v1/nodes/usb5 | jq -r .link.state)" = up ] && break
	sleep 0.2
done
grep -q "dhcp-option-force=tag:httpboot,60,HTTPClient" "$STATE/dnsmasq/dnsmasq.conf" &&
	ok "dnsmasq answers HTTPClient with option 60" || fail "no option 60 for HTTP boot"
addr=$(api GET /api/v1/nodes/usb5 | jq -r .link.board_addr)
grep -q "dhcp-boot=tag:!ipxe,tag:httpboot,tag:s0,http://$addr:$PORT/pxe/snponly.efi" \
	"$STATE/dnsmasq/dnsmasq.conf" && ok "the HTTP boot URL of slot usb5" || fail "no HTTP boot URL"

api POST /api/v1/nodes/usb5/reimage -d '{"image":"http:1"}' >"$TMP/job.json"
check_status 202 "reimage queued"
JOB=$(jq -r .id "$TMP/job.json")
lines=$(wc -l <"$RACKD_LOG")
truncate -s 64M "$TMP/disk"
boot_vm http vm "$TMP/disk"
start=$(date +%s)
timeout "${VM_TIMEOUT:-500}" "${VM[@]}" >"$TMP/qemu.log" 2>&1
secs=$(( $(date +%s) - start ))
check_eq "$(api GET "/api/v1/jobs/$JOB" | jq -r .state)" done "job $JOB done (${secs}s)"
tail -n +"$((lines + 1))" "$RACKD_LOG" >"$TMP/all.log"
# Up to the reimage's end (the local boot after it chains GRUB, which only
# has TFTP).
sed '/verifying -> done/q' "$TMP/all.log" >"$TMP/run.log"
grep -q "verifying -> done" "$TMP/run.log" || fail "the log has no end of the reimage"
if grep -q "dnsmasq-tftp.*sent\|dnsmasq-tftp.*not found" "$TMP/run.log"; then
	fail "TFTP was used:"
	grep "dnsmasq-tftp" "$TMP/run.log" | head -5
else
	ok "no TFTP request in dnsmasq's log up to the reimage's end"
fi
grep -q "slot usb5 fetched its boot script (clone)" "$TMP/run.log" &&
	ok "iPXE, booted over HTTP, fetched the clone script" || fail "no clone boot script"
grep -aq "RACKD-MARKER: image-http1" "$TMP/vm.serial" && ok "the disk booted the image" ||
	{ fail "no marker image-http1"; tail -c 1500 "$TMP/vm.serial"; }
finish
