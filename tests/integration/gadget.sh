#!/bin/bash
# USB gadget mode against a temporary configfs root: the expected tree of
# files and values while rackd runs, and a clean teardown when it stops.
source "$(dirname "$0")/../lib.sh"

CFS=$TMP/configfs
mkdir -p "$CFS/usb_gadget"
rackd_start --manage-links=no --gadget ncm,ecm,rndis \
	--gadget-configfs "$CFS" --gadget-udc dummy_udc.0
G=$CFS/usb_gadget/rackd

want() {	# FILE VALUE
	if [ -f "$G/$1" ] && [ "$(cat "$G/$1")" = "$2" ]; then
		ok "$1 = $2"
	else
		fail "$1: got '$(cat "$G/$1" 2>/dev/null)', want '$2'"
	fi
}
want idVendor 0x1d6b
want idProduct 0x0104
want bcdUSB 0x0200
want strings/0x409/manufacturer rackd
want strings/0x409/product "rackd management link"
want configs/c.1/MaxPower 250
want configs/c.1/strings/0x409/configuration rackd
want UDC dummy_udc.0
case "$(cat "$G/strings/0x409/serialnumber" 2>/dev/null)" in
rackd-*) ok "a serial number" ;;
*) fail "no serial number" ;;
esac
for f in ncm.usb0 ecm.usb0 rndis.usb0; do
	[ -d "$G/functions/$f" ] && ok "function $f" || fail "no function $f"
	[ "$(readlink "$G/configs/c.1/$f")" = "$G/functions/$f" ] &&
		ok "$f linked into the configuration" || fail "$f not linked"
done

rackd_stop
[ -e "$G" ] && fail "gadget left behind: $(find "$G" | head -5)" || ok "clean teardown"
[ -d "$CFS/usb_gadget" ] && ok "configfs root untouched" || fail "usb_gadget removed"

# Only some functions; and a root without usb_gadget is a clear error.
rm -rf "$TMP/state"
rackd_start --manage-links=no --gadget ncm --gadget-configfs "$CFS" \
	--gadget-udc dummy_udc.0
[ -d "$G/functions/ncm.usb0" ] && [ ! -e "$G/functions/rndis.usb0" ] &&
	ok "ncm only" || fail "ncm only: $(ls "$G/functions")"
rackd_stop
out=$("$RACKD" -d --state-dir "$TMP/state2" --listen "127.0.0.1:$(free_port)" \
	--manage-links=no --gadget ncm --gadget-configfs "$TMP/nowhere" 2>&1)
case "$out" in
*"nowhere/usb_gadget"*"configfs"*) ok "missing configfs: a clear error" ;;
*) fail "missing configfs: $out" ;;
esac
out=$("$RACKD" -n --gadget ncm,bogus 2>&1)
case "$out" in *bogus*"not ncm, ecm or rndis"*) ok "bad function refused" ;; *) fail "bad function: $out" ;; esac
finish
