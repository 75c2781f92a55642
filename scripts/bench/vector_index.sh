#!/usr/bin/env bash
# Semantic index benchmark (issue 15): build time for N vectors, top-20 p95 of the exact scan and of
# the HNSW graph, and the graph's recall@20 against the exact scan. Release build.
# Usage: scripts/bench/vector_index.sh   Knobs: VECTOR_BENCH_N (100000), VECTOR_BENCH_DIM (384),
#        VECTOR_BENCH_QUERIES (200), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench -p gateway --bench vector_index
