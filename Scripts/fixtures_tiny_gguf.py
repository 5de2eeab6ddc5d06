#!/usr/bin/env python3
"""GGUF exports of the tiny engine models, and llama.cpp's logits on them.

Three phases:
  1. ~/.cache/lem-refs/torch/bin/python Scripts/fixtures_tiny_gguf.py write
       torch 2.13.0+cpu, and llama.cpp's own converter (convert_hf_to_gguf.py + gguf-py 0.19.0)
       from the llama-cpp-python sdist, unpacked at ~/.cache/lem-refs/src/llama-cpp-python
       (override with LLAMA_CPP_SRC=<dir containing convert_hf_to_gguf.py>).
     Converts Tests/Fixtures/engine/<name>/ to model-f32.gguf and model-q8_0.gguf with llama.cpp's
     converter classes (so Q/K row permutation, Gemma's stored norm w+1, rope_freqs for llama3
     scaling and the metadata keys are exactly llama.cpp's). Only the vocabulary is replaced: the
     tiny byte tokenizer is written as a SentencePiece-style ("llama") vocab, ids 0 <pad>,
     1 <bos>, 2 <eos> (CONTROL), 3+b <0xHH> (BYTE), 259.. <unusedN> (UNUSED), scores 0.
  2. ~/.cache/lem-refs/llamacpp/bin/python Scripts/fixtures_tiny_gguf.py llamacpp
       llama-cpp-python 0.3.36 (same sdist), numpy
     Quantizes llama3_tiny_k256's F32 file to Q4_K_M (llama_model_quantize), then runs llama.cpp
     on each GGUF with the reference input ids (float32 KV cache): logits of every prompt position,
     a greedy continuation decoded through llama.cpp's KV cache and its step logits →
     <name>/reference_llamacpp_<type>.json.
  3. ~/.cache/lem-refs/torch/bin/python Scripts/fixtures_tiny_gguf.py dequant
     The float model with the GGUF's weights dequantized by gguf-py, run by transformers →
     <name>/reference_dequant_<type>.json (Q8_0 and Q4_K files).
Order: Scripts/fixtures_tiny_models.py, then write, llamacpp, dequant.
If llama_cpp is not importable, import_llama_cpp() uses the unpacked sdist (its Python package)
with the libllama/libggml built from it; phase 2 then runs with the torch venv's python too.
"""
import ctypes
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
from fixture_util import import_llama_cpp, f32_list

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "Tests", "Fixtures", "engine")
SRC = os.environ.get("LLAMA_CPP_SRC", os.path.expanduser("~/.cache/lem-refs/src/llama-cpp-python/vendor/llama.cpp"))
NAMES = ["gemma3_tiny_lcpp", "gemma3_tiny_scaled_lcpp", "llama3_tiny", "qwen2_tiny", "llama3_tiny_k256"]
# llama3_tiny_k256's float files live outside the repository (~/.cache/lem-refs/work, written by
# fixtures_tiny_models.py); only its Q4_K_M file (llama.cpp's quantizer on the F32 GGUF) is committed.
WORK = os.path.expanduser("~/.cache/lem-refs/work")
OUTSIDE = {"llama3_tiny_k256"}
Q4K = {"llama3_tiny_k256"}
TYPES = ["f32", "q8_0"]
# Repository size: the Gemma F32 files would be copies of model.safetensors; their Q8_0 files suffice.
F32_SKIP = {"gemma3_tiny_lcpp", "gemma3_tiny_scaled_lcpp"}


