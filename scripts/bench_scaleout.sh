#!/usr/bin/env bash
# Scale-out benchmark (issue #6): messages/s through `harness load` for
#   1. one gateway on SQLite (the embedded default),
#   2. one gateway on PostgreSQL,
#   3. two gateways on PostgreSQL + Redis (shared rate limit, dedupe fast path),
# all on this machine, release builds, the same load settings. For (3) two
# harness processes run at once, one per gateway, with half the connections
# each; their messages/s are added. Each setup gets a fresh database (a new
# PostgreSQL database on TEST_POSTGRES_URL's server, dropped afterwards) and
# a private redis-server on a free port (never the shared one).
#
# Beside msgs/s it prints what does not depend on the machine's mood (issue
# 17): per setup, the gateways' CPU-seconds per 1,000 created messages and
# their share of the cores, the bytes they wrote to storage per message
# (/proc/<pid>/io), and for PostgreSQL its own CPU-seconds per 1,000 messages
# (every postgres process, plus the backends that ended, through the
# postmaster's children times), its WAL bytes per message (pg_stat_wal) and its
# commits per second (pg_stat_database); then an fsync probe of the disk
# (scripts/bench/fsync_probe.py), so a reader can tell a slow disk from a slow
# gateway. The PostgreSQL figures are the server's: run nothing else on it.
#
# Usage: scripts/bench_scaleout.sh
# Knobs (env): BENCH_DURATION_SECONDS (12), BENCH_CONCURRENCY (32),
#   BENCH_BATCH_SIZE (50), BENCH_DUPLICATE_RATIO (0), BENCH_MAX_MESSAGES (2000000),
#   BENCH_DB_CONNECTIONS (16: each gateway's DATABASE_MAX_CONNECTIONS),
#   TEST_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_OUT,
#   CARGO_TARGET_DIR, GATEWAY_BIN / HARNESS_BIN (prebuilt binaries: skip building).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
DURATION=${BENCH_DURATION_SECONDS:-12}
CONCURRENCY=${BENCH_CONCURRENCY:-32}
BATCH=${BENCH_BATCH_SIZE:-50}
DUPLICATE_RATIO=${BENCH_DUPLICATE_RATIO:-0}
MAX_MESSAGES=${BENCH_MAX_MESSAGES:-2000000}
PG_ADMIN=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_BASE=${PG_ADMIN%/*}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/soko-bench-scaleout.XXXXXX)}
TOKEN=test-token
SECRET=super-secret
mkdir -p "$OUT"

log() { printf '[bench-scaleout] %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PIDS=()
DATABASES=()
stop_all() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    GATEWAY_PIDS=()
}
cleanup() {
    stop_all
    for db in "${DATABASES[@]}"; do psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT INT TERM

# CPU seconds (user + system) of the given processes so far, from /proc.
cpu_seconds() { # pid...
    python3 - "$@" <<'PY'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
total = 0
for pid in sys.argv[1:]:
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        pass
print(total / tick)
PY
}
# Bytes the given processes have caused to be written to storage so far.
peak_rss() { # pid...: the largest VmHWM among them, in bytes
    local pid most=0 rss
    for pid in "$@"; do
        rss=$(awk '/^VmHWM:/ {print $2 * 1024}' "/proc/$pid/status" 2>/dev/null || echo 0)
        (( ${rss:-0} > most )) && most=$rss
    done
    echo "$most"
}

write_bytes() { # pid...
    local total=0 pid bytes
    for pid in "$@"; do
        bytes=$(awk '/^write_bytes:/ {print $2}' "/proc/$pid/io" 2>/dev/null || echo 0)
        total=$((total + ${bytes:-0}))
    done
    echo "$total"
}
# PostgreSQL's CPU seconds so far: every live postgres process, plus the
# children the postmaster has reaped (backends that ended).
postgres_cpu_seconds() {
    python3 - <<'PY'
import os
tick = os.sysconf("SC_CLK_TCK")
total = 0
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        head, tail = open(f"/proc/{pid}/stat").read().rsplit(")", 1)
        if not head.split("(", 1)[1].startswith("postgres"):
            continue
        fields = tail.split()
        total += int(fields[11]) + int(fields[12])
        if int(fields[1]) == 1 or open(f"/proc/{fields[1]}/stat").read().split("(", 1)[1].split(")")[0] != "postgres":
            total += int(fields[13]) + int(fields[14])  # the postmaster: its reaped children
    except (OSError, IndexError, ValueError):
        pass
print(total / tick)
PY
}
# Cluster-wide WAL bytes written so far, and a database's commits.
pg_wal_bytes() { psql -qtA "$PG_ADMIN" -c "SELECT wal_bytes FROM pg_stat_wal" 2>/dev/null || echo ""; }
pg_commits() { psql -qtA "$PG_ADMIN" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'" 2>/dev/null || echo ""; }

# Before/after figures of one setup, written to $OUT/<setup>.cost.json.
GATEWAY_PIDS=()
cost_begin() {
    COST_CPU=$(cpu_seconds "${GATEWAY_PIDS[@]}")
    COST_IO=$(write_bytes "${GATEWAY_PIDS[@]}")
    COST_PG_CPU=$(postgres_cpu_seconds)
    COST_WAL=$(pg_wal_bytes)
    COST_COMMITS=$(pg_commits "${CURRENT_DB:-}")
    COST_STARTED=$(date +%s.%N)
}
cost_end() { # setup postgres(0|1)
    sleep 2 # the checkpoint that follows a run is part of its writes
    python3 - "$OUT/$1.cost.json" "$2" "$COST_CPU" "$(cpu_seconds "${GATEWAY_PIDS[@]}")" "$COST_IO" "$(write_bytes "${GATEWAY_PIDS[@]}")" \
        "$COST_PG_CPU" "$(postgres_cpu_seconds)" "$COST_WAL" "$(pg_wal_bytes)" "$COST_COMMITS" "$(pg_commits "${CURRENT_DB:-}")" \
        "$COST_STARTED" "$(date +%s.%N)" "$(peak_rss "${GATEWAY_PIDS[@]}")" <<'PY'
import json, sys
path, pg, *numbers = sys.argv[1:]
peak_rss = float(numbers.pop())
def delta(a, b):
    try:
        return float(b) - float(a)
    except ValueError:
        return None
cpu, io, pg_cpu, wal, commits, wall = (delta(numbers[i], numbers[i + 1]) for i in range(0, 12, 2))
cost = {"gateway_cpu_s": cpu, "gateway_write_bytes": io, "wall_s": wall, "gateway_peak_rss": peak_rss}
if pg == "1":
    cost.update({"postgres_cpu_s": pg_cpu, "wal_bytes": wal, "commits": commits})
json.dump(cost, open(path, "w"))
PY
}

wait_ready() { # base_url
    for _ in $(seq 1 600); do
        curl -fsS -o /dev/null "$1/readyz" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

if [[ -z ${GATEWAY_BIN:-} || -z ${HARNESS_BIN:-} ]]; then
    log "building gateway and harness (release) in $TARGET_DIR"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -q -p gateway -p harness)
fi
GATEWAY_BIN=${GATEWAY_BIN:-$TARGET_DIR/release/gateway}
HARNESS_BIN=${HARNESS_BIN:-$TARGET_DIR/release/harness}

start_gateway() { # name database_url [redis_url]; sets BASE
    local name=$1 database_url=$2 redis_url=${3:-} port
    port=$(free_port)
    env -i PATH="$PATH" HOST=127.0.0.1 PORT="$port" DATABASE_URL="$database_url" \
        ${redis_url:+REDIS_URL="$redis_url"} REDIS_KEY_PREFIX="bench-$$" \
        WHATSAPP_INGEST_TOKEN=$TOKEN WHATSAPP_INGEST_HMAC_SECRET=$SECRET \
        WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE=100000000 WHATSAPP_INGEST_RATE_LIMIT_BURST=10000000 \
        DATABASE_MAX_CONNECTIONS=${BENCH_DB_CONNECTIONS:-16} RUST_LOG=${RUST_LOG:-warn} \
        "$GATEWAY_BIN" >"$OUT/$name.log" 2>&1 &
    PIDS+=($!)
    GATEWAY_PIDS+=($!)
    BASE="http://127.0.0.1:$port"
    wait_ready "$BASE" || { log "$name did not become ready (see $OUT/$name.log)"; exit 1; }
}

fresh_postgres() { # sets DATABASE_URL_FRESH
    local name="soko_bench_$$_$RANDOM"
    psql -q "$PG_ADMIN" -c "CREATE DATABASE \"$name\"" >/dev/null
    DATABASES+=("$name")
    CURRENT_DB=$name
    DATABASE_URL_FRESH="$PG_BASE/$name"
}

run_load() { # report base concurrency client
    "$HARNESS_BIN" load --url "$2/integrations/whatsapp/ingest" --token "$TOKEN" --secret "$SECRET" \
        --client-id "$4" --count "$MAX_MESSAGES" --batch-size "$BATCH" --concurrency "$3" \
        --duration-seconds "$DURATION" --duplicate-ratio "$DUPLICATE_RATIO" \
        --report-file "$OUT/$1.json" >"$OUT/$1.out" 2>&1 || true
}

python3 "$ROOT/scripts/bench/fsync_probe.py" "$OUT" >"$OUT/fsync.json" || true

log "1/3: one gateway on SQLite"
start_gateway sqlite "sqlite://$OUT/bench.db"
cost_begin
run_load sqlite "$BASE" "$CONCURRENCY" bench-sqlite
cost_end sqlite 0
stop_all

log "2/3: one gateway on PostgreSQL"
fresh_postgres
start_gateway postgres "$DATABASE_URL_FRESH"
cost_begin
run_load postgres "$BASE" "$CONCURRENCY" bench-postgres
cost_end postgres 1
stop_all

log "3/3: two gateways on PostgreSQL + Redis (private redis-server)"
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >"$OUT/redis.log" 2>&1 &
PIDS+=($!)
fresh_postgres
start_gateway scaleout-a "$DATABASE_URL_FRESH" "redis://127.0.0.1:$redis_port/0"
first=$BASE
start_gateway scaleout-b "$DATABASE_URL_FRESH" "redis://127.0.0.1:$redis_port/0"
second=$BASE
half=$((CONCURRENCY / 2))
cost_begin
run_load scaleout-a "$first" "$half" bench-scaleout-a &
load_a=$!
run_load scaleout-b "$second" "$half" bench-scaleout-b
wait "$load_a"
cost_end scaleout 1
grep -q '^soko_redis_fallback 0' <(curl -fsS "$first/metrics") || log "WARNING: gateway A reports Redis fallback"
stop_all

python3 - "$OUT" "$BATCH" "$CONCURRENCY" "$DURATION" <<'PY'
import json, os, sys
out, batch, concurrency, duration = sys.argv[1:]
def report(name):
    try:
        with open(os.path.join(out, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
def row(label, names):
    reports = [report(n) for n in names]
    if any(r is None for r in reports):
        return f"{label:<38} {'(no report)':>10}"
    msgs = sum(r["throughput"]["messages_per_second"] or 0 for r in reports)
    reqs = sum(r["throughput"]["requests_per_second"] or 0 for r in reports)
    p99 = max((r["latency_ms"].get("ingest") or {}).get("p99_ms") or 0 for r in reports)
    skipped = max(r["ratios"].get("skipped_ratio") or 0 for r in reports)
    return f"{label:<38} {msgs:>10,.0f} {reqs:>9,.0f} {p99:>8.1f} {skipped:>8.4f}"
print(f"batch {batch}, {concurrency} connections in total, {duration} s per setup")
header = f"{'setup':<38} {'msgs/s':>10} {'req/s':>9} {'p99 ms':>8} {'skipped':>8}"
print(header); print("-" * len(header))
print(row("1 gateway, SQLite", ["sqlite"]))
print(row("1 gateway, PostgreSQL", ["postgres"]))
print(row("2 gateways, PostgreSQL + Redis", ["scaleout-a", "scaleout-b"]))
print("(2 gateways: two harness processes at once, one per gateway; msgs/s added, worst p99 shown)")

cores = os.cpu_count() or 1
def cost_row(label, setup, names):
    cost, reports = report(setup + ".cost"), [report(n) for n in names]
    if cost is None or any(r is None for r in reports):
        return f"{label:<32} (no figures)"
    created = sum((r["messages"].get("created") or 0) for r in reports)
    elapsed = max(r["throughput"].get("elapsed_seconds") or 0 for r in reports)
    def per(value, scale):
        return f"{value * scale / created:,.3f}" if value is not None and created else "n/a"
    def per0(value):
        return f"{value / created:,.0f}" if value is not None and created else "n/a"
    share = f"{cost['gateway_cpu_s'] / (elapsed * cores) * 100:.0f}%" if cost.get("gateway_cpu_s") is not None and elapsed else "n/a"
    pg_cpu = per(cost.get("postgres_cpu_s"), 1000) if "postgres_cpu_s" in cost else "-"
    wal = per0(cost.get("wal_bytes")) if "wal_bytes" in cost else "-"
    commits = f"{cost['commits'] / elapsed:,.0f}" if cost.get("commits") is not None and elapsed else "-"
    rss = f"{cost['gateway_peak_rss'] / 1048576:,.0f}" if cost.get("gateway_peak_rss") else "n/a"
    return (f"{label:<32} {created:>10,} {per(cost.get('gateway_cpu_s'), 1000):>10} {share:>7}"
            f" {per0(cost.get('gateway_write_bytes')):>9} {rss:>7} {pg_cpu:>9} {wal:>9} {commits:>9}")
print()
header = f"{'setup':<32} {'created':>10} {'gw CPU s/1k':>10} {'gw CPU':>7} {'gw B/msg':>9} {'gw RSS':>7} {'pg CPU/1k':>9} {'WAL B/msg':>9} {'commits/s':>9}"
print(header); print("-" * len(header))
print(cost_row("1 gateway, SQLite", "sqlite", ["sqlite"]))
print(cost_row("1 gateway, PostgreSQL", "postgres", ["postgres"]))
print(cost_row("2 gateways, PostgreSQL + Redis", "scaleout", ["scaleout-a", "scaleout-b"]))
probe = report("fsync") or {}
def ms(key):
    value = probe.get(key)
    return "n/a" if value is None else f"{value:.2f}"
print(f"(gw = the gateway processes, CPU-seconds per 1,000 created messages and their share of {cores} cores over the"
      " send phase; B/msg = /proc/<pid>/io write_bytes over the run and its checkpoint per created message; RSS = the"
      " largest gateway's peak resident memory (VmHWM) in MiB; pg = every"
      " postgres process, cluster-wide; WAL from pg_stat_wal, commits from pg_stat_database)")
print(f"disk fsync probe: 4 KiB p50/p95 {ms('fsync_4k_p50_ms')}/{ms('fsync_4k_p95_ms')} ms,"
      f" 512 KiB p50/p95 {ms('fsync_512k_p50_ms')}/{ms('fsync_512k_p95_ms')} ms")
PY
log "reports: $OUT"
