#!/bin/bash
# tests/deb/run.sh (make test-deb): the Debian packages as an operator meets
# them. In a clean Debian 12 root (mmdebstrap), booted with systemd as its
# init (systemd-nspawn --boot, its own network namespace), it installs the
# amd64 packages of version N, checks their files, the rackd user, the
# permissions and the conffile, that the real unit starts rackd (Type=notify,
# the journal, /healthz, the dashboard, /pxe/) and that `systemctl reload`
# rereads /etc/rackd/rackd.conf; then it upgrades to version N+1 (the same
# source built with a higher version) and checks that the state and the
# edited conffile are kept, removes rackd (state kept) and purges it (state
# gone). A separate target, not part of make test: it builds the packages
# twice and fetches Debian (some 4 minutes with the root cached, 5 to 6 the
# first time).
#
# DEB_N, DEB_N1: folders holding already built packages of versions N and
# N+1 (default: built here with make deb). The root's tarball is kept in
# build/deb-test/ for the next run, named by the packages it holds.
source "$(dirname "$0")/../lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root (systemd-nspawn)"; exit 1; }
for t in mmdebstrap systemd-nspawn nsenter dpkg-deb; do
	command -v "$t" >/dev/null || { echo "$t is missing: sh tools/deps.sh deb"; exit 1; }
done

