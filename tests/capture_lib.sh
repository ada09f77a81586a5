# tests/capture_lib.sh — the capture tests' disk (bash; after lib.sh):
# a GPT disk with a vfat ESP and an ext4 partition holding files, made
# without loop devices (mkfs on files, dd into the disk at the partition's
# offset), its free space random bytes; and the checks of a disk made
# from its capture.

CAP_DISK_MIB=${CAP_DISK_MIB:-64}

# cap_part DISK N: the offset and size in bytes of partition N (1-based).
cap_part() {
	sfdisk -J "$1" | jq -r --argjson n "$2" \
	    '.partitiontable | (.sectorsize // 512) as $s | .partitions[$n - 1] |
	    "\(.start * $s) \(.size * $s)"'
}

# cap_extract DISK N FILE: partition N of DISK into FILE.
cap_extract() {
	local off size
	read -r off size < <(cap_part "$1" "$2")
	dd if="$1" of="$3" bs=1M iflag=skip_bytes,count_bytes skip="$off" \
	    count="$size" status=none
}

# cap_put DISK N FILE: FILE written as partition N of DISK.
cap_put() {
	local off size
	read -r off size < <(cap_part "$1" "$2")
	dd if="$3" of="$1" bs=1M oflag=seek_bytes seek="$off" conv=notrunc \
	    status=none
}

# capture_make_disk DISK TREE: makes DISK and the files it holds under
# TREE/esp and TREE/root; sets USED_BYTES (what the partition table and
# both file systems use).
capture_make_disk() {
	local disk=$1 tree=$2 esp ext off size bs blocks free espfree
	mkdir -p "$tree/esp" "$tree/root/etc" "$tree/root/data"
	head -c $((CAP_DISK_MIB << 20)) /dev/urandom >"$disk"
	printf 'label: gpt\nstart=2048, size=16384, type=U\nstart=18432, type=L\n' |
		sfdisk -q "$disk" >/dev/null || { fail "sfdisk"; return 1; }
	head -c 300000 /dev/urandom >"$tree/esp/BOOTX64.EFI"
	echo "rackd capture test" >"$tree/esp/README.TXT"
	head -c 3000000 /dev/urandom >"$tree/root/data/blob.bin"
	echo "golden server" >"$tree/root/etc/hostname"
	seq 1 20000 >"$tree/root/etc/numbers.txt"
	esp=$TMP/esp.img
	ext=$TMP/ext.img
	read -r off size < <(cap_part "$disk" 1)
	head -c "$size" /dev/urandom >"$esp"
	mkfs.vfat -n ESP "$esp" >/dev/null || { fail "mkfs.vfat"; return 1; }
	mmd -i "$esp" ::/EFI ::/EFI/BOOT
	mcopy -i "$esp" "$tree/esp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i "$esp" "$tree/esp/README.TXT" ::/README.TXT
	read -r off size < <(cap_part "$disk" 2)
	head -c "$size" /dev/urandom >"$ext"
	# nodiscard: the free blocks keep their random bytes;
	# lazy_itable_init=0: the inode tables are written (zeros).
	mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=0 \
		-d "$tree/root" "$ext" || { fail "mkfs.ext4"; return 1; }
	cap_put "$disk" 1 "$esp"
	cap_put "$disk" 2 "$ext"
	bs=$(dumpe2fs -h "$ext" 2>/dev/null | awk -F: '/^Block size/ {print $2+0}')
	blocks=$(dumpe2fs -h "$ext" 2>/dev/null | awk -F: '/^Block count/ {print $2+0}')
	free=$(dumpe2fs -h "$ext" 2>/dev/null | awk -F: '/^Free blocks/ {print $2+0}')
	espfree=$(mdir -i "$esp" ::/ | awk '/bytes free/ {gsub(/ /, "", $0); print $0+0}')
	read -r off size < <(cap_part "$disk" 1)
	# 1 MiB before the ESP and the backup GPT at the end.
	USED_BYTES=$(((blocks - free) * bs + size - espfree + (2 << 20)))
	rm -f "$esp" "$ext"
}

# capture_change_file DISK [NAME BYTES]: one new file in the ext4
# partition (NAME, BYTES random; default a small text file).
capture_change_file() {
	cap_extract "$1" 2 "$TMP/chg.img"
	if [ -n "${3:-}" ]; then
		head -c "$3" /dev/urandom >"$TMP/new.txt"
	else
		echo "changed after the first capture" >"$TMP/new.txt"
	fi
	debugfs -w -R "write $TMP/new.txt /etc/${2:-new.txt}" "$TMP/chg.img" >/dev/null 2>&1
	cap_put "$1" 2 "$TMP/chg.img"
	rm -f "$TMP/chg.img"
}

