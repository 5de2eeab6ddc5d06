#!/usr/bin/env python3
"""Fixtures checking that LEMFormats' GGUF loader yields the Hugging Face tensors.

transformers' own GGUF loader (dequantize with gguf-py, undo llama.cpp's Q/K permutation, undo
Gemma's `w + 1` norms, rename) is an independent implementation of what ModelFiles.open does.
Reference env (outside the repo): python3 -m venv ~/.cache/lem-refs/torch &&
  ~/.cache/lem-refs/torch/bin/pip install torch==2.13.0+cpu transformers==5.23.0 gguf==0.19.0 numpy==2.4.6
Run: ~/.cache/lem-refs/torch/bin/python Scripts/fixtures_gguf_hf.py
Writes Tests/Fixtures/formats/gguf_hf_<model>.safetensors: for each chosen tensor, the rows listed
in the sidecar gguf_hf.json (name -> rows), and the config transformers derives; plus the
config.json / generation_config.json that transformers writes for each model
(Tests/Fixtures/formats/configs/<model>/), to test config parsing on real transformers-5 output.
"""
import json
import os
import shutil
import tempfile

import numpy as np
import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM
from fixture_util import save_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "formats")
MODELS = os.path.expanduser(os.environ.get("LEM_HOME", "~/.cache/lem") + "/models")


sidecar = {}
for key, file in [("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"), ("gemma3", "gemma-3-270m-q4_k_m.gguf")]:
    model = AutoModelForCausalLM.from_pretrained(MODELS, gguf_file=file, dtype=torch.float32)
    sd = model.state_dict()
    cfg = model.config
    hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    picks = {
        "model.embed_tokens.weight": [0, 1, 2, 1000, cfg.vocab_size - 1],
        "model.layers.0.self_attn.q_proj.weight": [0, 1, hd // 2 - 1, hd // 2, hd // 2 + 1, hd - 1, hd, 2 * hd + 3],
        "model.layers.0.self_attn.k_proj.weight": [0, 1, hd // 2, hd - 1],
        "model.layers.0.self_attn.v_proj.weight": [0, hd - 1],
        "model.layers.0.self_attn.o_proj.weight": [0, 5],
        "model.layers.1.self_attn.q_proj.weight": [0, hd // 2],
        "model.layers.0.mlp.gate_proj.weight": [0, 9],
        "model.layers.0.mlp.up_proj.weight": [0],
        "model.layers.0.mlp.down_proj.weight": [0, 3],
    }
    for name in sd:
        if name.startswith("model.layers.0.") and name.endswith("norm.weight") or name == "model.norm.weight":
            picks[name] = [0]
    arrays, rows = {}, {}
    for name, r in picks.items():
        t = sd[name].detach().float().numpy()
        t = t.reshape(1, -1) if t.ndim == 1 else t
        arrays[name] = t[r]
        rows[name] = r
    config = {k: (v if not isinstance(v, (np.floating,)) else float(v)) for k, v in cfg.to_dict().items()
              if k in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                       "num_key_value_heads", "head_dim", "vocab_size", "rms_norm_eps", "max_position_embeddings",
                       "sliding_window", "layer_types", "rope_parameters", "tie_word_embeddings",
                       "bos_token_id", "eos_token_id", "rope_theta", "rope_local_base_freq")}
    sidecar[key] = {"file": file, "rows": rows, "transformers_config": config,
                    "lm_head_tied": "lm_head.weight" not in sd or bool(torch.equal(sd["lm_head.weight"], sd["model.embed_tokens.weight"]))}
    with tempfile.TemporaryDirectory() as tmp:
        model.config.save_pretrained(tmp)
        model.generation_config.save_pretrained(tmp)
        dest = os.path.join(OUT, "configs", key)
        os.makedirs(dest, exist_ok=True)
        for name in ("config.json", "generation_config.json"):
            shutil.copy(os.path.join(tmp, name), os.path.join(dest, name))
    path = os.path.join(OUT, f"gguf_hf_{key}.safetensors")
    save_safetensors(path, arrays, {"generator": "Scripts/fixtures_gguf_hf.py", "transformers": transformers.__version__})
    print(key, len(arrays), "tensors", os.path.getsize(path), "bytes")
    del model, sd

with open(os.path.join(OUT, "gguf_hf.json"), "w") as f:
    json.dump(sidecar, f, indent=1, sort_keys=True, default=str)
