#!/bin/bash
# make install, staged in DESTDIR: every file where rackd(8) says, with its
# mode; rackd.conf made from --help (every option, commented out, valid
# when uncommented) and kept when it exists; the unit names the installed
# paths. (The installed rackd itself, started by the unit, is make
# test-deb's.)
source "$(dirname "$0")/../lib.sh"

D=$TMP/stage
P=/usr/local
install_it() { make -C "$TOP" -s install DESTDIR="$D" >"$TMP/install.log" 2>&1; }
install_it && ok "make install DESTDIR=..." || { cat "$TMP/install.log"; fail "make install"; finish; }

mode() { stat -c %a "$1" 2>/dev/null; }
check_eq "$(mode "$D$P/sbin/rackd")" 755 "rackd in PREFIX/sbin, 755"
[ -x "$TOP/build/rackctl" ] && check_eq "$(mode "$D$P/bin/rackctl")" 755 "rackctl in PREFIX/bin, 755"
n_web=$(cd "$TOP/webui" && find . -type f | wc -l)
check_eq "$(cd "$D$P/share/rackd/webui" && find . -type f | wc -l)" "$n_web" \
	"every dashboard file in PREFIX/share/rackd/webui"
cmp -s "$TOP/webui/index.html" "$D$P/share/rackd/webui/index.html" ||
	fail "index.html installed differs"
check_eq "$(mode "$D$P/share/rackd/webui/index.html")" 644 "dashboard files 644"
if [ -f "$TOP/build/pxe/initrd.img" ]; then
	cmp -s "$TOP/build/pxe/initrd.img" "$D$P/share/rackd/pxe/initrd.img" &&
		cmp -s "$TOP/build/pxe/vmlinuz" "$D$P/share/rackd/pxe/vmlinuz" &&
		ok "clone kernel and initramfs in PREFIX/share/rackd/pxe" || fail "pxe files not installed"
fi
for m in man8/rackd.8 man1/rackctl.1 man8/rack-agent.8 man8/rack-diskless.8; do
	[ -f "$D$P/share/man/$m" ] && ok "man page $m" || fail "no man page $m"
done
check_eq "$(mode "$D/var/lib/rackd")" 711 "/var/lib/rackd made, 711"

unit=$D$P/lib/systemd/system/rackd.service
grep -q 'ATTRS{idVendor}=="16c0", ATTRS{idProduct}=="05df", GROUP="rackd"' \
	"$D$P/lib/udev/rules.d/60-rackd-relay.rules" 2>/dev/null &&
	ok "the relay boards' udev rule in PREFIX/lib/udev/rules.d" ||
	fail "no udev rule for the relay boards"
grep -qx 'DeviceAllow=char-hidraw rw' "$unit" &&
	ok "the unit allows the relay boards' hidraw devices" ||
	fail "the unit does not allow hidraw"
grep -qx "ExecStart=$P/sbin/rackd -d -c $P/etc/rackd/rackd.conf" "$unit" &&
	ok "the unit starts PREFIX/sbin/rackd with PREFIX/etc/rackd/rackd.conf" ||
	fail "unit ExecStart: $(grep ExecStart "$unit")"
grep -qx 'Type=notify' "$unit" && grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit" &&
	ok "the unit: Type=notify, reload by SIGHUP" || fail "unit: Type or ExecReload"
grep -q '@[A-Z]*@' "$unit" && fail "unit has unreplaced @VARS@" || ok "unit fully substituted"

conf=$D$P/etc/rackd/rackd.conf
nopts=$("$RACKD" --help | grep -cE '^ +(-., )?--[a-z]')
check_eq "$(grep -cE '^#[a-z_]+ =' "$conf")" "$((nopts - 5))" \
	"rackd.conf: every option of --help but -c -d -n -h -V"
check_eq "$(grep -cvE '^(#.*)?$' "$conf")" 0 "rackd.conf sets nothing"
check_eq "$(awk 'length > 80' "$conf" | grep -vc '^#link_drivers')" 0 "rackd.conf: lines of 80 or less"
grep -qx "#webui_dir = $P/share/rackd/webui" "$conf" && grep -qx '#state_dir = /var/lib/rackd' "$conf" &&
	ok "rackd.conf names the installed paths" || fail "rackd.conf: not the installed paths"
sed 's/^#\([a-z_]* =\)/\1/' "$conf" >"$TMP/all.conf"
check_eq "$("$RACKD" -n -c "$TMP/all.conf" 2>&1)" "configuration OK" \
	"rackd.conf with every line uncommented is valid"

# The staged copy is not PREFIX/sbin/rackd: it keeps the tree's defaults.
"$D$P/sbin/rackd" --help | grep -q -- '--webui-dir DIR .* \[./webui\] (installed: ' &&
	ok "a copy outside PREFIX/sbin keeps the source tree's defaults" ||
	fail "the staged rackd took the installed defaults"

echo 'listen = 127.0.0.1:9' >>"$conf"
install_it && grep -qx 'listen = 127.0.0.1:9' "$conf" &&
	ok "make install again keeps an existing rackd.conf" || fail "make install replaced rackd.conf"
finish
