#!/bin/sh
# tests/fuzz/seeds.sh: writes the seed corpus of each fuzz driver into
# tests/fuzz/corpus/NAME/ (committed; run again only to change them). A
# few small inputs each, valid and near-valid, so that libFuzzer starts
# from the formats' shapes instead of from nothing. Needs python3 and the
# zstd command (for patches made with --patch-from, as rackctl makes them).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/tests/fuzz/corpus
rm -rf "$out"
mkdir -p "$out"
cd "$out"
python3 - <<'PY'
import io, json, os, struct, subprocess, tarfile, tempfile

def put(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

H1 = "0" * 63 + "1"
H2 = "ab" * 32
def manifest(**kw):
    m = {"format": 1, "name": "debian", "version": "12.5", "kind": "disk",
         "size": 196608, "chunk_size": 65536, "hash": "blake2b-256",
         "compression": "zstd", "created": "2024-03-01T12:00:00Z",
         "chunks": [{"offset": 0, "length": 65536, "hash": H1, "stored": 100},
                    {"offset": 131072, "length": 65536, "hash": H2,
                     "stored": 2000}]}
    m.update(kw)
    return m

# ---- the manifest ----
d = "images_manifest"
put(d, "valid", json.dumps(manifest(), indent=1))
put(d, "rootfs-tail", json.dumps(manifest(kind="rootfs", size=140000,
    chunks=[{"offset": 131072, "length": 8928, "hash": H2, "stored": 50}])))
put(d, "signed", json.dumps(manifest(signature={"alg": "ed25519",
    "key": "AAAA", "sig": "BBBB"})))
put(d, "empty-image", json.dumps(manifest(size=0, chunks=[])))
put(d, "bad-length", json.dumps(manifest(chunks=[{"offset": 0,
    "length": 4096, "hash": H1, "stored": 1}])))
put(d, "duplicate-key", '{"format": 1, "format": 1}')
put(d, "bad-time", json.dumps(manifest(created="2024-02-30T25:00:00Z")))

# ---- the agent's job reply ----
d = "pxe_job"
job = {"id": 7, "state": "streaming", "image": "debian:12.5",
       "chunks_url": "/chunks/", "manifest": manifest()}
put(d, "relative", json.dumps(job))
put(d, "absolute", json.dumps(dict(job, chunks_url="http://10.200.0.1:8080/chunks")))
put(d, "rootfs", json.dumps(dict(job, manifest=manifest(kind="rootfs"))))
put(d, "dotdot", json.dumps(dict(job, chunks_url="/chunks/../etc/")))
put(d, "long-url", json.dumps(dict(job, chunks_url="/" + "c" * 300)))
put(d, "no-id", json.dumps(dict(job, id=0)))

# ---- the Range header: 8 bytes of file size, then the header ----
d = "appliance_chunks"
for name, size, hdr in [("first", 1000, "bytes=0-99"), ("suffix", 1000, "bytes=-5"),
                        ("open", 1000, "bytes=10-"), ("several", 1000, "bytes=0-1,3-4"),
                        ("unit", 1000, "items=1-2"), ("past-end", 100, "bytes=100-200"),
                        ("reversed", 1000, "bytes=9-3"), ("empty-file", 0, "bytes=-1"),
                        ("huge", 2**64 - 1, "bytes=18446744073709551614-")]:
    put(d, name, struct.pack("<Q", size) + hdr.encode())

# ---- the node PATCH body ----
d = "appliance_api"
for name, body in [("label", {"label": "web 1"}), ("image", {"image": "debian:12.5"}),
                   ("clear", {"image": None, "boot_mode": "diskless"}),
                   ("all", {"label": "db", "image": "debian", "boot_mode": "local"}),
                   ("unknown", {"power": "on"}), ("empty", {}),
                   ("control", {"label": "a\tb"}), ("bad-image", {"image": "-x:1"})]:
    put(d, name, json.dumps(body))

# ---- the erase body and the agent's note ----
d = "appliance_erase"
for name, body in [("auto", {"method": "auto"}), ("overwrite", {"method": "overwrite"}),
                   ("empty", {}), ("other", {"method": "shred"}),
                   ("number", {"method": 1}), ("note", {"message": "auto: NVMe Format NVM"}),
                   ("note-control", {"message": "a\u0007b"}), ("note-empty", {"message": ""}),
                   ("note-extra", {"message": "x", "state": "done"})]:
    put(d, name, json.dumps(body))

# ---- the console's POST body ----
d = "appliance_console_api"
for name, body in [("root", {"data": "cm9vdA0="}), ("empty", {"data": ""}),
                   ("extra", {"data": "eA==", "x": 1}), ("number", {"data": 5}),
                   ("bad", {"data": "!!!"})]:
    put(d, name, json.dumps(body))

# ---- the inventory a node posts ----
d = "appliance_inventory"
INV = {"system": {"vendor": "QEMU", "model": "Standard PC", "serial": "SN-1",
                  "uuid": "5e1f4c2a-0b3d-4c6e-8f70-91a2b3c4d5e6"},
       "cpus": {"model": "QEMU Virtual CPU", "sockets": 1, "cores": 2, "threads": 2},
       "memory_bytes": 805306368,
       "disks": [{"name": "vda", "path": "/dev/vda", "model": "", "serial": "V1",
                  "size_bytes": 100663296, "rotational": False, "smart": "unknown"},
                 {"name": "nvme0n1", "path": "/dev/nvme0n1", "model": "QEMU NVMe Ctrl",
                  "serial": "N1", "size_bytes": 67108864, "rotational": False,
                  "smart": "passed"}],
       "nics": [{"name": "eth0", "mac": "52:54:00:12:34:56", "driver": "virtio_net",
                 "speed_mbps": None}],
       "firmware": {"mode": "uefi", "secure_boot": None}}
put(d, "full", json.dumps(INV))
bad = json.loads(json.dumps(INV)); bad["extra"] = 1
put(d, "extra", json.dumps(bad))
bad = json.loads(json.dumps(INV)); bad["disks"][0]["smart"] = "ok"
put(d, "smart", json.dumps(bad))
bad = json.loads(json.dumps(INV)); bad["nics"][0]["mac"] = "52:54:00:12:34:5G"
put(d, "mac", json.dumps(bad))
bad = json.loads(json.dumps(INV)); del bad["firmware"]
put(d, "missing", json.dumps(bad))
put(d, "empty", "{}")

# ---- the ipmi power method's settings ----
d = "appliance_power_ipmi"
for name, body in [("all", {"method": "ipmi", "address": "10.0.0.5", "port": 623,
                            "user": "admin", "password": "se#cret-1", "protocol": "lanplus",
                            "cipher_suite": 17, "privilege": "operator", "boot_type": "efi"}),
                   ("strings", {"port": "6230", "cipher_suite": "3", "protocol": "LAN"}),
                   ("empty", {}), ("unknown", {"pasword": "x"}),
                   ("range", {"port": 65536, "cipher_suite": 4}),
                   ("long", {"password": "p#" * 11, "protocol": "lan"}),
                   ("address", {"address": "bmc-1:623"})]:
    put(d, name, json.dumps(body))

# ---- the power settings of a node PATCH ----
d = "appliance_power"
for name, body in [("command", {"power": {"method": "command", "program": "/bin/true",
                                          "timeout": "5", "password": "pw"}}),
                   ("wol", {"power": {"method": "wol", "broadcast": "10.0.0.255", "port": 9}}),
                   ("bad-method", {"power": {"method": "ipmi"}}), ("null", {"power": None}),
                   ("types", {"power": {"method": "wol", "port": [9], "x": True}})]:
    put(d, name, json.dumps(body))

# ---- a pull: 1 and its POST body, 0 and the manifest fetched, or 2 and
# an origin's index.json ----
d = "appliance_pull"
for name, body in [("request", {"image": "debian:12.5"}), ("no-version", {"image": "debian"}),
                   ("extra", {"image": "debian:12.5", "from": "x"}), ("not-string", {"image": 1})]:
    put(d, name, b"\x01" + json.dumps(body).encode())
put(d, "manifest", b"\x00" + json.dumps(manifest()).encode())
put(d, "other-image", b"\x00" + json.dumps(manifest(version="12.4")).encode())
put(d, "signed", b"\x00" + json.dumps(manifest(signature={"alg": "ed25519", "key": "A" * 43 + "=",
                                                         "sig": "B" * 86 + "=="})).encode())
put(d, "index", b"\x02" + json.dumps({"name": "debian", "versions": ["12.1", "12.5"]}).encode())
put(d, "index-bad", b"\x02" + json.dumps({"name": "debian", "versions": ["../x", 1]}).encode())

# ---- an S3 listing (rackctl publish's index of an S3 origin) ----
d = "rackctl_s3_list"
def listing(keys, truncated=False, token=None):
    x = ['<?xml version="1.0" encoding="UTF-8"?>',
         '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
         "<Name>images</Name><Prefix>site/manifests/debian/</Prefix>",
         f"<KeyCount>{len(keys)}</KeyCount><MaxKeys>1000</MaxKeys>",
         f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"]
    x += [f"<Contents><Key>{k}</Key><Size>1</Size></Contents>" for k in keys]
    if token:
        x.append(f"<NextContinuationToken>{token}</NextContinuationToken>")
    return "\n".join(x + ["</ListBucketResult>"])
put(d, "page", listing(["site/manifests/debian/12.1.json", "site/manifests/debian/12.5.json",
                        "site/manifests/debian/index.json"]))
put(d, "truncated", listing(["site/manifests/debian/12.1.json"], True, "YWZ0ZXI6eA=="))
put(d, "entities", listing(["site/manifests/debian/a&amp;b.json", "site/&#47;x.json"]))
put(d, "empty", listing([]))
put(d, "error", '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
    "<Message>The request signature we calculated does not match</Message></Error>")

# ---- the configuration file ----
d = "appliance_config"
put(d, "readme", """# /etc/rackd.conf
state_dir = /var/lib/rackd
listen = 0.0.0.0:8080
links = usb*,enx*
uplink = eth0
link_slots = 1-1.1=U1,1-1.2=U2
boot_timeout = 10m
""")
put(d, "lists", "links = usb*\nlinks = enx*\n  eth9\nlink_subnet_pool = 10.200.0.0/16\n")
put(d, "types", "diskless_stream = yes\npush_expiry = 90s\nrootfs_max_size = 2G\n"
    "session_ttl = 12h\nuser = root\n")
put(d, "power", "[power.n1]\nmethod = command\nprogram = /bin/true\ntimeout = 5\n"
    "[power.n2]\nmethod = wol\n")
put(d, "unknown", "no_such_option = 1\n")
put(d, "syntax", "[section]\nlisten\n")
put(d, "bad-value", "boot_timeout = forever\nlisten = 1.2.3.4:99999\n")

# ---- a BMC's Redfish replies: a Systems collection, a ComputerSystem ----
d = "appliance_power_redfish"
put(d, "systems", json.dumps({"@odata.id": "/redfish/v1/Systems",
    "Members@odata.count": 1, "Members": [{"@odata.id": "/redfish/v1/Systems/1"}]}))
put(d, "system", json.dumps({"@odata.id": "/redfish/v1/Systems/1",
    "@odata.etag": 'W/"3"', "PowerState": "On",
    "Boot": {"BootSourceOverrideTarget": "None", "BootSourceOverrideEnabled": "Disabled",
             "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Pxe", "Hdd"]},
    "Actions": {"#ComputerSystem.Reset": {
        "target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
        "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "GracefulShutdown",
                                              "ForceRestart", "PowerCycle"]}}}))
