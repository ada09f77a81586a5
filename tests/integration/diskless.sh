#!/bin/bash
# Diskless boots without a VM: rackd and its dnsmasq in a rack namespace,
# two node namespaces on veth links. A node namespace plays the server:
# it gets its address by DHCP, fetches its boot script and runs
# rack-diskless (in its own UTS namespace, so its hostname is its own)
# into a directory, by stream and by chunks. Checks: the boot script and
# the job, the unpacked tree equals the tarball's, the overlay (hostname
# from the label, SSH keys, a cloud-init seed only for a cloud-init
# image, written inside the root even through the image's absolute
# symlinks), 403 for other nodes, a corrupt chunk fails the boot, PATCH
# rules, and switching back to local.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
DISKLESS="$BUILD_DIR/rack-diskless"
[ -x "$DISKLESS" ] || { echo "no $DISKLESS: make"; exit 1; }

# ---- images: a busybox root, the same with cloud-init, one whose etc is
# an absolute symlink, and a disk image -------------------------------------
sh "$TOP/tests/images/make-rootfs.sh" "$TMP/tiny.tar.gz" tiny-1
mkdir -p "$TMP/ci" "$TMP/abs/target"
tar -C "$TMP/ci" -xzf "$TMP/tiny.tar.gz"
mkdir -p "$TMP/ci/etc/cloud" && echo "datasource_list: [NoCloud]" >"$TMP/ci/etc/cloud/cloud.cfg"
tar -C "$TMP/ci" --numeric-owner -czf "$TMP/ci.tar.gz" .
echo x >"$TMP/abs/target/x"
ln -s /target "$TMP/abs/etc"
tar -C "$TMP/abs" --numeric-owner -cf "$TMP/abs.tar" .
head -c 300000 /dev/urandom >"$TMP/disk.img"

echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm0Y2Y2Zm9vYmFyYmF6cXV4cXV1eHh4eHh4eHh4 op@desk" >"$TMP/keys"
echo "this is not a key" >>"$TMP/keys"
echo "# a comment" >>"$TMP/keys"

ns_add rack
ns_add n1
ns_add n2
veth_link rack usb1 n1 || { fail "veth usb1"; finish; }
veth_link rack usb2 n2 || { fail "veth usb2"; finish; }
RACKD_NS=rack rackd_start --links 'usb*' --link-subnet-pool 10.214.0.0/24 \
	--ssh-keys "$TMP/keys"
S=$STATE/store
"$RACKCTL" image import "$TMP/tiny.tar.gz" --kind rootfs --name tiny:1 --store "$S" -q >"$TMP/imp1" ||
	{ cat "$TMP/imp1"; fail "import tiny"; }
"$RACKCTL" image import "$TMP/ci.tar.gz" --kind rootfs --name ci:1 --store "$S" -q >/dev/null || fail "import ci"
"$RACKCTL" image import "$TMP/abs.tar" --kind rootfs --name abs:1 --store "$S" -q >/dev/null || fail "import abs"
"$RACKCTL" image import "$TMP/disk.img" --name disk:1 --store "$S" -q >/dev/null || fail "import disk"
kill -HUP "$RACKD_PID"
four() { [ "$(api GET /api/v1/images | jq length)" = 4 ]; }
wait_for 50 four && ok "four images indexed" || fail "images: $(api GET /api/v1/images)"
check_eq "$(api GET /api/v1/images/tiny | jq -r '.versions[0].kind')" rootfs "tiny:1 is a rootfs image"
links_up() { [ "$(api GET /api/v1/nodes | jq '[.[] | select(.link.state == "up")] | length')" = 2 ]; }
wait_for 50 links_up || fail "links not up"

# ---- PATCH rules -------------------------------------------------------------
api PATCH /api/v1/nodes/usb1 -d '{"image":"disk:1","boot_mode":"diskless"}' >/dev/null
check_status 409 "a disk image cannot boot diskless"
case "$BODY" in *"rootfs"*) ok "the refusal says why" ;; *) fail "refusal: $BODY" ;; esac
api POST /api/v1/nodes/usb1/reimage -d '{"image":"tiny:1"}' >/dev/null
check_status 409 "a rootfs image is not written to a disk"
api PATCH /api/v1/nodes/usb1 -d '{"label":"U12","image":"tiny:1","boot_mode":"diskless"}' >/dev/null
check_status 200 "usb1: diskless with tiny:1, label U12"
api GET /api/v1/nodes/usb1 >/dev/null
check_eq "$(jq -r '"\(.boot_mode) \(.image) \(.label)"' <<<"$BODY")" "diskless tiny:1 U12" "the node shows its mode and image"
api PATCH /api/v1/nodes/usb1 -d '{"image":"disk:1"}' >/dev/null
check_status 409 "a diskless node cannot get a disk image"

