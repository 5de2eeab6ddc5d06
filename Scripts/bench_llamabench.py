#!/usr/bin/env python3
"""lem bench-speed beside llama.cpp's own llama-bench on the same GGUF (issue 21).

llama-bench is the speed peer: built natively from the llama.cpp that llama-cpp-python vendors
(REFERENCES.md: `cmake -DGGML_NATIVE=ON`, target llama-bench), not a Python loop. Each round runs
lem once, then llama-bench once (`-r 1`), and the order flips every round so drifting load hits
both; medians over the rounds and their ratios are printed (and written with --json).

Both measure prompt processing of --prompt-tokens tokens (one batch, tokens/s) and generation of
--gen-tokens tokens one at a time (tokens/s) from a fresh cache, with --threads threads:
  lem:         lem bench-speed --model M --threads T --prompt-tokens P --gen-tokens N --runs 1 --json
  llama-bench: llama-bench -m M -t T -p P -n N -r 1 -o json
(llama-bench times pp and tg as separate tests; lem's generation follows its prefill.)

  python3 Scripts/bench_llamabench.py --lem .build/release/lem --llama-bench /work/refs/llama-build/bin/llama-bench \
      --model ~/.cache/lem/models/SmolLM2-135M-Instruct.Q4_1.gguf --threads 2 --prompt-tokens 128 --gen-tokens 64 --rounds 3
Extra environment for lem (A/B runs): --lem-env LEM_VNNI=0 (repeatable).
"""
import argparse, json, os, statistics, subprocess, sys


def run_lem(args):
    env = dict(os.environ)
    for item in args.lem_env:
        key, _, value = item.partition("=")
        env[key] = value
    out = subprocess.run(
        [args.lem, "bench-speed", "--model", args.model, "--threads", str(args.threads), "--prompt-tokens",
         str(args.prompt_tokens), "--gen-tokens", str(args.gen_tokens), "--runs", "1", "--json"],
        check=True, capture_output=True, text=True, env=env).stdout
    report = json.loads(out)
    return report["prompt_tokens_per_s"], report["gen_tokens_per_s"], report.get("options", {}).get("kernels")


def run_llama(args):
    out = subprocess.run(
        [args.llama_bench, "-m", args.model, "-t", str(args.threads), "-p", str(args.prompt_tokens), "-n",
         str(args.gen_tokens), "-r", "1", "-o", "json"],
        check=True, capture_output=True, text=True).stdout
    tests = json.loads(out)
    pp = next(t["avg_ts"] for t in tests if t["n_prompt"] > 0 and t["n_gen"] == 0)
    tg = next(t["avg_ts"] for t in tests if t["n_gen"] > 0 and t["n_prompt"] == 0)
    return pp, tg, tests[0].get("cpu_info", "")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lem", default=".build/release/lem")
    p.add_argument("--llama-bench", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--gen-tokens", type=int, default=64)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--lem-env", action="append", default=[])
    p.add_argument("--json")
    args = p.parse_args()
    lem, llama = [], []
    kernels = cpu = None
    for r in range(args.rounds):
        order = [("lem", run_lem), ("llama", run_llama)]
        if r % 2:
            order.reverse()
        for name, fn in order:
            pp, tg, info = fn(args)
            (lem if name == "lem" else llama).append((pp, tg))
            if name == "lem":
                kernels = info
            else:
                cpu = info
            print(f"round {r + 1} {name:5}: prompt {pp:8.1f} tok/s, gen {tg:7.1f} tok/s", file=sys.stderr)
    med = lambda rows, i: statistics.median(x[i] for x in rows)
    result = {
        "model": os.path.basename(args.model), "threads": args.threads, "prompt_tokens": args.prompt_tokens,
        "gen_tokens": args.gen_tokens, "rounds": args.rounds, "lem_kernels": kernels, "cpu": cpu,
        "lem_env": args.lem_env,
        "lem": {"prompt": med(lem, 0), "gen": med(lem, 1), "runs": lem},
        "llama_bench": {"prompt": med(llama, 0), "gen": med(llama, 1), "runs": llama},
    }
    result["prompt_ratio"] = result["lem"]["prompt"] / result["llama_bench"]["prompt"]
    result["gen_ratio"] = result["lem"]["gen"] / result["llama_bench"]["gen"]
    print(f"{result['model']}: lem {result['lem']['prompt']:.1f} / {result['lem']['gen']:.1f} tok/s "
          f"({kernels}), llama-bench {result['llama_bench']['prompt']:.1f} / {result['llama_bench']['gen']:.1f}; "
          f"ratio prompt {result['prompt_ratio']:.2f}, gen {result['gen_ratio']:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
