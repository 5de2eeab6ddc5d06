#!/usr/bin/env python3
"""mlx_lm round trip for LoRA / DoRA adapters (Tests/Fixtures/adapters/mlx_*).

Pinned environment (venv ~/.cache/lem-refs/mlx): python 3.11, mlx 0.32.4 (mlx[cpu]), mlx-lm 0.32.2,
numpy 2.4.6.
Run:
    ~/.cache/lem-refs/mlx/bin/python Scripts/fixtures_adapters_mlx.py            # fixtures + checks
    ~/.cache/lem-refs/mlx/bin/python Scripts/fixtures_adapters_mlx.py --check MODEL ADAPTER LOGITS.json

1. Writes adapters with mlx_lm's own code (linear_to_lora_layers, LoRA and DoRA, random non-zero
   lora_a / lora_b / m) for the tiny Llama and Gemma 3 engine fixtures, saved the way mlx_lm's
   trainer saves them (tree_flatten(trainable_parameters()) + adapter_config.json), and the
   logits mlx_lm computes with them: Tests/Fixtures/adapters/mlx_<model>_<type>/.
2. Checks that mlx_lm loads the mlx-layout copies in Tests/Fixtures/adapters/*/mlx (the layout
   our trainer writes) and reproduces the transformers+PEFT logits of the same adapter.
With --check: loads MODEL with ADAPTER through mlx_lm.load and compares its logits for the ids
in LOGITS.json ({"input_ids": [...], "logits": [[...]]}, e.g. written by `lem logits`) — how a
Swift-written adapter is checked against mlx_lm.
"""
import glob
import json
import os
import platform
import sys

import mlx.core as mx
import mlx_lm
import numpy as np
from mlx.utils import tree_flatten
from mlx_lm.tuner.utils import linear_to_lora_layers
from mlx_lm.utils import save_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "Tests", "Fixtures", "engine")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "adapters")


def logits_of(model, ids):
    return np.array(model(mx.array([ids]))[0].astype(mx.float32))


def make_mlx_adapter(base, dora, num_layers, rank, scale):
    name = f"mlx_{base.split('_')[0]}_{'dora' if dora else 'lora'}"
    model, _ = mlx_lm.load(os.path.join(ENGINE, base))
    model.freeze()
    params = {"rank": rank, "scale": scale, "dropout": 0.0}
    mx.random.seed(3)
    linear_to_lora_layers(model, num_layers, params, use_dora=dora)
    for layer in model.layers[-num_layers:]:
        for _, m in layer.named_modules():
            if hasattr(m, "lora_b"):
                m.lora_a = mx.random.uniform(-0.3, 0.3, m.lora_a.shape)
                m.lora_b = mx.random.uniform(-0.3, 0.3, m.lora_b.shape)
                if dora:
                    m.m = m.m * mx.random.uniform(0.8, 1.2, m.m.shape)
    mx.eval(model.parameters())
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    weights = dict(tree_flatten(model.trainable_parameters()))
    mx.save_safetensors(os.path.join(out, "adapters.safetensors"), weights)
    save_config({"fine_tune_type": "dora" if dora else "lora", "num_layers": num_layers, "lora_parameters": params},
                os.path.join(out, "adapter_config.json"))
    ids = json.load(open(os.path.join(ENGINE, base, "reference.json")))["input_ids"]
    logits = logits_of(model, ids)
    base_model, _ = mlx_lm.load(os.path.join(ENGINE, base))
    shift = float(np.abs(logits - logits_of(base_model, ids)).max())
    assert shift > 0.05, f"{name}: adapter barely changes the logits ({shift})"
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"generator": "Scripts/fixtures_adapters_mlx.py",
                   "versions": {"python": platform.python_version(), "mlx": mx.__version__, "mlx_lm": mlx_lm.__version__},
                   "base": base, "input_ids": ids, "max_shift_from_base": shift,
                   "logits": [[float(v) for v in row] for row in logits]}, f)
    print(f"{name}: {len(weights)} tensors, logits shift from base {shift:.3f}")


def check(model_dir, adapter_dir, reference):
    ref = json.load(open(reference))
    model, _ = mlx_lm.load(model_dir, adapter_path=adapter_dir)
    got = logits_of(model, ref["input_ids"])
    diff = float(np.abs(got - np.array(ref["logits"], dtype=np.float32)).max())
    print(f"mlx_lm {os.path.relpath(adapter_dir, ROOT)} on {os.path.relpath(model_dir, ROOT)}: max |logit diff| {diff:.2e}")
    return diff


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--check":
        sys.exit(0 if check(*sys.argv[2:]) <= 1e-3 else 1)
    make_mlx_adapter("llama3_tiny", dora=True, num_layers=2, rank=3, scale=5.0)
    make_mlx_adapter("gemma3_tiny", dora=False, num_layers=4, rank=4, scale=10.0)
    worst = 0.0
    for folder in sorted(glob.glob(os.path.join(OUT, "*", "mlx"))):
        base = json.load(open(os.path.join(os.path.dirname(folder), "reference.json")))["base"]
        worst = max(worst, check(os.path.join(ENGINE, base), folder, os.path.join(os.path.dirname(folder), "reference.json")))
    assert worst <= 1e-3, worst
