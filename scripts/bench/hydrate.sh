#!/usr/bin/env bash
# Hydrate benchmark (issue #4): products/s at concurrency 20 against a local static server
# (nginx, one worker), for the gateway's hydrate stage (alone, and through the durable queue on
# SQLite) and, on the same pages in the same run, for the seed's own design: the Node peer in
# ../shared/peers/node_hydrator (axios + cheerio + p-limit). Runs alternate; the median of
# BENCH_RUNS runs of each is reported with the gateway/peer ratio.
#
# Usage: scripts/bench/hydrate.sh
# Knobs (env): BENCH_PAGES (2000), BENCH_RUNS (3), BENCH_CONCURRENCY (20), BENCH_PORT (8777),
#   PAGES_DIR (/tmp/hyd-pages), PEER_DIR (<repo>/../shared/peers/node_hydrator),
#   PEER_WORK (/tmp/hyd-peer), CARGO_TARGET_DIR.
# Needs: nginx (apt-get install nginx-light), node + npm, python3. Installs the peer's npm
# packages into PEER_WORK on first use.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PAGES=${BENCH_PAGES:-2000}
RUNS=${BENCH_RUNS:-3}
CONC=${BENCH_CONCURRENCY:-20}
PORT=${BENCH_PORT:-8777}
PAGES_DIR=${PAGES_DIR:-/tmp/hyd-pages}
PEER_DIR=${PEER_DIR:-$ROOT/../shared/peers/node_hydrator}
[ -d "$PEER_DIR" ] || PEER_DIR=/work/shared/peers/node_hydrator
PEER_WORK=${PEER_WORK:-/tmp/hyd-peer}
BASE="http://127.0.0.1:$PORT"

command -v nginx >/dev/null || { echo "nginx is missing: apt-get install -y nginx-light" >&2; exit 1; }
command -v node >/dev/null || { echo "node is missing" >&2; exit 1; }

if [ ! -s "$PAGES_DIR/ids.txt" ] || [ "$(wc -l < "$PAGES_DIR/ids.txt")" -ne "$PAGES" ]; then
  rm -rf "$PAGES_DIR"
  python3 "$PEER_DIR/make_pages.py" "$PAGES_DIR" "$PAGES" >&2
fi
if [ ! -d "$PEER_WORK/node_modules/cheerio" ]; then
  mkdir -p "$PEER_WORK"
  (cd "$PEER_WORK" && npm init -y >/dev/null && npm install --silent axios cheerio p-limit >&2)
fi
cp "$PEER_DIR/hydrate.mjs" "$PEER_WORK/"

NGINX_DIR=$(mktemp -d /tmp/hyd-nginx.XXXXXX)
cat > "$NGINX_DIR/nginx.conf" <<CONF
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  types { text/html html; }
  default_type text/html;
  server {
    listen 127.0.0.1:$PORT;
    root $PAGES_DIR;
    # /p/<id>/<phone> (the gateway) and /p/<id>/<phone>/ (the peer) both serve the page, no redirect.
    location / { try_files \$uri \$uri/index.html =404; }
  }
}
CONF
nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"
trap 'kill "$(cat "$NGINX_DIR/nginx.pid")" 2>/dev/null || true; rm -rf "$NGINX_DIR"' EXIT
sleep 0.3
first=$(head -1 "$PAGES_DIR/ids.txt")
curl -fsS -o /dev/null "$BASE/p/$first" && curl -fsS -o /dev/null "$BASE/p/$first/" || { echo "nginx does not serve the pages" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo bench -p gateway --bench hydrate --no-run >&2)
BENCH_BIN=$(ls -t "$CARGO_TARGET_DIR"/release/deps/hydrate-* | grep -v '\.d$' | head -1)

OUT=$(mktemp -d /tmp/hyd-bench.XXXXXX)
for run in $(seq 1 "$RUNS"); do
  (cd "$PEER_WORK" && node hydrate.mjs "$BASE" "$PAGES_DIR/ids.txt" "$CONC") | tee -a "$OUT/peer.jsonl" >&2
  HYDRATE_BENCH_BASE=$BASE HYDRATE_BENCH_IDS=$PAGES_DIR/ids.txt HYDRATE_BENCH_CONCURRENCY=$CONC "$BENCH_BIN" --bench \
    | tee -a "$OUT/gateway.jsonl" >&2
done

python3 - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
peer = [json.loads(l) for l in open(f"{out}/peer.jsonl") if l.strip()]
gw = [json.loads(l) for l in open(f"{out}/gateway.jsonl") if l.strip()]
def med(rows): return statistics.median(r["products_per_s"] for r in rows)
def runs(rows): return ", ".join("%.0f" % r["products_per_s"] for r in rows)
p = med(peer)
print("%-34s %20s   %s" % ("target", "products/s (median)", "runs"))
print("%-34s %20.0f   %s" % ("node peer (axios+cheerio)", p, runs(peer)))
for mode, label in (("stage", "gateway hydrate stage"), ("queue", "gateway via queue (%s)" % gw[-1].get("backend", "sqlite"))):
    rows = [r for r in gw if r["mode"] == mode]
    if rows:
        g = med(rows)
        print("%-34s %20.0f   %s   ratio vs peer %.1fx" % (label, g, runs(rows), g / p))
bad = [r for r in peer + gw if r["ok"] != r["pages"]]
if bad:
    print("WARNING: some runs did not hydrate every page:", bad)
PY
