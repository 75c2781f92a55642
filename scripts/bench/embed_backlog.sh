#!/usr/bin/env bash
# The listing-embedding backlog under ingest load (issue 15): the gateway on its embedded
# default with the real all-MiniLM-L6-v2 (SEARCH_TEXT_MODEL_DIR), loaded as
# scripts/perf_baseline.sh loads it (5,000 msgs/s in 10-message bursts per chat), while a
# sampler reads `soko_jobs_queue_depth{stage="embed_text"}` from /metrics every second. After
# the load the gateway keeps running until the backlog is empty or EMBED_DRAIN_TIMEOUT passes,
# so the drain is measured too. Prints one JSON line; the samples go to $WORK/samples.tsv.
#
# Usage: scripts/bench/embed_backlog.sh
# Knobs (env): BASELINE_COUNT (100000), BASELINE_RATE (5000), GATEWAY_PORT (18210),
#   EMBED_DRAIN_TIMEOUT (600 s), GATEWAY_BIN, HARNESS_BIN (prebuilt), CARGO_TARGET_DIR,
#   SEARCH_TEXT_MODEL_DIR and ORT_DYLIB_PATH (default: what scripts/setup-test-env.sh wrote).
# Bounded: the load stops after BASELINE_COUNT messages or 90 s, the drain after the timeout.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
if [ -f .cache/test-env.sh ]; then
  # shellcheck disable=SC1091
  source .cache/test-env.sh
fi
export SEARCH_TEXT_MODEL_DIR=${SEARCH_TEXT_MODEL_DIR:-${SEARCH_TEST_MODEL_DIR:-$ROOT/.cache/search-text-model}}
: "${ORT_DYLIB_PATH:?ORT_DYLIB_PATH is unset: run scripts/setup-test-env.sh first}"
[ -s "$SEARCH_TEXT_MODEL_DIR/text_search.onnx" ] || { echo "no MiniLM export at $SEARCH_TEXT_MODEL_DIR: run scripts/setup-test-env.sh first" >&2; exit 66; }

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
COUNT=${BASELINE_COUNT:-100000}
RATE=${BASELINE_RATE:-5000}
PORT=${GATEWAY_PORT:-18210}
DRAIN_TIMEOUT=${EMBED_DRAIN_TIMEOUT:-600}
WORK=$(mktemp -d /tmp/soko-embed-backlog.XXXXXX)
TOKEN=backlog-token
SECRET=backlog-secret
if [[ -z ${GATEWAY_BIN:-} || -z ${HARNESS_BIN:-} ]]; then
  CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -q -p gateway -p harness
fi
GATEWAY_BIN=${GATEWAY_BIN:-$TARGET_DIR/release/gateway}
HARNESS_BIN=${HARNESS_BIN:-$TARGET_DIR/release/harness}

HOST=127.0.0.1 PORT=$PORT DATABASE_URL="sqlite://$WORK/soko.db" \
WHATSAPP_INGEST_TOKEN=$TOKEN WHATSAPP_INGEST_HMAC_SECRET=$SECRET \
WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE=100000000 WHATSAPP_INGEST_RATE_LIMIT_BURST=10000000 \
RUST_LOG=${RUST_LOG:-warn} "$GATEWAY_BIN" >"$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!
SAMPLER_PID=
trap 'kill $GATEWAY_PID $SAMPLER_PID 2>/dev/null || true; wait $GATEWAY_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null && break; sleep 0.1; done

# time_s  ready  running  done (embed_text jobs waiting, running, finished so far)
sample() {
  curl -fsS "http://127.0.0.1:$PORT/metrics" 2>/dev/null | awk -v t="$(date +%s.%N)" '
    /^soko_jobs_queue_depth\{/ && /stage="embed_text"/ {
      if ($0 ~ /state="ready"/) q = $NF; else if ($0 ~ /state="running"/) r = $NF
    }
    /^soko_job_duration_seconds_count\{/ && /stage="embed_text"/ && /outcome="done"/ { d = $NF }
    END { printf "%.3f\t%d\t%d\t%d\n", t, q, r, d }'
}
( while true; do sample >>"$WORK/samples.tsv"; sleep 1; done ) &
SAMPLER_PID=$!

load_started=$(date +%s.%N)
status=0
"$HARNESS_BIN" load --url "http://127.0.0.1:$PORT/integrations/whatsapp/ingest" \
  --token "$TOKEN" --secret "$SECRET" --client-id perf-baseline \
  --count "$COUNT" --batch-size 10 --concurrency 32 --rate "$RATE" \
  --chat-burst 10 --chats 100000000 \
  --diagnostics-url "http://127.0.0.1:$PORT/metrics/whatsapp" --diagnostics-interval-ms 200 \
  --timeout-seconds 90 --report-file "$WORK/load.json" >"$WORK/harness.log" 2>&1 || status=$?
load_ended=$(date +%s.%N)

deadline=$(( $(date +%s) + DRAIN_TIMEOUT ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  line=$(sample)
  queued=$(cut -f2 <<<"$line"); running=$(cut -f3 <<<"$line")
  # Empty only once extraction has had its debounce window to enqueue the last listings.
  if [ "$queued" = 0 ] && [ "$running" = 0 ] && python3 -c "import sys,time; sys.exit(0 if time.time() - $load_ended > 15 else 1)"; then
    break
  fi
  sleep 1
done
drained=$(date +%s.%N)
kill "$SAMPLER_PID" 2>/dev/null || true
sample >>"$WORK/samples.tsv"
offers=$(curl -fsS "http://127.0.0.1:$PORT/metrics" | awk '/^soko_offers_total / { print $2 }')
offers=${offers:-null}

python3 - "$WORK" "$load_started" "$load_ended" "$drained" "$DRAIN_TIMEOUT" "$status" "$offers" <<'PY'
import json, sys
work, started, ended, drained, timeout, status, offers = sys.argv[1:]
started, ended, drained = float(started), float(ended), float(drained)
rows = [l.split("\t") for l in open(f"{work}/samples.tsv") if l.strip()]
rows = [(float(t), int(q), int(r), int(d)) for t, q, r, d in rows]
backlog = lambda row: row[1] + row[2]
during = [r for r in rows if r[0] <= ended]
at_end = backlog(during[-1]) if during else None
peak = max(rows, key=backlog) if rows else None
after = [r for r in rows if r[0] >= ended]
rate = None
if len(after) >= 2 and after[-1][3] > after[0][3]:
    rate = (after[-1][3] - after[0][3]) / (after[-1][0] - after[0][0])
load = json.load(open(f"{work}/load.json")) if status in ("0", "2", "3") else {}
left = backlog(rows[-1]) if rows else None
print(json.dumps({
    "messages": load.get("throughput", {}).get("messages_accepted"),
    "msgs_per_s": load.get("throughput", {}).get("messages_per_second"),
    "ingest_p95_ms": load.get("latency_ms", {}).get("ingest", {}).get("p95_ms"),
    "offers": None if offers == "null" else int(float(offers)),
    "load_seconds": round(ended - started, 1),
    "embed_backlog_at_load_end": at_end,
    "embed_backlog_peak": backlog(peak) if peak else None,
    "peak_at_s_after_load_start": round(peak[0] - started, 1) if peak else None,
    "drain_seconds_after_load": round(drained - ended, 1),
    "backlog_left": left,
    "drained": left == 0,
    "embed_jobs_per_s_while_draining": round(rate, 1) if rate else None,
    "harness_exit": int(status),
    "samples": f"{work}/samples.tsv",
}))
PY
