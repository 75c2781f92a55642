#!/usr/bin/env bash
# Ingest benchmark (issue #2, "Benchmark, not a timed test"): the gateway on
# its embedded default (one process, a fresh SQLite file) against the FastAPI
# peer in ../shared/peers/fastapi_ingest, driven by the same `harness load`
# with the same settings, batch 10 and batch 50 over 32 connections.
#
# Prints a table (target, batch, msgs/s, req/s, p50/p95/p99, skipped,
# generator CPU) and the gateway/peer ratio per batch size, then the figures
# that do not depend on the machine's mood (issue 17): bytes written to
# storage per created message (/proc/<pid>/io write_bytes over the run and the
# checkpoint after it), server CPU-seconds per 1,000 messages, the server's
# share of the machine's cores, the gateway's WAL frames per commit by table
# and index (scripts/bench/wal_pages.py), and an fsync probe of the disk
# (scripts/bench/fsync_probe.py) run before each pair, so a reader can tell a
# slow disk from a slow server, and how many group commits took over 25, 50
# and 100 ms (a stalled commit holds every request in it: the p99). Each run gets a
# fresh database and a freshly started server. Reports are kept in $BENCH_OUT.
#
# Usage: scripts/bench_ingest.sh            # both targets
#        BENCH_TARGETS=peer scripts/bench_ingest.sh
# Knobs (env): BENCH_DURATION_SECONDS (12), BENCH_CONCURRENCY (32),
#   BENCH_BATCH_SIZES ("10 50"), BENCH_DUPLICATE_RATIO (0),
#   BENCH_GATEWAY_MAX_MESSAGES (1200000), BENCH_PEER_MAX_MESSAGES (300000),
#   BENCH_HARNESS_THREADS (1), BENCH_OUT (a new temp dir), GATEWAY_PORT (18000),
#   PEER_PORT (18100), PEER_DIR, PEER_VENV (/tmp/soko-peer-venv), CARGO_TARGET_DIR,
#   GATEWAY_BIN (a prebuilt gateway binary: skips building it).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
DURATION=${BENCH_DURATION_SECONDS:-12}
CONCURRENCY=${BENCH_CONCURRENCY:-32}
BATCH_SIZES=${BENCH_BATCH_SIZES:-"10 50"}
DUPLICATE_RATIO=${BENCH_DUPLICATE_RATIO:-0}
GATEWAY_MAX=${BENCH_GATEWAY_MAX_MESSAGES:-1200000}
PEER_MAX=${BENCH_PEER_MAX_MESSAGES:-300000}
HARNESS_THREADS=${BENCH_HARNESS_THREADS:-1}
TARGETS=${BENCH_TARGETS:-"gateway peer"}
GATEWAY_PORT=${GATEWAY_PORT:-18000}
PEER_PORT=${PEER_PORT:-18100}
PEER_DIR=${PEER_DIR:-$ROOT/../shared/peers/fastapi_ingest}
PEER_VENV=${PEER_VENV:-/tmp/soko-peer-venv}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/soko-bench.XXXXXX)}
TOKEN=test-token
SECRET=super-secret
mkdir -p "$OUT"

log() { printf '[bench] %s\n' "$*" >&2; }

SERVER_PID=""
# Bytes the server process has caused to be written to storage so far.
server_write_bytes() {
    awk '/^write_bytes:/ {print $2}' "/proc/$SERVER_PID/io" 2>/dev/null || echo ""
}

# The server process's peak resident memory so far (VmHWM), in bytes.
server_peak_rss() {
    awk '/^VmHWM:/ {print $2 * 1024}' "/proc/$SERVER_PID/status" 2>/dev/null || echo ""
}

# CPU seconds (user + system) the server process has used so far, from /proc.
server_cpu_seconds() {
    local ticks
    ticks=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat" 2>/dev/null) || { echo ""; return; }
    python3 -c "import os,sys; print(int(sys.argv[1]) / os.sysconf('SC_CLK_TCK'))" "$ticks"
}

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
trap stop_server EXIT INT TERM

wait_healthy() { # url, seconds
    local url=$1 limit=$2
    for _ in $(seq 1 $((limit * 10))); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then return 1; fi
        sleep 0.1
    done
    return 1
}

log "building harness (release) in $TARGET_DIR"
(cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -q -p harness)
HARNESS=$TARGET_DIR/release/harness

GATEWAY_BIN=${GATEWAY_BIN:-}
if [[ -n $GATEWAY_BIN ]]; then
    [[ -x $GATEWAY_BIN ]] || { log "GATEWAY_BIN=$GATEWAY_BIN is not an executable"; exit 1; }
    log "using prebuilt gateway $GATEWAY_BIN"
elif [[ " $TARGETS " == *" gateway "* ]]; then
    log "building gateway (release)"
    if (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -q -p gateway) >"$OUT/gateway-build.log" 2>&1 \
        && [[ -x $TARGET_DIR/release/gateway ]]; then
        GATEWAY_BIN=$TARGET_DIR/release/gateway
    else
        log "SKIP gateway: 'cargo build --release -p gateway' failed (see $OUT/gateway-build.log)"
    fi
fi

PEER_OK=""
if [[ " $TARGETS " == *" peer "* ]]; then
    if [[ ! -f $PEER_DIR/app.py ]]; then
        log "SKIP peer: $PEER_DIR/app.py not found (set PEER_DIR)"
    else
        if ! "$PEER_VENV/bin/python" -c 'import fastapi, uvicorn, orjson' 2>/dev/null; then
            log "creating the peer's venv in $PEER_VENV"
            python3 -m venv "$PEER_VENV"
            "$PEER_VENV/bin/pip" install -q fastapi "uvicorn[standard]" orjson
        fi
        PEER_OK=yes
    fi
