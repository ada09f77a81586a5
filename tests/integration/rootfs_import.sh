#!/bin/bash
# Import of root file system tarballs (rackctl image import --kind rootfs),
# hostile ones above all, built with python3's tarfile: absolute names,
# '..' members, symlinks out of the root and members through them, hard
# links out of the root, device nodes, plus size limits, a decompression
# bomb, a truncated and a non-tar input. Checks: nothing is written
# outside the store (a canary folder next to it, and the absolute paths
# the tarballs name), each result is a clean image (its cpio stream lists
# no absolute name, no '..', no device, no symlink escape, nothing under a
# symlink) or a clear refusal that leaves no image.
source "$(dirname "$0")/../lib.sh"

W=$TMP/work
S=$W/store
C=$W/canary
mkdir -p "$C" "$W/in"
echo "canary" >"$C/file"
EVIL=/tmp/rackd-evil-$$	# absolute names the tarballs use: must never appear
on_exit "rm -rf $EVIL $EVIL.*"

# snapshot: every path under $W but the store, with size and content hash
snapshot() {
	(cd "$W" && find . -path ./store -prune -o -print0 | LC_ALL=C sort -z |
		xargs -0 stat -c '%n %s %Y' && find . -path ./store -prune -o -type f -print0 |
		LC_ALL=C sort -z | xargs -0 sha256sum)
}

python3 - "$W/in" "$C" "$EVIL" <<'EOF'
import io, sys, tarfile
out, canary, evil = sys.argv[1:4]

def member(t, name, kind=tarfile.REGTYPE, data=b'data\n', link='', mode=0o644, dev=(0, 0)):
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.mode = kind, link, mode
    ti.devmajor, ti.devminor = dev
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)

def base(t):
    member(t, 'etc', tarfile.DIRTYPE, mode=0o755)
    member(t, 'etc/os-release', data=b'NAME=rackd-test\n')
    member(t, 'bin', tarfile.DIRTYPE, mode=0o755)
    member(t, 'bin/sh', data=b'#!/bin/true\n', mode=0o755)

def hostile(t):
    base(t)
    # absolute names: made relative
    member(t, evil + '/abs-file')
    member(t, '/etc/passwd', data=b'root:x:0:0::/root:/bin/sh\n')
    # '..': dropped
    member(t, '../canary/dotdot')
    member(t, '../../../../../../' + canary.lstrip('/') + '/dotdot2')
    member(t, 'etc/../../canary/dotdot3')
    # symlinks out of the root and members through them: dropped
    member(t, 'esc', tarfile.SYMTYPE, link='../canary')
    member(t, 'esc/through')
    member(t, 'etc/deep', tarfile.SYMTYPE, link='../../../../../../..' + canary)
    # an absolute symlink is kept (on the node it points inside the root),
    # but nothing may go through it
    member(t, 'abslink', tarfile.SYMTYPE, link=canary)
    member(t, 'abslink/through')
    member(t, 'abslink2', tarfile.SYMTYPE, link=evil)
    member(t, 'abslink2/abs-through')
    # hard links out of the root: dropped; one inside: kept
    member(t, 'hl-dotdot', tarfile.LNKTYPE, link='../canary/file')
    member(t, 'hl-abs', tarfile.LNKTYPE, link=canary + '/file')
    member(t, 'hl-missing', tarfile.LNKTYPE, link='/etc/shadow')
    member(t, 'hl-ok', tarfile.LNKTYPE, link='/etc/os-release')
    # devices: dropped; a FIFO: kept
    member(t, 'dev', tarfile.DIRTYPE, mode=0o755)
    member(t, 'dev/null', tarfile.CHRTYPE, dev=(1, 3))
    member(t, 'dev/sda', tarfile.BLKTYPE, dev=(8, 0))
    member(t, 'run-fifo', tarfile.FIFOTYPE)
    # a file that replaces a directory, and a member under it
    member(t, 'var', tarfile.DIRTYPE, mode=0o755)
    member(t, 'var', data=b'now a file\n')
    member(t, 'var/under')

