#!/usr/bin/env python3
"""Exports the real google/siglip-base-patch16-224 into the layout the embed stage loads (EMBED_MODEL_DIR):

  OUT_DIR/vision_model.onnx  pixel_values f32 [batch, 3, 224, 224] -> last_hidden_state, pooler_output [batch, 768]
  OUT_DIR/text_model.onnx    input_ids   i64 [batch, 64]           -> last_hidden_state, pooler_output [batch, 768]
  OUT_DIR/tokenizer.json     SigLIP's SentencePiece tokenizer (pad and end-of-text id 1)

This is the same input/output contract as the public ONNX export (Xenova/siglip-base-patch16-224) and as
the tiny test models of scripts/make_test_models.py.

THIS SCRIPT NEEDS INTERNET ACCESS TO THE HUGGING FACE HUB. It cannot run on the project's build machines,
which reach only package registries; it was written for users who have internet, and has not been run
here. Everything else in the project (tests, benchmarks) uses the tiny models instead.

Two ways:

  A. Download the published ONNX export (no torch needed, ~810 MB):
       pip install huggingface_hub
       python3 scripts/export_siglip.py OUT_DIR --from-published
     (equivalent: huggingface-cli download Xenova/siglip-base-patch16-224 onnx/vision_model.onnx
      onnx/text_model.onnx tokenizer.json --local-dir OUT_DIR; the loader also finds the .onnx files
      under OUT_DIR/onnx/.)

  B. Export from the original PyTorch weights (default):
       pip install torch transformers sentencepiece protobuf onnx onnxruntime==1.31.1
       python3 scripts/export_siglip.py OUT_DIR [--model google/siglip-base-patch16-224] [--opset 17]
     It checks the exported graphs against PyTorch with onnxruntime when that is installed.

Then run the gateway with EMBED_MODEL_DIR=OUT_DIR and ORT_DYLIB_PATH=$(scripts/fetch_onnxruntime.sh).
"""
import argparse
import os
import shutil
import sys
import tempfile

PUBLISHED = "Xenova/siglip-base-patch16-224"
TEXT_LEN = 64
IMAGE_SIZE = 224


def from_published(out_dir, repo):
    from huggingface_hub import hf_hub_download

    for remote, local in [("onnx/vision_model.onnx", "vision_model.onnx"),
                          ("onnx/text_model.onnx", "text_model.onnx"),
                          ("tokenizer.json", "tokenizer.json")]:
        path = hf_hub_download(repo, remote)
        shutil.copyfile(path, os.path.join(out_dir, local))
        print(f"fetched {repo}/{remote} -> {local}")


def export_towers(out_dir, model_id, opset):
    import torch
    from transformers import AutoTokenizer, SiglipModel

    model = SiglipModel.from_pretrained(model_id).eval()

    class Tower(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            out = self.inner(x, return_dict=True)
            return out.last_hidden_state, out.pooler_output

    pixels = torch.rand(2, 3, IMAGE_SIZE, IMAGE_SIZE) * 2 - 1
    tokenizer = AutoTokenizer.from_pretrained(model_id, use_fast=True)
    ids = tokenizer(["a photo of a red dress", "leather shoes"], padding="max_length", max_length=TEXT_LEN,
                    truncation=True, return_tensors="pt")["input_ids"].to(torch.int64)
    if int(tokenizer.pad_token_id) != 1:
        sys.exit(f"unexpected pad id {tokenizer.pad_token_id}; the embed stage pads with 1 as SigLIP does")

    for tower, name, example, input_name in [(model.vision_model, "vision_model.onnx", pixels, "pixel_values"),
                                             (model.text_model, "text_model.onnx", ids, "input_ids")]:
        path = os.path.join(out_dir, name)
        torch.onnx.export(Tower(tower), (example,), path, input_names=[input_name],
                          output_names=["last_hidden_state", "pooler_output"],
                          dynamic_axes={input_name: {0: "batch_size"}, "last_hidden_state": {0: "batch_size"},
                                        "pooler_output": {0: "batch_size"}},
                          opset_version=opset, do_constant_folding=True)
        print(f"exported {name}")
        check(path, input_name, example, Tower(tower))

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        src = os.path.join(tmp, "tokenizer.json")
        if not os.path.exists(src):
            sys.exit("this transformers version wrote no tokenizer.json (no fast SigLIP tokenizer); use --from-published")
        shutil.copyfile(src, os.path.join(out_dir, "tokenizer.json"))
    print("saved tokenizer.json")


def check(path, input_name, example, torch_module):
    try:
        import numpy as np
        import onnxruntime as ort
        import torch
    except ImportError:
        print("  (onnxruntime not installed: skipping the numerical check)")
        return
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(["pooler_output"], {input_name: example.numpy()})[0]
    with torch.no_grad():
        want = torch_module(example)[1].numpy()
    err = float(np.abs(got - want).max())
    print(f"  onnxruntime vs torch, pooler_output max abs difference: {err:.2e}")
    if err > 1e-3:
        sys.exit(f"{path}: exported graph disagrees with PyTorch ({err})")


def main(argv):
    parser = argparse.ArgumentParser(description="Export SigLIP-base for the embed stage (needs internet).")
    parser.add_argument("out_dir")
    parser.add_argument("--model", default="google/siglip-base-patch16-224")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--from-published", action="store_true",
                        help=f"download the published ONNX export ({PUBLISHED}) instead of exporting")
    parser.add_argument("--published-repo", default=PUBLISHED)
    parser.add_argument("--int8", action="store_true",
                        help="also write dynamically quantised (int8 weight) towers into OUT_DIR-int8 (scripts/quantize_int8.py)")
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    if args.from_published:
        from_published(args.out_dir, args.published_repo)
    else:
        export_towers(args.out_dir, args.model, args.opset)
    print(f"done: EMBED_MODEL_DIR={os.path.abspath(args.out_dir)}")
    if args.int8:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from quantize_int8 import quantize_dir
        int8_dir = os.path.abspath(args.out_dir).rstrip("/") + "-int8"
        quantize_dir(args.out_dir, int8_dir)
        print(f"int8: EMBED_MODEL_DIR={int8_dir}")


if __name__ == "__main__":
    main(sys.argv[1:])
