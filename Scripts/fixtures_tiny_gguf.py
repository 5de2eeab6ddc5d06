#!/usr/bin/env python3
"""GGUF exports of the tiny engine models, and llama.cpp's logits on them.

Two phases, each in its own venv:
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
       llama-cpp-python (same sdist), numpy
     Runs llama.cpp on each GGUF with the reference input ids: logits of every prompt position,
     a greedy continuation decoded through llama.cpp's KV cache and its step logits →
     <name>/reference_llamacpp_<type>.json.
"""
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "Tests", "Fixtures", "engine")
SRC = os.environ.get("LLAMA_CPP_SRC", os.path.expanduser("~/.cache/lem-refs/src/llama-cpp-python/vendor/llama.cpp"))
NAMES = ["gemma3_tiny_lcpp", "gemma3_tiny_scaled_lcpp", "llama3_tiny", "qwen2_tiny"]
TYPES = ["f32", "q8_0"]
# Repository size: the Gemma F32 files would be copies of model.safetensors; their Q8_0 files suffice.
F32_SKIP = {"gemma3_tiny_lcpp", "gemma3_tiny_scaled_lcpp"}


def f32_list(a):
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 1:
        return [float(f"{float(v):.9g}") for v in a]
    return [f32_list(r) for r in a]


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
        d = Path(ENGINE) / name
        hp = ModelBase.load_hparams(d, False)
        cls = get_model_class(hp["architectures"][0])
        cls.set_vocab = byte_vocab
        for t in TYPES:
            if t == "f32" and name in F32_SKIP:
                continue
            out = d / f"model-{t}.gguf"
            with torch.inference_mode():
                m = cls(d, ftypes[t], out, eager=True, model_name=name)
                m.write()
            print(name, t, out.stat().st_size, "bytes", flush=True)


def phase_llamacpp(names):
    import llama_cpp
    from llama_cpp import Llama
    versions = {"python": platform.python_version(), "llama_cpp_python": llama_cpp.__version__, "numpy": np.__version__}
    for name in names:
        d = os.path.join(ENGINE, name)
        ref = json.load(open(os.path.join(d, "reference.json")))
        ids, n_new = ref["input_ids"], ref["greedy"]["new_tokens"]
        ref_logits = np.array(ref["logits"], dtype=np.float32)
        for t in TYPES + ["q4_k"]:
            path = os.path.join(d, f"model-{t}.gguf")
            if not os.path.exists(path):
                continue
            llm = Llama(model_path=path, n_ctx=64, n_batch=64, n_ubatch=64, logits_all=True, n_threads=1,
                        seed=0, verbose=False)
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
                "gguf_file": f"model-{t}.gguf", "type": t, "input_ids": ids,
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


if __name__ == "__main__":
    phase, names = sys.argv[1], sys.argv[2:] or NAMES
    {"write": phase_write, "llamacpp": phase_llamacpp}[phase](names)
