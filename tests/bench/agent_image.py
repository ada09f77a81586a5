#!/usr/bin/env python3
"""agent_image.py SIZE_MIB V1 V2 [HOLES CHANGED SEED]: two versions of a
sparse test disk image for rackd's reimage benchmark.

The image is SIZE_MIB slots of 1 MiB (rackctl's default chunk size). A
fraction HOLES (default 0.6) of the slots are holes: never written, so the
files are sparse and rackctl makes them holes, not chunks. Holes come in
runs of varying length, as free space does on a real disk. Every data slot
starts with its own number (no two chunks alike) and mixes random bytes
(incompressible) with log-like text (compressible) in a proportion that
varies from slot to slot.

V2 is V1 with a fraction CHANGED (default 0.05) of its data slots altered
(a few bytes in the middle of the slot), so a delta reimage from V1 to V2
moves that many chunks. The slots changed are printed on stdout, one a
line. The output depends only on SEED.
"""
import random
import sys

from sparse_image import MIB, data_slots, parse_args, slot_bytes, text_pool


def main():
    args = parse_args(sys.argv, 2, __doc__)
    if args is None:
        return 2
    slots, (out1, out2), holes, changed, seed = args
    rng = random.Random(seed)
    pool = text_pool(rng, "Mar", 31,
                     ["rackd", "dnsmasq", "kernel", "sshd", "cron", "nginx"])
    data, change = data_slots(rng, slots, holes, changed)
    with open(out1, "wb") as v1, open(out2, "wb") as v2:
        for i in data:
            b = slot_bytes(rng, pool, b"rackd bench slot %08d\n" % i)
            v1.seek(i * MIB)
            v1.write(b)
            if i in change:
                m = bytearray(b)
                m[MIB // 2:MIB // 2 + 8] = b"v2v2v2v2"
                b = bytes(m)
            v2.seek(i * MIB)
            v2.write(b)
        for f in (v1, v2):
            f.truncate(slots * MIB)
    for i in sorted(change):
        print(i)
    return 0


if __name__ == "__main__":
    sys.exit(main())