# ---- the boot script and the job ----------------------------------------------
for ((i = 0; i < 10; i++)); do	# dnsmasq reloads the label
	A1=$(dhcp n1) || fail "n1: no DHCP"
	[ "${A1#* }" = U12 ] && break
	sleep 0.5
done
check_eq "${A1#* }" U12 "DHCP gives n1 its label as hostname"
dhcp n2 >/dev/null || fail "n2: no DHCP"
B1=$(api GET /api/v1/nodes/usb1 | jq -r .link.board_addr)
B2=$(api GET /api/v1/nodes/usb2 | jq -r .link.board_addr)
R1="http://$B1:$PORT"

# boot N ROOT MODE: fetch the boot script as usb1's node and run what it
# says with rack-diskless into ROOT; sets JOB, RC.
boot() {
	local script url job token slot fetch
	script=$(in_ns n1 curl -s --max-time 10 "$R1/boot/usb1.ipxe")
	case "$script" in *"rackd.mode=diskless"*) ;; *) fail "$1: not a diskless script: $script"; return ;; esac
	for w in $script; do
		case "$w" in
		rackd.url=*) url=${w#*=} ;; rackd.job=*) job=${w#*=} ;;
		rackd.token=*) token=${w#*=} ;; rackd.slot=*) slot=${w#*=} ;;
		rackd.fetch=*) fetch=${w#*=} ;;
		esac
	done
	JOB=$job
	check_eq "$url $slot $fetch" "$R1 usb1 stream" "$1: the script names rackd, the slot, stream"
	mkdir -p "$2"
	in_ns n1 unshare --uts timeout 120 "$DISKLESS" --url "$url" --job "$job" --token "$token" \
		--slot "$slot" --root "$2" --fetch "$3" >"$TMP/$1.log" 2>&1
	RC=$?
}

boot s "$TMP/r-stream" stream
check_eq "$RC" 0 "rack-diskless by stream exits 0"
check_eq "$(api GET "/api/v1/jobs/$JOB" | jq -r '"\(.action) \(.state) \(.image)"')" "diskless done tiny:1" \
	"the job: diskless, done, tiny:1"
check_eq "$(api GET "/api/v1/jobs/$JOB" | jq -r '[.events[].state] | join(" ")')" \
	"queued booting streaming verifying done" "the job's events"
grep -q "overlay: hostname U12" "$TMP/s.log" && ok "the overlay's hostname is the label" || fail "hostname: $(cat "$TMP/s.log")"
mkdir -p "$TMP/ref" && tar -C "$TMP/ref" -xzf "$TMP/tiny.tar.gz"
if diff -r --no-dereference -x hostname -x .ssh "$TMP/ref" "$TMP/r-stream" >"$TMP/diff" 2>&1; then
	ok "the unpacked root equals the tarball"
else
	fail "the unpacked root differs: $(head -5 "$TMP/diff")"
fi
check_eq "$(cat "$TMP/r-stream/etc/hostname")" U12 "etc/hostname of the node"
check_eq "$(stat -c %a "$TMP/r-stream/root/.ssh/authorized_keys")" 600 "authorized_keys is 0600"
check_eq "$(grep -c ssh-ed25519 "$TMP/r-stream/root/.ssh/authorized_keys") $(wc -l <"$TMP/r-stream/root/.ssh/authorized_keys")" \
	"1 1" "only the key line of ssh_keys"
[ -e "$TMP/r-stream/var/lib/cloud" ] && fail "a seed without cloud-init" || ok "no cloud-init seed for an image without it"
grep -q "peak memory" "$TMP/s.log" && ok "rack-diskless reports its memory" || fail "no summary: $(tail -3 "$TMP/s.log")"

boot c "$TMP/r-chunks" chunks
check_eq "$RC" 0 "rack-diskless chunk by chunk exits 0"
check_eq "$(api GET "/api/v1/jobs/$JOB" | jq -r .state)" done "the chunks job is done"
diff -r --no-dereference "$TMP/r-stream" "$TMP/r-chunks" >/dev/null && ok "stream and chunks unpack the same tree" ||
	fail "stream and chunks differ"