fi

start_gateway() { # db file
    HOST=127.0.0.1 PORT=$GATEWAY_PORT DATABASE_URL="sqlite://$1" \
    WHATSAPP_INGEST_TOKEN=$TOKEN WHATSAPP_INGEST_HMAC_SECRET=$SECRET \
    WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE=100000000 WHATSAPP_INGEST_RATE_LIMIT_BURST=10000000 \
    RUST_LOG=${RUST_LOG:-warn} \
        "$GATEWAY_BIN" >"$OUT/gateway.log" 2>&1 &
    SERVER_PID=$!
    wait_healthy "http://127.0.0.1:$GATEWAY_PORT/healthz" 60
}

start_peer() { # db file
    (cd "$PEER_DIR" && PEER_DB=$1 WHATSAPP_INGEST_TOKEN=$TOKEN WHATSAPP_INGEST_HMAC_SECRET=$SECRET \
        exec "$PEER_VENV/bin/uvicorn" app:app --host 127.0.0.1 --port "$PEER_PORT" --log-level warning) >"$OUT/peer.log" 2>&1 &
    SERVER_PID=$!
    wait_healthy "http://127.0.0.1:$PEER_PORT/healthz" 60
}

run_load() { # name port batch max_messages
    local name=$1 port=$2 batch=$3 max=$4 report="$OUT/$1-batch$3.json" status=0 cpu_before cpu_after io_before io_after
    log "$name: batch $batch, $CONCURRENCY connections, ${DURATION}s"
    cpu_before=$(server_cpu_seconds)
    io_before=$(server_write_bytes)
    "$HARNESS" load --url "http://127.0.0.1:$port/integrations/whatsapp/ingest" \
        --token "$TOKEN" --secret "$SECRET" --client-id "bench-$name-$batch" \
        --count "$max" --batch-size "$batch" --concurrency "$CONCURRENCY" \
        --duration-seconds "$DURATION" --duplicate-ratio "$DUPLICATE_RATIO" \
        --threads "$HARNESS_THREADS" --report-file "$report" >"$OUT/$name-batch$batch.out" 2>&1 || status=$?
    cpu_after=$(server_cpu_seconds)
    # The writes a run causes include the checkpoint that follows it (the
    # gateway's checkpointer runs every 0.5 s): wait for it before reading.
    sleep 2
    io_after=$(server_write_bytes)
    # Each target is started afresh per batch size, so its peak is this run's (start-up included).
    server_peak_rss >"$OUT/$name-batch$batch.rss"
    if [[ -n $io_before && -n $io_after ]]; then
        echo $((io_after - io_before)) >"$OUT/$name-batch$batch.io"
    fi
    # The server's CPU seconds during the run (uvicorn's workers are children: the peer's figure
    # covers its main process only when it forks).
    if [[ -n $cpu_before && -n $cpu_after ]]; then
        python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$cpu_before" "$cpu_after" >"$OUT/$name-batch$batch.cpu"
    fi
    # Exit 2/3 still leave a report worth printing (e.g. rejected requests).
    if [[ ! -s $report ]]; then
        log "$name batch $batch: no report (harness exit $status, see $OUT/$name-batch$batch.out)"
    fi
}

for batch in $BATCH_SIZES; do
    python3 "$ROOT/scripts/bench/fsync_probe.py" "$OUT" >"$OUT/fsync-batch$batch.json" || true
    if [[ -n $GATEWAY_BIN ]]; then
        db=$OUT/gateway-batch$batch.db
        rm -f "$db" "$db"-wal "$db"-shm
        if start_gateway "$db"; then
            # The WAL is sampled mid-run: after the run a completed checkpoint may
            # have truncated it. A frame the copy cut short ends the scan, and
            # a commit without its commit frame is not counted (wal_pages.py).
            snap=$OUT/gateway-batch$batch.snap.db
            (sleep $((DURATION / 2)); cp "$db" "$snap" && cp "$db-wal" "$snap-wal") 2>/dev/null &
            snapper=$!
            run_load gateway "$GATEWAY_PORT" "$batch" "$GATEWAY_MAX"
            # How many group commits took long: a stalled commit holds every request in it.
            curl -sf "http://127.0.0.1:$GATEWAY_PORT/metrics" >"$OUT/gateway-batch$batch.metrics" 2>/dev/null || true
            wait "$snapper" || true
            [[ -f $snap-wal ]] && python3 "$ROOT/scripts/bench/wal_pages.py" "$snap" >"$OUT/gateway-batch$batch.wal.json" 2>>"$OUT/wal_pages.err" || true
            rm -f "$snap" "$snap-wal"
        else log "gateway did not become healthy (see $OUT/gateway.log)"; fi
        stop_server
    fi
    if [[ -n $PEER_OK ]]; then
        db=$OUT/peer-batch$batch.db
        rm -f "$db" "$db"-wal "$db"-shm
        if start_peer "$db"; then run_load peer "$PEER_PORT" "$batch" "$PEER_MAX"
        else log "peer did not become healthy (see $OUT/peer.log)"; fi
        stop_server
    fi
done

python3 "$ROOT/scripts/bench/summarise.py" "$OUT" $BATCH_SIZES
log "reports: $OUT"
