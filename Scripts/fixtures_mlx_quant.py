#!/usr/bin/env python3
"""Fixtures for LEMFormats' MLX quantized reader: packed weights and mlx's own dequantization.

Reference env (outside the repo): python3 -m venv ~/.cache/lem-refs/formats &&
  ~/.cache/lem-refs/formats/bin/pip install "mlx[cpu]==0.32.4" numpy==2.4.6
Run: ~/.cache/lem-refs/formats/bin/python Scripts/fixtures_mlx_quant.py
Writes Tests/Fixtures/formats/mlx_quant.safetensors with, for each case NAME = b{bits}g{group}_{dtype}:
  NAME.weight (U32 packed), NAME.scales, NAME.biases (in dtype), and
  NAME.expected (f32): mx.dequantize of the packed weights with the scales and biases cast to
  f32, i.e. scale*q + bias evaluated in f32 (the value LEMFormats computes).
"""
import os

import mlx.core as mx
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "formats", "mlx_quant.safetensors")

rng = np.random.default_rng(1234)
tensors = {}
cases = [(4, 64, "bfloat16"), (4, 32, "float16"), (4, 128, "float32"), (8, 64, "bfloat16"), (8, 32, "float32"),
         (2, 64, "float16"), (3, 64, "bfloat16"), (5, 32, "float32"), (6, 64, "float16"), (6, 128, "bfloat16")]
for bits, group, dtype in cases:
    name = f"b{bits}g{group}_{dtype}"
    w = mx.array(rng.standard_normal((6, 256)).astype(np.float32)).astype(getattr(mx, dtype))
    wq, scales, biases = mx.quantize(w, group_size=group, bits=bits)
    expected = mx.dequantize(wq, scales.astype(mx.float32), biases.astype(mx.float32), group_size=group, bits=bits)
    tensors[f"{name}.weight"] = wq
    tensors[f"{name}.scales"] = scales
    tensors[f"{name}.biases"] = biases
    tensors[f"{name}.expected"] = expected.astype(mx.float32)
    print(name, wq.shape, wq.dtype, scales.shape, scales.dtype)
mx.save_safetensors(OUT, tensors, metadata={"generator": "Scripts/fixtures_mlx_quant.py", "mlx": mx.__version__})
print("wrote", OUT, os.path.getsize(OUT), "bytes")
