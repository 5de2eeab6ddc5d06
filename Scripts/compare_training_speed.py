#!/usr/bin/env python3
"""Training speed and memory of PyTorch+PEFT and mlx_lm on Gemma 3 270M, to set beside `lem train`.

Same model (the GGUF Q4_K_M base, dequantized to a float32 Hugging Face folder), same data folder,
same LoRA settings (rank, scale, layers, all seven linear modules), batch size, max sequence
length and iterations. Each tool reports tokens/s over the trained (unmasked) tokens and the
process's peak resident memory (VmHWM / ru_maxrss).

Pinned versions: torch 2.13.0+cpu, transformers 5.23.0, gguf 0.19.0, peft 0.21.2, mlx 0.32.4,
mlx-lm 0.32.2. Envs (outside the repo):
  ~/.cache/lem-refs/torch            torch + transformers + gguf (see Scripts/fixtures_gguf_hf.py)
  ~/.cache/lem-refs/trainfast/peft-site   pip install --no-deps --target ... peft==0.21.2
  ~/.cache/lem-refs/trainer          mlx[cpu] + mlx-lm
Run:
  PY=~/.cache/lem-refs/torch/bin/python
  PYTHONPATH=~/.cache/lem-refs/trainfast/peft-site $PY Scripts/compare_training_speed.py convert
  PYTHONPATH=~/.cache/lem-refs/trainfast/peft-site $PY Scripts/compare_training_speed.py torch --data DIR
  ~/.cache/lem-refs/trainer/bin/python Scripts/compare_training_speed.py mlx --data DIR
The torch side trains on the batches `lem train` draws (length-sorted groups in a seeded numpy
order, `--order lem`), so both report tokens/s over the same rows; mlx_lm 0.32 draws its own
(file-order groups), which `lem train --mlx-parity` reproduces. The mlx side preloads the system
OpenBLAS (`--mlx-blas`): with the mlx wheel's bundled reference BLAS, CPU training is far slower
(docs/PERFORMANCE.md).
The mlx side links the float32 folder into ~/.cache/lem-refs/trainverify/gemma3-270m-mlx with the
Gemma turn template added (mlx_lm needs a chat template) and passes rank/scale in a YAML config.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

MODELS = os.path.expanduser(os.environ.get("LEM_HOME", "~/.cache/lem") + "/models")
GGUF = "gemma-3-270m-q4_k_m.gguf"
HF_DIR = os.path.expanduser("~/.cache/lem-refs/trainfast/gemma3-270m-hf")


def peak_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def convert(args):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(MODELS, gguf_file=GGUF, torch_dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(MODELS, gguf_file=GGUF)
    # transformers marks a GGUF-loaded model as quantized and refuses save_pretrained: write the
    # (dequantized float32) state dict and the config ourselves.
    from safetensors.torch import save_file
    os.makedirs(HF_DIR, exist_ok=True)
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    save_file(state, os.path.join(HF_DIR, "model.safetensors"), metadata={"format": "pt"})
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.tie_word_embeddings = True
    model.config.save_pretrained(HF_DIR)
    tokenizer.save_pretrained(HF_DIR)
    # mlx_lm reads only the older Gemma 3 key names: add them beside transformers-5's.
    path = os.path.join(HF_DIR, "config.json")
    config = json.load(open(path))
    rope = config.get("rope_parameters") or {}
    config.setdefault("rope_theta", (rope.get("full_attention") or {}).get("rope_theta", 1_000_000.0))
    config.setdefault("rope_local_base_freq", (rope.get("sliding_attention") or {}).get("rope_theta", 10_000.0))
    config.setdefault("sliding_window_pattern", 6)
    json.dump(config, open(path, "w"), indent=2)
    print("wrote", HF_DIR)


def render(tokenizer, example):
    """(tokens, offset): chat rows in the Gemma turn format (the base GGUF has no template, so
    `lem` and mlx_lm fall back to this one too); offset = first token of the last model turn."""
    if "messages" in example:
        text = "<bos>"
        messages = example["messages"]
        for i, m in enumerate(messages):
            role = "model" if m["role"] == "assistant" else m["role"]
            text += f"<start_of_turn>{role}\n"
            if i == len(messages) - 1:
                offset = len(tokenizer(text, add_special_tokens=False)["input_ids"])
            text += f"{m['content']}<end_of_turn>\n"
        return tokenizer(text, add_special_tokens=False)["input_ids"], offset
    if "text" in example:
        return tokenizer(example["text"])["input_ids"], 0
    prompt = tokenizer(example["prompt"])["input_ids"]
    return tokenizer(example["prompt"] + example["completion"])["input_ids"], len(prompt)


def lem_batches(args, tokenizer, rendered):
    """The training batches `lem train` (and mlx_lm's `iterate_batches` with length sorting) visits:
    examples sorted stably by token count, cut into groups of `batch_size`, the groups visited in
    the order of a numpy permutation seeded with `seed`, so every tool trains on the same rows. `--order file` keeps the file order instead."""
    import numpy as np
    if args.order == "file":
        n = len(rendered) // args.batch_size
        return [[g * args.batch_size + i for i in range(args.batch_size)] for g in range(n)]
    def groups(lengths):
        ranked = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
        return [ranked[i: i + args.batch_size] for i in range(0, len(ranked) - args.batch_size + 1, args.batch_size)]
    valid_rows = [json.loads(l) for l in open(os.path.join(args.data, "valid.jsonl"))]
    valid_groups = groups([len(render(tokenizer, r)[0]) for r in valid_rows])
    train_groups = groups([len(t) for t, _ in rendered])
    random = np.random.RandomState(args.seed)
    # The first pass's order is drawn when the first batch is taken, before the step-1 validation
    # draws its own; later passes draw again after the validations in between.
    order = list(random.permutation(len(train_groups)))
    random.permutation(len(valid_groups))
    while len(order) < args.iters:
        order += list(random.permutation(len(train_groups)))
    return [train_groups[i] for i in order]


def run_torch(args):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    tokenizer = AutoTokenizer.from_pretrained(HF_DIR)
    model = AutoModelForCausalLM.from_pretrained(HF_DIR, torch_dtype=torch.float32, attn_implementation="eager")
    layers = model.config.num_hidden_layers
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    lora = LoraConfig(r=args.rank, lora_alpha=args.scale * args.rank, lora_dropout=0.0, target_modules=targets,
                      layers_to_transform=list(range(layers - args.num_layers, layers)), bias="none")
    model = get_peft_model(model, lora)
    if args.grad_checkpoint:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    model.train()
    rows = [json.loads(l) for l in open(os.path.join(args.data, "train.jsonl"))]
    rendered = [render(tokenizer, r) for r in rows]
    sequences = [t[: args.max_seq_length] for t, _ in rendered]
    offsets = [o if args.mask_prompt else 0 for _, o in rendered]
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.learning_rate)
    batches = lem_batches(args, tokenizer, rendered)
    total_tokens, total_time = 0, 0.0
    for it in range(args.iters):
        picked = batches[it % len(batches)]
        batch = [sequences[p] for p in picked]
        width = max(len(s) for s in batch)
        ids = torch.zeros((len(batch), width), dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        for i, (s, p) in enumerate(zip(batch, picked)):
            ids[i, : len(s)] = torch.tensor(s)
            labels[i, offsets[p]: len(s)] = torch.tensor(s[offsets[p]:])
        start = time.time()
        out = model(input_ids=ids, labels=labels)
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        elapsed = time.time() - start
        tokens = int((labels[:, 1:] != -100).sum())  # trained targets, as mlx_lm and lem count them
        if it > 0:  # the first step warms up allocators and threads
            total_tokens += tokens
            total_time += elapsed
        print(f"Iter {it + 1}: loss {out.loss.item():.3f}, {tokens} trained tokens in {elapsed:.2f} s, {tokens / elapsed:.1f} tok/s, peak {peak_mb():.0f} MB", flush=True)
    result = {"tool": "pytorch+peft", "tokens_per_sec": total_tokens / total_time, "peak_mb": peak_mb()}
    print(json.dumps(result))


# The Gemma turn format `render` writes, as a chat template for mlx_lm (the float32 copy of the
# base GGUF has none and mlx_lm, unlike lem, does not fall back to one).
GEMMA_TURNS = ("{{ bos_token }}{% for m in messages %}<start_of_turn>"
               "{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n{{ m['content'] }}<end_of_turn>\n"
               "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")


def mlx_model_dir():
    """HF_DIR's files linked into a folder whose tokenizer_config.json carries GEMMA_TURNS."""
    folder = os.path.expanduser("~/.cache/lem-refs/trainverify/gemma3-270m-mlx")
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(HF_DIR):
        link = os.path.join(folder, name)
        if name != "tokenizer_config.json" and not os.path.exists(link):
            os.symlink(os.path.join(HF_DIR, name), link)
    config = json.load(open(os.path.join(HF_DIR, "tokenizer_config.json")))
    config["chat_template"] = GEMMA_TURNS
    json.dump(config, open(os.path.join(folder, "tokenizer_config.json"), "w"), indent=2)
    return folder


# `mlx_lm lora` with a callback printing every train report as a JSON line (its console
# rounds tokens/s to an integer).
MLX_CHILD = """
import json, sys
from mlx_lm import lora
from mlx_lm.tuner.callbacks import TrainingCallback
class Report(TrainingCallback):
    def on_train_loss_report(self, info):
        print("REPORT " + json.dumps(info), flush=True)
# mlx_lm 0.32's `run` replaces any callback it is given, so wrap `train_model` instead.
original = lora.train_model
lora.train_model = lambda args, model, train_set, valid_set, training_callback=None: original(
    args, model, train_set, valid_set, Report())
sys.argv = ["mlx_lm.lora"] + sys.argv[1:]
lora.main()
"""


def run_mlx(args):
    import yaml
    work = os.path.expanduser("~/.cache/lem-refs/trainverify")
    os.makedirs(work, exist_ok=True)
    adapter = os.path.join(work, "mlx-adapter")
    config = os.path.join(work, "mlx-lora.yaml")
    with open(config, "w") as f:
        yaml.safe_dump({"lora_parameters": {"rank": args.rank, "scale": args.scale, "dropout": 0.0}, "seed": args.seed}, f)
    cmd = [sys.executable, "-c", MLX_CHILD, "-c", config, "--model", mlx_model_dir(), "--train", "--data", args.data,
           "--num-layers", str(args.num_layers), "--batch-size", str(args.batch_size), "--iters", str(args.iters),
           "--max-seq-length", str(args.max_seq_length), "--learning-rate", str(args.learning_rate),
           "--steps-per-report", str(args.steps_per_report), "--steps-per-eval", "100000", "--val-batches", "1",
           "--adapter-path", adapter]
    if args.grad_checkpoint:
        cmd.append("--grad-checkpoint")
    if args.mask_prompt:
        cmd.append("--mask-prompt")
    env = dict(os.environ)
    if args.mlx_blas != "bundled":
        # mlx's Linux wheel vendors the reference (netlib) BLAS, whose sgemm_ is a plain triple
        # loop: preloading OpenBLAS gives mlx_lm's CPU matmuls an optimised sgemm_ of the same ABI.
        env["LD_PRELOAD"] = args.mlx_blas
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    print(proc.stdout[-3000:], proc.stderr[-2000:])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    reports = [json.loads(l[len("REPORT "):]) for l in proc.stdout.splitlines() if l.startswith("REPORT ")]
    rates = [r["tokens_per_second"] for r in reports]
    peaks = [r["peak_memory"] for r in reports]
    # The first report includes the warm-up step; average the others when there are any.
    result = {"tool": "mlx_lm", "tokens_per_sec": sum(rates[1:]) / max(1, len(rates) - 1) if len(rates) > 1 else (rates or [0])[0],
              "reports_tokens_per_sec": rates, "peak_mb": children, "mlx_peak_mem_gb": max(peaks or [0]),
              "wall_s": time.time() - start, "returncode": proc.returncode, "blas": args.mlx_blas}
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["convert", "torch", "mlx"])
    parser.add_argument("--data", default="../shared/lem/training")
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps-per-report", type=int, default=2, help="mlx_lm's report interval (mlx side)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grad-checkpoint", action="store_true")
    parser.add_argument("--mlx-blas", default="/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
                        help="mlx side: a BLAS library to preload for sgemm_, or 'bundled' for the wheel's own")
    parser.add_argument("--order", choices=["lem", "file"], default="lem",
                        help="torch side: lem's (mlx_lm's length-sorted, seeded) batch order, or file order")
    parser.add_argument("--no-mask-prompt", dest="mask_prompt", action="store_false")
    args = parser.parse_args()
    {"convert": convert, "torch": run_torch, "mlx": run_mlx}[args.what](args)


if __name__ == "__main__":
    main()
