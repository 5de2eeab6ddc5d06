#!/usr/bin/env python3
"""Tiny random reference models for the engine tests (Tests/Fixtures/engine/<name>/).

Pinned environment (venv ~/.cache/lem-refs/torch, CPU only):
    python 3.11, torch 2.13.0+cpu (/opt/wheels), transformers 5.23.0, safetensors 0.8.0,
    tokenizers 0.23.3, numpy 2.4.6
Run:
    ~/.cache/lem-refs/torch/bin/python Scripts/fixtures_tiny_models.py [name ...]

For every model it writes an HF directory (config.json, model.safetensors in float32, a tiny
byte-level tokenizer) and reference.json: the full-sequence logits of fixed input ids, and a
greedy continuation with the logits of every incremental (KV-cached) step. It checks that the
incremental logits equal the full-forward logits of the same tokens to <= 1e-4, that
model.generate gives the same ids, and that no greedy step has a top-2 logit gap < 1e-3 (it
tries the next seed otherwise). Everything is deterministic (fixed seeds, eager attention).
"""
import json
import math
import os
import platform
import sys

import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from fixture_util import f32, f32_list

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "engine")
VOCAB = 320
PROMPT_LEN = 20
NEW_TOKENS = 12
MIN_GAP = 1e-3
MIN_DISTINCT = 6  # a greedy path stuck on one token would not test the KV cache much
SPECIALS = ["<pad>", "<bos>", "<eos>"]  # ids 0, 1, 2; bytes follow at 3..258


def gemma3_config(name):
    head_dim, n_layers = 32, 4
    pattern = 4
    qpas = 24
    scaled = name in ("gemma3_tiny_scaled", "gemma3_tiny_scaled_lcpp")
    if name in ("gemma3_tiny_lcpp", "gemma3_tiny_scaled_lcpp"):
        # What llama.cpp's Gemma 3 graph can represent: 5 sliding + 1 full, 1/sqrt(head_dim).
        n_layers, pattern, qpas = 6, 6, head_dim
    layer_types = ["full_attention" if (i + 1) % pattern == 0 else "sliding_attention" for i in range(n_layers)]
    full = {"rope_type": "default", "rope_theta": 1_000_000.0}
    if scaled:
        full = {"rope_type": "linear", "factor": 8.0, "rope_theta": 1_000_000.0}
    cfg = transformers.Gemma3TextConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=n_layers,
        num_attention_heads=4, num_key_value_heads=2, head_dim=head_dim,
        hidden_activation="gelu_pytorch_tanh", max_position_embeddings=512, initializer_range=0.2,
        rms_norm_eps=1e-6, pad_token_id=0, bos_token_id=1, eos_token_id=2, tie_word_embeddings=True,
        rope_parameters={"full_attention": full,
                         "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0}},
        query_pre_attn_scalar=qpas, sliding_window=8, layer_types=layer_types,
        final_logit_softcapping=10.0 if scaled else None, attn_logit_softcapping=None,
    )
    legacy = {"sliding_window_pattern": pattern, "rope_theta": 1_000_000.0, "rope_local_base_freq": 10_000.0,
              "rope_scaling": {"rope_type": "linear", "factor": 8.0} if scaled else None}
    return cfg, transformers.Gemma3ForCausalLM, legacy


def llama3_config(name):
    # head_dim 16, theta 1e4: wavelengths 2*pi*1e4^(i/8) = 6.3, 19.9, 62.8, ... With original
    # context 32, low_freq_wavelen = 32 and high_freq_wavelen = 8, so frequency 0 is kept,
    # frequency 1 is smoothed and frequencies 2..7 are divided by 8: all three llama3 regimes.
    scaling = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 32}
    dims = dict(hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_key_value_heads=2, head_dim=16)
    if name == "llama3_tiny_k256":
        # Every matrix input dimension a multiple of 256, so that llama.cpp's Q4_K_M really uses
        # Q4_K/Q6_K blocks (it falls back to other types otherwise).
        dims = dict(hidden_size=256, intermediate_size=256, num_hidden_layers=1, num_key_value_heads=1, head_dim=64)
    cfg = transformers.LlamaConfig(
        vocab_size=VOCAB, num_attention_heads=4, hidden_act="silu", **dims,
        max_position_embeddings=256, initializer_range=0.2, rms_norm_eps=1e-5,
        pad_token_id=0, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False,
        rope_parameters=dict(scaling, rope_theta=10_000.0), attention_bias=False, mlp_bias=False,
    )
    legacy = {"rope_theta": 10_000.0, "rope_scaling": scaling}
    return cfg, transformers.LlamaForCausalLM, legacy


