#!/usr/bin/env python3
"""Tiny random GPT-OSS reference models for the engine tests (Tests/Fixtures/engine/<name>/).

Pinned environment (venv ~/.cache/lem-refs/torch, CPU only), as Scripts/fixtures_tiny_models.py:
    python 3.11, torch 2.13.0+cpu, transformers 5.23.0, safetensors 0.8.0, numpy 2.4.6
Run:
    ~/.cache/lem-refs/torch/bin/python Scripts/fixtures_gpt_oss.py [name ...]
    LLAMA_CPP_SRC=<sdist>/vendor/llama.cpp ~/.cache/lem-refs/torch/bin/python Scripts/fixtures_gpt_oss.py gguf
The `gguf` phase converts gpt_oss_tiny_mxfp4 with llama.cpp's own converter (convert_hf_to_gguf's
GptOssModel, gguf-py of llama-cpp-python 0.3.36's sdist; the byte vocabulary of
Scripts/fixtures_tiny_gguf.py) to model-f32.gguf: F32 tensors, MXFP4 experts repacked by the
converter (ggml type 39), `gpt-oss.*` metadata. Its reference is reference.json (same weights).

Each model is a `GptOssForCausalLM` with every parameter rounded to bfloat16 and saved in bfloat16
(small files), run in float32 by transformers (eager attention, eager experts). It has what the
real gpt-oss has: q/k/v/o biases, per-head attention sinks, alternating sliding (window 8 < the
20-token prompt) / full layers, YaRN RoPE with the real factors (32, beta 32/1, original 4096),
a biased top-k router with softmax over the chosen k, interleaved gate/up expert matrices stored
[E, C, 2I] (transposed against nn.Linear) and the clamped SwiGLU (alpha 1.702, limit 7).

`gpt_oss_tiny_mxfp4` stores the experts' matrices as MXFP4 `*_blocks`/`*_scales` the way the real
checkpoint does (nn.Linear orientation [E, out, in/32, 16] bytes, low nibble = even element,
E8M0 exponents), quantized here as llama.cpp's quantize_row_mxfp4_ref does (shared exponent
floor(log2(amax)) − 2, nearest E2M1 value, first on ties); its reference is transformers on the
dequantized weights.

`gpt_oss_tiny/attentions.json`: transformers' eager attention probabilities of the prompt, per layer
(H·T, T) rows (the sink's share dropped). reference.json has the layout of Scripts/fixtures_tiny_models.py's, plus `checks.min_router_gap`:
the smallest gap between the k-th and (k+1)-th router logits over every layer and token of the
prompt + continuation (seeds are searched until it is >= 1e-3, so routing cannot flip).
"""
import json
import os
import platform
import sys

import numpy as np
import torch
import transformers
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures_tiny_models as tiny  # noqa: E402  (run_reference, tokenizer_files, top2_gap)
from fixture_util import f32_list  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "engine")
VOCAB = tiny.VOCAB
MIN_ROUTER_GAP = 1e-3
FP4_VALUES = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0],
                      dtype=np.float32)

MODELS = {
    # name: (layers, experts, experts per token, mxfp4)
    "gpt_oss_tiny": (4, 8, 2, False),
    "gpt_oss_tiny_top4": (2, 8, 4, False),
    "gpt_oss_tiny_mxfp4": (2, 8, 2, True),
}


def config(name):
    layers, experts, top_k, _ = MODELS[name]
    rope = {"rope_type": "yarn", "rope_theta": 150000.0, "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0,
            "truncate": False, "original_max_position_embeddings": 4096}
    cfg = transformers.GptOssConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=32, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_local_experts=experts,
        num_experts_per_tok=top_k, sliding_window=8, max_position_embeddings=131072, rms_norm_eps=1e-5,
        initializer_range=0.2, rope_parameters=rope, pad_token_id=0, bos_token_id=1, eos_token_id=2,
        tie_word_embeddings=False, attention_bias=True,
    )
    cfg._attn_implementation = "eager"
    cfg._experts_implementation = "eager"
    return cfg


def randomize(model, seed):
    """Non-trivial norms, biases and sinks (transformers initialises them 1 / 0), then every
    parameter rounded to bfloat16 so the bf16 file holds the reference model exactly."""
    g = torch.Generator().manual_seed(seed + 1000)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif n.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            elif n.endswith("sinks"):
                p.copy_(torch.randn(p.shape, generator=g))
        # Larger expert weights so that some gate/up values reach the SwiGLU clamp (±7).
        for layer in model.model.layers:
            layer.mlp.experts.gate_up_proj.mul_(6.0)
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).float())


