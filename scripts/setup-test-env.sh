#!/usr/bin/env bash
# Prepares what the tests need beyond cargo, idempotently, and writes the
# environment they read to .cache/test-env.sh. Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
: > .cache/test-env.sh

# Headless Chromium for the admin page test (Debian package `chromium`).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (headless browser for the admin page test)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "WARNING: chromium is missing; the admin browser test will fail. Install it: apt-get install chromium" >&2
  fi
fi
echo "test environment ready (.cache/test-env.sh)"
