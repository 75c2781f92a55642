#!/usr/bin/env bash
# Speed of the collector on a generated Android export of N messages:
#   1. parsing: `collector export --dry-run` (messages/s, wall time);
#   2. with WHATSAPP_INGEST_URL (and token/secret) set: sending it to that
#      gateway through the spool (messages/s, batches of BATCH_MAX_MESSAGES).
# Usage: collector-client/bench/export_throughput.sh [N]   (default 100000)
# Build first: cargo build --release -p collector-client --bin collector
set -euo pipefail
n=${1:-100000}
bin=${COLLECTOR_BIN:-${CARGO_TARGET_DIR:-target}/release/collector}
[ -x "$bin" ] || { echo "no collector binary at $bin (set COLLECTOR_BIN)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export_file="$work/WhatsApp Chat with Bench Market.txt"

python3 - "$n" > "$export_file" <<'PY'
import sys, datetime
n = int(sys.argv[1])
start = datetime.datetime(2024, 1, 1, 8, 0)
names = ["Otieno Tech", "+254 712 345 678", "Mama Njeri", "Wanjiru", "+254 798 765 432"]
models = ["Samsung A14", "Tecno Spark 10", "iPhone 12 Pro", "Infinix Hot 30", "Redmi 12C"]
print("01/01/2024, 07:59 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.")
for i in range(n):
    at = start + datetime.timedelta(seconds=37 * i)
    stamp = at.strftime("%d/%m/%Y, %H:%M")
    who = names[i % len(names)]
    if i % 10 == 9:
        print(f"{stamp} - {who}: <Media omitted>")
    elif i % 4 == 0:
        print(f"{stamp} - {who}: {models[i % 5]} {64 * (1 + i % 4)}GB\nBrand new, sealed\nKSh {10000 + (i * 37) % 50000:,}")
    else:
        print(f"{stamp} - {who}: {models[i % 5]} - {10 + i % 60}k offer #{i}")
PY

lines=$(wc -l < "$export_file")
bytes=$(wc -c < "$export_file")
start=$(date +%s.%N)
"$bin" export --dry-run "$export_file" > "$work/out.jsonl" 2> "$work/err.txt"
end=$(date +%s.%N)
count=$(wc -l < "$work/out.jsonl")
python3 - "$count" "$start" "$end" "$lines" "$bytes" <<'PY'
import sys
count, start, end, lines, size = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
t = end - start
print(f"parse: {count} messages from {lines} lines ({size/1e6:.1f} MB) in {t:.2f} s = {count/t:,.0f} messages/s (dry run, JSON printed)")
PY

if [ -n "${WHATSAPP_INGEST_URL:-}" ]; then
  export SPOOL_DIR="$work/spool" RUST_LOG=warn
  start=$(date +%s.%N)
  "$bin" export "$export_file" 2> "$work/send.txt" || { cat "$work/send.txt" >&2; exit 1; }
  end=$(date +%s.%N)
  python3 - "$count" "$start" "$end" "${BATCH_MAX_MESSAGES:-50}" <<'PY'
import sys
count, start, end, batch = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
t = end - start
print(f"send:  {count} messages in {t:.2f} s = {count/t:,.0f} messages/s (batches of {batch}, one in flight, spooled with fsync)")
PY
  tail -1 "$work/send.txt"
fi
