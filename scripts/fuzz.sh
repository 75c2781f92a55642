#!/usr/bin/env bash
# Fuzz smoke run: builds every cargo-fuzz target in fuzz/ and runs each for a
# bounded time, then prints the runs per target from libFuzzer's final stats.
#
#   scripts/fuzz.sh [seconds] [target...]     (default: 20 s, every target)
#
# Nightly features: a nightly toolchain when one is installed, otherwise the
# stable one with RUSTC_BOOTSTRAP=1, so a fresh machine needs nothing extra.
# The instrumented build goes to a cache outside the clone
# ($FUZZ_TARGET_DIR, default $HOME/.cache/soko-ingest-fuzz-target).
# FUZZ_SANITIZER (default none; address for ASan) and FUZZ_RUNS (a run cap
# per target, default none) tune it. FUZZ_SEED fixes libFuzzer's random seed, so a run
# can be repeated: .ci/run sets it, and the long exploratory runs leave it unset so each
# run explores anew (docs/FUZZING.md). New inputs go to a scratch corpus, never
# into the committed fuzz/corpus/; crashes go to $FUZZ_ARTIFACTS (default
# fuzz/artifacts/<target>/) and fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  for file in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$file" .rs)"); done
fi
target_dir="${FUZZ_TARGET_DIR:-$HOME/.cache/soko-ingest-fuzz-target}"
sanitizer="${FUZZ_SANITIZER:-none}"
artifacts="${FUZZ_ARTIFACTS:-$PWD/fuzz/artifacts}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
  echo "== fuzzing with the nightly toolchain"
else
  export RUSTC_BOOTSTRAP=1
  echo "== fuzzing with the stable toolchain and RUSTC_BOOTSTRAP=1"
fi

build=(--sanitizer "$sanitizer" --debug-assertions --target-dir "$target_dir" --fuzz-dir fuzz)
echo "== building ${#targets[@]} fuzz targets (sanitizer: $sanitizer) into $target_dir"
start=$(date +%s)
cargo "${toolchain[@]}" fuzz build "${build[@]}"
echo "== fuzz build took $(( $(date +%s) - start )) s"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=()
summary=()
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target" "$artifacts/$target"
  log="$scratch/$target.log"
  extra=()
  [ -n "${FUZZ_RUNS:-}" ] && extra+=("-runs=$FUZZ_RUNS")
  [ -n "${FUZZ_SEED:-}" ] && extra+=("-seed=$FUZZ_SEED")
  echo "== fuzzing $target for ${seconds} s"
  # Seeds: the committed corpus and regressions; new inputs go to the scratch folder.
  seeds=(fuzz/corpus/"$target")
  [ -d fuzz/regressions/"$target" ] && seeds+=(fuzz/regressions/"$target")
  if cargo "${toolchain[@]}" fuzz run "${build[@]}" "$target" "$scratch/$target" "${seeds[@]}" -- \
      -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/$target/" "${extra[@]}" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$target")
    tail -n 60 "$log"
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1)
  rate=$(grep -o 'exec/s: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1)
  summary+=("$(printf '%-10s %-6s runs=%s exec/s=%s' "$target" "$status" "${runs:-?}" "${rate:-?}")")
done

echo "== fuzz summary (${seconds} s per target)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing found failures in: ${failed[*]} (inputs under $artifacts/)" >&2
  exit 1
fi
