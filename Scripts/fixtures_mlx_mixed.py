#!/usr/bin/env python3
"""MLX mixed-precision and 5-bit exports of the tiny Gemma 3 and mlx-lm's logits on them.

`mlx_lm convert --quant-predicate mixed_X_Y` without `--q-group-size` writes per-module entries
`{"group_size": null, "bits": Y, "mode": "affine"}` into config.json's `quantization`; mlx reads
the null as its affine default, 64. These fixtures check that lem reads them the same way, for
every bit width mlx writes: mixed_2_6 (2 and 6 bits), mixed_3_4 (3, 4), mixed_3_6 (3, 6),
mixed_4_6 (4, 6) and a uniform 5-bit export (`-q --q-bits 5`, group 64).

Pinned environment: as Scripts/fixtures_mlx.py (venv ~/.cache/lem-refs/mlx: python 3.11,
mlx 0.32.4, mlx-lm 0.32.2, numpy 2.4.6). Run after Scripts/fixtures_tiny_models.py:
    ~/.cache/lem-refs/mlx/bin/python Scripts/fixtures_mlx_mixed.py
Writes Tests/Fixtures/engine/gemma3_tiny-<variant>/ (model.safetensors, config.json, tokenizer,
reference_mlx.json in the format of fixtures_mlx.py).
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import f32_list  # noqa: E402
from fixtures_mlx import ENGINE, SOFTCAP_NOTE, run  # noqa: E402

SOURCE = "gemma3_tiny"  # 4 layers, hidden 64, intermediate 128: every input dimension divides 64
VARIANTS = {
    "mixed26": ["--quant-predicate", "mixed_2_6"],
    "mixed34": ["--quant-predicate", "mixed_3_4"],
    "mixed36": ["--quant-predicate", "mixed_3_6"],
    "mixed46": ["--quant-predicate", "mixed_4_6"],
    "mlx5": ["--q-bits", "5"],
}


def main(names):
    versions = {"python": platform.python_version(), "mlx": mx.__version__, "mlx_lm": mlx_lm.__version__,
                "numpy": np.__version__}
    src = os.path.join(ENGINE, SOURCE)
    ref = json.load(open(os.path.join(src, "reference.json")))
    ids, n_new = ref["input_ids"], ref["greedy"]["new_tokens"]
    ref_logits = np.array(ref["logits"], dtype=np.float32)
    cap = json.load(open(os.path.join(src, "config.json"))).get("final_logit_softcapping")
    for variant in names:
        args = VARIANTS[variant]
        dst = os.path.join(ENGINE, f"{SOURCE}-{variant}")
        shutil.rmtree(dst, ignore_errors=True)
        command = ["python", "-m", "mlx_lm", "convert", "--hf-path", SOURCE, "--mlx-path", f"{SOURCE}-{variant}", "-q"] + args
        subprocess.run([sys.executable] + command[1:3] + ["convert", "--hf-path", src, "--mlx-path", dst, "-q"] + args,
                       check=True, stdout=subprocess.DEVNULL)
        for junk in ("README.md", "model.safetensors.index.json"):
            if os.path.exists(os.path.join(dst, junk)):
                os.remove(os.path.join(dst, junk))
        config = json.load(open(os.path.join(dst, "config.json")))
        q = config["quantization"]
        per_module = {k: v for k, v in q.items() if isinstance(v, dict)}
        bits = sorted({v["bits"] for v in per_module.values()} | {q["bits"]})
        nulls = sum(1 for v in per_module.values() if v.get("group_size") is None)
        model, _ = load(dst)
        full, new_ids, steps, inc, gap = run(model, ids, n_new, cap)
        out = {
            "generator": "Scripts/fixtures_mlx_mixed.py", "versions": versions, "model": f"{SOURCE}-{variant}",
            "source": SOURCE, "bits": bits, "group_size": q["group_size"], "mode": "affine",
            "per_module_entries": len(per_module), "per_module_null_group_size": nulls,
            "convert_command": " ".join(command),
            "softcap_applied_by_script": cap, "note": SOFTCAP_NOTE if cap else None,
            "input_ids": ids,
            "logits": f32_list(full),
            "greedy": {"new_tokens": n_new, "ids": new_ids, "step_logits": f32_list(steps), "min_top2_gap": gap},
            "checks": {
                "incremental_vs_full_max_abs_diff": inc,
                "quantized_vs_transformers_float_max_abs_diff": float(np.abs(full - ref_logits).max()),
                "quantized_greedy_equals_transformers": new_ids == ref["greedy"]["ids"],
            },
        }
        with open(os.path.join(dst, "reference_mlx.json"), "w") as f:
            json.dump(out, f, separators=(",", ":"))
        print(f"{SOURCE}-{variant}: bits {bits}, {len(per_module)} per-module entries ({nulls} with null group_size), "
              f"vs float {out['checks']['quantized_vs_transformers_float_max_abs_diff']:.3g}, min gap {gap:.3g}",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(VARIANTS))
