#!/usr/bin/env bash
# Schemathesis against a live gateway (issue 14, item 4). Starts the gateway on
# its embedded default (a fresh SQLite file) on a free port with test tokens,
# stores a batch so the read routes answer with data, then runs schemathesis
# over every operation of GET /openapi.json twice: with the admin token and
# with the read token. Both runs also carry the ingest token, and the gateway
# runs without an HMAC secret (a supported setting), so generated batches get
# past authentication into the body's schema checks and the store. Checks: not_a_server_error,
# status_code_conformance, content_type_conformance,
# response_schema_conformance. Stops the gateway; exits non-zero on any
# failure, or if the gateway logged a panic.
#
# Usage: scripts/schemathesis.sh
# Knobs (env): SCHEMATHESIS_MAX_EXAMPLES (25 per operation),
#   SCHEMATHESIS_TIME_LIMIT (600 seconds per run), SCHEMATHESIS_SEED (random),
#   SCHEMATHESIS_PROFILE (debug or release), GATEWAY_BIN (a prebuilt gateway:
#   skips building), CARGO_TARGET_DIR, SCHEMATHESIS_OUT (a new temp dir: the
#   gateway log and the JUnit reports).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-25}
TIME_LIMIT=${SCHEMATHESIS_TIME_LIMIT:-600}
PROFILE=${SCHEMATHESIS_PROFILE:-debug}
OUT=${SCHEMATHESIS_OUT:-$(mktemp -d /tmp/soko-schemathesis.XXXXXX)}
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
INGEST_TOKEN=st-ingest-token
HMAC_SECRET=st-hmac-secret
ADMIN_TOKEN=st-admin-token
READ_TOKEN=st-read-token
mkdir -p "$OUT"

log() { printf '[schemathesis] %s\n' "$*" >&2; }

if ! command -v schemathesis >/dev/null 2>&1; then
  log "schemathesis is missing: run scripts/setup-test-env.sh (or pip install schemathesis)"
  exit 2
fi

if [[ -z "${GATEWAY_BIN:-}" ]]; then
  TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
  if [[ "$PROFILE" == release ]]; then
    (cd "$ROOT" && cargo build -q --release -p gateway --bin gateway)
  else
    (cd "$ROOT" && cargo build -q -p gateway --bin gateway)
  fi
  GATEWAY_BIN=$TARGET_DIR/$PROFILE/gateway
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
SERVER_PID=""
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

# The embed and search models of the test environment (scripts/setup-test-env.sh), when it was
# set up: the image and similarity routes then answer from real (tiny) models instead of
# their 503 "no embedding model configured", which schemathesis counts as a server error.
model_env=()
if [[ -f "$ROOT/.cache/test-env.sh" ]]; then
  # shellcheck source=/dev/null
  source "$ROOT/.cache/test-env.sh"
  if [[ -n "${ORT_DYLIB_PATH:-}" && -d "${EMBED_TEST_MODEL_DIR:-}" ]]; then
    model_env+=(ORT_DYLIB_PATH="$ORT_DYLIB_PATH" EMBED_MODEL_DIR="$EMBED_TEST_MODEL_DIR")
    [[ -d "${SEARCH_TEST_MODEL_DIR:-}" ]] && model_env+=(SEARCH_TEXT_MODEL_DIR="$SEARCH_TEST_MODEL_DIR")
  fi