def qwen2_config(name):
    cfg = transformers.Qwen2Config(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, hidden_act="silu",
        max_position_embeddings=256, initializer_range=0.2, rms_norm_eps=1e-6,
        pad_token_id=0, bos_token_id=1, eos_token_id=2, tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
        use_sliding_window=False,
    )
    legacy = {"rope_theta": 1_000_000.0, "rope_scaling": None}
    return cfg, transformers.Qwen2ForCausalLM, legacy


MODELS = {
    "gemma3_tiny": gemma3_config,
    "gemma3_tiny_scaled": gemma3_config,
    "gemma3_tiny_lcpp": gemma3_config,
    "gemma3_tiny_scaled_lcpp": gemma3_config,
    "llama3_tiny": llama3_config,
    "qwen2_tiny": qwen2_config,
    "llama3_tiny_k256": llama3_config,
}
# Too big to commit as float32 (1.8 MB): the HF directory stays outside the repository and only
# reference.json (and, from Scripts/fixtures_tiny_gguf.py, the Q4_K GGUF) is committed.
OUTSIDE = {"llama3_tiny_k256"}
WORK = os.path.expanduser("~/.cache/lem-refs/work")


def randomize(model, seed):
    """Non-trivial values where transformers initialises constants (norms 0/1, biases 0)."""
    g = torch.Generator().manual_seed(seed + 1000)
    gemma = "gemma" in model.config.model_type
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n:
                base = 0.0 if gemma else 1.0  # Gemma multiplies by (1 + w)
                p.copy_(base + 0.3 * torch.randn(p.shape, generator=g))
            elif n.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
        if gemma:
            # With tied embeddings scaled by sqrt(hidden), a random Gemma keeps predicting the token
            # it was fed (greedy paths of one repeated id). Smaller embeddings, stronger post-norms
            # and a larger final norm give varied greedy paths with clear top-2 gaps.
            model.model.embed_tokens.weight.mul_(0.5)
            for n, p in model.named_parameters():
                if "post_attention_layernorm" in n or "post_feedforward_layernorm" in n:
                    p.add_(1.0)
            model.model.norm.weight.add_(3.0)


