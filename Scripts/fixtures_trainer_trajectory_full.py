#!/usr/bin/env python3
"""20-step mlx_lm training runs whose single batch is the whole training set, for the trajectory
parity tests of LoRATraining with the fast model (LoRATransformer): a 4-bit MLX base (QLoRA) and DoRA.

Pinned versions (venv ~/.cache/lem-refs/trainer): mlx 0.32.4 (mlx[cpu]), mlx-lm 0.32.2, numpy 2.4.6.
Run: ~/.cache/lem-refs/trainer/bin/python Scripts/fixtures_trainer_trajectory_full.py [mlx4|dora|dora_mlx4]
     (default: all three)
Writes Tests/Fixtures/trainer/trajectory_<variant>/{adapters_init.safetensors, adapters_final.safetensors,
reference.json}:
  mlx4       LoRA on engine/llama3_tiny-mlx4 (the tiny Llama quantized by mlx_lm to 4 bits, group 32)
  dora       DoRA (fine_tune_type dora) on the float32 engine/llama3_tiny
  dora_mlx4  DoRA on the 4-bit base

Every variant: 8 training examples and batch size 8, so each step sees the whole set and the batch
order cannot differ; Adam (constant learning rate); the initial adapter (random A and non-zero B,
for DoRA a magnitude m = row norms x U(0.9, 1.1)) is given with resume_adapter_file because mlx's
random stream is not reproduced. The tokenized examples are recorded as mlx_lm's datasets made them.
"""
import json
import os
import sys
import tempfile
import types

import mlx.core as mx
import numpy as np
from mlx_lm.lora import CONFIG_DEFAULTS, train_model
from mlx_lm.tuner.datasets import load_dataset
from mlx_lm.utils import load
from safetensors.numpy import load_file, save_file
from mlx_fixture_util import Recorder, write_reference

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures")
MODULES = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
SHAPES = {"self_attn.q_proj": (64, 64), "self_attn.k_proj": (64, 32), "self_attn.v_proj": (64, 32),
          "self_attn.o_proj": (64, 64), "mlp.gate_proj": (64, 160), "mlp.up_proj": (64, 160), "mlp.down_proj": (160, 64)}
VARIANTS = {"mlx4": ("llama3_tiny-mlx4", "lora"), "dora": ("llama3_tiny", "dora"), "dora_mlx4": ("llama3_tiny-mlx4", "dora")}
CONFIG = {"seed": 5, "num_layers": 2, "batch_size": 8, "iters": 20, "val_batches": -1, "steps_per_report": 1,
          "steps_per_eval": 10, "optimizer": "adam", "learning_rate": 2e-3, "rank": 4, "scale": 4.0}


def row_norms(model, layer, module):
    """‖W[o, :]‖ of the (dequantized) base weight, as DoRALinear.set_linear computes m."""
    linear = model.model.layers[layer]
    for part in module.split("."):
        linear = getattr(linear, part)
    w = linear.weight
    if hasattr(linear, "scales"):
        w = mx.dequantize(w, linear.scales, linear.biases, group_size=linear.group_size, bits=linear.bits)
    return np.array(mx.linalg.norm(w.astype(mx.float32), axis=1))


def run(variant):
    name, fine_tune_type = VARIANTS[variant]
    model_path = os.path.join(ROOT, "engine", name)
    out = os.path.join(ROOT, "trainer", f"trajectory_{variant}")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(31)
    words = "the a cat dog sat ran on under mat log sun moon quietly fast red blue".split()
    data = tempfile.mkdtemp()
    for split in ("train", "valid"):
        with open(os.path.join(data, f"{split}.jsonl"), "w") as f:
            for _ in range(8):
                f.write(json.dumps({"text": " ".join(rng.choice(words, int(rng.integers(2, 9))))}) + "\n")

    np.random.seed(CONFIG["seed"])
    model, tokenizer = load(model_path)
    init = {}
    for layer in (1, 2):
        for m in MODULES:
            i, o = SHAPES[m]
            key = f"model.layers.{layer}.{m}"
            init[key + ".lora_a"] = rng.uniform(-0.125, 0.125, (i, CONFIG["rank"])).astype(np.float32)
            init[key + ".lora_b"] = rng.uniform(-0.05, 0.05, (CONFIG["rank"], o)).astype(np.float32)
            if fine_tune_type == "dora":
                init[key + ".m"] = (row_norms(model, layer, m) * rng.uniform(0.9, 1.1, o)).astype(np.float32)
    save_file(init, os.path.join(out, "adapters_init.safetensors"), metadata={"format": "mlx"})

    adapter_dir = tempfile.mkdtemp()
    args = dict(CONFIG_DEFAULTS)
    args.update({k: v for k, v in CONFIG.items() if k not in ("rank", "scale")})
    args.update({
        "model": model_path, "train": True, "data": data, "fine_tune_type": fine_tune_type, "save_every": 1000,
        "adapter_path": adapter_dir, "resume_adapter_file": os.path.join(out, "adapters_init.safetensors"),
        "lr_schedule": None, "lora_parameters": {"rank": CONFIG["rank"], "dropout": 0.0, "scale": CONFIG["scale"]},
        "max_seq_length": 2048,
    })
    args = types.SimpleNamespace(**args)
    train_set, valid_set, _ = load_dataset(args, tokenizer)
    recorder = Recorder()
    train_model(args, model, train_set, valid_set, training_callback=recorder)
    final = load_file(os.path.join(adapter_dir, "adapters.safetensors"))
    save_file(final, os.path.join(out, "adapters_final.safetensors"), metadata={"format": "mlx"})
    reference = {
        "generator": f"Scripts/fixtures_trainer_trajectory_full.py {variant}", "model": name,
        "fine_tune_type": fine_tune_type, "config": CONFIG,
    }
    write_reference(out, reference, train_set, valid_set, recorder, data, adapter_dir)
    print(variant, [round(r["loss"], 5) for r in recorder.train], recorder.val)


for variant in (sys.argv[1:] or list(VARIANTS)):
    run(variant)
