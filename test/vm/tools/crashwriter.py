#!/usr/bin/env python3
"""Write tagged 4 KiB blocks at random LBAs of a block device with O_DIRECT,
fsync (SYNCHRONIZE CACHE) every N writes, and log every write and every
completed flush, until killed.  `crashwriter.py verify` checks a device
against such a log: every write acknowledged before the last completed
flush must read back (or a later write of the same block)."""
import mmap
import os
import random
import struct
import sys

MAGIC = 0x564C554E43524153  # "VLUNCRAS"


def block(lba, seq):
    return (struct.pack("<QQQQ", MAGIC, lba, seq, seq ^ MAGIC) * 128)


def write(dev, nblocks, log, seed, every):
    rng = random.Random(seed)
    fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
    buf = mmap.mmap(-1, 4096)
    seq = 0
    with open(log, "a", buffering=1) as lf:
        while True:
            lba = rng.randrange(nblocks)
            seq += 1
            buf[:] = block(lba, seq)
            lf.write(f"W {lba} {seq}\n")
            os.pwrite(fd, buf, lba * 4096)
            if seq % every == 0:
                os.fsync(fd)
                lf.write(f"F {seq}\n")


def verify(dev, log):
    writes = {}  # lba -> [seq...]
    mark = 0
    for line in open(log):
        p = line.split()
        if len(p) == 3 and p[0] == "W":
            writes.setdefault(int(p[1]), []).append(int(p[2]))
        elif len(p) == 2 and p[0] == "F":
            mark = max(mark, int(p[1]))
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 4096)
    bad = checked = 0
    for lba, seqs in sorted(writes.items()):
        durable = [s for s in seqs if s <= mark]
        allowed = set(s for s in seqs if s > mark)
        allowed.add(max(durable) if durable else 0)
        os.preadv(fd, [buf], lba * 4096)
        data = bytes(buf)
        if data == bytes(4096):
            got = 0
        else:
            m, l, s, x = struct.unpack_from("<QQQQ", data)
            got = s if (m == MAGIC and l == lba and x == s ^ MAGIC and data == block(lba, s)) else -1
        checked += 1
        if got not in allowed:
            bad += 1
            print(f"block {lba}: found {got}, allowed {sorted(allowed)} (flushed up to {mark})")
    print(f"verified {checked} blocks written before/after the last flush (seq {mark}): {bad} bad")
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    else:
        sys.exit(verify(sys.argv[2], sys.argv[3]))
