#!/usr/bin/env bash
# Search latency (issue 15) over SEARCH_BENCH_LISTINGS offers + as many products (default
# 100,000 each), on SQLite and on PostgreSQL, through the gateway's SearchService:
#   text:   gateway/benches/search.rs: p50/p95/p99 of uncached and cached text queries;
#   hybrid: gateway/benches/search_hybrid.rs with the real all-MiniLM-L6-v2: embedding
#           throughput, index build from the database, vector top-20 p50/p95 and recall@20,
#           uncached text/semantic/hybrid and cached hybrid queries, and how soon a committed
#           listing is found.
# The listings are the relevance set's catalogue (tests/search/) with seeded variations; the
# queries are the relevance set's. Prints one JSON line per backend and benchmark.
#
# Usage: scripts/bench/search.sh [sqlite|postgres|both] [text|hybrid|all]   (defaults: both all)
# Knobs (env): SEARCH_BENCH_LISTINGS (100000), SEARCH_BENCH_QUERIES (500),
#   BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres: a database is created
#   and dropped there), SEARCH_TEXT_MODEL_DIR (default .cache/search-text-model, written by
#   scripts/setup-test-env.sh), ORT_DYLIB_PATH (from .cache/test-env.sh), CARGO_TARGET_DIR.
# Release build; on 2 shared cores the load takes a few minutes per backend.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WHICH=${1:-both}
BENCHES=${2:-all}
ADMIN=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cd "$ROOT"
if [ -f .cache/test-env.sh ]; then
  # shellcheck disable=SC1091
  source .cache/test-env.sh
fi
export SEARCH_TEXT_MODEL_DIR=${SEARCH_TEXT_MODEL_DIR:-${SEARCH_TEST_MODEL_DIR:-$ROOT/.cache/search-text-model}}

names=()
case "$BENCHES" in
  text) names=(search) ;;
  hybrid) names=(search_hybrid) ;;
  all) names=(search search_hybrid) ;;
  *) echo "usage: $0 [sqlite|postgres|both] [text|hybrid|all]" >&2; exit 64 ;;
esac
if [[ " ${names[*]} " == *" search_hybrid "* ]] && [ ! -s "$SEARCH_TEXT_MODEL_DIR/text_search.onnx" ]; then
  echo "no MiniLM export at $SEARCH_TEXT_MODEL_DIR: run scripts/setup-test-env.sh first" >&2
  exit 66
fi

for name in "${names[@]}"; do
  cargo build --release -p gateway --bench "$name" >&2
  BIN=$(ls -t "${CARGO_TARGET_DIR:-$ROOT/target}"/release/deps/"$name"-* | grep -v '\.d$' | head -1)
  if [ "$WHICH" = sqlite ] || [ "$WHICH" = both ]; then
    SEARCH_BENCH_DATABASE_URL= "$BIN"
  fi
  if [ "$WHICH" = postgres ] || [ "$WHICH" = both ]; then
    NAME="soko_search_bench_$$_$name"
    BASE=${ADMIN%/*}
    psql "$ADMIN" -qc "CREATE DATABASE $NAME" >&2
    trap 'psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >&2' EXIT
    SEARCH_BENCH_DATABASE_URL="$BASE/$NAME" "$BIN"
    psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >&2
    trap - EXIT
  fi
done
