#!/usr/bin/env python3
"""Writes tiny SigLIP-shaped ONNX models and a small tokenizer for the embed stage's tests.

Output (into OUT_DIR): the layout of the public SigLIP-base ONNX export
(e.g. Xenova/siglip-base-patch16-224, exported from google/siglip-base-patch16-224):

  vision_model.onnx  input  pixel_values      float32 [batch_size, 3, 224, 224]
                     output last_hidden_state float32 [batch_size, 196, DIM]
                     output pooler_output     float32 [batch_size, DIM]
  text_model.onnx    input  input_ids         int64   [batch_size, 64]
                     output last_hidden_state float32 [batch_size, 64, DIM]
                     output pooler_output     float32 [batch_size, DIM]
  tokenizer.json     WordLevel over a small built-in product vocabulary, ids like SigLIP's:
                     0 = <pad>, 1 = </s> (end of text and the pad id SigLIP pads with), 2 = <unk>;
                     every text ends with </s>. No padding or truncation is configured here, on purpose:
                     the Rust side must impose exactly 64 tokens itself, as it must for the real tokenizer.

The compute is tiny, not SigLIP: the vision tower average-pools 16x16 patches, projects each patch
(last_hidden_state) and the flattened patch grid (pooler_output, through tanh); the text tower embeds
tokens plus positions (last_hidden_state) and projects the flattened sequence (pooler_output, tanh).
So outputs depend on the whole input: different images or texts give different vectors. Weights come
from a fixed seed, so the same arguments always write byte-identical models.

Requires: onnx==1.23.2 (with numpy) and tokenizers, from PyPI. ONNX opset 17.
Usage:    python3 scripts/make_test_models.py OUT_DIR [--dim 32] [--seed 7] [--rename OLD=NEW ...]
          --rename renames a graph input or output in both models (e.g. pixel_values=image), to make
          deliberately wrong exports for the loader's negative tests.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

OPSET = 17
IMAGE_SIZE = 224
PATCH = 16
GRID = IMAGE_SIZE // PATCH  # 14
PATCHES = GRID * GRID  # 196
SEQ_LEN = 64

SPECIAL_TOKENS = ["<pad>", "</s>", "<unk>"]  # ids 0, 1, 2, as in SigLIP's SentencePiece vocabulary
CORPUS = """
red blue green black white yellow pink grey brown orange purple gold silver
dress shirt shoes sneakers sandals bag handbag wallet watch phone charger cable earphones
laptop tablet case cover cotton leather silk wool denim jeans skirt jacket coat hoodie
size small medium large new used original brand quality cheap price offer sale
samsung iphone tecno infinix nokia hp dell lenovo apple nike adidas puma
kitchen pot pan plate cup spoon fridge cooker blender kettle sofa bed chair table
for with and the a of in on to is men women kids baby unisex available delivery
"""


def build_tokenizer(path):
    words = []
    for word in CORPUS.split():
        if word not in words:
            words.append(word)
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for word in words:
        vocab[word] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    tok.add_special_tokens(SPECIAL_TOKENS)
    tok.save(path)
    return len(vocab)


class Graph:
    def __init__(self, rng):
        self.rng, self.nodes, self.inits, self.count = rng, [], [], 0

    def _name(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def weight(self, shape, scale):
        name = self._name("w")
        arr = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def const(self, values, dtype=np.int64):
        name = self._name("c")
        self.inits.append(numpy_helper.from_array(np.array(values, dtype=dtype), name))
        return name

    def op(self, kind, inputs, output=None, **attrs):
        out = output or self._name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def save(self, path, name, inputs, outputs, renames):
        for node in self.nodes:
            node.input[:] = [renames.get(n, n) for n in node.input]
            node.output[:] = [renames.get(n, n) for n in node.output]
        for value in list(inputs) + list(outputs):
            value.name = renames.get(value.name, value.name)
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=9,
                                  producer_name="soko make_test_models")
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, path)


def build_vision(path, dim, rng, renames):
    g = Graph(rng)
    pooled = g.op("AveragePool", ["pixel_values"], kernel_shape=[PATCH, PATCH], strides=[PATCH, PATCH])
    per_patch = g.op("Transpose", [g.op("Reshape", [pooled, g.const([0, 3, PATCHES])])], perm=[0, 2, 1])
    g.op("Tanh", [g.op("MatMul", [per_patch, g.weight([3, dim], 1.0)])], output="last_hidden_state")
    flat = g.op("Reshape", [pooled, g.const([0, 3 * PATCHES])])
    projected = g.op("Add", [g.op("MatMul", [flat, g.weight([3 * PATCHES, dim], 1.0 / np.sqrt(3 * PATCHES))]),
                             g.weight([dim], 0.1)])
    g.op("Tanh", [projected], output="pooler_output")
    g.save(path, "tiny_siglip_vision",
           [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch_size", 3, IMAGE_SIZE, IMAGE_SIZE])],
           [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch_size", PATCHES, dim]),
            helper.make_tensor_value_info("pooler_output", TensorProto.FLOAT, ["batch_size", dim])], renames)


def build_text(path, dim, vocab_size, rng, renames):
    g = Graph(rng)
    tokens = g.op("Gather", [g.weight([vocab_size, dim], 1.0), "input_ids"], axis=0)
    g.op("Tanh", [g.op("Add", [tokens, g.weight([1, SEQ_LEN, dim], 0.3)])], output="last_hidden_state")
    flat = g.op("Reshape", ["last_hidden_state", g.const([0, SEQ_LEN * dim])])
    projected = g.op("MatMul", [flat, g.weight([SEQ_LEN * dim, dim], 1.0 / np.sqrt(SEQ_LEN * dim))])
    g.op("Tanh", [projected], output="pooler_output")
    g.save(path, "tiny_siglip_text",
           [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", SEQ_LEN])],
           [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch_size", SEQ_LEN, dim]),
            helper.make_tensor_value_info("pooler_output", TensorProto.FLOAT, ["batch_size", dim])], renames)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--dim", type=int, default=32, help="embedding width of both towers (SigLIP-base: 768)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                        help="rename a graph input or output (negative tests only)")
    args = parser.parse_args(argv)
    if args.dim < 1:
        parser.error("--dim must be positive")
    renames = {}
    for pair in args.rename:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            parser.error(f"--rename wants OLD=NEW, got {pair!r}")
        renames[old] = new
    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    # Written under per-process temporary names, then renamed: a reader never sees a half-written file,
    # and test processes that generate the same directory at once do not collide.
    staged = ["tokenizer.json", "vision_model.onnx", "text_model.onnx"]
    tmp = {name: os.path.join(args.out_dir, f".{name}.{os.getpid()}.tmp") for name in staged}
    vocab_size = build_tokenizer(tmp["tokenizer.json"])
    build_vision(tmp["vision_model.onnx"], args.dim, rng, renames)
    build_text(tmp["text_model.onnx"], args.dim, vocab_size, rng, renames)
    for name in staged:
        os.replace(tmp[name], os.path.join(args.out_dir, name))
    print(f"wrote {', '.join(staged)} into {args.out_dir} (dim {args.dim}, vocab {vocab_size}, seed {args.seed})")


if __name__ == "__main__":
    main(sys.argv[1:])
