"""How fast the disk under a directory makes writes durable, so a bench
reader can tell a slow disk from a slow server.

Usage: fsync_probe.py DIR [ROUNDS]
Writes ROUNDS (default 40) times 4 KiB + fsync, then ROUNDS times 512 KiB +
fsync, into a scratch file in DIR (removed afterwards), and prints one JSON
line with the p50 and p95 of each in milliseconds. Issue 17 names the
512 KiB p95 as the mark of a slow phase (>= 10 ms).
"""
import json
import os
import sys
import time


def probe(directory, size, rounds):
    path = os.path.join(directory, f".fsync-probe-{os.getpid()}")
    block = os.urandom(size)
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            os.pwrite(fd, block, 0)
            os.fsync(fd)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    return round(pick(0.50), 3), round(pick(0.95), 3)


def main():
    directory = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    small = probe(directory, 4096, rounds)
    large = probe(directory, 512 * 1024, rounds)
    print(json.dumps({
        "fsync_4k_p50_ms": small[0], "fsync_4k_p95_ms": small[1],
        "fsync_512k_p50_ms": large[0], "fsync_512k_p95_ms": large[1],
        "rounds": rounds,
    }))


if __name__ == "__main__":
    main()
