#!/usr/bin/env bash
# Fetches the ONNX Runtime shared library that the embed stage loads at run time (ort `load-dynamic`).
#
# The library is taken from the PyPI wheel `onnxruntime==$ORT_VERSION` (no numpy, no install: the wheel is
# downloaded with `pip download --no-deps` and only `onnxruntime/capi/libonnxruntime.so*` is unpacked).
# It needs only glibc and libstdc++. Idempotent: a second run finds the cached file and downloads nothing.
#
# Usage:  scripts/fetch_onnxruntime.sh [CACHE_DIR]
#         export ORT_DYLIB_PATH="$(scripts/fetch_onnxruntime.sh)"
# Env:    ORT_CACHE_DIR (default <repo>/.cache/onnxruntime), ORT_VERSION (default 1.31.1),
#         PYTHON (default python3, needs pip).
# Stdout: only the absolute path of the library; progress goes to stderr.
set -euo pipefail

ORT_VERSION="${ORT_VERSION:-1.31.1}"
PYTHON="${PYTHON:-python3}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${1:-${ORT_CACHE_DIR:-$repo_root/.cache/onnxruntime}}"
target_dir="$cache_dir/$ORT_VERSION"
lib="$target_dir/libonnxruntime.so.$ORT_VERSION"

if [[ -s "$lib" ]]; then
    echo "$lib"
    exit 0
fi

mkdir -p "$cache_dir"
work="$(mktemp -d "$cache_dir/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch_onnxruntime: downloading the onnxruntime==$ORT_VERSION wheel from PyPI" >&2
"$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    "onnxruntime==$ORT_VERSION" -d "$work/wheel" >&2

wheel="$(find "$work/wheel" -name 'onnxruntime-*.whl' | head -n 1)"
if [[ -z "$wheel" ]]; then
    echo "fetch_onnxruntime: pip downloaded no onnxruntime wheel" >&2
    exit 1
fi

# A wheel is a zip file; python's zipfile avoids depending on `unzip` being installed.
"$PYTHON" - "$wheel" "$work/lib" <<'PY'
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
found = 0
with zipfile.ZipFile(wheel) as zf:
    for name in zf.namelist():
        base = os.path.basename(name)
        if name.startswith("onnxruntime/capi/") and base.startswith("libonnxruntime.so"):
            with zf.open(name) as src, open(os.path.join(out, base), "wb") as dst:
                dst.write(src.read())
            found += 1
if not found:
    sys.exit("fetch_onnxruntime: no onnxruntime/capi/libonnxruntime.so* in " + wheel)
PY

if [[ ! -s "$work/lib/libonnxruntime.so.$ORT_VERSION" ]]; then
    echo "fetch_onnxruntime: the wheel has no libonnxruntime.so.$ORT_VERSION" >&2
    exit 1
fi

# Unpack beside the final place, then rename, so an interrupted run never leaves a half-written library.
rm -rf "$target_dir"
mv "$work/lib" "$target_dir"
ln -sf "libonnxruntime.so.$ORT_VERSION" "$target_dir/libonnxruntime.so"
echo "fetch_onnxruntime: unpacked into $target_dir" >&2
echo "$lib"
