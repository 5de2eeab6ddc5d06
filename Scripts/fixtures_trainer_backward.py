#!/usr/bin/env python3
"""Whole-model LoRA and DoRA gradients from PyTorch autograd, for TrainableTransformer's backward test.

Pinned versions (venv ~/.cache/lem-refs/trainer): torch 2.13.0+cpu (/opt/wheels), transformers 5.23.0,
numpy 2.4.6, safetensors 0.8.0. Reads the tiny models in Tests/Fixtures/engine/ (fixtures_tiny_models.py).
Run: ~/.cache/lem-refs/trainer/bin/python Scripts/fixtures_trainer_backward.py lora
     ~/.cache/lem-refs/adapters/bin/python Scripts/fixtures_trainer_backward.py dora
     (the adapters venv: the same torch/transformers plus peft 0.21.2 and accelerate 1.15.0)
Writes Tests/Fixtures/trainer/backward/<model>/{adapters.safetensors, reference.json} (LoRA) and
Tests/Fixtures/trainer/backward_dora/<model>/... (DoRA: the same plus `<module>.m` and "dm").

DoRA is mlx_lm's DoRALinear: out = (m / n) * (x W^T + s (x A) B) + bias, n = ||W + s (A B)^T|| per
output row, detached (mx.stop_gradient; PEFT detaches it too). The script also builds the same
adapter with PEFT 0.21.2 (use_dora=True) and checks
that PEFT's autograd gives the same loss and gradients (it stops if they differ by > 1e-9).

The model runs in float64, but transformers computes RMSNorm and RoPE tables in float32 whatever
the model dtype, so the reference gradients are float32-accurate (≈1e-6 relative), not float64.
The batch follows mlx_lm's iterate_batches padding (width 1 + 32·⌈longest/32⌉) and the loss is
mlx_lm's: Σ CE over unmasked targets ÷ their count, with the exact mask (tokens offset ..< length).
"""
import json
import os
import sys

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
    loss, trained = batch_and_loss(model, examples)
    loss.backward()
    out = os.path.join(ROOT, "trainer", "backward", name)
    os.makedirs(out, exist_ok=True)
    save_file(tensors, os.path.join(out, "adapters.safetensors"), metadata={"format": "mlx"})
    reference = {
        "generator": "Scripts/fixtures_trainer_backward.py", "torch": torch.__version__,
        "rank": RANK, "scale": SCALE, "num_layers": num_layers,
        "examples": [{"tokens": t, "offset": o} for t, o in examples],
        "loss": loss.item(), "tokens": trained,
        "gradients": {k: {"a": ta.grad.numpy().ravel().tolist(), "b": tb.grad.numpy().ravel().tolist()}
                      for k, (ta, tb) in params.items()},
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(reference, f)
    print(name, "loss", loss.item(), "tokens", trained)


def batch_and_loss(model, examples):
    """mlx_lm's padded batch and loss (see the module doc) for `examples` [(tokens, offset)]."""
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
    return (ce.reshape(mask.shape) * mask).sum() / mask.sum(), int(mask.sum().item())


def load_frozen(name):
    model = AutoModelForCausalLM.from_pretrained(os.path.join(ROOT, "engine", name), dtype=torch.float64,
                                                 attn_implementation="eager")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def run_dora(name, num_layers):
    model = load_frozen(name)
    rng = np.random.default_rng(17)
    layers = model.model.layers
    count = len(layers) if num_layers < 0 else num_layers
    first = len(layers) - count
    tensors, params = {}, {}
    for l in range(first, len(layers)):
        for module in MODULES:
            lin = layers[l].get_submodule(module)
            out_f, in_f = lin.weight.shape
            a = rng.uniform(-0.3, 0.3, (in_f, RANK)).astype(np.float32)
            b = rng.uniform(-0.3, 0.3, (RANK, out_f)).astype(np.float32)
            # A magnitude away from the row norms, so m / n is not ~1.
            norms = np.linalg.norm(lin.weight.numpy(), axis=1)
            m = (norms * rng.uniform(0.7, 1.3, out_f)).astype(np.float32)
            key = f"model.layers.{l}.{module}"
            tensors[key + ".lora_a"], tensors[key + ".lora_b"], tensors[key + ".m"] = a, b, m
            ta, tb, tm = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b, m))
            params[key] = (ta, tb, tm)

            def forward(x, lin=lin, ta=ta, tb=tb, tm=tm):
                y0 = F.linear(x, lin.weight) + SCALE * ((x @ ta) @ tb)
                denom = torch.linalg.norm(lin.weight + SCALE * (ta @ tb).T, dim=1).detach()
                out = (tm / denom) * y0
                return out + lin.bias if lin.bias is not None else out
            lin.forward = forward
    examples = [([1] + rng.integers(3, 320, 12).tolist(), 4), ([1] + rng.integers(3, 320, 8).tolist(), 0)]
    loss, tokens = batch_and_loss(model, examples)
    loss.backward()
    grads = {k: {"a": ta.grad.numpy().ravel().tolist(), "b": tb.grad.numpy().ravel().tolist(),
                 "m": tm.grad.numpy().ravel().tolist()} for k, (ta, tb, tm) in params.items()}
    peft_version = check_with_peft(name, first, tensors, examples, loss.item(), grads)
    out = os.path.join(ROOT, "trainer", "backward_dora", name)
    os.makedirs(out, exist_ok=True)
    save_file(tensors, os.path.join(out, "adapters.safetensors"), metadata={"format": "mlx"})
    reference = {
        "generator": "Scripts/fixtures_trainer_backward.py dora", "torch": torch.__version__, "peft": peft_version,
        "fine_tune_type": "dora", "rank": RANK, "scale": SCALE, "num_layers": num_layers,
        "examples": [{"tokens": t, "offset": o} for t, o in examples],
        "loss": loss.item(), "tokens": tokens, "gradients": grads,
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(reference, f)
    print(name, "DoRA loss", loss.item(), "tokens", tokens)


def check_with_peft(name, first, tensors, examples, loss, grads):
    """The same DoRA adapter through PEFT: loss and every gradient must agree; returns PEFT's version."""
    try:
        import peft
        from peft import LoraConfig, get_peft_model
    except ImportError:
        print("peft not importable: DoRA fixture checked against the hand-written autograd forward only")
        return None
    model = load_frozen(name)
    n = len(model.model.layers)
    config = LoraConfig(r=RANK, lora_alpha=SCALE * RANK, lora_dropout=0.0, use_dora=True, bias="none",
                        target_modules=[m.split(".")[1] for m in MODULES], layers_to_transform=list(range(first, n)))
    model = get_peft_model(model, config).double()
    handles = {}
    with torch.no_grad():
        for l in range(first, n):
            for module in MODULES:
                layer = model.base_model.model.model.layers[l].get_submodule(module)
                key = f"model.layers.{l}.{module}"
                layer.lora_A["default"].weight.copy_(torch.tensor(tensors[key + ".lora_a"].T, dtype=torch.float64))
                layer.lora_B["default"].weight.copy_(torch.tensor(tensors[key + ".lora_b"].T, dtype=torch.float64))
                layer.lora_magnitude_vector["default"].weight.copy_(torch.tensor(tensors[key + ".m"], dtype=torch.float64))
                handles[key] = layer
    peft_loss, _ = batch_and_loss(model, examples)
    peft_loss.backward()
    worst = abs(peft_loss.item() - loss) / abs(loss)
    for key, layer in handles.items():
        pairs = [(layer.lora_A["default"].weight.grad.T, grads[key]["a"]),
                 (layer.lora_B["default"].weight.grad.T, grads[key]["b"]),
                 (layer.lora_magnitude_vector["default"].weight.grad, grads[key]["m"])]
        for ours, theirs in pairs:
            theirs = np.array(theirs)
            worst = max(worst, np.abs(ours.numpy().ravel() - theirs).max() / max(np.abs(theirs).max(), 1e-30))
    print(name, "PEFT vs hand-written DoRA: worst relative difference", worst)
    assert worst < 1e-9, f"PEFT DoRA disagrees with the hand-written forward ({worst})"
    return peft.__version__


which = sys.argv[1] if len(sys.argv) > 1 else "all"
if which in ("lora", "all"):
    run("llama3_tiny", 2)
    run("gemma3_tiny", -1)
    run("qwen2_tiny", 1)
if which in ("dora", "all"):
    run_dora("llama3_tiny", 2)
    run_dora("gemma3_tiny", 2)
    run_dora("qwen2_tiny", 1)
