#!/usr/bin/env python3
"""chunks_image.py SIZE_MIB FILE [SEED]: a test disk image for the chunk
benchmark of rackd.

Every 1 MiB block mixes random bytes (incompressible) with text-like lines
(compressible, like logs and configuration files) in a proportion that
varies from block to block, so stored chunk sizes vary as they do in a
real image. No block contains a long run of zeros (those would become
holes, not chunks), and every block starts with its own number, so no two
chunks share a hash. The output depends only on SEED.
"""
import random
import sys

MIB = 1024 * 1024
POOL_BYTES = 8 * MIB


def text_pool(rng):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choices(letters, k=rng.randint(2, 10)))
             for _ in range(3000)]
    hosts = ["node%02d" % i for i in range(24)]
    services = ["kernel", "sshd", "systemd", "cron", "rackd", "dnsmasq"]
    lines = []
    size = 0
    n = 0
    while size < POOL_BYTES:
        line = "2024-%02d-%02dT%02d:%02d:%02d %s %s[%d]: %s\n" % (
            rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
            rng.randint(0, 59), rng.randint(0, 59), rng.choice(hosts),
            rng.choice(services), rng.randint(100, 99999),
            " ".join(rng.choices(words, k=rng.randint(4, 16))))
        lines.append(line)
        size += len(line)
        n += 1
    return "".join(lines).encode()


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: chunks_image.py SIZE_MIB FILE [SEED]\n")
        return 2
    blocks = int(sys.argv[1])
    seed = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    rng = random.Random(seed)
    pool = text_pool(rng)
    with open(sys.argv[2], "wb") as out:
        for i in range(blocks):
            head = b"block %08d\n" % i
            nrand = rng.choice((0, 1, 2, 3, 4)) * (MIB - len(head)) // 4
            ntext = MIB - len(head) - nrand
            off = rng.randrange(0, len(pool) - ntext)
            out.write(head)
            out.write(rng.randbytes(nrand))
            out.write(pool[off:off + ntext])
    return 0


if __name__ == "__main__":
    sys.exit(main())
