#!/usr/bin/env python3
"""mlx-lm prompt-cache files both ways on the tiny Gemma 3 (MLX 4-bit), for PromptCacheFileTests.

Pinned environment (venv ~/.cache/lem-refs/mlx, CPU only): python 3.11, mlx 0.32.4, mlx-lm 0.32.2.
Run after building lem (swift build -c release):
    ~/.cache/lem-refs/mlx/bin/python Scripts/fixtures_prompt_cache.py [--lem .build/release/lem]

Writes Tests/Fixtures/prompt_cache/:
  - mlx_cache.safetensors: mlx-lm's save_prompt_cache after a prefill of PROMPT (20 tokens, past
    the model's sliding window of 8, so the sliding layers' RotatingKVCache has rotated);
  - lem_cache.safetensors: `lem cache-prompt` of the same PROMPT (the file mlx-lm is given below);
  - expected.json: the prompt, the continuation ids, mlx-lm's greedy tokens continuing each file
    with the continuation (its own `generate_step` over `load_prompt_cache`), and mlx-lm's greedy
    tokens from a fresh prefill of prompt + continuation.
The Swift test checks that lem continuing mlx's file equals lem's fresh prefill, and that lem
continuing its own file gives the tokens and (within the 4-bit tolerance) the logits mlx-lm gave
from that file.
"""
import argparse
import json
import os
import subprocess

import mlx.core as mx
from mlx_lm.generate import generate_step
from mlx_lm.models.cache import load_prompt_cache, make_prompt_cache, save_prompt_cache
from mlx_lm.utils import load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "engine", "gemma3_tiny-mlx4")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "prompt_cache")
PROMPT = [1] + [(7 + 37 * i) % 300 + 10 for i in range(19)]
CONTINUATION = [45, 99, 123]
STEPS = 12


def greedy(model, cache, ids):
    out = []
    for token, _ in generate_step(mx.array(ids), model, max_tokens=STEPS, prompt_cache=cache):
        out.append(int(token))
    return out


def last_logits(model, cache, ids):
    out = model(mx.array([ids]), cache=cache)[0, -1].astype(mx.float32)
    return [round(float(x), 7) for x in out.tolist()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lem", default=os.path.join(ROOT, ".build", "release", "lem"))
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    model, _ = load_model(__import__("pathlib").Path(MODEL))

    cache = make_prompt_cache(model)
    model(mx.array([PROMPT]), cache=cache)
    mx.eval([c.state for c in cache])
    mlx_file = os.path.join(OUT, "mlx_cache.safetensors")
    save_prompt_cache(mlx_file, cache, {"model": "gemma3_tiny-mlx4"})

    from_mlx = greedy(model, load_prompt_cache(mlx_file), CONTINUATION)
    fresh = greedy(model, make_prompt_cache(model), PROMPT + CONTINUATION)

    lem_file = os.path.join(OUT, "lem_cache.safetensors")
    subprocess.run([args.lem, "cache-prompt", "--model", MODEL, "--ids", ",".join(map(str, PROMPT)),
                    "--prompt-cache-file", lem_file], check=True, env={**os.environ, "LEM_Q8_ACTIVATIONS": "0"})
    from_lem = greedy(model, load_prompt_cache(lem_file), CONTINUATION)
    logits = {
        "mlx_cache": last_logits(model, load_prompt_cache(mlx_file), CONTINUATION),
        "lem_cache": last_logits(model, load_prompt_cache(lem_file), CONTINUATION),
        "fresh": last_logits(model, make_prompt_cache(model), PROMPT + CONTINUATION),
    }

    expected = {
        "model": "engine/gemma3_tiny-mlx4", "prompt": PROMPT, "continuation": CONTINUATION, "steps": STEPS,
        "mlx_greedy_from_mlx_cache": from_mlx, "mlx_greedy_from_lem_cache": from_lem,
        "mlx_greedy_fresh": fresh,
        "mlx_last_logits": logits,
        "note": "lem wrote lem_cache.safetensors with LEM_Q8_ACTIVATIONS=0 (the exact f32 path)",
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    spread = max(abs(a - b) for a, b in zip(logits["lem_cache"], logits["fresh"]))
    print("greedy from mlx / lem cache / fresh:", from_mlx, from_lem, fresh)
    print(f"mlx-lm logits continuing lem's file vs its fresh prefill: max |diff| {spread:.2e}")


if __name__ == "__main__":
    main()
