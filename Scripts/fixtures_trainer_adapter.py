#!/usr/bin/env python3
"""An mlx_lm LoRA adapter fixture: the files mlx_lm's own code writes for a tiny Llama.

Pinned versions (venv ~/.cache/lem-refs/trainer): mlx 0.32.4 (mlx[cpu]), mlx-lm 0.32.2.
Run: ~/.cache/lem-refs/trainer/bin/python Scripts/fixtures_trainer_adapter.py
Writes Tests/Fixtures/trainer/mlx_adapter/{adapters.safetensors, adapters_with_metadata.safetensors,
adapter_config.json, fused.json}.
"""
import json
import os
import types

import mlx.core as mx
import numpy as np
from mlx.utils import tree_flatten
from mlx_lm.models import llama
from mlx_lm.tuner.utils import linear_to_lora_layers
from mlx_lm.utils import save_config

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "trainer", "mlx_adapter")
os.makedirs(OUT, exist_ok=True)

mx.random.seed(0)
args = llama.ModelArgs(model_type="llama", hidden_size=8, num_hidden_layers=3, intermediate_size=12,
                       num_attention_heads=2, num_key_value_heads=1, rms_norm_eps=1e-5, vocab_size=16)
model = llama.Model(args)
model.freeze()
lora = {"rank": 2, "scale": 4.0, "dropout": 0.0}
linear_to_lora_layers(model, 2, lora)
# Non-zero B so the delta is visible.
for layer in model.layers[-2:]:
    for _, m in layer.named_modules():
        if hasattr(m, "lora_b"):
            m.lora_b = mx.random.uniform(-1, 1, m.lora_b.shape)
weights = dict(tree_flatten(model.trainable_parameters()))
# mlx_lm's trainer writes no metadata, which mlx stores as "__metadata__": null.
mx.save_safetensors(os.path.join(OUT, "adapters.safetensors"), weights)
mx.save_safetensors(os.path.join(OUT, "adapters_with_metadata.safetensors"), weights, metadata={"format": "mlx"})
config = {"fine_tune_type": "lora", "num_layers": 2, "lora_parameters": lora, "batch_size": 1, "iters": 1}
save_config(config, os.path.join(OUT, "adapter_config.json"))
q = model.layers[2].self_attn.q_proj
fused = q.fuse()
delta = np.array(fused.weight) - np.array(q.linear.weight)
with open(os.path.join(OUT, "fused.json"), "w") as f:
    json.dump({"module": "model.layers.2.self_attn.q_proj", "delta": delta.tolist(),
               "names": sorted(weights.keys())}, f)
print("wrote", OUT, len(weights), "tensors")