V1=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
V2="$V1+upgrade1"
# build_debs VERSION DIR: make deb as VERSION, the packages copied to DIR.
build_debs() {
	mkdir -p "$2"
	make -C "$TOP" -j2 deb RACKD_DEB_VERSION="$1" >"$TMP/make-deb-$1.log" 2>&1 ||
		{ tail -30 "$TMP/make-deb-$1.log"; echo "make deb $1 failed"; exit 1; }
	cp "$TOP"/build/deb/*_"$1"_*.deb "$2"/
}
DEB_N=${DEB_N:-}
DEB_N1=${DEB_N1:-}
[ -n "$DEB_N" ] || { DEB_N=$TMP/n; build_debs "$V1" "$DEB_N"; }
[ -n "$DEB_N1" ] || { DEB_N1=$TMP/n1; build_debs "$V2" "$DEB_N1"; }
deb() { ls "$1"/"$2"_*.deb | grep -v dbgsym | head -1; }
for p in rackd rackctl rackd-clone-amd64; do
	[ -f "$(deb "$DEB_N" $p)" ] && [ -f "$(deb "$DEB_N1" $p)" ] ||
		{ echo "no $p package in $DEB_N and $DEB_N1"; exit 1; }
done
ok "packages $V1 and $V2 built"

# ---- the Debian 12 root ------------------------------------------------
# Booted with systemd, with what the packages depend on already in it (the
# test installs them with dpkg, offline), and curl to talk to rackd.
need=$(for p in rackd rackctl; do dpkg-deb -f "$(deb "$DEB_N" $p)" Depends; done |
	tr ',' '\n' | sed 's/([^)]*)//; s/|.*//; s/[[:space:]]//g' | grep . | sort -u | tr '\n' ,)
include="systemd,systemd-sysv,dbus,curl,procps,iproute2,${need%,}"
cache="$TOP/build/deb-test"
tarball="$cache/bookworm-$(printf '%s' "$include" | sha256sum | cut -c1-16).tar"
if [ ! -f "$tarball" ]; then
	mkdir -p "$cache"
	rm -f "$cache"/bookworm-*.tar
	mmdebstrap --variant=apt --format=tar --include="$include" bookworm "$tarball.tmp" \
		http://deb.debian.org/debian >"$TMP/mmdebstrap.log" 2>&1 ||
		{ tail -20 "$TMP/mmdebstrap.log"; echo "mmdebstrap failed"; exit 1; }
	mv "$tarball.tmp" "$tarball"
fi
ROOT=$TMP/root
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$tarball" || { echo "cannot unpack $tarball"; exit 1; }
mkdir -p "$ROOT/srv/n" "$ROOT/srv/n1"
cp "$DEB_N"/*.deb "$ROOT/srv/n/"
cp "$DEB_N1"/*.deb "$ROOT/srv/n1/"
ok "Debian 12 root ready ($(basename "$tarball"))"

machine=rackd-deb-$$
setsid systemd-nspawn --quiet --register=no --keep-unit --private-network \
	--machine="$machine" -D "$ROOT" --boot >"$TMP/nspawn.log" 2>&1 </dev/null &
NSPAWN=$!
on_exit "kill -TERM $NSPAWN; sleep 3; kill -9 $NSPAWN"
LEADER=""
for ((i = 0; i < 100; i++)); do
	LEADER=$(pgrep -P "$NSPAWN" | head -1)
	[ -n "$LEADER" ] && [ "$(cat /proc/"$LEADER"/comm 2>/dev/null)" = systemd ] && break
	sleep 0.1
done
[ -n "$LEADER" ] || { cat "$TMP/nspawn.log"; echo "the container did not start"; exit 1; }
# in CMD...: run CMD in the container (all its namespaces, its root).
inside() { nsenter -t "$LEADER" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
for ((i = 0; i < 300; i++)); do
	state=$(inside systemctl is-system-running 2>/dev/null)
	case "$state" in running|degraded) break ;; esac
	sleep 0.2
done
case "$state" in running|degraded) ok "the root booted with systemd ($state)" ;;
*) cat "$TMP/nspawn.log"; echo "systemd did not come up: $state"; exit 1 ;; esac

# get PATH [curl args]: rackd's answer in the container; status in $STATUS.
get() {
	local p=$1 out
	shift
	out=$(inside curl -s -w '\n%{http_code}' --max-time 10 "$@" "http://127.0.0.1:8080$p")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}
# wait_active: rackd active and answering /healthz, up to 30 s.
wait_active() {
	local i
	for ((i = 0; i < 150; i++)); do
		if [ "$(inside systemctl is-active rackd)" = active ]; then
			get /healthz
			[ "$STATUS" = 200 ] && return 0
		fi
		sleep 0.2
	done
	inside systemctl status rackd --no-pager | tail -20
	return 1
}
main_pid() { inside systemctl show -p MainPID --value rackd; }

# ---- install N ------------------------------------------------------------
if inside sh -c 'dpkg -i /srv/n/rackd_*.deb /srv/n/rackctl_*.deb /srv/n/rackd-clone-amd64_*.deb' \
	>"$TMP/install.log" 2>&1; then
	ok "dpkg -i rackd, rackctl, rackd-clone-amd64 $V1"
else
	cat "$TMP/install.log"; fail "dpkg -i $V1"; finish
fi
for f in /usr/sbin/rackd /usr/bin/rackctl /usr/share/rackd/webui/index.html \
	/usr/share/rackd/pxe/vmlinuz /usr/share/rackd/pxe/initrd.img \
	/etc/rackd/rackd.conf /lib/systemd/system/rackd.service \
	/lib/udev/rules.d/60-rackd-relay.rules \
	/usr/share/man/man8/rackd.8.gz /usr/share/man/man1/rackctl.1.gz; do
	[ -f "$ROOT$f" ] && ok "installed $f" || fail "$f is missing"
done
check_eq "$(inside stat -c '%U %a' /usr/sbin/rackd)" "root 755" "/usr/sbin/rackd root's, 755"
check_eq "$(inside stat -c '%U %a' /etc/rackd/rackd.conf)" "root 644" "rackd.conf root's, 644"
check_eq "$(inside dpkg-query -W -f='${Conffiles}' rackd | awk '{print $1}' | grep -c .)" 1 \
	"one conffile"
inside dpkg-query -W -f='${Conffiles}' rackd | grep -q '/etc/rackd/rackd.conf' &&
	ok "/etc/rackd/rackd.conf is a conffile" || fail "rackd.conf is not a conffile"
pw=$(inside getent passwd rackd)
uid=$(printf '%s' "$pw" | cut -d: -f3)
[ -n "$uid" ] && [ "$uid" -lt 1000 ] && ok "system user rackd (uid $uid)" || fail "no system user rackd: '$pw'"
check_eq "$(printf '%s' "$pw" | cut -d: -f7)" /usr/sbin/nologin "rackd's shell is nologin"
check_eq "$(inside stat -c '%U:%G %a' /var/lib/rackd)" "rackd:rackd 711" "/var/lib/rackd rackd's, 711"

# The conffile: every option of --help, each commented out; uncommented, it
# is a valid configuration (the defaults as installed).
conf=$ROOT/etc/rackd/rackd.conf
nopts=$(inside rackd --help | grep -cE '^ +(-., )?--[a-z]' )
nconf=$(grep -cE '^#[a-z_]+ =' "$conf")
check_eq "$nconf" "$((nopts - 5))" "rackd.conf lists every option but -c -d -n -h -V"
check_eq "$(grep -cvE '^(#.*)?$' "$conf")" 0 "rackd.conf sets nothing"
grep -qx '#webui_dir = /usr/share/rackd/webui' "$conf" &&
	grep -qx '#state_dir = /var/lib/rackd' "$conf" &&
	grep -qx '#pxe_dir = /usr/share/rackd/pxe' "$conf" &&
	ok "rackd.conf shows the installed paths" || fail "rackd.conf: not the installed paths"
sed 's/^#\([a-z_]* =\)/\1/' "$conf" >"$ROOT/root/all.conf"
check_eq "$(inside rackd -n -c /root/all.conf 2>&1)" "configuration OK" \
	"rackd.conf with every line uncommented is valid"
inside rackd --help | grep -q 'installed:' && fail "installed rackd --help still names the tree" ||
	ok "installed rackd's --help shows the installed defaults"

# ---- started by the real unit -------------------------------------------
wait_active && ok "rackd active after install (Type=notify: READY=1 came)" ||
	fail "rackd is not active after install"
check_eq "$(inside systemctl is-enabled rackd)" enabled "rackd.service enabled"
pid=$(main_pid)
check_eq "$(inside ps -o user= -p "$pid")" rackd "rackd's main process runs as rackd"
helper=$(inside ps -o pid=,user= --ppid "$pid" | awk '$2 == "root" {print $1; exit}')
[ -n "$helper" ] && ok "its helper runs as root" || fail "no root helper under rackd"
check_eq "$(inside cat /proc/"$pid"/status | awk '/^NoNewPrivs/ {print $2}')" 1 "NoNewPrivileges"
# CHOWN DAC_OVERRIDE FOWNER KILL SETGID SETUID NET_BIND_SERVICE NET_ADMIN
# NET_RAW: bits 0 1 3 5 6 7 10 12 13.
check_eq "$(inside awk '/^CapBnd/ {print $2}' /proc/"$pid"/status)" 00000000000034eb \
	"capability bounding set: the unit's nine"
get /healthz
check_eq "$STATUS ${BODY%$'\n'}" "200 ok" "/healthz"
get /
[ "$STATUS" = 200 ] && grep -q '<html' <<<"$BODY" && ok "dashboard served from /usr/share/rackd/webui" ||
	fail "dashboard: $STATUS"
get /pxe/vmlinuz -o /dev/null
check_status 200 "/pxe/vmlinuz served from /usr/share/rackd/pxe"
TOKEN=$(inside cat /var/lib/rackd/api.token)
[ ${#TOKEN} -ge 16 ] && ok "API token made in /var/lib/rackd" || fail "no API token"
get /api/v1/nodes -H "Authorization: Bearer $TOKEN"
check_status 200 "GET /api/v1/nodes"
journal=$(inside journalctl -u rackd -o cat --no-pager)
grep -q "rackd $V1 ready (state in /var/lib/rackd)" <<<"$journal" &&
	ok "rackd's log is in the journal" || fail "journal: no ready line: ${journal:0:500}"
grep -qE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.' <<<"$journal" &&
	fail "journal lines carry rackd's own time" || ok "journal lines without a second time stamp"
inside journalctl -u rackd -p warning -o cat --no-pager | grep -q "ready" &&
	fail "info lines logged as warnings" || ok "journal priorities: ready is info, not warning"
inside systemctl status rackd --no-pager | grep -q "Status: \"rackd $V1 ready\"" &&
	ok "systemctl status shows rackd's STATUS=" || fail "no STATUS= from rackd"

# ---- reload re-reads the configuration -----------------------------------
printf 'slots = usb7\n' >>"$conf"
pid_before=$(main_pid)
inside systemctl reload rackd && ok "systemctl reload rackd" || fail "systemctl reload rackd"
for ((i = 0; i < 50; i++)); do
	get /api/v1/nodes -H "Authorization: Bearer $TOKEN"
	grep -q '"usb7"' <<<"$BODY" && break
	sleep 0.2
done
grep -q '"usb7"' <<<"$BODY" && ok "reload: slot usb7 from the edited rackd.conf" ||
	fail "reload did not reread rackd.conf: $BODY"
check_eq "$(main_pid)" "$pid_before" "reload keeps the process"
check_eq "$(inside stat -c %U /var/lib/rackd /var/lib/rackd/rackd.db /var/lib/rackd/store | sort -u)" \
	rackd "reload leaves the state rackd's"
inside journalctl -u rackd -o cat --no-pager | grep -q "reloading the configuration" &&
	ok "journal: reloading the configuration" || fail "journal has no reload line"

# ---- a management link: the helper's work under the unit's hardening ----
# A veth in the container's network is made a management link (links is
# read at start: systemctl restart). The helper, with the unit's
# capabilities, puts the slot's address on it and starts dnsmasq.
inside ip link add rdl0 type veth peer name rdl0p && inside ip link set rdl0p up ||
	fail "cannot make a veth in the container"
printf 'links = rdl0\n' >>"$conf"
inside systemctl restart rackd && wait_active && ok "systemctl restart rackd" ||
	fail "rackd did not come back after restart"
addr=""
for ((i = 0; i < 100; i++)); do
	addr=$(inside ip -4 -o addr show dev rdl0 | awk '{print $4}')
	[ -n "$addr" ] && break
	sleep 0.2
done
[[ $addr == 10.213.* ]] && ok "the helper put $addr on the management link" ||
	fail "no address from link_subnet_pool on rdl0: '$addr'"
dns=""
for ((i = 0; i < 100; i++)); do
	dns=$(inside pgrep -x dnsmasq | head -1)
	[ -n "$dns" ] && break
	sleep 0.2
done
[ -n "$dns" ] && ok "dnsmasq runs under the unit (as $(inside ps -o user= -p "$dns"))" ||
	fail "no dnsmasq for the management link: $(inside journalctl -u rackd -o cat --no-pager | tail -5)"
inside ss -lun | grep -q ':67 ' && ok "dnsmasq listens for DHCP (port 67)" ||
	fail "nothing listens on port 67"

# ---- an image and a job, for the upgrade to keep ------------------------
auth=(-H "Authorization: Bearer $TOKEN")
inside sh -c 'head -c 3M /dev/urandom >/root/disk.img &&
	rackctl image import /root/disk.img --name demo:1 --store /root/store \
	--chunk-size 64K -q' >"$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; fail "rackctl image import"; }
inside env RACKD_TOKEN="$TOKEN" rackctl push demo:1 http://127.0.0.1:8080 \
	--store /root/store -q >"$TMP/push.log" 2>&1 && ok "rackctl push demo:1 to the installed rackd" ||
	{ cat "$TMP/push.log"; fail "rackctl push"; }
get /api/v1/nodes/usb7/reimage "${auth[@]}" -X POST -d '{"image":"demo:1"}'
check_status 202 "reimage usb7 with demo:1 (a job)"
job=$(printf '%s' "$BODY" | grep -o '"id": *[0-9]*' | head -1 | grep -o '[0-9]*$')
[ -n "$job" ] && ok "job $job queued" || fail "no job id in $BODY"

# ---- restart on failure -------------------------------------------------
inside kill -9 "$(main_pid)"
sleep 3
wait_active && [ "$(main_pid)" != "$pid_before" ] && ok "killed, rackd is started again" ||
	fail "rackd not restarted after kill -9"

# ---- upgrade to N+1 -------------------------------------------------------
db_before=$(inside sh -c 'ls -i /var/lib/rackd/rackd.db' | awk '{print $1}')
if inside sh -c 'DEBIAN_FRONTEND=noninteractive dpkg --force-confdef --force-confold -i /srv/n1/rackd_*.deb /srv/n1/rackctl_*.deb /srv/n1/rackd-clone-amd64_*.deb' \
	>"$TMP/upgrade.log" 2>&1; then
	ok "dpkg -i $V2 (upgrade)"
else
	cat "$TMP/upgrade.log"; fail "upgrade to $V2"
fi
check_eq "$(inside dpkg-query -W -f='${Version}' rackd)" "$V2" "rackd $V2 installed"
wait_active && ok "rackd active after the upgrade" || fail "rackd not active after the upgrade"
check_eq "$(inside rackd --version)" "rackd $V2" "rackd --version"
inside journalctl -u rackd -o cat --no-pager | grep -q "rackd $V2 ready" &&
	ok "the new rackd was started" || fail "no '$V2 ready' in the journal"
grep -qx 'slots = usb7' "$conf" && ok "upgrade kept the edited rackd.conf" ||
	fail "upgrade lost the edit of rackd.conf"
check_eq "$(inside cat /var/lib/rackd/api.token)" "$TOKEN" "upgrade kept the API token"
check_eq "$(inside sh -c 'ls -i /var/lib/rackd/rackd.db' | awk '{print $1}')" "$db_before" \
	"upgrade kept the database"
get /api/v1/nodes -H "Authorization: Bearer $TOKEN"
grep -q '"usb7"' <<<"$BODY" && ok "upgrade kept node usb7" || fail "node usb7 gone after upgrade"
get /api/v1/images "${auth[@]}"
grep -q '"demo"' <<<"$BODY" && ok "upgrade kept image demo" || fail "image demo gone after upgrade: $BODY"
get /api/v1/jobs/"$job" "${auth[@]}"
check_status 200 "upgrade kept job $job"

# ---- remove, then purge --------------------------------------------------
inside dpkg -r rackd >"$TMP/remove.log" 2>&1 && ok "dpkg -r rackd" || { cat "$TMP/remove.log"; fail "dpkg -r rackd"; }
[ ! -e "$ROOT/usr/sbin/rackd" ] && ok "remove: /usr/sbin/rackd gone" || fail "remove left /usr/sbin/rackd"
inside systemctl is-active rackd >/dev/null && fail "rackd still runs after remove" ||
	ok "remove stopped rackd"
[ -f "$ROOT/var/lib/rackd/rackd.db" ] && [ -f "$ROOT/var/lib/rackd/api.token" ] &&
	ok "remove kept the state in /var/lib/rackd" || fail "remove lost the state"
[ -f "$conf" ] && ok "remove kept /etc/rackd/rackd.conf" || fail "remove lost rackd.conf"
inside dpkg -P rackd >"$TMP/purge.log" 2>&1 && ok "dpkg -P rackd" || { cat "$TMP/purge.log"; fail "dpkg -P rackd"; }
[ ! -e "$ROOT/var/lib/rackd" ] && ok "purge removed /var/lib/rackd" || fail "purge left /var/lib/rackd"
[ ! -e "$ROOT/etc/rackd" ] && ok "purge removed /etc/rackd" || fail "purge left /etc/rackd"
[ -x "$ROOT/usr/bin/rackctl" ] && ok "rackctl stays installed on its own" || fail "rackctl went with rackd"
finish
