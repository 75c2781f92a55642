"""Summarise `harness load` reports written by scripts/bench_ingest.sh.

Usage: summarise.py OUT_DIR BATCH_SIZE...
Reads OUT_DIR/{gateway,peer}-batch{N}.json and prints a table plus the
gateway/peer messages-per-second ratio for each batch size, then the
machine-independent figures (issue 17) from the .io, .cpu, .wal.json and
fsync-batch{N}.json files the script leaves beside them.
"""
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(value, digits=1):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def server_cpu_per_message(out, target, batch, report):
    """Server CPU microseconds per stored message during the run, when the script measured it."""
    try:
        with open(os.path.join(out, f"{target}-batch{batch}.cpu")) as f:
            seconds = float(f.read().strip())
    except (OSError, ValueError):
        return None
    rate = report["throughput"].get("messages_per_second")
    elapsed = report["throughput"].get("elapsed_seconds")
    messages = rate * elapsed if rate and elapsed else None
    return seconds * 1e6 / messages if messages else None


def read_number(path):
    try:
        with open(path) as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return None


def cost_table(out, batches):
    """Bytes written and CPU per message, the server's share of the cores, and the disk's fsync probe."""
    cores = os.cpu_count() or 1
    header = (f"{'target':<8} {'batch':>5} {'created':>10} {'bytes/msg':>10} {'CPU s/1k':>9} {'CPU share':>9}"
              f" {'peak RSS MiB':>12} {'fsync4k p50/p95':>16} {'fsync512k p50/p95':>18}")
    print(header)
    print("-" * len(header))
    for batch in batches:
        probe = load(os.path.join(out, f"fsync-batch{batch}.json")) or {}
        small = f"{fmt(probe.get('fsync_4k_p50_ms'), 2)}/{fmt(probe.get('fsync_4k_p95_ms'), 2)}"
        large = f"{fmt(probe.get('fsync_512k_p50_ms'), 2)}/{fmt(probe.get('fsync_512k_p95_ms'), 2)}"
        for target in ("gateway", "peer"):
            report = load(os.path.join(out, f"{target}-batch{batch}.json"))
            if report is None:
                continue
            created = report["messages"].get("created") or 0
            written = read_number(os.path.join(out, f"{target}-batch{batch}.io"))
            cpu = read_number(os.path.join(out, f"{target}-batch{batch}.cpu"))
            elapsed = report["throughput"].get("elapsed_seconds")
            per_message = written / created if written is not None and created else None
            per_thousand = cpu * 1000 / created if cpu is not None and created else None
            share = cpu / (elapsed * cores) if cpu is not None and elapsed else None
            rss = read_number(os.path.join(out, f"{target}-batch{batch}.rss"))
            rss_mib = rss / 1048576 if rss else None
            print(f"{target:<8} {batch:>5} {created:>10,} {fmt(per_message, 0):>10} {fmt(per_thousand, 3):>9}"
                  f" {fmt(share * 100 if share is not None else None, 0) + '%':>9} {fmt(rss_mib, 0):>12} {small:>16} {large:>18}")
    print(f"\n(bytes/msg = /proc/<pid>/io write_bytes over the run and its checkpoint / messages created;"
          f" CPU s/1k = server CPU-seconds per 1,000 created; CPU share = of {cores} cores over the send phase;"
          " peak RSS = the server process's VmHWM, started afresh for each batch size (the peer: its main process);"
          " fsync = ms for a 4 KiB and a 512 KiB write + fsync in the bench directory, before the pair)")
    for batch in batches:
        wal = load(os.path.join(out, f"gateway-batch{batch}.wal.json"))
        if not wal or not wal.get("commits"):
            continue
        top = ", ".join(f"{o['name']} {o['frames_per_commit']}" for o in wal["objects"][:8])
        print(f"gateway batch {batch}: {wal['frames_per_commit']} WAL frames per commit over the last {wal['commits']} commits; by object: {top}")
    for batch in batches:
        slow = slow_commits(os.path.join(out, f"gateway-batch{batch}.metrics"))
        if slow:
            total, buckets = slow
            over = ", ".join(f"{n} over {int(float(le) * 1000)} ms" for le, n in buckets)
            print(f"gateway batch {batch}: {total:,} group commits; {over} (soko_ingest_commit_duration_seconds)")


def slow_commits(path):
    """(commits, [(bound, commits longer than it)]) from a /metrics scrape, or None."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    buckets = {}
    for line in text.splitlines():
        if line.startswith("soko_ingest_commit_duration_seconds_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[le] = int(float(line.rsplit(" ", 1)[1]))
    total = buckets.get("+Inf")
    if not total:
        return None
    return total, [(le, total - buckets[le]) for le in ("0.025", "0.05", "0.1") if le in buckets]


def main():
    out, batches = sys.argv[1], sys.argv[2:]
    header = f"{'target':<8} {'batch':>5} {'msgs/s':>10} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'skipped':>8} {'gen CPU':>8} {'srv µs/msg':>10} {'exit':>4}"
    print(header)
    print("-" * len(header))
    rates = {}
    for batch in batches:
        for target in ("gateway", "peer"):
            report = load(os.path.join(out, f"{target}-batch{batch}.json"))
            if report is None:
                print(f"{target:<8} {batch:>5} {'(not run)':>10}")
                continue
            latency = report["latency_ms"].get("ingest") or {}
            cpu = report["generator"].get("cpu") or {}
            rate = report["throughput"].get("messages_per_second")
            rates[(target, batch)] = rate
            skipped = report["ratios"].get("skipped_ratio")
            server_us = server_cpu_per_message(out, target, batch, report)
            print(
                f"{target:<8} {batch:>5} {fmt(rate, 0):>10} {fmt(report['throughput'].get('requests_per_second'), 0):>9}"
                f" {fmt(latency.get('p50_ms')):>8} {fmt(latency.get('p95_ms')):>8} {fmt(latency.get('p99_ms')):>8}"
                f" {fmt(skipped, 4):>8} {fmt(cpu.get('cores_busy'), 2):>8} {fmt(server_us, 1):>10} {report['outcome']['exit_code']:>4}"
            )
    print()
    for batch in batches:
        gateway, peer = rates.get(("gateway", batch)), rates.get(("peer", batch))
        if gateway and peer:
            print(f"batch {batch}: gateway/peer = {gateway / peer:.2f}x ({gateway:,.0f} vs {peer:,.0f} msgs/s)")
        else:
            print(f"batch {batch}: gateway/peer ratio n/a (a target did not run)")
    print("\n(gen CPU = harness CPU seconds per wall second while sending; skipped = share of messages without a 2xx;"
          " srv µs/msg = server process CPU time per message sent, user + system)\n")
    cost_table(out, batches)


if __name__ == "__main__":
    main()
