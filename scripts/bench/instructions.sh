#!/usr/bin/env bash
# Instructions per ingested message, counted by valgrind (callgrind): a count, not a time,
# so two builds compare on a busy or slow machine alike. For each gateway binary given,
# start-up alone and start-up plus N messages (batch 10, 4 connections, extraction and the
# product chain held off) are counted; the difference divided by N is printed.
#
# Usage: scripts/bench/instructions.sh GATEWAY_BIN [GATEWAY_BIN ...]
# Knobs (env): INSTR_MESSAGES (20000), INSTR_ROUNDS (3), INSTR_OUT (a new temp dir),
#   HARNESS (target/release/harness), INSTR_PORT (18500).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MESSAGES=${INSTR_MESSAGES:-20000}
ROUNDS=${INSTR_ROUNDS:-3}
OUT=${INSTR_OUT:-$(mktemp -d /tmp/soko-instr.XXXXXX)}
PORT=${INSTR_PORT:-18500}
HARNESS=${HARNESS:-${CARGO_TARGET_DIR:-$ROOT/target}/release/harness}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
[[ -x $HARNESS ]] || { echo "no harness at $HARNESS: cargo build --release -p harness" >&2; exit 1; }
[[ $# -ge 1 ]] || { echo "usage: $0 GATEWAY_BIN [GATEWAY_BIN ...]" >&2; exit 1; }

count() { # binary messages dir -> instructions
    local bin=$1 messages=$2 dir=$3 pid
    mkdir -p "$dir"
    HOST=127.0.0.1 PORT=$PORT DATABASE_URL="sqlite://$dir/db.sqlite" WHATSAPP_INGEST_TOKEN=t WHATSAPP_INGEST_HMAC_SECRET=s \
    WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE=100000000 WHATSAPP_INGEST_RATE_LIMIT_BURST=10000000 RUST_LOG=warn JOB_WORKERS=false \
    WHATSAPP_EXTRACT_DEBOUNCE_SECONDS=86400 WHATSAPP_EXTRACT_MAX_WAIT_SECONDS=86400 \
        valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" "$bin" >"$dir/gateway.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.2; done
    if [[ $messages -gt 0 ]]; then
        "$HARNESS" load --url "http://127.0.0.1:$PORT/integrations/whatsapp/ingest" --token t --secret s --client-id instr \
            --count "$messages" --batch-size 10 --concurrency 4 --duration-seconds 900 --report-file "$dir/report.json" >"$dir/load.out" 2>&1
    fi
    kill -TERM "$pid"; wait "$pid" || true
    grep -E 'Collected' "$dir/gateway.log" | awk '{print $4}'
}

printf '%-40s %5s %16s\n' binary round "instr/message"
for round in $(seq 1 "$ROUNDS"); do
    for bin in "$@"; do
        name=$(basename "$bin")-$round
        idle=$(count "$bin" 0 "$OUT/$name-idle")
        loaded=$(count "$bin" "$MESSAGES" "$OUT/$name-load")
        printf '%-40s %5s %16s\n' "$bin" "$round" "$(( (loaded - idle) / MESSAGES ))"
    done
done
echo "callgrind outputs: $OUT (callgrind_annotate <dir>/callgrind.out)"
