"""sparse_image.py: the pieces of the sparse test disk images that
agent_image.py and push_image.py make for rackd's reimage and push
benchmarks, in one place so that both benchmarks see disks of the same
nature: 1 MiB slots (rackctl's default chunk size), holes in runs as free
space is on a real disk, and data slots that mix random bytes
(incompressible) with log-like text (compressible) in a proportion that
varies from slot to slot. Everything is drawn from the caller's
random.Random, so the images depend only on its seed.
"""
import sys

MIB = 1 << 20
POOL = 8 * MIB


def text_pool(rng, month, days, units):
    """POOL bytes of syslog-like lines ("MONTH DD hh:mm:ss nodeNN UNIT[PID]:
    words"), days 1..DAYS, a unit drawn from UNITS."""
    words = ["".join(rng.choices("etaoinshrdlucmfwypvbgkqjxz",
                                 k=rng.randint(2, 9))) for _ in range(2000)]
    out, size = [], 0
    while size < POOL:
        line = "%s %2d %02d:%02d:%02d node%02d %s[%d]: %s\n" % (
            month, rng.randint(1, days), rng.randint(0, 23),
            rng.randint(0, 59), rng.randint(0, 59), rng.randint(1, 40),
            rng.choice(units), rng.randint(1, 65535),
            " ".join(rng.choices(words, k=rng.randint(3, 14))))
        out.append(line)
        size += len(line)
    return "".join(out).encode()


def hole_map(rng, slots, share):
    """Which slots are holes (1) in a bytearray of SLOTS: runs of 1..64
    slots until SHARE of them are."""
    want = int(slots * share)
    hole = bytearray(slots)
    have = 0
    while have < want:
        start = rng.randrange(slots)
        run = min(rng.randint(1, 64), want - have)
        for i in range(start, min(slots, start + run)):
            if not hole[i]:
                hole[i] = 1
                have += 1
    return hole


def slot_bytes(rng, pool, head):
    """One data slot of MIB bytes: HEAD (the slot's own name, so that no
    two chunks are alike), random bytes, and text cut from POOL."""
    room = MIB - len(head)
    nrand = room * rng.choice((0, 0, 1, 1, 2, 4)) // 4
    ntext = room - nrand
    off = rng.randrange(0, len(pool) - ntext)
    return head + rng.randbytes(nrand) + pool[off:off + ntext]


def data_slots(rng, slots, holes, changed):
    """The data slots (those not holes) in order, and the set of a share
    CHANGED of them (at least one) that a later version changes."""
    hole = hole_map(rng, slots, holes)
    data = [i for i in range(slots) if not hole[i]]
    return data, set(rng.sample(data, max(1, round(len(data) * changed))))


def parse_args(argv, nfiles, doc):
    """SIZE_MIB, NFILES output files, then HOLES CHANGED SEED or none of
    them: (slots, files, holes, changed, seed), defaults 0.6, 0.05 and 1;
    None, with DOC on stderr, for any other count."""
    if len(argv) not in (2 + nfiles, 5 + nfiles):
        sys.stderr.write(doc)
        return None
    more = len(argv) == 5 + nfiles
    return (int(argv[1]), argv[2:2 + nfiles],
            float(argv[2 + nfiles]) if more else 0.6,
            float(argv[3 + nfiles]) if more else 0.05,
            int(argv[4 + nfiles]) if more else 1)
