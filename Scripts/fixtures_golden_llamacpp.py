#!/usr/bin/env python3
"""Golden outputs of llama.cpp (and transformers) on the two default GGUF models.

Two phases, each in its own venv:
  1. ~/.cache/lem-refs/llamacpp/bin/python Scripts/fixtures_golden_llamacpp.py llamacpp
       python 3.11, llama-cpp-python 0.3.36 (built from the sdist), numpy, jinja2
     For 3 fixed prompts per model: the prompt text, llama.cpp's token ids (BOS added as the
     model's metadata asks), 32 greedy tokens (argmax; n_ctx 512, no repetition penalty; checked
     against llama-cpp-python's own sampler with top_k 1, temp 0, repeat_penalty 1.0) and the
     logits of the last prompt position.
  2. ~/.cache/lem-refs/torch/bin/python Scripts/fixtures_golden_llamacpp.py transformers
       torch 2.13.0+cpu, transformers 5.23.0, gguf 0.19.0
     Loads the same GGUF with transformers (dequantized to float32), runs the same prompt ids and
     stores its last-position logits, the difference from llama.cpp, and its own greedy 32 tokens.

If llama_cpp is not importable, import_llama_cpp() uses the unpacked sdist (its Python package)
with the libllama/libggml built from it (see there); run phase 1 with the torch venv's python then.

Output: Tests/Fixtures/golden/<model>.json and raw little-endian float32 logit vectors
<model>_p<k>_<tool>.f32 (full vocabulary; to keep the repository small: SmolLM2 llama.cpp all
prompts, transformers prompt 0; Gemma 3 llama.cpp prompt 0 only).
"""
import json
import os
import platform
import sys

import numpy as np
from fixture_util import import_llama_cpp, f32

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "golden")
MODELS_DIR = os.path.expanduser(os.environ.get("LEM_HOME", "~/.cache/lem") + "/models")
N_NEW = 32
N_CTX = 512
TOPK = 50

MODELS = {
    "smollm2": {
        "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "chat": True,
        "prompts": [
            "What is the capital of France?",
            "Write a haiku about the ocean.",
            "Explain in two sentences why the sky is blue.",
        ],
        "full_vectors": [0, 1, 2],
        "transformers_full_vectors": [0],
    },
    "gemma3_270m": {
        "file": "gemma-3-270m-q4_k_m.gguf",
        "chat": False,
        "prompts": [
            "The capital of France is",
            "Once upon a time, in a small village by the sea,",
            "The three primary colors are",
        ],
        "full_vectors": [0],
        "transformers_full_vectors": [],  # 1 MB each: only its difference from llama.cpp is kept
    },
}


def top_k(v, k=TOPK):
    idx = np.argsort(-v, kind="stable")[:k]
    return [int(i) for i in idx], [f32(v[i]) for i in idx]


def render_chat(template, user_text, bos, eos):
    import jinja2
    env = jinja2.Environment(loader=jinja2.BaseLoader(), trim_blocks=False, lstrip_blocks=False)
    return env.from_string(template).render(messages=[{"role": "user", "content": user_text}],
                                            add_generation_prompt=True, bos_token=bos, eos_token=eos)