# capture_compare SRC DST TREE: DST, made from SRC's capture, holds SRC's
# partition table, every block SRC's ext4 uses, the ESP's used regions,
# and the files of TREE (checks).
capture_compare() {
	local src=$1 dst=$2 tree=$3 a=$TMP/cmp_a.img b=$TMP/cmp_b.img
	if cmp -s -n $((1 << 20)) "$src" "$dst" &&
	    cmp -s <(tail -c 16896 "$src") <(tail -c 16896 "$dst"); then
		ok "compare: the partition table (and backup) byte for byte"
	else
		fail "compare: the partition table differs"
	fi
	cap_extract "$src" 2 "$a"
	cap_extract "$dst" 2 "$b"
	dumpe2fs "$a" 2>/dev/null | python3 -c '
import re, sys
a, b = sys.argv[1], sys.argv[2]
text = sys.stdin.read()
bs = int(re.search(r"^Block size:\s+(\d+)", text, re.M).group(1))
count = int(re.search(r"^Block count:\s+(\d+)", text, re.M).group(1))
free = bytearray(count)
for line in re.findall(r"^\s+Free blocks: (.*)$", text, re.M):
    for part in line.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        for k in range(int(lo), int(hi or lo) + 1):
            free[k] = 1
used = bad = 0
with open(a, "rb") as fa, open(b, "rb") as fb:
    for k in range(count):
        x, y = fa.read(bs), fb.read(bs)
        if free[k]:
            continue
        used += 1
        if x != y:
            bad += 1
print(used, bad)
' "$a" "$b" >"$TMP/cmp.out"
	read -r used bad <"$TMP/cmp.out"
	if [ -n "$used" ] && [ "$used" -gt 0 ] && [ "$bad" = 0 ]; then
		ok "compare: all $used blocks ext4 uses byte for byte"
	else
		fail "compare: ext4 used blocks: $(cat "$TMP/cmp.out")"
	fi
	e2fsck -fn "$b" >"$TMP/fsck.out" 2>&1 && ok "compare: e2fsck -n is clean" ||
		{ fail "compare: e2fsck -n"; tail -5 "$TMP/fsck.out"; }
	debugfs -R "dump /data/blob.bin $TMP/blob.out" "$b" >/dev/null 2>&1
	debugfs -R "dump /etc/numbers.txt $TMP/numbers.out" "$b" >/dev/null 2>&1
	cmp -s "$TMP/blob.out" "$tree/root/data/blob.bin" &&
	    cmp -s "$TMP/numbers.out" "$tree/root/etc/numbers.txt" &&
		ok "compare: the ext4 files read back" ||
		fail "compare: the ext4 files differ"
	cap_extract "$src" 1 "$a"
	cap_extract "$dst" 1 "$b"
	python3 - "$a" "$b" >"$TMP/cmp.out" <<'EOF'
import struct, sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
bps, spc, rsvd, nfats, roots, tot16 = struct.unpack_from("<HBHBHH", a, 11)
fatsz = struct.unpack_from("<H", a, 22)[0]
tot = tot16 or struct.unpack_from("<I", a, 32)[0]
meta = (rsvd + nfats * fatsz) * bps + roots * 32
data = meta
clusters = (tot * bps - data) // (spc * bps)
fat = a[rsvd * bps:(rsvd + fatsz) * bps]
kind = 12 if clusters < 4085 else 16
def entry(k):
    if kind == 16:
        return struct.unpack_from("<H", fat, 2 * k)[0]
    v = struct.unpack_from("<H", fat, k * 3 // 2)[0]
    return v >> 4 if k & 1 else v & 0xfff
bad = used = 0
if a[:meta] != b[:meta]:
    bad += 1
cb = spc * bps
for k in range(2, clusters + 2):
    if entry(k) == 0:
        continue
    used += 1
    o = data + (k - 2) * cb
    if a[o:o + cb] != b[o:o + cb]:
        bad += 1
print(used, bad)
EOF
	read -r used bad <"$TMP/cmp.out"
	if [ -n "$used" ] && [ "$used" -gt 0 ] && [ "$bad" = 0 ]; then
		ok "compare: the ESP's boot sector, FATs, root and $used used clusters byte for byte"
	else
		fail "compare: ESP: $(cat "$TMP/cmp.out")"
	fi
	mtype -i "$b" ::/EFI/BOOT/BOOTX64.EFI >"$TMP/efi.out" 2>/dev/null
	cmp -s "$TMP/efi.out" "$tree/esp/BOOTX64.EFI" && mdir -i "$b" ::/ >/dev/null 2>&1 &&
		ok "compare: the ESP's files read back (mdir, mtype)" ||
		fail "compare: the ESP's files differ"
	rm -f "$a" "$b"
}
