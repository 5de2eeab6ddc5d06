#!/usr/bin/env python3
"""Fixtures for LEMFormats' GGUF block decoders: raw rows and gguf-py's dequantization of them.

Reference env (outside the repo): python3 -m venv ~/.cache/lem-refs/formats &&
  ~/.cache/lem-refs/formats/bin/pip install gguf==0.19.0 numpy==2.4.6
Run: ~/.cache/lem-refs/formats/bin/python Scripts/fixtures_gguf_blocks.py
Reads the installed models (~/.cache/lem/models: SmolLM2-135M-Instruct.Q4_1.gguf,
gemma-3-270m-q4_k_m.gguf) and writes Tests/Fixtures/formats/gguf_blocks.safetensors with, per case:
  CASE.raw       U8  [rows, rowBytes]  the stored bytes of some rows
  CASE.expected  F32 [rows, columns]   gguf.quants.dequantize of those bytes
and a JSON sidecar gguf_blocks.json: case -> {type, source, tensor, rows}. Cases from the real
models name the GGUF tensor and row indices (so tests can also decode them from the model file);
types absent from both models (Q4_0, Q5_1, Q2_K, Q3_K, Q5_K, F16, BF16) use seeded random blocks
with finite scales.
"""
import json
import os

import gguf
import numpy as np
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T
from fixture_util import save_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "formats")
MODELS = os.path.expanduser(os.environ.get("LEM_HOME", "~/.cache/lem") + "/models")

tensors = {}
index = {}


def add(case, qtype, raw_rows, source, tensor=None, rows=None):
    raw_rows = np.ascontiguousarray(raw_rows, dtype=np.uint8)
    expected = gguf.quants.dequantize(raw_rows, qtype).astype(np.float32)
    tensors[f"{case}.raw"] = raw_rows
    tensors[f"{case}.expected"] = np.ascontiguousarray(expected)
    index[case] = {"type": qtype.name, "source": source, "tensor": tensor, "rows": rows,
                   "columns": int(expected.shape[-1])}
    print(case, qtype.name, raw_rows.shape, "->", expected.shape)


def from_model(path, picks):
    r = gguf.GGUFReader(path)
    by_name = {t.name: t for t in r.tensors}
    for case, name, rows in picks:
        t = by_name[name]
        data = np.asarray(t.data)  # quantized: (rows, rowBytes) uint8; f32: (rows, cols) float32
        if t.tensor_type == T.F32:
            data = data.reshape(-1, int(t.shape[0])).view(np.uint8)
        else:
            data = data.reshape(-1, data.shape[-1])
        add(case, t.tensor_type, data[rows], os.path.basename(path), name, rows)


smol = os.path.join(MODELS, "SmolLM2-135M-Instruct.Q4_1.gguf")
gemma = os.path.join(MODELS, "gemma-3-270m-q4_k_m.gguf")
from_model(smol, [
    ("smol_q4_1", "blk.0.attn_q.weight", [0, 1, 300, 575]),
    ("smol_q8_0", "token_embd.weight", [0, 1, 4000, 49151]),
    ("smol_f32", "blk.0.attn_norm.weight", [0]),
])
from_model(gemma, [
    ("gemma_q4_k", "blk.0.attn_output.weight", [0, 1, 639]),
    ("gemma_q5_0", "blk.0.attn_q.weight", [0, 7, 1023]),
    ("gemma_q6_k", "blk.0.ffn_down.weight", [0, 1, 639]),
    ("gemma_q8_0", "blk.0.attn_v.weight", [0, 255]),
    ("gemma_f32", "blk.0.attn_q_norm.weight", [0]),
])

# Synthetic blocks for types the two models lack: random bytes with sane f16 scale fields.
rng = np.random.default_rng(7)


def synthetic(qtype, rows, blocks, scale_offsets):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(rows, blocks, type_size), dtype=np.uint8)
    for off in scale_offsets:
        scales = (rng.standard_normal((rows, blocks)) * 0.02).astype(np.float16)
        raw[:, :, off:off + 2] = scales.view(np.uint8).reshape(rows, blocks, 2)
    add(f"synthetic_{qtype.name.lower()}", qtype, raw.reshape(rows, blocks * type_size), "synthetic")


synthetic(T.Q4_0, 3, 4, [0])
synthetic(T.Q4_1, 3, 4, [0, 2])
synthetic(T.Q5_0, 3, 4, [0])
synthetic(T.Q5_1, 3, 4, [0, 2])
synthetic(T.Q8_0, 3, 4, [0])
synthetic(T.Q2_K, 3, 2, [80, 82])
synthetic(T.Q3_K, 3, 2, [108])
synthetic(T.Q4_K, 3, 2, [0, 2])
synthetic(T.Q5_K, 3, 2, [0, 2])
synthetic(T.Q6_K, 3, 2, [208])
halves = (rng.standard_normal((3, 64)) * 3).astype(np.float16)
add("synthetic_f16", T.F16, halves.view(np.uint8), "synthetic")
bf = (rng.standard_normal((3, 64)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
add("synthetic_bf16", T.BF16, bf.view(np.uint8), "synthetic")


os.makedirs(OUT, exist_ok=True)
save_safetensors(os.path.join(OUT, "gguf_blocks.safetensors"), tensors,
                 {"generator": "Scripts/fixtures_gguf_blocks.py", "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0"})
with open(os.path.join(OUT, "gguf_blocks.json"), "w") as f:
    json.dump(index, f, indent=1, sort_keys=True)
print("wrote", os.path.getsize(os.path.join(OUT, "gguf_blocks.safetensors")), "bytes")
