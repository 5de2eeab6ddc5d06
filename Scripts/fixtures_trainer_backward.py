#!/usr/bin/env python3
"""Whole-model LoRA gradients from PyTorch autograd, for TrainableTransformer's backward test.

Pinned versions (venv ~/.cache/lem-refs/trainer): torch 2.13.0+cpu (/opt/wheels), transformers 5.23.0,
numpy 2.4.6, safetensors 0.8.0. Reads the tiny models in Tests/Fixtures/engine/ (fixtures_tiny_models.py).
Run: ~/.cache/lem-refs/trainer/bin/python Scripts/fixtures_trainer_backward.py
Writes Tests/Fixtures/trainer/backward/<model>/{adapters.safetensors, reference.json}.

The model runs in float64, but transformers computes RMSNorm and RoPE tables in float32 whatever
the model dtype, so the reference gradients are float32-accurate (≈1e-6 relative), not float64.
The batch follows mlx_lm's iterate_batches padding (width 1 + 32·⌈longest/32⌉) and the loss is
mlx_lm's: Σ CE over unmasked targets ÷ their count, with the exact mask (tokens offset ..< length).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import save_file
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures")
MODULES = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
RANK, SCALE = 2, 3.0


def run(name, num_layers):
    model = AutoModelForCausalLM.from_pretrained(os.path.join(ROOT, "engine", name), dtype=torch.float64,
                                                 attn_implementation="eager")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    rng = np.random.default_rng(11)
    layers = model.model.layers
    count = len(layers) if num_layers < 0 else num_layers
    tensors, params = {}, {}
    for l in range(len(layers) - count, len(layers)):
        for module in MODULES:
            lin = layers[l].get_submodule(module)
            out_f, in_f = lin.weight.shape
            a = rng.uniform(-0.3, 0.3, (in_f, RANK)).astype(np.float32)
            b = rng.uniform(-0.3, 0.3, (RANK, out_f)).astype(np.float32)
            key = f"model.layers.{l}.{module}"
            tensors[key + ".lora_a"], tensors[key + ".lora_b"] = a, b
            ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
            tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
            params[key] = (ta, tb)
            original = lin.forward
            lin.forward = lambda x, original=original, ta=ta, tb=tb: original(x) + SCALE * ((x @ ta) @ tb)
    # Two examples: 13 tokens trained from offset 4, 9 tokens trained throughout.
    examples = [([1] + rng.integers(3, 320, 12).tolist(), 4), ([1] + rng.integers(3, 320, 8).tolist(), 0)]
    longest = max(len(t) for t, _ in examples)
    width = 1 + 32 * ((longest + 31) // 32)
    batch = np.zeros((len(examples), width), np.int64)
    for i, (t, _) in enumerate(examples):
        batch[i, :len(t)] = t
    lengths = torch.tensor([len(t) for t, _ in examples])[:, None]
    offsets = torch.tensor([o for _, o in examples])[:, None]
    inputs, targets = torch.tensor(batch[:, :-1]), torch.tensor(batch[:, 1:])
    logits = model(input_ids=inputs).logits
    steps = torch.arange(1, width)[None, :]
    mask = ((steps >= offsets) & (steps < lengths)).to(torch.float64)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
    loss = (ce.reshape(mask.shape) * mask).sum() / mask.sum()
    loss.backward()
    out = os.path.join(ROOT, "trainer", "backward", name)
    os.makedirs(out, exist_ok=True)
    save_file(tensors, os.path.join(out, "adapters.safetensors"), metadata={"format": "mlx"})
    reference = {
        "generator": "Scripts/fixtures_trainer_backward.py", "torch": torch.__version__,
        "rank": RANK, "scale": SCALE, "num_layers": num_layers,
        "examples": [{"tokens": t, "offset": o} for t, o in examples],
        "loss": loss.item(), "tokens": int(mask.sum().item()),
        "gradients": {k: {"a": ta.grad.numpy().ravel().tolist(), "b": tb.grad.numpy().ravel().tolist()}
                      for k, (ta, tb) in params.items()},
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(reference, f)
    print(name, "loss", loss.item(), "tokens", int(mask.sum().item()))


run("llama3_tiny", 2)
run("gemma3_tiny", -1)
run("qwen2_tiny", 1)
