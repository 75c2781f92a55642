#!/usr/bin/env bash
# The committed performance baseline (issue #5): one `harness load` run with
# SLOs against the gateway on its embedded default (one process, a fresh
# SQLite file), writing docs/perf_baseline.json.
#
# The run is paced at 5,000 messages/s in 10-message bursts per chat (a
# vendor posting a list), so ingest-to-offer latency shows the debounce
# window plus what extraction adds. The only setting changed from the
# defaults is the per-client rate limit, raised so that the load generator,
# one client id, is not throttled to 120 requests/min.
#
# Usage: scripts/perf_baseline.sh [REPORT_FILE]   (default docs/perf_baseline.json)
# Knobs (env): BASELINE_COUNT (100000), BASELINE_RATE (5000), GATEWAY_PORT (18200),
#   CARGO_TARGET_DIR, GATEWAY_BIN (prebuilt gateway), HARNESS_BIN (prebuilt harness).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPORT=${1:-$ROOT/docs/perf_baseline.json}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
COUNT=${BASELINE_COUNT:-100000}
RATE=${BASELINE_RATE:-5000}
PORT=${GATEWAY_PORT:-18200}
WORK=$(mktemp -d /tmp/soko-baseline.XXXXXX)
TOKEN=baseline-token
SECRET=baseline-secret

if [[ -z ${GATEWAY_BIN:-} || -z ${HARNESS_BIN:-} ]]; then
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -q -p gateway -p harness)
fi
GATEWAY_BIN=${GATEWAY_BIN:-$TARGET_DIR/release/gateway}
HARNESS_BIN=${HARNESS_BIN:-$TARGET_DIR/release/harness}

HOST=127.0.0.1 PORT=$PORT DATABASE_URL="sqlite://$WORK/soko.db" \
WHATSAPP_INGEST_TOKEN=$TOKEN WHATSAPP_INGEST_HMAC_SECRET=$SECRET \
WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE=100000000 WHATSAPP_INGEST_RATE_LIMIT_BURST=10000000 \
RUST_LOG=${RUST_LOG:-warn} "$GATEWAY_BIN" >"$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!
trap 'kill $GATEWAY_PID 2>/dev/null || true; wait $GATEWAY_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null && break; sleep 0.1; done

status=0
"$HARNESS_BIN" load --url "http://127.0.0.1:$PORT/integrations/whatsapp/ingest" \
    --token "$TOKEN" --secret "$SECRET" --client-id perf-baseline \
    --count "$COUNT" --batch-size 10 --concurrency 32 --rate "$RATE" \
    --chat-burst 10 --chats 100000000 \
    --diagnostics-url "http://127.0.0.1:$PORT/metrics/whatsapp" --diagnostics-interval-ms 50 \
    --slo-p95-ms 100 --slo-max-skipped-ratio 0.001 --slo-min-extracted-ratio 1.0 \
    --timeout-seconds 90 --report-file "$REPORT" || status=$?
python3 - "$REPORT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
i, o, t = r["latency_ms"]["ingest"], r["ingest_to_offer_ms"], r["throughput"]
print(f"outcome {r['outcome']['status']} (exit {r['outcome']['exit_code']})")
print(f"throughput {t['messages_per_second']:,.0f} msgs/s over {t['elapsed_seconds']} s")
print(f"ingest p50/p95/p99 {i['p50_ms']}/{i['p95_ms']}/{i['p99_ms']} ms")
print(f"ingest-to-offer p50/p95 {o['p50_ms']}/{o['p95_ms']} ms ({o['method']}, resolution {o['resolution_ms']} ms)")
print(f"extraction success ratio {r['ratios']['extraction_success_ratio']}, skipped ratio {r['ratios']['skipped_ratio']}")
PY
exit $status