# A boot that did not finish ends with the next one.
in_ns n1 curl -s -o /dev/null "$R1/boot/usb1.ipxe"
old=$(api GET '/api/v1/jobs?node=usb1&limit=1' | jq -r '.[0].id')
in_ns n1 curl -s -o /dev/null "$R1/boot/usb1.ipxe"
check_eq "$(api GET "/api/v1/jobs/$old" | jq -r .state)" failed "an unfinished diskless boot fails at the next boot"
api GET "/api/v1/jobs/$old" | jq -r .reason | grep -q "new boot" && ok "its reason says so" || fail "reason: $(api GET "/api/v1/jobs/$old" | jq -r .reason)"

# ---- the overlay and the stream: only the node's own ----------------------------
check_eq "$(in_ns n2 curl -s -o /dev/null -w '%{http_code}' "http://$B2:$PORT/boot/usb1/overlay")" 403 \
	"n2 asking for usb1's overlay"
check_eq "$(in_ns n2 curl -s -o /dev/null -w '%{http_code}' "http://$B2:$PORT/boot/usb1/rootfs")" 403 \
	"n2 asking for usb1's rootfs"
check_eq "$(in_ns n1 curl -s "$R1/boot/usb1/overlay?cloud_init=1" | jq -r '[.files[].path] | join(",")')" \
	"etc/hostname,root,root/.ssh,root/.ssh/authorized_keys,var/lib/cloud/seed/nocloud,var/lib/cloud/seed/nocloud/meta-data,var/lib/cloud/seed/nocloud/user-data" \
	"the overlay with a cloud-init seed"
# the stream from chunk 1 is the stored chunks 1.. back to back
M=$S/manifests/tiny/1.json
n=$(jq '.chunks | length' "$M")
in_ns n1 curl -s -o "$TMP/from1.zst" "$R1/boot/usb1/rootfs?from=1"
for h in $(jq -r '.chunks[1:][].hash' "$M"); do cat "$S/chunks/${h:0:2}/$h"; done >"$TMP/want1.zst"
[ "$n" -ge 2 ] && cmp -s "$TMP/from1.zst" "$TMP/want1.zst" && ok "rootfs?from=1: chunks 1..$((n - 1)) as stored" ||
	fail "rootfs?from=1 is not the stored chunks ($n chunks)"
check_eq "$(in_ns n1 curl -s -o /dev/null -w '%{http_code}' "$R1/boot/usb1/rootfs?from=x")" 400 "rootfs?from=x"

# ---- a cloud-init image gets its seed; an absolute symlink stays inside -----------
api PATCH /api/v1/nodes/usb1 -d '{"image":"ci:1"}' >/dev/null
boot ci "$TMP/r-ci" stream
check_eq "$RC" 0 "cloud-init image: rack-diskless exits 0"
grep -q "local-hostname: U12" "$TMP/r-ci/var/lib/cloud/seed/nocloud/meta-data" 2>/dev/null &&
	ok "the NoCloud meta-data names the host" || fail "no meta-data"
grep -q "ssh-ed25519" "$TMP/r-ci/var/lib/cloud/seed/nocloud/user-data" 2>/dev/null &&
	ok "the NoCloud user-data holds the key" || fail "no user-data"
api PATCH /api/v1/nodes/usb1 -d '{"image":"abs:1"}' >/dev/null
rm -rf /target 2>/dev/null	# only if a previous run left it (it must not exist)
boot abs "$TMP/r-abs" stream
check_eq "$RC" 0 "etc -> /target image: rack-diskless exits 0"
check_eq "$(cat "$TMP/r-abs/target/hostname" 2>/dev/null)" U12 "the hostname went through etc -> /target inside the root"
[ -e /target ] && fail "something was written to /target outside the root" || ok "nothing written outside the root"

# ---- a corrupt chunk: the boot fails, never done ------------------------------------
api PATCH /api/v1/nodes/usb1 -d '{"image":"tiny:1"}' >/dev/null
h=$(jq -r '.chunks[0].hash' "$M")
C=$S/chunks/${h:0:2}/$h
cp "$C" "$TMP/chunk.saved"
python3 - "$C" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0xff
open(p, 'wb').write(bytes(b))
EOF
for mode in stream chunks; do
	boot "bad-$mode" "$TMP/r-bad-$mode" "$mode"
	check_eq "$RC" 1 "corrupt chunk by $mode: rack-diskless fails"
	j=$(api GET "/api/v1/jobs/$JOB")
	check_eq "$(jq -r .state <<<"$j")" failed "corrupt chunk by $mode: the job failed"
	case "$(jq -r .reason <<<"$j")" in
	*"hash mismatch"*|*"decompress"*|*"corrupt"*) ok "corrupt chunk by $mode: the reason says so" ;;
	*) fail "corrupt chunk by $mode: reason $(jq -r .reason <<<"$j")" ;;
	esac
