#!/usr/bin/env python3
"""Write int8 copies of the project's ONNX models (issue 17): dynamic quantisation of the weights
(`onnxruntime.quantization.quantize_dynamic`, int8 weights, activations quantised at run time), the
other files of the directory copied beside them. The gateway loads the result like the fp32 export:
point `EMBED_MODEL_DIR` (SigLIP: `vision_model.onnx`, `text_model.onnx`) or `SEARCH_TEXT_MODEL_DIR`
(MiniLM: `text_search.onnx`) at the new directory.

Usage: quantize_int8.py SRC_DIR OUT_DIR
Needs the PyPI packages `onnx` and `onnxruntime` (the same 1.31 wheel whose library the gateway loads).

The model id changes with the weights: a `model_id` file in SRC_DIR gets `:int8` appended in OUT_DIR,
so vectors of the two variants are never mixed in one index. For the embed stage, whose model id is
`EMBED_MODEL_ID` or the directory's name, name OUT_DIR after the variant (for example
`siglip-base-int8`). `cargo bench -p gateway --bench embed` with `EMBED_BENCH_SIGLIP_DIR` and
`EMBED_BENCH_SIGLIP_INT8_DIR` measures both and the cosine between their vectors.
"""
import os
import shutil
import sys

MODELS = ("vision_model.onnx", "text_model.onnx", "text_search.onnx")


def quantize_dir(src, out):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if os.path.abspath(src) == os.path.abspath(out):
        sys.exit("quantize_int8.py: OUT_DIR must differ from SRC_DIR (the fp32 models stay as they are)")
    found = [name for name in MODELS if os.path.isfile(os.path.join(src, name))]
    if not found:
        sys.exit(f"quantize_int8.py: {src} holds none of {', '.join(MODELS)}")
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if name in found or not os.path.isfile(path):
            continue
        if name == "model_id":
            with open(path) as f:
                model_id = f.read().strip()
            with open(os.path.join(out, name), "w") as f:
                f.write(f"{model_id}:int8\n")
        else:
            shutil.copyfile(path, os.path.join(out, name))
    for name in found:
        before = os.path.getsize(os.path.join(src, name))
        quantize_dynamic(os.path.join(src, name), os.path.join(out, name), weight_type=QuantType.QInt8)
        after = os.path.getsize(os.path.join(out, name))
        print(f"{name}: {before / 1e6:.1f} MB fp32 -> {after / 1e6:.1f} MB int8")
    return found


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    quantize_dir(argv[0], argv[1])
    print(f"done: int8 models in {os.path.abspath(argv[1])}")


if __name__ == "__main__":
    main(sys.argv[1:])
