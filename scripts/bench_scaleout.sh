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
# Usage: scripts/bench_scaleout.sh
# Knobs (env): BENCH_DURATION_SECONDS (12), BENCH_CONCURRENCY (32),
#   BENCH_BATCH_SIZE (50), BENCH_DUPLICATE_RATIO (0), BENCH_MAX_MESSAGES (2000000),
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
}
cleanup() {
    stop_all
    for db in "${DATABASES[@]}"; do psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT INT TERM

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
        DATABASE_MAX_CONNECTIONS=16 RUST_LOG=${RUST_LOG:-warn} \
        "$GATEWAY_BIN" >"$OUT/$name.log" 2>&1 &
    PIDS+=($!)
    BASE="http://127.0.0.1:$port"
    wait_ready "$BASE" || { log "$name did not become ready (see $OUT/$name.log)"; exit 1; }
}

fresh_postgres() { # sets DATABASE_URL_FRESH
    local name="soko_bench_$$_$RANDOM"
    psql -q "$PG_ADMIN" -c "CREATE DATABASE \"$name\"" >/dev/null
    DATABASES+=("$name")
    DATABASE_URL_FRESH="$PG_BASE/$name"
}

run_load() { # report base concurrency client
    "$HARNESS_BIN" load --url "$2/integrations/whatsapp/ingest" --token "$TOKEN" --secret "$SECRET" \
        --client-id "$4" --count "$MAX_MESSAGES" --batch-size "$BATCH" --concurrency "$3" \
        --duration-seconds "$DURATION" --duplicate-ratio "$DUPLICATE_RATIO" \
        --report-file "$OUT/$1.json" >"$OUT/$1.out" 2>&1 || true
}

log "1/3: one gateway on SQLite"
start_gateway sqlite "sqlite://$OUT/bench.db"
run_load sqlite "$BASE" "$CONCURRENCY" bench-sqlite
stop_all

log "2/3: one gateway on PostgreSQL"
fresh_postgres
start_gateway postgres "$DATABASE_URL_FRESH"
run_load postgres "$BASE" "$CONCURRENCY" bench-postgres
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
run_load scaleout-a "$first" "$half" bench-scaleout-a &
load_a=$!
run_load scaleout-b "$second" "$half" bench-scaleout-b
wait "$load_a"
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
PY
log "reports: $OUT"