fi
if [[ ${#model_env[@]} -eq 0 ]]; then
  log "no test models (run scripts/setup-test-env.sh): /search/image and /products/{id}/similar answer 503"
fi

log "gateway $GATEWAY_BIN on $BASE (log: $OUT/gateway.log)"
env -u REDIS_URL -u METRICS_TOKEN -u EMBED_MODEL_DIR -u WHATSAPP_INGEST_HMAC_SECRET -u WHATSAPP_INGEST_WEBHOOK_SECRETS \
  "${model_env[@]}" SEARCH_INDEX_DIR="$OUT/search-index" \
  HOST=127.0.0.1 PORT="$PORT" DATABASE_URL="sqlite://$OUT/soko.db" IMAGE_STORE=local IMAGE_DIR="$OUT/images" \
  WHATSAPP_INGEST_TOKEN="$INGEST_TOKEN" \
  ADMIN_TOKEN="$ADMIN_TOKEN" API_READ_TOKEN="$READ_TOKEN" \
  WHATSAPP_EXTRACT_DEBOUNCE_SECONDS=0 WHATSAPP_WEB_BASE_URL=http://127.0.0.1:9 \
  WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE=100000 WHATSAPP_INGEST_RATE_LIMIT_BURST=10000 \
  LOG_FORMAT=json RUST_LOG=warn \
  "$GATEWAY_BIN" >"$OUT/gateway.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { log "the gateway exited:"; tail -20 "$OUT/gateway.log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "$BASE/readyz" >/dev/null

# A batch with offers (signed, though the gateway does not ask for it), so offers, vendors, chats and price history have rows to answer with.
python3 - "$BASE" "$INGEST_TOKEN" "$HMAC_SECRET" <<'PY'
import hashlib, hmac, json, sys, time, urllib.request
base, token, secret = sys.argv[1:4]
now = int(time.time())
messages = [
    {"chat_id": "120363000000000001@g.us", "chat_title": "Nairobi Phones", "sender": "+254712345678",
     "sender_name": "Amina", "message_id": f"st-{i}", "timestamp": now - 60 + i, "text": text}
    for i, text in enumerate([
        "Samsung A15 128GB KES 18,500\nPixel 7 Pro 256GB Ksh 62,000 used",
        "iPhone 12 64GB 35k, brand new", "Hello, anyone selling chargers?",
    ])
]
body = json.dumps({"client_id": "schemathesis", "messages": messages}).encode()
ts = str(now)
sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
req = urllib.request.Request(f"{base}/integrations/whatsapp/ingest", data=body, method="POST", headers={
    "Content-Type": "application/json", "X-Ingest-Token": token, "X-Signature": sig, "X-Signature-Timestamp": ts})
print(urllib.request.urlopen(req, timeout=10).read().decode()[:200], file=sys.stderr)
PY
curl -fsS -X POST -H "Authorization: Bearer $ADMIN_TOKEN" "$BASE/integrations/whatsapp/chats/120363000000000001@g.us/extract-latest" >/dev/null
curl -fsS -X POST -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
  -d '{"new_vendor_name":"Amina Phones","new_vendor_currency":"KES"}' \
  "$BASE/admin/whatsapp/120363000000000001@g.us" >/dev/null

status=0
run() {
  local name=$1 token=$2
  shift 2
  local seed_args=()
  [[ -n "${SCHEMATHESIS_SEED:-}" ]] && seed_args=(--seed "$SCHEMATHESIS_SEED")
  log "run '$name': every operation, at most $MAX_EXAMPLES examples each, $TIME_LIMIT s at most"
  if ! timeout --signal=INT "$TIME_LIMIT" schemathesis run "$BASE/openapi.json" \
      --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --phases examples,coverage,fuzzing \
      --header "Authorization: Bearer $token" --header "X-Ingest-Token: $INGEST_TOKEN" --request-timeout 10 --workers 1 --no-color \
      --report junit --report-junit-path "$OUT/junit-$name.xml" "${seed_args[@]}" "$@"; then
    log "run '$name' FAILED"
    status=1
  fi
}
# The admin run asks for JSON, so the admin routes' JSON answers are checked against their schemas;
# the read run takes what comes (HTML for the admin routes, which refuse it anyway).
run admin "$ADMIN_TOKEN" --header "Accept: application/json"
run read "$READ_TOKEN"

if grep -q 'panicked' "$OUT/gateway.log"; then
  log "the gateway panicked:"
  grep -m5 'panicked' "$OUT/gateway.log" >&2
  status=1
fi
stop_server
if [[ $status -ne 0 ]]; then
  log "FAILED (gateway log and reports in $OUT)"
else
  log "0 failures (reports in $OUT)"
fi
exit $status
