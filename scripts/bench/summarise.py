"""Summarise `harness load` reports written by scripts/bench_ingest.sh.

Usage: summarise.py OUT_DIR BATCH_SIZE...
Reads OUT_DIR/{gateway,peer}-batch{N}.json and prints a table plus the
gateway/peer messages-per-second ratio for each batch size.
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
          " srv µs/msg = server process CPU time per message sent, user + system)")


if __name__ == "__main__":
    main()
