#!/usr/bin/env python3
"""Captures what `mlx_lm lora -c config.yaml` prints on stdout, for the MLXLMProgress parser tests
and the fake mlx_lm of the `lem train --backend mlx_lm` test.

Pinned versions (venv ~/.cache/lem-refs/mlx): mlx 0.32.4 (mlx[cpu]), mlx-lm 0.32.2 (rich table
output). The older sentence output ("Iter 2: Train loss ...") comes from mlx-lm 0.28.0 installed
beside it without dependencies:
    ~/.cache/lem-refs/mlx/bin/pip install --no-deps --target ~/.cache/lem-refs/mlx-lm-0.28.0 mlx-lm==0.28.0
Run: ~/.cache/lem-refs/mlx/bin/python Scripts/capture_mlx_lm_output.py
Writes Tests/Fixtures/trainer/mlx_lm_output/{mlx_lm-0.32.2.txt, mlx_lm-0.28.0.txt} (stdout as
printed into a pipe, colour codes included) on the tiny Llama fixture, 6 iterations.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "trainer", "mlx_lm_output")
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "engine", "llama3_tiny")
VENV = os.path.expanduser("~/.cache/lem-refs/mlx")
OLD = os.path.expanduser("~/.cache/lem-refs/mlx-lm-0.28.0")


def make_data(folder):
    rng = random.Random(3)
    words = "the a cat dog sat ran on under mat log sun moon quietly fast red blue".split()
    os.makedirs(folder)
    for name, count in (("train", 12), ("valid", 4)):
        with open(os.path.join(folder, f"{name}.jsonl"), "w") as f:
            for _ in range(count):
                text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 9)))
                f.write(json.dumps({"text": text}) + "\n")


def capture(command, env, work, name):
    config = os.path.join(work, f"{name}.yaml")
    with open(config, "w") as f:
        f.write(f"""model: "{MODEL}"
train: true
data: "{os.path.join(work, 'data')}"
num_layers: 2
batch_size: 2
iters: 6
steps_per_report: 2
steps_per_eval: 3
val_batches: 2
save_every: 4
adapter_path: "{os.path.join(work, name)}"
learning_rate: 1.0e-4
lora_parameters: {{rank: 4, scale: 10.0, dropout: 0.0}}
""")
    result = subprocess.run(command + ["lora", "-c", config], env=env, capture_output=True, check=True)
    # The temporary folder's name is not part of the fixture: the tests use their own paths.
    text = result.stdout.decode().replace(work, "/tmp/mlx-capture")
    with open(os.path.join(OUT, f"{name}.txt"), "w") as f:
        f.write(text)
    print(f"wrote {name}.txt ({len(text.splitlines())} lines)")


def main():
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp()
    make_data(os.path.join(work, "data"))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    capture([os.path.join(VENV, "bin", "mlx_lm")], env, work, "mlx_lm-0.32.2")
    if os.path.isdir(OLD):
        old_env = dict(env, PYTHONPATH=OLD)
        capture([os.path.join(VENV, "bin", "python"), "-m", "mlx_lm"], old_env, work, "mlx_lm-0.28.0")
    else:
        print(f"skipped mlx_lm 0.28.0: {OLD} not installed", file=sys.stderr)


if __name__ == "__main__":
    main()