for name, mode in (('hostile.tar', 'w'), ('hostile.tar.gz', 'w:gz'), ('hostile.tar.xz', 'w:xz')):
    with tarfile.open(f'{out}/{name}', mode, format=tarfile.GNU_FORMAT) as t:
        hostile(t)
with tarfile.open(f'{out}/hostile-pax.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    hostile(t)
    member(t, 'p/' + 'x' * 200 + '/../../../canary/pax-long')
# a decompression bomb: 64 MiB of zeros, a few KiB gzip'ed
with tarfile.open(f'{out}/bomb.tar.gz', 'w:gz') as t:
    ti = tarfile.TarInfo('zeros'); ti.size = 64 << 20
    class Zeros(io.RawIOBase):
        left = 64 << 20
        def readable(self): return True
        def readinto(self, b):
            n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
    t.addfile(ti, io.BufferedReader(Zeros()))
# big: 3 MiB of random data, for --max-size
import os
with tarfile.open(f'{out}/big.tar', 'w') as t:
    member(t, 'random', data=os.urandom(3 << 20))
EOF
head -c 100000 /dev/urandom >"$W/in/noise.tar"
f=$W/in/hostile.tar.gz
head -c $(( $(stat -c %s "$f") / 2 )) "$f" >"$W/in/truncated.tar.gz"
zstd -q -19 "$W/in/hostile.tar" -o "$W/in/hostile.tar.zst"

"$RACKCTL" image list --store "$S" >/dev/null	# makes the store
BEFORE=$(snapshot)

# image_cpio NAME:VERSION OUT: the image's byte stream from the store
image_cpio() {
	local m=$S/manifests/${1%%:*}/${1#*:}.json off h
	: >"$2"
	jq -r '.chunks[] | "\(.offset) \(.hash)"' "$m" | while read -r off h; do
		zstd -qdc "$S/chunks/${h:0:2}/$h" | dd of="$2" bs=1M seek="$off" oflag=seek_bytes \
			conv=notrunc status=none
	done
	truncate -s "$(jq .size "$m")" "$2"
}

# clean NAME:VERSION: the image lists only safe members
clean() {
	local list=$TMP/list.$$ bad
	image_cpio "$1" "$TMP/img.cpio"
	cpio -itv --quiet <"$TMP/img.cpio" >"$list" 2>&1 || { fail "$1: cpio cannot list the image"; return; }
	bad=$(awk '
		{ name = $9; for (i = 10; i <= NF; i++) name = name " " $i; sub(/ -> .*/, "", name) }
		substr($1, 1, 1) == "c" || substr($1, 1, 1) == "b" { print "device: " name }
		name ~ /^\// { print "absolute: " name }
		name ~ /(^|\/)\.\.(\/|$)/ { print "dotdot: " name }
		/ -> / { t = $0; sub(/.* -> /, "", t); if (t ~ /^\.\.\/\.\.\//) print "escape: " $0 }
	' "$list")
	[ -z "$bad" ] && ok "$1: no device, absolute name, '..' or escaping symlink" || fail "$1: $bad"
	# and unpacking it as the node does writes nothing outside its folder
	rm -rf "$TMP/unpack" && mkdir -p "$TMP/unpack"
	(cd "$TMP/unpack" && busybox cpio -i -d -m -u <"$TMP/img.cpio" 2>/dev/null)
	for p in "$TMP/unpack/abslink/through" "$TMP/unpack/esc" "$TMP/unpack/var/under"; do
		[ -e "$p" ] && [ ! -L "$p" ] && fail "$1: $p exists"
	done
	[ -f "$TMP/unpack${EVIL}/abs-file" ] && ok "$1: the absolute name is inside the root" ||
		fail "$1: no ${EVIL#/}/abs-file in the image"
	[ "$(readlink "$TMP/unpack/abslink")" = "$C" ] && ok "$1: the absolute symlink is kept as it was" ||
		fail "$1: abslink is $(readlink "$TMP/unpack/abslink")"
	[ "$(stat -c %i "$TMP/unpack/hl-ok")" = "$(stat -c %i "$TMP/unpack/etc/os-release")" ] &&
		ok "$1: the hard link inside the root is one file" || fail "$1: hl-ok is not a hard link"
	[ -p "$TMP/unpack/run-fifo" ] && ok "$1: the FIFO is kept" || fail "$1: no FIFO"
	[ -f "$TMP/unpack/var" ] && ok "$1: the later 'var' (a file) wins" || fail "$1: var is not a file"
}

v=0
for in in hostile.tar hostile.tar.gz hostile.tar.xz hostile.tar.zst hostile-pax.tar; do
	v=$((v + 1))
	"$RACKCTL" image import "$W/in/$in" --kind rootfs --name "hostile:$v" --store "$S" \
		>"$TMP/out.$v" 2>"$TMP/err.$v"
	rc=$?
	check_eq "$rc" 0 "$in: imported (with warnings)"
	for w in "is an absolute name" "has a '..' component" "a symlink pointing out of the root" \
		"is under 'esc'" "is under 'abslink', which is a symlink" "is a hard link out of the root" \
		"which is not earlier in the archive" "is a device node" "is under 'var', which is a file"; do
		grep -q -- "$w" "$TMP/err.$v" || fail "$in: no warning '$w'"
	done
	grep -q "left out" "$TMP/out.$v" && ok "$in: the summary counts what was left out" || fail "$in: $(cat "$TMP/out.$v")"
	clean "hostile:$v"
done
# the same tree whatever the compression: the same image
check_eq "$(jq -c '[.chunks[].hash]' "$S/manifests/hostile/1.json")" \
	"$(jq -c '[.chunks[].hash]' "$S/manifests/hostile/4.json")" ".tar and .tar.zst make the same image"

# refusals: a clear error, no manifest
refuse() {	# WANT NAME:VERSION FILE [ARGS...]: the import fails saying WANT
	local want=$1 ref=$2 file=$3
	shift 3
	"$RACKCTL" image import "$W/in/$file" --kind rootfs --name "$ref" --store "$S" "$@" >/dev/null 2>"$TMP/err"
	local rc=$?
	if [ "$rc" -eq 1 ] && grep -q -- "$want" "$TMP/err"; then
		ok "$file ${*:-}: refused: $(grep -v warning "$TMP/err" | head -1 | cut -c1-110)"
	else
		fail "$file ${*:-}: rc $rc, want 1 and '$want': $(cat "$TMP/err")"
	fi
	[ -e "$S/manifests/${ref%%:*}/${ref#*:}.json" ] && fail "$file: a manifest was stored"
}
refuse "refused (strict): '../canary/dotdot'" strict:1 hostile.tar --strict
refuse "larger than the limit of 1048576 bytes" big:1 big.tar --max-size 1M
refuse "more than the limit of 16777216 bytes" bomb:1 bomb.tar.gz --max-size 16M
refuse "truncated\|Truncated\|unexpected end\|Damaged\|premature" trunc:1 truncated.tar.gz
refuse "noise.tar" noise:1 noise.tar
"$RACKCTL" image import - --kind rootfs --name stdin:2 --store "$S" <"$W/in/hostile.tar" >/dev/null 2>"$TMP/err"
grep -q "give a file, not standard input" "$TMP/err" && ok "standard input: refused" || fail "stdin: $(cat "$TMP/err")"
"$RACKCTL" image import "$W/in/big.tar" --kind rootfs --name big:2 --store "$S" --max-size 8M -q >/dev/null &&
	ok "big.tar under --max-size 8M: imported" || fail "big.tar under 8M"

AFTER=$(snapshot)
[ "$BEFORE" = "$AFTER" ] && ok "nothing outside the store was written (canary folder untouched)" ||
	fail "the work folder changed outside the store: $(diff <(echo "$BEFORE") <(echo "$AFTER") | head -5)"
ls -d "$EVIL"* 2>/dev/null && fail "$EVIL was written" || ok "no absolute path of the tarballs was written"
rackctl_list=$("$RACKCTL" image list --store "$S")
check_eq "$(grep -c '^hostile ' <<<"$rackctl_list")" 5 "five hostile images, all rootfs"
grep '^hostile ' <<<"$rackctl_list" | grep -vq rootfs && fail "a hostile image is not rootfs"
finish
