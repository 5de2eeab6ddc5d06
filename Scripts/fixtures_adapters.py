#!/usr/bin/env python3
"""LoRA / DoRA adapter fixtures for the engine's unfused adapter path (Tests/Fixtures/adapters/).

Pinned environment (venv ~/.cache/lem-refs/adapters: peft installed --no-deps, torch and
transformers taken from ~/.cache/lem-refs/torch through a .pth file):
    python 3.11, torch 2.13.0+cpu, transformers 5.23.0, peft 0.21.2, safetensors 0.8.0, numpy 2.4.6
Run:
    ~/.cache/lem-refs/adapters/bin/python Scripts/fixtures_adapters.py

For tiny engine fixtures (Tests/Fixtures/engine/<model>) it wraps the model with PEFT, gives every
adapter matrix (and DoRA magnitude) random non-zero values, saves the adapter with PEFT's own
save_pretrained, and records transformers+PEFT logits of the model's reference input ids.
Each case folder holds the PEFT adapter (adapter_model.safetensors + adapter_config.json) and
reference.json; cases marked `mlx` also get the same adapter converted to mlx_lm's layout in
<case>/mlx/ (lora_a = Aᵀ (in, r), lora_b = Bᵀ (r, out), m = magnitude, scale = alpha / r).
"""
import json
import os
import platform

import numpy as np
import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "Tests", "Fixtures", "engine")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "adapters")
ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

# name, base model, PEFT options, write an mlx_lm copy
CASES = [
    ("gemma3_lora", "gemma3_tiny", dict(r=4, lora_alpha=8, target_modules=ALL), True),
    ("gemma3_dora", "gemma3_tiny", dict(r=4, lora_alpha=8, target_modules=ALL, use_dora=True), True),
    ("llama3_lora_partial", "llama3_tiny",
     dict(r=2, lora_alpha=6, target_modules=["q_proj", "v_proj", "down_proj"], layers_to_transform=[1, 2]), True),
    ("qwen2_dora_rslora", "qwen2_tiny", dict(r=4, lora_alpha=6, target_modules=ALL, use_dora=True, use_rslora=True), False),
    ("qwen2_dora", "qwen2_tiny", dict(r=4, lora_alpha=8, target_modules=ALL, use_dora=True), True),
]


def f32_list(a):
    return [[float(np.float32(v)) for v in row] for row in a]


def build(name, base, options, mlx):
    torch.manual_seed(7)
    base_dir = os.path.join(ENGINE, base)
    model = transformers.AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    ref = json.load(open(os.path.join(base_dir, "reference.json")))
    ids = torch.tensor([ref["input_ids"]])
    peft_model = get_peft_model(model, LoraConfig(lora_dropout=0.0, bias="none", **options))
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for pname, p in peft_model.named_parameters():
            if "lora_A" in pname or "lora_B" in pname:
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * 0.3)
            elif "lora_magnitude_vector" in pname:
                p.mul_(1 + (torch.rand(p.shape, generator=g) - 0.5) * 0.4)
        logits = peft_model(ids).logits[0].float().numpy()
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    peft_model.save_pretrained(out)
    config_path = os.path.join(out, "adapter_config.json")
    config = json.load(open(config_path))
    config["base_model_name_or_path"] = f"Tests/Fixtures/engine/{base}"  # not this machine's absolute path
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    with peft_model.disable_adapter(), torch.no_grad():
        base_logits = peft_model(ids).logits[0].float().numpy()
    shift = float(np.abs(logits - base_logits).max())
    assert shift > 0.05, f"{name}: adapter barely changes the logits ({shift})"
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({
            "generator": "Scripts/fixtures_adapters.py",
            "versions": {"python": platform.python_version(), "torch": torch.__version__,
                         "transformers": transformers.__version__, "peft": peft.__version__},
            "base": base, "peft_options": options, "input_ids": ref["input_ids"],
            "max_shift_from_base": shift, "logits": f32_list(logits)}, f)
    if mlx:
        write_mlx(out, peft_model, options)
    print(name, "logits shift from base", round(shift, 4))


def write_mlx(out, peft_model, options):
    """The same adapter in mlx_lm's layout (what mlx_lm's LoRALinear / DoRALinear hold)."""
    tensors = {}
    for pname, p in peft_model.named_parameters():
        a = p.detach().numpy()
        stem = pname.replace("base_model.model.", "", 1)
        if stem.endswith(".lora_A.default.weight"):
            tensors[stem[: -len(".lora_A.default.weight")] + ".lora_a"] = np.ascontiguousarray(a.T)
        elif stem.endswith(".lora_B.default.weight"):
            tensors[stem[: -len(".lora_B.default.weight")] + ".lora_b"] = np.ascontiguousarray(a.T)
        elif stem.endswith(".lora_magnitude_vector.default.weight"):
            tensors[stem[: -len(".lora_magnitude_vector.default.weight")] + ".m"] = np.ascontiguousarray(a)
    r, alpha = options["r"], options["lora_alpha"]
    layers = sorted({int(k.split(".")[2]) for k in tensors})
    folder = os.path.join(out, "mlx")
    os.makedirs(folder, exist_ok=True)
    save_file(tensors, os.path.join(folder, "adapters.safetensors"))
    config = {"fine_tune_type": "dora" if options.get("use_dora") else "lora", "num_layers": len(layers),
              "lora_parameters": {"rank": r, "scale": alpha / r, "dropout": 0.0,
                                  "keys": sorted({".".join(k.split(".")[3:5]) for k in tensors})}}
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2)


if __name__ == "__main__":
    for case in CASES:
        build(*case)