def phase_write(names):
    sys.path.insert(0, os.path.join(SRC, "gguf-py"))
    sys.path.insert(0, SRC)
    import torch
    import gguf
    from conversion import ModelBase, get_model_class

    def byte_vocab(self):
        n = self.hparams["vocab_size"]
        tokens = ["<pad>", "<bos>", "<eos>"] + [f"<0x{b:02X}>" for b in range(256)]
        types = [gguf.TokenType.CONTROL] * 3 + [gguf.TokenType.BYTE] * 256
        tokens += [f"<unused{i}>" for i in range(n - len(tokens))]
        types += [gguf.TokenType.UNUSED] * (n - len(types))
        w = self.gguf_writer
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_scores([0.0] * n)
        w.add_token_types(types)
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_pad_token_id(0)
        w.add_add_bos_token(False)
        w.add_add_eos_token(False)

    ftypes = {"f32": gguf.LlamaFileType.ALL_F32, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}
    for name in names:
        d = Path(WORK if name in OUTSIDE else ENGINE) / name
        hp = ModelBase.load_hparams(d, False)
        cls = get_model_class(hp["architectures"][0])
        cls.set_vocab = byte_vocab
        for t in TYPES:
            if (t == "f32" and name in F32_SKIP) or (t != "f32" and name in OUTSIDE):
                continue
            out = d / f"model-{t}.gguf"
            with torch.inference_mode():
                m = cls(d, ftypes[t], out, eager=True, model_name=name)
                m.write()
            print(name, t, out.stat().st_size, "bytes", flush=True)


def phase_llamacpp(names):
    llama_cpp = import_llama_cpp()
    Llama = llama_cpp.Llama
    versions = {"python": platform.python_version(), "llama_cpp_python": llama_cpp.__version__, "numpy": np.__version__}
    for name in names:
        d = os.path.join(ENGINE, name)
        ref = json.load(open(os.path.join(d, "reference.json")))
        if name in Q4K:
            src = os.path.join(WORK if name in OUTSIDE else ENGINE, name, "model-f32.gguf")
            params = llama_cpp.llama_model_quantize_default_params()
            params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
            params.nthread = 1
            rc = llama_cpp.llama_model_quantize(src.encode(), os.path.join(d, "model-q4_k.gguf").encode(),
                                                ctypes.byref(params))
            assert rc == 0, f"llama_model_quantize failed for {name}: {rc}"
        ids, n_new = ref["input_ids"], ref["greedy"]["new_tokens"]
        ref_logits = np.array(ref["logits"], dtype=np.float32)
        for t in TYPES + ["q4_k"]:
            path = os.path.join(d, f"model-{t}.gguf")
            if not os.path.exists(path):
                continue
            # float32 KV cache (llama.cpp's default f16 cache alone costs ~1e-2 in these logits)
            llm = Llama(model_path=path, n_ctx=64, n_batch=64, n_ubatch=64, logits_all=True, n_threads=1,
                        seed=0, verbose=False, type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32,
                        flash_attn=False)
            llm.eval(ids)
            full = np.array(llm.scores[:len(ids)], dtype=np.float32)
            steps, new = [], []
            step = full[-1]
            for _ in range(n_new):
                steps.append(step)
                nxt = int(np.argmax(step))
                new.append(nxt)
                llm.eval([nxt])
                step = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            steps = np.stack(steps)
            gaps = [float(np.sort(s)[-1] - np.sort(s)[-2]) for s in steps]
            out = {
                "generator": "Scripts/fixtures_tiny_gguf.py", "versions": versions, "model": name,
                "gguf_file": f"model-{t}.gguf", "type": t, "kv_cache_type": "f32", "flash_attn": False,
                "input_ids": ids,
                "logits": f32_list(full),
                "greedy": {"new_tokens": n_new, "ids": new, "step_logits": f32_list(steps), "min_top2_gap": min(gaps)},
                "checks": {
                    "llamacpp_vs_transformers_max_abs_diff": float(np.abs(full - ref_logits).max()),
                    "greedy_equals_transformers": new == ref["greedy"]["ids"],
                },
            }
            if len(ref["greedy"].get("step_logits", [])) == n_new:
                out["checks"]["step_logits_vs_transformers_max_abs_diff"] = float(
                    np.abs(steps - np.array(ref["greedy"]["step_logits"], dtype=np.float32)).max())
            with open(os.path.join(d, f"reference_llamacpp_{t}.json"), "w") as f:
                json.dump(out, f, separators=(",", ":"))
            print(name, t, out["checks"], flush=True)
            del llm


