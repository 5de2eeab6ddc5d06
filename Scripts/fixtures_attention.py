#!/usr/bin/env python3
"""Attention probabilities and post-RoPE keys of the tiny models, from transformers' eager attention.

Pinned environment (venv ~/.cache/lem-refs/torch, CPU only):
    python 3.11, torch 2.13.0+cpu, transformers 5.23.0, numpy 2.4.6
Run:
    ~/.cache/lem-refs/torch/bin/python Scripts/fixtures_attention.py

For gemma3_tiny (sliding window 8: layers 0-2 sliding, layer 3 full) and llama3_tiny it loads the
committed model directory (Tests/Fixtures/engine/<name>) with attn_implementation="eager", runs
the 20 input ids of its reference.json (longer than the window) with output_attentions=True, and
writes Tests/Fixtures/attention/<name>.json:

    generator, versions, model, input_ids [T]
    windows      [L]            sliding window per layer (0 = full)
    attentions   [L][H][T][T]   softmax probabilities (row = query, column = key)
    keys         [L][T][K][D]   post-RoPE keys (after Gemma's k_norm), recorded by wrapping the
                                modeling module's apply_rotary_pos_emb
    stats        [L][H]{...}    head statistics computed here with numpy from `attentions`, by
                                the definitions in docs/ATTENTION.md (an independent check of the
                                Swift statistics)
"""
import json
import os
import platform

import numpy as np
import torch
import transformers
from transformers.models.gemma3 import modeling_gemma3
from transformers.models.llama import modeling_llama
from fixture_util import f32, f32_list

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "Tests", "Fixtures", "engine")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "attention")
MODELS = {"gemma3_tiny": (transformers.Gemma3ForCausalLM, modeling_gemma3),
          "llama3_tiny": (transformers.LlamaForCausalLM, modeling_llama)}


def head_stats(p, window):
    """Statistics of one (T, T) map, as docs/ATTENTION.md defines them."""
    t = p.shape[0]
    rows = list(range(1, t)) if t > 1 else [0]
    ent, ent_rows = 0.0, 0
    sink = prev = diag = local = dist = 0.0
    column = np.zeros(t, dtype=np.float64)
    for q in rows:
        r = p[q, :q + 1].astype(np.float64)
        nz = r[r > 0]
        h = -(nz * np.log(nz)).sum()
        n = min(q + 1, window) if window > 0 else q + 1
        if n > 1:
            ent += h / np.log(n)
            ent_rows += 1
        sink += r[0]
        prev += r[q - 1] if q > 0 else 0.0
        diag += r[q]
        local += r[max(0, q - 4):q + 1].sum()
        dist += (r * (q - np.arange(q + 1))).sum()
        column[:q + 1] += r
    c = max(len(rows), 1)
    best = int(np.argmax(column))
    return {"entropy": ent / ent_rows if ent_rows else 0.0, "sink": sink / c, "previous_token": prev / c,
            "diagonal": diag / c, "locality": local / c, "mean_distance": dist / c,
            "max_token": best, "max_token_mass": column[best] / c}


def run(name):
    cls, module = MODELS[name]
    directory = os.path.join(ENGINE, name)
    with open(os.path.join(directory, "reference.json")) as f:
        ids = json.load(f)["input_ids"]
    model = cls.from_pretrained(directory, attn_implementation="eager", dtype=torch.float32).eval()
    cfg = model.config
    recorded = []
    original = module.apply_rotary_pos_emb

    def recording(q, k, cos, sin, *args, **kwargs):
        q2, k2 = original(q, k, cos, sin, *args, **kwargs)
        recorded.append(k2.detach().clone())  # (1, K, T, D)
        return q2, k2

    module.apply_rotary_pos_emb = recording
    try:
        with torch.no_grad():
            out = model(torch.tensor([ids]), output_attentions=True, use_cache=False)
    finally:
        module.apply_rotary_pos_emb = original
    layer_types = getattr(cfg, "layer_types", None) or ["full_attention"] * cfg.num_hidden_layers
    windows = [cfg.sliding_window if lt == "sliding_attention" else 0 for lt in layer_types]
    attentions = [a[0].numpy() for a in out.attentions]  # L × (H, T, T)
    keys = [k[0].permute(1, 0, 2).numpy() for k in recorded]  # L × (T, K, D)
    assert len(keys) == cfg.num_hidden_layers, (len(keys), cfg.num_hidden_layers)
    for l, a in enumerate(attentions):  # sanity: rows sum to 1, the mask holds
        assert np.allclose(a.sum(-1), 1, atol=1e-5)
        t = a.shape[-1]
        for q in range(t):
            for k in range(t):
                allowed = k <= q and (windows[l] == 0 or k > q - windows[l])
                if not allowed:
                    assert a[:, q, k].max() == 0, (l, q, k)
    stats = [[head_stats(a[h], windows[l]) for h in range(a.shape[0])] for l, a in enumerate(attentions)]
    doc = {
        "generator": "Scripts/fixtures_attention.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "numpy": np.__version__},
        "model": name, "attn_implementation": "eager", "input_ids": ids, "windows": windows,
        "attentions": [f32_list(a) for a in attentions],
        "keys": [f32_list(k) for k in keys],
        "stats": [[{k: (v if k == "max_token" else f32(v)) for k, v in s.items()} for s in layer] for layer in stats],
    }
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"{name}.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"{path}: {len(attentions)} layers, windows {windows}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    for n in MODELS:
        run(n)
