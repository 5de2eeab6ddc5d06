#!/usr/bin/env python3
"""A short mlx_lm LoRA training run on the tiny Llama fixture: per-step losses, validation losses
and the final adapter, for LoRATraining's trajectory parity test.

Pinned versions (venv ~/.cache/lem-refs/trainer): mlx 0.32.4 (mlx[cpu]), mlx-lm 0.32.2, numpy 2.4.6.
Run: ~/.cache/lem-refs/trainer/bin/python Scripts/fixtures_trainer_trajectory.py
Writes Tests/Fixtures/trainer/trajectory/{adapters_init.safetensors, adapters_final.safetensors, reference.json}.

The initial adapter is given (resume_adapter_file) because mlx's random stream is not reproduced;
the tokenized examples are recorded as mlx_lm's datasets produced them.
"""
import json
import os
import tempfile
import types

import mlx.core as mx
import numpy as np
from mlx_lm.lora import CONFIG_DEFAULTS, train_model
from mlx_lm.tuner.datasets import load_dataset
from mlx_lm.utils import load
from safetensors.numpy import save_file
from mlx_fixture_util import Recorder, write_reference

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures")
OUT = os.path.join(ROOT, "trainer", "trajectory")
os.makedirs(OUT, exist_ok=True)
MODEL = os.path.join(ROOT, "engine", "llama3_tiny")

rng = np.random.default_rng(21)
words = "the a cat dog sat ran on under mat log sun moon quietly fast red blue".split()
def sentence(n):
    return " ".join(rng.choice(words, n))
data = tempfile.mkdtemp()
with open(os.path.join(data, "train.jsonl"), "w") as f:
    for i in range(9):
        f.write(json.dumps({"text": sentence(int(rng.integers(2, 9)))}) + "\n")
with open(os.path.join(data, "valid.jsonl"), "w") as f:
    for i in range(4):
        f.write(json.dumps({"text": sentence(int(rng.integers(2, 6)))}) + "\n")

# Initial adapter: small random A and B for the last 2 of 3 layers, rank 2.
modules = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
shapes = {"self_attn.q_proj": (64, 64), "self_attn.k_proj": (64, 32), "self_attn.v_proj": (64, 32),
          "self_attn.o_proj": (64, 64), "mlp.gate_proj": (64, 160), "mlp.up_proj": (64, 160), "mlp.down_proj": (160, 64)}
init = {}
for layer in (1, 2):
    for m in modules:
        i, o = shapes[m]
        init[f"model.layers.{layer}.{m}.lora_a"] = rng.uniform(-0.125, 0.125, (i, 2)).astype(np.float32)
        init[f"model.layers.{layer}.{m}.lora_b"] = rng.uniform(-0.05, 0.05, (2, o)).astype(np.float32)
save_file(init, os.path.join(OUT, "adapters_init.safetensors"), metadata={"format": "mlx"})

adapter_dir = tempfile.mkdtemp()
args = dict(CONFIG_DEFAULTS)
args.update({
    "model": MODEL, "train": True, "data": data, "seed": 3, "num_layers": 2, "batch_size": 2, "iters": 6,
    "val_batches": -1, "steps_per_report": 1, "steps_per_eval": 3, "save_every": 100, "adapter_path": adapter_dir,
    "resume_adapter_file": os.path.join(OUT, "adapters_init.safetensors"), "optimizer": "adamw",
    "lr_schedule": {"name": "cosine_decay", "arguments": [2e-4, 6, 1e-5], "warmup": 2, "warmup_init": 1e-5},
    "lora_parameters": {"rank": 2, "dropout": 0.0, "scale": 4.0}, "max_seq_length": 2048,
})
args = types.SimpleNamespace(**args)


np.random.seed(args.seed)
model, tokenizer = load(MODEL)
train_set, valid_set, _ = load_dataset(args, tokenizer)
recorder = Recorder()
train_model(args, model, train_set, valid_set, training_callback=recorder)
final = mx.load(os.path.join(adapter_dir, "adapters.safetensors"))
save_file({k: np.array(v) for k, v in final.items()}, os.path.join(OUT, "adapters_final.safetensors"),
          metadata={"format": "mlx"})
reference = {
    "generator": "Scripts/fixtures_trainer_trajectory.py",
    "config": {"seed": 3, "num_layers": 2, "batch_size": 2, "iters": 6, "val_batches": -1, "steps_per_report": 1,
               "steps_per_eval": 3, "optimizer": "adamw", "rank": 2, "scale": 4.0,
               "lr_schedule": {"name": "cosine_decay", "arguments": [2e-4, 6, 1e-5], "warmup": 2, "warmup_init": 1e-5}},
}
write_reference(OUT, reference, train_set, valid_set, recorder, data, adapter_dir)
print(json.dumps(recorder.train), json.dumps(recorder.val))