def dequantized_model(gguf_path, hf_dir):
    """The HF model of hf_dir with every weight replaced by the GGUF's, dequantized by gguf-py and
    mapped back (names, Llama Q/K row permutation undone, Gemma norm w+1 undone).

    transformers' own gguf_file loader is not used: it drops llama3 rope_freqs and Gemma 3's
    query_pre_attn_scalar / final_logit_softcapping, so its logits are not these models'."""
    sys.path.insert(0, os.path.join(SRC, "gguf-py"))
    import gguf
    import torch
    import transformers
    from gguf.quants import dequantize
    model = transformers.AutoModelForCausalLM.from_pretrained(hf_dir, attn_implementation="eager",
                                                              dtype=torch.float32).eval()
    cfg = model.config
    reader = gguf.GGUFReader(gguf_path)
    arch = reader.fields["general.architecture"].contents()
    tensors = {t.name: dequantize(t.data, t.tensor_type).reshape([int(x) for x in reversed(t.shape)])
               for t in reader.tensors}
    tmap = gguf.get_tensor_name_map({"llama": gguf.MODEL_ARCH.LLAMA, "qwen2": gguf.MODEL_ARCH.QWEN2,
                                     "gemma3": gguf.MODEL_ARCH.GEMMA3}[arch], cfg.num_hidden_layers)
    state = {}
    for hf_name, p in model.state_dict().items():
        g = tmap.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if hf_name == "lm_head.weight" and cfg.tie_word_embeddings:
            continue
        w = np.array(tensors[g], dtype=np.float32).reshape(tuple(p.shape))
        if arch == "llama" and (".q_proj." in hf_name or ".k_proj." in hf_name):
            n = cfg.num_attention_heads if ".q_proj." in hf_name else cfg.num_key_value_heads
            w = w.reshape(n, w.shape[0] // n // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
        if arch == "gemma3" and hf_name.endswith("norm.weight"):
            w = w - 1.0
        state[hf_name] = torch.from_numpy(np.ascontiguousarray(w))
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k == "lm_head.weight" for k in missing), (missing, unexpected)
    if cfg.tie_word_embeddings:
        model.tie_weights()
    return model


def phase_dequant(names):
    """The float model with the GGUF's dequantized weights, same ids: the exact target for an
    engine that dequantizes and computes in float32, unlike llama.cpp, which also quantizes the
    activations for its Q8_0/Q4_K dot products (so it is only close to this)."""
    import torch
    import transformers
    sys.path.insert(0, os.path.join(ROOT, "Scripts"))
    from fixtures_tiny_models import run_reference
    versions = {"python": platform.python_version(), "torch": torch.__version__,
                "transformers": transformers.__version__}
    for name in names:
        d = os.path.join(ENGINE, name)
        ref = json.load(open(os.path.join(d, "reference.json")))
        for t in TYPES + ["q4_k"]:
            fn = f"model-{t}.gguf"
            if t == "f32" or not os.path.exists(os.path.join(d, fn)):
                continue  # (an F32 file gives reference.json again, to 5e-9)
            model = dequantized_model(os.path.join(d, fn), os.path.join(WORK if name in OUTSIDE else ENGINE, name))
            r = run_reference(model, ref["input_ids"])
            lc = json.load(open(os.path.join(d, f"reference_llamacpp_{t}.json")))
            out = {
                "generator": "Scripts/fixtures_tiny_gguf.py dequant", "versions": versions, "model": name,
                "gguf_file": fn, "type": t, "input_ids": ref["input_ids"],
                "logits": f32_list(r["full"]),
                "greedy": {"new_tokens": len(r["new_ids"]), "ids": r["new_ids"],
                           "step_logits": f32_list(r["step_logits"]), "min_top2_gap": r["min_gap"]},
                "checks": {
                    "incremental_vs_full_max_abs_diff": r["inc_diff"],
                    "llamacpp_vs_dequant_max_abs_diff": float(np.abs(np.array(lc["logits"]) - r["full"]).max()),
                    "llamacpp_greedy_equals_dequant": lc["greedy"]["ids"] == r["new_ids"],
                    "dequant_vs_float_model_max_abs_diff": float(np.abs(np.array(ref["logits"]) - r["full"]).max()),
                },
            }
            with open(os.path.join(d, f"reference_dequant_{t}.json"), "w") as f:
                json.dump(out, f, separators=(",", ":"))
            print(name, t, out["checks"], "gap", r["min_gap"], flush=True)


if __name__ == "__main__":
    phase, names = sys.argv[1], sys.argv[2:] or NAMES
    {"write": phase_write, "llamacpp": phase_llamacpp, "dequant": phase_dequant}[phase](names)
