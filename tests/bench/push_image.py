#!/usr/bin/env python3
"""push_image.py SIZE_MIB V1 V2 V3 [HOLES CHANGED SEED]: three versions of
a sparse test disk image for rackd's push benchmark.

SIZE_MIB slots of 1 MiB (rackctl's default chunk size). A fraction HOLES
(default 0.6) of the slots are never written (holes), in runs, as free
space is on a real disk. Every data slot starts with its own number (no
two chunks alike) and mixes random bytes with log-like text in a
proportion that varies from slot to slot, so compressed sizes vary.

V2 and V3 are V1 with the same fraction CHANGED (default 0.05) of its data
slots changed: in V2 those slots are rewritten with new content (files
replaced: new random bytes, and text drawn from a pool V1 never uses, so
that no tool finds it elsewhere in V1), in V3 only 8 bytes in the middle
of each change (edits in place). The output depends only on SEED.
"""
import random
import sys

MIB = 1 << 20
POOL = 8 * MIB


def text_pool(rng):
    words = ["".join(rng.choices("etaoinshrdlucmfwypvbgkqjxz", k=rng.randint(2, 9)))
             for _ in range(2000)]
    units = ["rackd", "sshd", "kernel", "cron", "nginx", "systemd"]
    out, size = [], 0
    while size < POOL:
        line = "Apr %2d %02d:%02d:%02d node%02d %s[%d]: %s\n" % (
            rng.randint(1, 30), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
            rng.randint(1, 40), rng.choice(units), rng.randint(1, 65535),
            " ".join(rng.choices(words, k=rng.randint(3, 14))))
        out.append(line)
        size += len(line)
    return "".join(out).encode()


def holes_of(rng, slots, share):
    want, have = int(slots * share), 0
    hole = bytearray(slots)
    while have < want:
        start = rng.randrange(slots)
        for i in range(start, min(slots, start + min(rng.randint(1, 64), want - have))):
            if not hole[i]:
                hole[i] = 1
                have += 1
    return hole


def slot(rng, pool, i, tag):
    head = b"push bench slot %08d %s\n" % (i, tag)
    room = MIB - len(head)
    nrand = room * rng.choice((0, 0, 1, 1, 2, 4)) // 4
    off = rng.randrange(0, len(pool) - (room - nrand))
    return head + rng.randbytes(nrand) + pool[off:off + room - nrand]


def main():
    if len(sys.argv) not in (5, 8):
        sys.stderr.write(__doc__)
        return 2
    slots = int(sys.argv[1])
    holes = float(sys.argv[5]) if len(sys.argv) == 8 else 0.6
    changed = float(sys.argv[6]) if len(sys.argv) == 8 else 0.05
    rng = random.Random(int(sys.argv[7]) if len(sys.argv) == 8 else 1)
    pool = text_pool(rng)
    newpool = text_pool(random.Random(rng.random()))
    hole = holes_of(rng, slots, holes)
    data = [i for i in range(slots) if not hole[i]]
    change = set(rng.sample(data, max(1, round(len(data) * changed))))
    files = [open(p, "wb") for p in sys.argv[2:5]]
    for i in data:
        b = slot(rng, pool, i, b"v1")
        b2 = slot(rng, newpool, i, b"v2") if i in change else b
        b3 = b
        if i in change:
            m = bytearray(b)
            m[MIB // 2:MIB // 2 + 8] = b"v3v3v3v3"
            b3 = bytes(m)
        for f, x in zip(files, (b, b2, b3)):
            f.seek(i * MIB)
            f.write(x)
    for f in files:
        f.truncate(slots * MIB)
        f.close()
    print(len(change))
    return 0


if __name__ == "__main__":
    sys.exit(main())
