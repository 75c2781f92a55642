#!/usr/bin/env bash
# Vendor document imports (issue 16) through the release gateway binary over loopback HTTP:
# a 5,000-row .xlsx first import, the same file again (hash skip), 50 prices changed, and a
# 100,000-row .csv with the gateway's RSS growth; plus CPU-seconds per 1,000 rows and bytes the
# gateway wrote per row. gateway/benches/documents_import.rs does the work; one JSON line per
# backend.
#
# Usage: scripts/bench/documents.sh [sqlite|postgres|both]   (default: both)
# Knobs (env): DOCUMENT_BENCH_REPS (5), BENCH_POSTGRES_URL
#   (postgres://postgres@127.0.0.1:5432/postgres: a database is created there and dropped),
#   CARGO_TARGET_DIR. A cold release build takes ~25 min on 2 cores; the runs take a minute.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WHICH=${1:-both}
ADMIN=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cd "$ROOT"
case "$WHICH" in sqlite|postgres|both) ;; *) echo "usage: $0 [sqlite|postgres|both]" >&2; exit 64 ;; esac

cargo build --release -p gateway --bench documents_import >&2
BIN=$(ls -t "${CARGO_TARGET_DIR:-$ROOT/target}"/release/deps/documents_import-* | grep -v '\.d$' | head -1)
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); fsync probe: $(python3 scripts/bench/fsync_probe.py "${TMPDIR:-/tmp}" 2>/dev/null)" >&2

if [ "$WHICH" = sqlite ] || [ "$WHICH" = both ]; then
  DOCUMENT_BENCH_DATABASE_URL= "$BIN"
fi
if [ "$WHICH" = postgres ] || [ "$WHICH" = both ]; then
  NAME="soko_documents_bench_$$"
  psql "$ADMIN" -qc "CREATE DATABASE \"$NAME\""
  trap 'psql "$ADMIN" -qc "DROP DATABASE IF EXISTS \"$NAME\" WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
  DOCUMENT_BENCH_DATABASE_URL="${ADMIN%/*}/$NAME" "$BIN"
fi
