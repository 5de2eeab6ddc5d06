#!/usr/bin/env python3
"""Prefill GFLOP/s of a 512-token prompt as a share of OpenBLAS sgemm at the model's shape
(issue 4's prefill target), each prefill run between two sgemm runs so machine drift hits both.

    python3 Scripts/prefill_share.py [--repeats 3] [--lem .build/release/lem]

FLOPs per token = 2 x the model's non-embedding linear weights (attention not counted). Uses the
two default models and the synthetic 1B Q4_0 (Scripts/make_synthetic_gemma1b.py) when present.
"""
import argparse, json, os, subprocess

HOME = os.path.expanduser("~/.cache/lem")
# name, file, sgemm shape (tokens x in x out of the model's widest common product), GFLOP per token
MODELS = [
    ("SmolLM2-135M Q4_1", HOME + "/models/SmolLM2-135M-Instruct.Q4_1.gguf", "512x576x1536", 2 * 30 * 3_538_944 / 1e9),
    ("Gemma 3 270M Q4_K_M", HOME + "/models/gemma-3-270m-q4_k_m.gguf", "512x640x2048", 2 * 18 * 5_570_560 / 1e9),
    ("synthetic 1B Q4_0", HOME + "/synthetic/gemma3-1b-q4_0.gguf", "512x1152x6912", 2 * 26 * 26_836_992 / 1e9),
]


def last_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lem", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "lem"))
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    sgemm = lambda: last_json([args.lem, "bench-speed", "--sgemm", "--threads", "2", "--json"])["sgemm_gflops"]
    for _ in range(args.repeats):
        for name, path, shape, gflop in MODELS:
            if not os.path.exists(path):
                print(f"{name}: {path} missing, skipped")
                continue
            before = sgemm()[shape]
            run = last_json([args.lem, "bench-speed", "--model", path, "--threads", "2", "--prompt-tokens", "512",
                             "--gen-tokens", "2", "--runs", "1", "--json"])
            after = sgemm()[shape]
            rate = run["prompt_tokens_per_s"] * gflop
            print(f"{name}: prefill {run['prompt_tokens_per_s']:.1f} tok/s = {rate:.1f} GFLOP/s; sgemm {shape} "
                  f"{before:.1f} / {after:.1f}; share {100 * rate / ((before + after) / 2):.0f} %", flush=True)


if __name__ == "__main__":
    main()
