#!/usr/bin/env python3
"""MLX 4-bit / 8-bit exports of the tiny engine models and mlx-lm's logits on them.

Pinned environment (venv ~/.cache/lem-refs/mlx, CPU only):
    python 3.11, mlx 0.32.4 (mlx[cpu]), mlx-lm 0.32.2, numpy 2.4.6
Run after Scripts/fixtures_tiny_models.py:
    ~/.cache/lem-refs/mlx/bin/python Scripts/fixtures_mlx.py [name ...]

For each Tests/Fixtures/engine/<name>/ it runs
    python -m mlx_lm convert --hf-path <name> --mlx-path <name>-mlx<bits> -q --q-bits <bits> --q-group-size 32
for bits 4 and 8, then loads each result with mlx_lm and writes <name>-mlx<bits>/reference_mlx.json:
full-sequence logits of the reference input ids, a greedy continuation decoded with mlx-lm's KV
cache, and the logits of every step. It also records how far mlx-lm's float32 forward of the
unquantized directory is from transformers (reference.json), and how far the quantized logits are.
"""
import json
import os
import platform
import shutil
import subprocess
import sys

import mlx.core as mx
import mlx_lm
import numpy as np
from mlx_lm import load
from mlx_lm.models.cache import make_prompt_cache
from fixture_util import f32_list

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "Tests", "Fixtures", "engine")
NAMES = ["gemma3_tiny", "gemma3_tiny_scaled", "llama3_tiny", "qwen2_tiny"]
SOFTCAP_NOTE = ("mlx_lm 0.32.2's gemma3_text ignores final_logit_softcapping; this script applies "
                "cap*tanh(logits/cap) to mlx_lm's logits (monotonic: greedy ids unchanged)")
GROUP = 32  # must divide every input dimension (64, 128, 160)
BITS = {"gemma3_tiny_scaled": (4,)}  # repository size: one quantized copy of this variant


def logits_of(model, ids, cache=None):
    out = model(mx.array([ids]), cache=cache)
    return np.array(out[0].astype(mx.float32))


def run(model, input_ids, n_new, cap=None):
    if cap:  # see SOFTCAP_NOTE
        plain = logits_of
        logits_of_capped = lambda m, i, c=None: cap * np.tanh(plain(m, i, c) / cap)
        return _run(model, input_ids, n_new, logits_of_capped)
    return _run(model, input_ids, n_new, logits_of)


def _run(model, input_ids, n_new, logits_of):
    full = logits_of(model, input_ids)
    cache = make_prompt_cache(model)
    step = logits_of(model, input_ids, cache)[-1]
    steps, ids = [], []
    for _ in range(n_new):
        steps.append(step)
        nxt = int(np.argmax(step))
        ids.append(nxt)
        step = logits_of(model, [nxt], cache)[-1]
    all_full = logits_of(model, input_ids + ids)
    inc = float(np.abs(np.stack(steps) - all_full[len(input_ids) - 1:len(input_ids) - 1 + n_new]).max())
    gaps = [float(np.sort(s)[-1] - np.sort(s)[-2]) for s in steps]
    return full, ids, np.stack(steps), inc, min(gaps)


def main(names):
    versions = {"python": platform.python_version(), "mlx": mx.__version__, "mlx_lm": mlx_lm.__version__,
                "numpy": np.__version__}
    for name in names:
        src = os.path.join(ENGINE, name)
        ref = json.load(open(os.path.join(src, "reference.json")))
        ids, n_new = ref["input_ids"], ref["greedy"]["new_tokens"]
        ref_logits = np.array(ref["logits"], dtype=np.float32)
        cap = json.load(open(os.path.join(src, "config.json"))).get("final_logit_softcapping")
        model, _ = load(src)
        f_full, f_ids, f_steps, f_inc, _ = run(model, ids, n_new, cap)
        float_diff = float(np.abs(f_full - ref_logits).max())
        print(f"{name}: mlx float32 vs transformers max |diff| {float_diff:.3g}, greedy same "
              f"{f_ids == ref['greedy']['ids']}", flush=True)
        for bits in BITS.get(name, (4, 8)):
            dst = os.path.join(ENGINE, f"{name}-mlx{bits}")
            shutil.rmtree(dst, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "mlx_lm", "convert", "--hf-path", src, "--mlx-path", dst,
                            "-q", "--q-bits", str(bits), "--q-group-size", str(GROUP)], check=True,
                           stdout=subprocess.DEVNULL)
            qmodel, _ = load(dst)
            full, new_ids, steps, inc, gap = run(qmodel, ids, n_new, cap)
            out = {
                "generator": "Scripts/fixtures_mlx.py", "versions": versions, "model": f"{name}-mlx{bits}",
                "source": name, "bits": bits, "group_size": GROUP, "mode": "affine",
                "convert_command": f"python -m mlx_lm convert --hf-path {name} --mlx-path {name}-mlx{bits} "
                                   f"-q --q-bits {bits} --q-group-size {GROUP}",
                "softcap_applied_by_script": cap, "note": SOFTCAP_NOTE if cap else None,
                "input_ids": ids,
                "logits": f32_list(full),
                "greedy": {"new_tokens": n_new, "ids": new_ids, "step_logits": f32_list(steps),
                           "min_top2_gap": gap},
                "checks": {
                    "incremental_vs_full_max_abs_diff": inc,
                    "quantized_vs_transformers_float_max_abs_diff": float(np.abs(full - ref_logits).max()),
                    "mlx_float_vs_transformers_max_abs_diff": float_diff,
                    "mlx_float_greedy_equals_transformers": f_ids == ref["greedy"]["ids"],
                    "quantized_greedy_equals_transformers": new_ids == ref["greedy"]["ids"],
                },
            }
            with open(os.path.join(dst, "reference_mlx.json"), "w") as f:
                json.dump(out, f, separators=(",", ":"))
            print(f"  mlx{bits}: vs transformers float {out['checks']['quantized_vs_transformers_float_max_abs_diff']:.3g}, "
                  f"incremental vs full {inc:.3g}, min gap {gap:.3g}, greedy same as float "
                  f"{new_ids == ref['greedy']['ids']}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or NAMES)
