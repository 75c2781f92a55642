#!/usr/bin/env bash
# The whole test suite, as the README documents it:
#   1. the embedded suite (SQLite, in-process state): every test of the workspace;
#   2. the PostgreSQL suite: the database-backed integration tests again, each
#      test on a fresh database of its own, on the server at TEST_POSTGRES_URL.
# Without a reachable PostgreSQL the second run is skipped, and the script says
# so plainly; REQUIRE_POSTGRES=1 (set by .ci/run) turns that skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export TEST_POSTGRES_URL

if cargo nextest --version >/dev/null 2>&1; then
  run_tests() { cargo nextest run --workspace --no-fail-fast "$@"; }
  integration_only=(-E 'kind(test)')
else
  echo "note: cargo-nextest not found; using cargo test (install it with: cargo install cargo-nextest --locked)"
  run_tests() { cargo test --workspace --no-fail-fast "$@"; }
  integration_only=(--tests)
fi

scripts/setup-test-env.sh
# shellcheck source=/dev/null
source .cache/test-env.sh

echo "== all-MiniLM-L6-v2 export against its numpy reference (cosine >= 0.999)"
HF_HUB_OFFLINE=1 python3 scripts/export_minilm.py "$(mktemp -d)" --check

echo "== embedded suite (SQLite)"
TEST_DATABASE=sqlite run_tests

# host:port from the URL, for a plain TCP reachability check.
pg_hostport="${TEST_POSTGRES_URL#*://}"; pg_hostport="${pg_hostport#*@}"; pg_hostport="${pg_hostport%%/*}"
pg_host="${pg_hostport%%:*}"; pg_port="${pg_hostport##*:}"; [ "$pg_port" = "$pg_host" ] && pg_port=5432
if (exec 3<>"/dev/tcp/${pg_host}/${pg_port}") 2>/dev/null; then
  echo "== PostgreSQL suite (${pg_host}:${pg_port})"
  TEST_DATABASE=postgres run_tests "${integration_only[@]}"
elif [ "${REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "FAILED: PostgreSQL is required (REQUIRE_POSTGRES=1) but nothing answers at ${pg_host}:${pg_port}" >&2
  exit 1
else
  echo
  echo "PostgreSQL suite SKIPPED: nothing answers at ${pg_host}:${pg_port} (set TEST_POSTGRES_URL to point at a server)."
  echo "Only the embedded SQLite suite ran."
fi