put(d, "error", json.dumps({"error": {"code": "Base.1.16.InsufficientPrivilege",
    "message": "no", "@Message.ExtendedInfo": [{"Message": "no"}]}}))
put(d, "broken", '{"Members": [{"@odata.id": "/redfish/v1/Sys')

# ---- zstd patches: flag byte, 2 bytes of base length, base, patch ----
d = "images_chunk"
tmp = tempfile.mkdtemp()
base = bytes((i * 7) % 251 for i in range(4096))
new = bytearray(base); new[100:110] = b"0123456789"; new = bytes(new)
def zstd(data, patch_from=None):
    src = os.path.join(tmp, "src"); open(src, "wb").write(data)
    args = ["zstd", "-q", "-c", "-1", src]
    if patch_from is not None:
        bp = os.path.join(tmp, "base"); open(bp, "wb").write(patch_from)
        args[1:1] = ["--patch-from=" + bp]
    return subprocess.run(args, check=True, capture_output=True).stdout
patch = zstd(new, base)
def case(flag, b, p):
    return bytes([flag]) + struct.pack("<H", len(b)) + b + p
put(d, "patch", case(0, base, patch))
put(d, "patch-roundtrip", case(1, base, patch))
put(d, "patch-bounded", case(2 | (2 << 2), base, patch))
put(d, "plain-chunk", case(0, b"", zstd(new)))
put(d, "wrong-base", case(0, base[::-1], patch))
put(d, "truncated", case(0, base, patch[: len(patch) // 2]))
put(d, "trailing", case(0, base, patch + b"\0"))

# ---- rootfs tarballs ----
d = "images_rootfs_import"
def tarball(members, mode="w"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT) as t:
        for m, data in members:
            m.mtime = 1700000000
            t.addfile(m, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()
def ti(name, type=tarfile.REGTYPE, size=0, mode=0o644, linkname=""):
    m = tarfile.TarInfo(name); m.type = type; m.size = size; m.mode = mode
    m.linkname = linkname; return m
hello = b"hello\n"
tree = [(ti("etc", tarfile.DIRTYPE, mode=0o755), None),
        (ti("etc/hostname", size=len(hello)), hello),
        (ti("bin", tarfile.DIRTYPE, mode=0o755), None),
        (ti("bin/sh", tarfile.SYMTYPE, linkname="busybox"), None),
        (ti("bin/busybox", size=3, mode=0o755), b"\x7fEL"),
        (ti("bin/ls", tarfile.LNKTYPE, linkname="bin/busybox"), None),
        (ti("dev/null", tarfile.CHRTYPE, mode=0o666), None)]
put(d, "tree.tar", tarball(tree))
put(d, "tree.tar.gz", tarball(tree, "w:gz"))
put(d, "dotdot.tar", tarball([(ti("../escape", size=1), b"x"),
                              (ti("/abs/file", size=1), b"y")]))
put(d, "self-link.tar", tarball([(ti("a", tarfile.LNKTYPE, linkname="a"), None)]))
put(d, "truncated.tar", tarball(tree)[:700])
put(d, "empty.tar", tarball([]))

# ---- rack-agent's FAT parser (a partition, its boot sector first) ----
d = "pxe_capture_fat"
def fat(bps=512, spc=1, rsvd=1, nfats=2, roots=16, tot=64, fatsz=1,
        fat32=False, entries=(0xff8, 0xfff, 0xfff, 3, 0xfff)):
    bs = bytearray(bps)
    bs[0:3] = b"\xeb\x3c\x90"
    bs[3:11] = b"mkfs.fat"
    struct.pack_into("<HBHBHHBH", bs, 11, bps, spc, rsvd, nfats,
                     0 if fat32 else roots, tot if tot < 65536 else 0, 0xf8,
                     0 if fat32 else fatsz)
    struct.pack_into("<I", bs, 32, tot if tot >= 65536 else 0)
    if fat32:
        struct.pack_into("<I", bs, 36, fatsz)
    bs[510:512] = b"\x55\xaa"
    table = bytearray(fatsz * bps)
    for k, v in enumerate(entries):   # FAT12 packing
        o = k * 3 // 2
        if k & 1:
            table[o] |= (v << 4) & 0xf0
            table[o + 1] = v >> 4
        else:
            table[o] = v & 0xff
            table[o + 1] |= v >> 8
    img = bytes(bs) + bytes((rsvd - 1) * bps) + bytes(table) * nfats
    return img + bytes(tot * bps - len(img))
put(d, "fat12", fat())
put(d, "fat12-full", fat(entries=[0xff8, 0xfff] + [0xfff] * 60))
put(d, "fat12-spc4", fat(spc=4, tot=256))
put(d, "fat32-boot", fat(fat32=True, tot=70000, fatsz=600)[:4096])
put(d, "no-signature", fat()[:510])
PY
ls -R "$out" | head -80