def phase_llamacpp():
    llama_cpp = import_llama_cpp()
    Llama = llama_cpp.Llama
    for key, spec in MODELS.items():
        path = os.path.join(MODELS_DIR, spec["file"])
        llm = Llama(model_path=path, n_ctx=N_CTX, n_batch=N_CTX, logits_all=True, n_threads=2,
                    seed=0, verbose=False)
        meta = llm.metadata
        eos = llm.token_eos()
        bos_text = llm.detokenize([llm.token_bos()], special=True).decode() if llm.token_bos() >= 0 else ""
        eos_text = llm.detokenize([eos], special=True).decode()
        out = {
            "generator": "Scripts/fixtures_golden_llamacpp.py",
            "versions": {"python": platform.python_version(), "llama_cpp_python": llama_cpp.__version__,
                         "numpy": np.__version__},
            "model_file": spec["file"], "n_vocab": llm.n_vocab(), "n_ctx": N_CTX,
            "sampling": {"greedy": True, "temperature": 0, "top_k": 1, "repeat_penalty": 1.0,
                         "new_tokens": N_NEW},
            "add_bos_token": meta.get("tokenizer.ggml.add_bos_token"),
            "bos_id": llm.token_bos(), "eos_id": eos,
            "chat_template_used": spec["chat"],
            "prompts": [],
        }
        for k, user in enumerate(spec["prompts"]):
            if spec["chat"]:
                text = render_chat(meta["tokenizer.chat_template"], user, bos_text, eos_text)
            else:
                text = user
            ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
            llm.reset()
            llm.eval(ids)
            last = np.array(llm.scores[len(ids) - 1], dtype=np.float32)
            gen, stopped, gaps = [], False, []
            step = last
            for _ in range(N_NEW):
                top2 = np.sort(step)[-2:]
                gaps.append(float(top2[1] - top2[0]))
                nxt = int(np.argmax(step))
                gen.append(nxt)
                if llm.token_is_eog(nxt) if hasattr(llm, "token_is_eog") else nxt == eos:
                    stopped = True
                    break
                llm.eval([nxt])
                step = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            # llama-cpp-python's own sampling path must agree with the argmax loop.
            llm.reset()
            check = []
            for t in llm.generate(ids, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0, reset=True):
                check.append(int(t))
                if len(check) == len(gen) or t == eos:
                    break
            entry = {
                "user": user if spec["chat"] else None,
                "text": text,
                "prompt_ids": [int(i) for i in ids],
                "generated_ids": gen,
                "generated_text": llm.detokenize(gen).decode("utf-8", errors="replace"),
                "stopped_at_eos": stopped,
                "greedy_top2_gaps": gaps,
                "sampler_agrees": check == gen,
                "top50_ids": top_k(last)[0], "top50_logits": top_k(last)[1],
                "logits_file": None,
            }
            if k in spec["full_vectors"]:
                fn = f"{key}_p{k}_llamacpp.f32"
                last.astype("<f4").tofile(os.path.join(OUT, fn))
                entry["logits_file"] = fn
            out["prompts"].append(entry)
            print(key, k, repr(text[-60:]), "->", repr(entry["generated_text"]), "sampler agrees", check == gen,
                  flush=True)
        with open(os.path.join(OUT, f"{key}.json"), "w") as f:
            json.dump(out, f, indent=1)
        del llm


def phase_transformers():
    import torch
    import transformers
    torch.set_num_threads(2)
    for key, spec in MODELS.items():
        path = os.path.join(OUT, f"{key}.json")
        gold = json.load(open(path))
        try:
            model = transformers.AutoModelForCausalLM.from_pretrained(
                MODELS_DIR, gguf_file=spec["file"], dtype=torch.float32, attn_implementation="eager").eval()
        except Exception as e:  # recorded, not hidden
            gold["transformers_error"] = f"{type(e).__name__}: {e}"
            print(key, "transformers cannot load:", gold["transformers_error"], flush=True)
            json.dump(gold, open(path, "w"), indent=1)
            continue
        gold["transformers_versions"] = {"torch": torch.__version__, "transformers": transformers.__version__}
        for k, entry in enumerate(gold["prompts"]):
            ids = entry["prompt_ids"]
            with torch.no_grad():
                out = model(torch.tensor([ids]), use_cache=True)
                v = out.logits[0, -1].float().numpy()
                step, gen, gaps = v, [], []
                for _ in range(N_NEW):  # greedy with the KV cache, as for llama.cpp
                    top2 = np.sort(step)[-2:]
                    gaps.append(float(top2[1] - top2[0]))
                    nxt = int(np.argmax(step))
                    gen.append(nxt)
                    if nxt == gold["eos_id"]:
                        break
                    out = model(torch.tensor([[nxt]]), past_key_values=out.past_key_values, use_cache=True)
                    step = out.logits[0, -1].float().numpy()
            ti, tv = top_k(v)
            same = 0
            while same < min(len(gen), len(entry["generated_ids"])) and gen[same] == entry["generated_ids"][same]:
                same += 1
            t = {"top50_ids": ti, "top50_logits": tv, "logits_file": None,
                 "argmax_same": ti[0] == entry["top50_ids"][0],
                 "generated_ids": gen, "greedy_top2_gaps": gaps, "generated_prefix_equal_to_llamacpp": same}
            if entry["logits_file"]:
                if k in spec["transformers_full_vectors"]:
                    fn = f"{key}_p{k}_transformers.f32"
                    v.astype("<f4").tofile(os.path.join(OUT, fn))
                    t["logits_file"] = fn
                ref = np.fromfile(os.path.join(OUT, entry["logits_file"]), dtype="<f4")
                t["max_abs_diff_full_vector"] = float(np.abs(ref - v).max())
            lc = dict(zip(entry["top50_ids"], entry["top50_logits"]))
            t["max_abs_diff_on_llamacpp_top50"] = max(abs(lc[i] - float(v[i])) for i in lc)
            entry["transformers"] = t
            print(key, k, "greedy prefix equal", same, "argmax same", t["argmax_same"], "max diff top50", t["max_abs_diff_on_llamacpp_top50"],
                  "full", t.get("max_abs_diff_full_vector"), flush=True)
        with open(path, "w") as f:
            json.dump(gold, f, indent=1)
        del model


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    {"llamacpp": phase_llamacpp, "transformers": phase_transformers}[sys.argv[1]]()
