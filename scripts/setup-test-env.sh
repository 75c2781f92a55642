#!/usr/bin/env bash
# Prepares what the tests need beyond cargo, idempotently, and writes the
# environment they read to .cache/test-env.sh. Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
: > .cache/test-env.sh
echo "test environment ready (.cache/test-env.sh)"
