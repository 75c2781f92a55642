#!/usr/bin/env bash
# Text search latency (issue 15): p50/p95/p99 of uncached and cached text queries over
# SEARCH_BENCH_LISTINGS offers + as many products (default 100,000 each), on SQLite and on
# PostgreSQL, through the gateway's SearchService (gateway/benches/search.rs). The listings are
# the relevance set's catalogue (tests/search/) with seeded variations; the queries are the
# relevance set's. Prints one JSON line per backend.
#
# Usage: scripts/bench/search.sh [sqlite|postgres|both]   (default both)
# Knobs (env): SEARCH_BENCH_LISTINGS (100000), SEARCH_BENCH_QUERIES (500),
#   BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres: a database is created
#   and dropped there), CARGO_TARGET_DIR.
# Release build; on 2 shared cores the load takes a few minutes per backend.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WHICH=${1:-both}
ADMIN=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cd "$ROOT"

cargo build --release -p gateway --bench search >&2
BIN=$(ls -t "${CARGO_TARGET_DIR:-$ROOT/target}"/release/deps/search-* | grep -v '\.d$' | head -1)

if [ "$WHICH" = sqlite ] || [ "$WHICH" = both ]; then
  SEARCH_BENCH_DATABASE_URL= "$BIN"
fi
if [ "$WHICH" = postgres ] || [ "$WHICH" = both ]; then
  NAME="soko_search_bench_$$"
  BASE=${ADMIN%/*}
  psql "$ADMIN" -qc "CREATE DATABASE $NAME" >&2
  trap 'psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >&2' EXIT
  SEARCH_BENCH_DATABASE_URL="$BASE/$NAME" "$BIN"
fi
