#!/usr/bin/env python3
"""Side-by-side speed of `lem bench-speed` and llama.cpp on the same GGUF (issue 4).

Both engines get the same prompt (the same cycle of token ids: id(i) = base + (i*37) mod span,
base = min(100, V/4), span = min(V - base, 20000) — see LEMEngine SpeedBenchmark.promptIds), the
same thread count, prompt length and number of generated tokens, and the same method:
  - prefill: the whole prompt in batches of 512 tokens (llama.cpp's n_batch / our prefill chunk);
    time to first token = prefill + the argmax that picks the first token;
  - generation: --gen-tokens single-token forward passes, each followed by a greedy argmax fed
    back (EOS ignored), KV cache emptied before every run;
  - times are WALL CLOCK around the forward calls on both sides (llama.cpp's own
    llama_perf_context figures are recorded in the JSON as a cross-check, not used for ratios);
  - runs ALTERNATE: lem, llama.cpp, lem, llama.cpp, ...; medians are compared.
lem runs as a subprocess per run (`--runs 1 --json`, its untimed warm-up token each time);
llama.cpp is loaded once in this process and gets one untimed warm-up token too. Peak RSS for
llama.cpp is this Python process's VmHWM (includes the interpreter, ~30 MB).

Setup (llama-cpp-python 0.3.36 from the sdist, using the prebuilt libllama.so, no compile):
  python3 -m venv ~/.cache/lem-refs/perf
  ~/.cache/lem-refs/perf/bin/pip install numpy==2.4.6 gguf==0.19.0 typing-extensions diskcache jinja2
  echo ~/.cache/lem-refs/src/llama-cpp-python > ~/.cache/lem-refs/perf/lib/python3.11/site-packages/llama_cpp_src.pth
  export LLAMA_CPP_LIB_PATH=~/.cache/lem-refs/work/lcpplib   (the default below)
Run:
  ~/.cache/lem-refs/perf/bin/python Scripts/bench_llamacpp.py --model ~/.cache/lem/models/SmolLM2-135M-Instruct.Q4_1.gguf \
      --threads 2 --prompt-tokens 128 --gen-tokens 64 --runs 3 [--lem-model DIR] [--json out.json]
--lem-model lets lem read another file of the same model (e.g. the MLX 4-bit synthetic) while
llama.cpp reads --model.
"""
import argparse, json, os, statistics, subprocess, sys, time

DEFAULT_LIB = os.path.expanduser("~/.cache/lem-refs/work/lcpplib")
os.environ.setdefault("LLAMA_CPP_LIB_PATH", DEFAULT_LIB)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def prompt_ids(count, vocab):
    base = min(100, vocab // 4)
    span = max(1, min(vocab - base, 20000))
    return [base + (i * 37) % span for i in range(count)]


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class LlamaCpp:
    """llama.cpp through llama-cpp-python's Llama class, greedy decode by argmax over the logits."""

    def __init__(self, path, threads, prompt_tokens, gen_tokens):
        import numpy as np
        import llama_cpp

        self.np, self.lib = np, llama_cpp
        self.llm = llama_cpp.Llama(
            model_path=path, n_ctx=prompt_tokens + gen_tokens + 16, n_batch=512, n_ubatch=512,
            n_threads=threads, n_threads_batch=threads, logits_all=False, verbose=False)
        self.vocab = self.llm.n_vocab()
        self.prompt = prompt_ids(prompt_tokens, self.vocab)
        self.gen_tokens = gen_tokens
        self.llm.reset()
        self.llm.eval([self.prompt[0]])  # warm-up: pages the weights in

    def argmax(self):
        logits = self.lib.llama_get_logits_ith(self.llm._ctx.ctx, -1)
        return int(self.np.ctypeslib.as_array(logits, shape=(self.vocab,)).argmax())

    def run(self):
        llm = self.llm
        llm.reset()
        self.lib.llama_perf_context_reset(llm._ctx.ctx)
        start = time.perf_counter()
        llm.eval(self.prompt)
        prefill_done = time.perf_counter()
        token = self.argmax()
        first = time.perf_counter()
        generated = []
        for _ in range(self.gen_tokens):
            llm.eval([token])
            token = self.argmax()
            generated.append(token)
        end = time.perf_counter()
        perf = self.lib.llama_perf_context(llm._ctx.ctx)
        n = len(self.prompt)
        return {
            "prompt_tokens_per_s": n / (prefill_done - start),
            "gen_tokens_per_s": self.gen_tokens / (end - first) if self.gen_tokens else 0.0,
            "ttft_ms": (first - start) * 1000,
            "peak_rss_mb": peak_rss_mb(),
            "llama_perf": {"t_p_eval_ms": perf.t_p_eval_ms, "n_p_eval": perf.n_p_eval,
                           "t_eval_ms": perf.t_eval_ms, "n_eval": perf.n_eval},
        }


def run_lem(lem, model, args):
    cmd = [lem, "bench-speed", "--model", model, "--prompt-tokens", str(args.prompt_tokens),
           "--gen-tokens", str(args.gen_tokens), "--threads", str(args.threads), "--runs", "1", "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


KEYS = [("prompt_tokens_per_s", "prompt tok/s"), ("gen_tokens_per_s", "generation tok/s"),
        ("ttft_ms", "time to first token ms"), ("peak_rss_mb", "peak RSS MiB")]


def main():
    p = argparse.ArgumentParser(description="lem bench-speed vs llama.cpp, alternating runs")
    p.add_argument("--model", required=True, help="GGUF file both engines read")
    p.add_argument("--lem-model", help="what lem reads instead (same model, another format)")
    p.add_argument("--lem", default=os.path.join(REPO, ".build", "release", "lem"), help="lem binary")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--gen-tokens", type=int, default=64)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", help="write all runs and medians to this file")
    args = p.parse_args()
    model = os.path.expanduser(args.model)
    lem_model = os.path.expanduser(args.lem_model or args.model)
    if not os.path.exists(args.lem):
        sys.exit(f"{args.lem} not found: build it with `swift build -c release`")

    theirs_engine = LlamaCpp(model, args.threads, args.prompt_tokens, args.gen_tokens)
    ours, theirs = [], []
    for i in range(args.runs):
        ours.append(run_lem(args.lem, lem_model, args))
        theirs.append(theirs_engine.run())
        print(f"run {i + 1}: lem gen {ours[-1]['gen_tokens_per_s']:.1f} tok/s, "
              f"llama.cpp gen {theirs[-1]['gen_tokens_per_s']:.1f} tok/s", file=sys.stderr)

    med = lambda runs, k: statistics.median(r[k] for r in runs)
    print(f"model {model}" + (f" (lem: {lem_model})" if lem_model != model else ""))
    print(f"threads {args.threads}, prompt {args.prompt_tokens} tokens, generate {args.gen_tokens}, "
          f"median of {args.runs} alternating runs, wall clock")
    print(f"{'':24s} {'lem':>10s} {'llama.cpp':>10s} {'lem/llama':>10s}")
    summary = {}
    for key, label in KEYS:
        a, b = med(ours, key), med(theirs, key)
        summary[key] = {"lem": a, "llama_cpp": b, "ratio": a / b if b else None}
        print(f"{label:24s} {a:10.1f} {b:10.1f} {a / b if b else float('nan'):10.2f}")
    if args.json:
        result = {"model": model, "lem_model": lem_model, "threads": args.threads,
                  "prompt_tokens": args.prompt_tokens, "gen_tokens": args.gen_tokens,
                  "median": summary, "lem_runs": ours, "llama_cpp_runs": theirs}
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=2)
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