done
cp "$TMP/chunk.saved" "$C"

# ---- rackd killed and restarted mid-fetch: the boot resumes and ends done ---------------
sh "$TOP/tests/images/make-rootfs.sh" "$TMP/mid.tar.gz" mid-1 24
"$RACKCTL" image import "$TMP/mid.tar.gz" --kind rootfs --name mid:1 --store "$S" -q >/dev/null || fail "import mid"
kill -HUP "$RACKD_PID"
five() { [ "$(api GET /api/v1/images | jq length)" = 5 ]; }
wait_for 50 five || fail "mid:1 not indexed"
api PATCH /api/v1/nodes/usb1 -d '{"image":"mid:1"}' >/dev/null
mkdir -p "$TMP/ref-mid" && tar -C "$TMP/ref-mid" -xzf "$TMP/mid.tar.gz"
ip netns exec "$NS-rack" tc qdisc add dev usb1 root tbf rate 16mbit burst 64kb latency 200ms
for mode in stream chunks; do
	boot_bg() { boot "cut-$mode" "$TMP/r-cut-$mode" "$mode"; echo "$RC $JOB" >"$TMP/cut-$mode.rc"; }
	boot_bg &
	bg=$!
	for ((i = 0; i < 100; i++)); do	# until the fetch is under way
		grep -q "by one stream\|by chunks" "$TMP/cut-$mode.log" 2>/dev/null && break
		sleep 0.1
	done
	sleep 1
	kill -9 "$RACKD_PID"
	wait "$RACKD_PID" 2>/dev/null
	sleep 2
	RACKD_NS=rack rackd_start --links 'usb*' --link-subnet-pool 10.214.0.0/24 --ssh-keys "$TMP/keys"
	wait "$bg"
	read -r rc job <"$TMP/cut-$mode.rc"
	check_eq "$rc" 0 "rackd killed mid-fetch ($mode): rack-diskless still ends well"
	grep -q "again" "$TMP/cut-$mode.log" && ok "$mode: it fetched again after the cut" ||
		fail "$mode: no retry in the log: $(tail -5 "$TMP/cut-$mode.log")"
	check_eq "$(api GET "/api/v1/jobs/$job" | jq -r .state)" done "rackd killed mid-fetch ($mode): the job is done"
	diff -r --no-dereference -x hostname -x .ssh "$TMP/ref-mid" "$TMP/r-cut-$mode" >/dev/null &&
		ok "$mode: the unpacked root equals the tarball after the cut" || fail "$mode: the root differs after the cut"
done
ip netns exec "$NS-rack" tc qdisc del dev usb1 root
api PATCH /api/v1/nodes/usb1 -d '{"image":"tiny:1"}' >/dev/null

# ---- rootfs_max_size: an image too big for a node's RAM is refused ----------------------
kill -9 "$RACKD_PID"
wait "$RACKD_PID" 2>/dev/null
sleep 2	# the dnsmasq keeper holds the state dir's lock a moment longer
RACKD_NS=rack rackd_start --links 'usb*' --link-subnet-pool 10.214.0.0/24 --ssh-keys "$TMP/keys" \
	--rootfs-max-size 8M
api PATCH /api/v1/nodes/usb1 -d '{"image":"mid:1"}' >/dev/null
check_status 409 "a rootfs image over rootfs_max_size is refused"
case "$BODY" in *rootfs_max_size*) ok "the refusal names rootfs_max_size" ;; *) fail "refusal: $BODY" ;; esac
api PATCH /api/v1/nodes/usb1 -d '{"image":"tiny:1"}' >/dev/null
check_status 200 "a small one is taken"

# ---- back to local: the next boot script is the local disk ----------------------------
api PATCH /api/v1/nodes/usb1 -d '{"boot_mode":"local"}' >/dev/null
check_status 200 "usb1 back to local"
before=$(api GET '/api/v1/jobs?node=usb1' | jq length)
script=$(in_ns n1 curl -s "$R1/boot/usb1.ipxe")
case "$script" in *"booting the local disk"*) ok "local again: the script boots the disk" ;;
*) fail "local again: $script" ;; esac
check_eq "$(api GET '/api/v1/jobs?node=usb1' | jq length)" "$before" "no job for a local boot"
finish
