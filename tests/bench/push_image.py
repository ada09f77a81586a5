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

from sparse_image import MIB, data_slots, parse_args, slot_bytes, text_pool

UNITS = ["rackd", "sshd", "kernel", "cron", "nginx", "systemd"]


def main():
    args = parse_args(sys.argv, 3, __doc__)
    if args is None:
        return 2
    slots, outs, holes, changed, seed = args
    rng = random.Random(seed)
    pool = text_pool(rng, "Apr", 30, UNITS)
    newpool = text_pool(random.Random(rng.random()), "Apr", 30, UNITS)
    data, change = data_slots(rng, slots, holes, changed)
    files = [open(p, "wb") for p in outs]
    for i in data:
        b = slot_bytes(rng, pool, b"push bench slot %08d v1\n" % i)
        b2 = (slot_bytes(rng, newpool, b"push bench slot %08d v2\n" % i)
              if i in change else b)
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