def mxfp4_quantize(w):
    """Rows of `w` [R, K] (K a multiple of 32) as MXFP4: (nibble codes [R, K], exponents [R, K/32])
    exactly as llama.cpp's quantize_row_mxfp4_ref chooses them."""
    r, k = w.shape
    blocks = w.reshape(r, k // 32, 32).astype(np.float32)
    amax = np.abs(blocks).max(axis=2)
    with np.errstate(divide="ignore"):
        e = np.where(amax > 0, np.floor(np.log2(amax)) - 2 + 127, 0).astype(np.int64)
    assert e.min() >= 0 and e.max() <= 254
    scale = np.ldexp(np.float32(1), (e - 127).astype(np.int32)).astype(np.float32)  # 2^(e-127)
    cand = FP4_VALUES[None, None, None, :] * scale[:, :, None, None]  # [R, B, 1, 16]
    err = np.abs(cand - blocks[:, :, :, None])
    codes = np.argmin(err, axis=3).astype(np.uint8)  # first minimum, as best_index_mxfp4
    return codes.reshape(r, k), e.astype(np.uint8)


def mxfp4_pack(codes, exps):
    """transformers' checkpoint layout: bytes [R, K/32, 16] (element 2j low nibble, 2j+1 high)."""
    r, k = codes.shape
    c = codes.reshape(r, k // 32, 16, 2)
    return (c[..., 0] | (c[..., 1] << 4)).astype(np.uint8), exps


def mxfp4_dequantize(codes, exps):
    r, k = codes.shape
    vals = FP4_VALUES[codes].reshape(r, k // 32, 32)
    return (vals * np.ldexp(np.float32(1), exps.astype(np.int32) - 127)[:, :, None]).reshape(r, k)


def quantize_experts(model):
    """Replaces every expert matrix by its MXFP4 rounding; returns the packed tensors by HF name."""
    packed = {}
    with torch.no_grad():
        for i, layer in enumerate(model.model.layers):
            ex = layer.mlp.experts
            for proj in ("gate_up_proj", "down_proj"):
                p = getattr(ex, proj)  # [E, in, out]
                e, k, n = p.shape
                linear = p.detach().transpose(1, 2).reshape(e * n, k).numpy()  # nn.Linear rows [E·out, in]
                codes, exps = mxfp4_quantize(linear)
                deq = mxfp4_dequantize(codes, exps)
                p.copy_(torch.from_numpy(deq.reshape(e, n, k)).transpose(1, 2))
                blocks, scales = mxfp4_pack(codes, exps)
                base = f"model.layers.{i}.mlp.experts.{proj}"
                packed[base + "_blocks"] = torch.from_numpy(blocks.reshape(e, n, k // 32, 16))
                packed[base + "_scales"] = torch.from_numpy(scales.reshape(e, n, k // 32))
    return packed


def router_gap(model, ids):
    """Smallest (k-th − (k+1)-th) router logit over layers and tokens of one forward of `ids`."""
    gaps = []

    def hook(module, inputs, output):
        logits = output[0].float()
        top = torch.topk(logits, module.top_k + 1, dim=-1).values if module.top_k < logits.shape[-1] else None
        if top is not None:
            gaps.append(float((top[:, -2] - top[:, -1]).min()))

    handles = [layer.mlp.router.register_forward_hook(hook) for layer in model.model.layers]
    with torch.no_grad():
        model(torch.tensor([ids]), use_cache=False)
    for h in handles:
        h.remove()
    return min(gaps) if gaps else float("inf")


def clamp_fraction(model, ids):
    """Fraction of gate values the SwiGLU clamp cut (to show the clamp is exercised)."""
    seen = []

    def hook(module, inputs, output):
        x, idx = inputs[0], inputs[1]
        for e in idx.unique().tolist():
            gu = x @ module.gate_up_proj[e] + module.gate_up_proj_bias[e]
            seen.append(float((gu[..., ::2] > module.limit).float().mean()))

    handles = [layer.mlp.experts.register_forward_hook(hook) for layer in model.model.layers]
    with torch.no_grad():
        model(torch.tensor([ids]), use_cache=False)
    for h in handles:
        h.remove()
    return float(np.mean(seen))


def build(name):
    mxfp4 = MODELS[name][3]
    for attempt in range(60):
        seed = 4321 + attempt
        torch.manual_seed(seed)
        cfg = config(name)
        model = transformers.GptOssForCausalLM(cfg).float().eval()
        randomize(model, seed)
        packed = quantize_experts(model) if mxfp4 else None
        rng = np.random.default_rng(seed)
        input_ids = [1] + rng.integers(3, VOCAB, size=tiny.PROMPT_LEN - 1).tolist()
        r = tiny.run_reference(model, input_ids)
        gap = router_gap(model, input_ids + r["new_ids"])
        distinct = len(set(r["new_ids"]))
        ok = (r["min_gap"] >= tiny.MIN_GAP and r["gen_ids"] == r["new_ids"] and r["inc_diff"] <= 1e-4
              and distinct >= tiny.MIN_DISTINCT and gap >= MIN_ROUTER_GAP)
        print(f"{name} seed {seed}: top-2 gap {r['min_gap']:.3g}, router gap {gap:.3g}, "
              f"incremental vs full {r['inc_diff']:.3g}, generate==loop {r['gen_ids'] == r['new_ids']}, "
              f"distinct {distinct}", flush=True)
        if ok:
            return model, cfg, seed, input_ids, r, gap, packed
    raise SystemExit(f"{name}: no seed with a robust greedy path and routing")


def save(name):
    model, cfg, seed, input_ids, r, gap, packed = build(name)
    out_dir = os.path.join(OUT, name)
    os.makedirs(out_dir, exist_ok=True)
    tensors = {k: v.detach().to(torch.bfloat16).contiguous().clone() for k, v in model.state_dict().items()}
    conf = cfg.to_dict()
    if packed is not None:
        for k in list(tensors):
            if k.endswith("experts.gate_up_proj") or k.endswith("experts.down_proj"):
                tensors.pop(k)
        tensors.update({k: v.contiguous() for k, v in packed.items()})
        conf["quantization_config"] = {"quant_method": "mxfp4",
                                       "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                                  "model.embed_tokens", "lm_head"]}
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    conf["architectures"] = [type(model).__name__]
    conf["torch_dtype"] = "bfloat16"
    conf["dtype"] = "bfloat16"
    for k in [k for k in conf if k.startswith("_")]:
        conf.pop(k)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(conf, f, indent=2, sort_keys=True)
    tiny.tokenizer_files(out_dir)
    reload_diff = None
    try:
        re = transformers.AutoModelForCausalLM.from_pretrained(
            out_dir, attn_implementation="eager", dtype=torch.float32).eval()
        re.config._experts_implementation = "eager"
        with torch.no_grad():
            again = re(torch.tensor([input_ids])).logits[0].float().numpy()
        reload_diff = float(np.abs(again - r["full"]).max())
        print(f"{name}: reloaded by transformers, max diff {reload_diff:.3g}", flush=True)
    except Exception as e:  # transformers may refuse MXFP4 without a GPU kernel
        print(f"{name}: transformers could not reload the directory ({type(e).__name__}: {e})", flush=True)
    if packed is None:
        assert reload_diff is not None and reload_diff <= 1e-5, f"{name}: reloaded model differs by {reload_diff}"
    ref = {
        "generator": "Scripts/fixtures_gpt_oss.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "numpy": np.__version__},
        "model": name, "architecture": type(model).__name__, "model_type": cfg.model_type,
        "seed": seed, "attn_implementation": "eager", "dtype": "float32 (weights bfloat16-exact)",
        "vocab_size": VOCAB, "input_ids": input_ids,
        "logits": f32_list(r["full"]),
        "greedy": {"new_tokens": tiny.NEW_TOKENS, "ids": r["new_ids"], "step_logits": f32_list(r["step_logits"]),
                   "min_top2_gap": r["min_gap"]},
        "checks": {"incremental_vs_full_max_abs_diff": r["inc_diff"],
                   "generate_vs_loop_logits_max_abs_diff": r["gen_diff"],
                   "prompt_logits_in_longer_forward_max_abs_diff": r["prompt_diff"],
                   "reload_max_abs_diff": reload_diff, "min_router_gap": gap,
                   "gate_clamped_fraction": clamp_fraction(model, input_ids)},
    }
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
    if name == "gpt_oss_tiny":
        # transformers' eager attention probabilities (the sink's share dropped, so rows sum to < 1).
        with torch.no_grad():
            att = model(torch.tensor([input_ids]), output_attentions=True).attentions
        with open(os.path.join(out_dir, "attentions.json"), "w") as f:
            json.dump({"input_ids": input_ids, "attentions": [f32_list(a[0].float().numpy().reshape(-1, len(input_ids)))
                                                             for a in att]}, f, separators=(",", ":"))
    sizes = {fn: os.path.getsize(os.path.join(out_dir, fn)) for fn in os.listdir(out_dir)}
    print(name, "written:", sizes, "clamped", ref["checks"]["gate_clamped_fraction"], flush=True)


def gguf_phase():
    import fixtures_tiny_gguf
    fixtures_tiny_gguf.TYPES = ["f32"]
    fixtures_tiny_gguf.phase_write(["gpt_oss_tiny_mxfp4"])


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1:] == ["gguf"]:
        gguf_phase()
    else:
        for n in sys.argv[1:] or list(MODELS):
            save(n)