def tokenizer_files(out_dir):
    """A byte-level BPE tokenizer without merges: ids 0..2 special, 3..258 the 256 bytes,
    259..319 unused placeholders so that the tokenizer covers the whole embedding."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    byte_map = {b: c for b, c in zip(range(256), _bytes_to_unicode())}
    vocab = {s: i for i, s in enumerate(SPECIALS)}
    for b in range(256):
        vocab[byte_map[b]] = 3 + b
    for i in range(259, VOCAB):
        vocab[f"<unused{i - 259}>"] = i
    assert set(byte_map.values()) == set(alphabet)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS)
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<bos>", "eos_token": "<eos>",
                   "pad_token": "<pad>", "add_bos_token": False, "model_max_length": 512}, f, indent=1)


def _bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


def top2_gap(v):
    s = np.sort(np.asarray(v, dtype=np.float64))
    return float(s[-1] - s[-2])


def run_reference(model, input_ids):
    ids = torch.tensor([input_ids])
    with torch.no_grad():
        full = model(ids, use_cache=False).logits[0].float().numpy()
        # Greedy decoding with the KV cache, one token at a time.
        cache = transformers.DynamicCache(config=model.config)
        out = model(ids, past_key_values=cache, use_cache=True)
        step_logits, new_ids = [], []
        logits = out.logits[0, -1].float().numpy()
        for _ in range(NEW_TOKENS):
            step_logits.append(logits)
            nxt = int(np.argmax(logits))
            new_ids.append(nxt)
            out = model(torch.tensor([[nxt]]), past_key_values=out.past_key_values, use_cache=True)
            logits = out.logits[0, -1].float().numpy()
        # Full forward over prompt + continuation: the incremental logits must match.
        all_ids = torch.tensor([input_ids + new_ids])
        full_all = model(all_ids, use_cache=False).logits[0].float().numpy()
        ref_steps = full_all[PROMPT_LEN - 1:PROMPT_LEN - 1 + NEW_TOKENS]
        inc_diff = float(np.abs(np.stack(step_logits) - ref_steps).max())
        prompt_diff = float(np.abs(full_all[:PROMPT_LEN] - full).max())
        model.generation_config.eos_token_id = None
        model.generation_config.pad_token_id = 0
        gen = model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False, use_cache=True,
                             output_logits=True, return_dict_in_generate=True, eos_token_id=None)
        gen_ids = gen.sequences[0, PROMPT_LEN:].tolist()
        gen_logits = torch.stack(gen.logits)[:, 0].float().numpy()
        gen_diff = float(np.abs(gen_logits - np.stack(step_logits)).max())
    gaps = [top2_gap(v) for v in step_logits]
    return {
        "full": full, "full_all": full_all, "step_logits": np.stack(step_logits), "new_ids": new_ids,
        "gen_ids": gen_ids, "inc_diff": inc_diff, "prompt_diff": prompt_diff, "gen_diff": gen_diff,
        "min_gap": min(gaps),
    }


def build(name):
    make = MODELS[name]
    for attempt in range(50):
        seed = 1234 + attempt
        torch.manual_seed(seed)
        cfg, cls, legacy = make(name)
        cfg._attn_implementation = "eager"
        model = cls(cfg).float().eval()
        randomize(model, seed)
        rng = np.random.default_rng(seed)
        input_ids = [1] + rng.integers(3, VOCAB, size=PROMPT_LEN - 1).tolist()  # BOS + random ids
        r = run_reference(model, input_ids)
        distinct = len(set(r["new_ids"]))
        ok = (r["min_gap"] >= MIN_GAP and r["gen_ids"] == r["new_ids"] and r["inc_diff"] <= 1e-4
              and distinct >= MIN_DISTINCT)
        print(f"{name} seed {seed}: min top-2 gap {r['min_gap']:.4g}, incremental vs full {r['inc_diff']:.3g}, "
              f"generate==loop {r['gen_ids'] == r['new_ids']}, distinct greedy ids {distinct}", flush=True)
        if ok:
            return model, cfg, legacy, seed, input_ids, r
    raise SystemExit(f"{name}: no seed with a robust greedy path")


def save(name):
    model, cfg, legacy, seed, input_ids, r = build(name)
    out_dir = os.path.join(WORK if name in OUTSIDE else OUT, name)
    os.makedirs(out_dir, exist_ok=True)
    tensors = {k: v.detach().float().contiguous().clone() for k, v in model.state_dict().items()}
    if cfg.tie_word_embeddings:
        tensors.pop("lm_head.weight", None)
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    conf = cfg.to_dict()
    conf["architectures"] = [type(model).__name__]
    conf["torch_dtype"] = "float32"
    conf["dtype"] = "float32"
    for k in [k for k in conf if k.startswith("_")]:  # private bookkeeping (e.g. a stale pattern)
        conf.pop(k)
    for k, v in legacy.items():  # older key names, read by mlx_lm and pre-5 transformers
        conf[k] = v
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(conf, f, indent=2, sort_keys=True)
    tokenizer_files(out_dir)
    # Reload from disk to make sure the saved directory reproduces the reference.
    re = transformers.AutoModelForCausalLM.from_pretrained(out_dir, attn_implementation="eager",
                                                           dtype=torch.float32).eval()
    with torch.no_grad():
        again = re(torch.tensor([input_ids])).logits[0].float().numpy()
    reload_diff = float(np.abs(again - r["full"]).max())
    assert reload_diff <= 1e-5, f"{name}: reloaded model differs by {reload_diff}"
    ref = {
        "generator": "Scripts/fixtures_tiny_models.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "numpy": np.__version__},
        "model": name, "architecture": type(model).__name__, "model_type": cfg.model_type,
        "seed": seed, "attn_implementation": "eager", "dtype": "float32", "vocab_size": VOCAB,
        "input_ids": input_ids,
        "logits": f32_list(r["full"]),
        "greedy": {
            "new_tokens": NEW_TOKENS, "ids": r["new_ids"],
            "step_logits": f32_list(r["step_logits"]),
            "min_top2_gap": r["min_gap"],
        },
        "checks": {"incremental_vs_full_max_abs_diff": r["inc_diff"],
                   "generate_vs_loop_logits_max_abs_diff": r["gen_diff"],
                   "prompt_logits_in_longer_forward_max_abs_diff": r["prompt_diff"],
                   "reload_max_abs_diff": reload_diff},
    }
    ref_dir = os.path.join(OUT, name)
    os.makedirs(ref_dir, exist_ok=True)
    with open(os.path.join(ref_dir, "reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
    sizes = {fn: os.path.getsize(os.path.join(out_dir, fn)) for fn in os.listdir(out_dir)}
    print(name, "written:", sizes, "max |logit|", float(np.abs(r["full"]).max()), flush=True)


if __name__ == "__main__":
    torch.set_num_threads(1)
    names = sys.argv[1:] or list(MODELS)
    for n in names:
        save(n)
