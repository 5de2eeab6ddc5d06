#!/usr/bin/env python3
"""Fixtures for LEMTrainer's optimizer, schedule and batching tests, from mlx / mlx_lm / numpy.

Pinned versions (venv ~/.cache/lem-refs/trainer): mlx 0.32.4 (mlx[cpu]), mlx-lm 0.32.2, numpy 2.4.6.
Run: ~/.cache/lem-refs/trainer/bin/python Scripts/fixtures_trainer.py
Writes Tests/Fixtures/trainer/{optimizers,numpy_permutation,batches}.json.
"""
import json
import os

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
from mlx_lm.tuner.datasets import CacheDataset
from mlx_lm.tuner.trainer import iterate_batches
from mlx_lm.tuner.utils import build_schedule

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "trainer")
os.makedirs(OUT, exist_ok=True)


def optimizer_runs():
    rng = np.random.default_rng(7)
    params0 = {"a": rng.uniform(-1, 1, 5).astype(np.float32), "b": rng.uniform(-1, 1, 3).astype(np.float32)}
    grads = [{k: rng.uniform(-1, 1, v.shape).astype(np.float32) for k, v in params0.items()} for _ in range(6)]
    schedule_cfg = {"name": "cosine_decay", "arguments": [1e-2, 4, 1e-3], "warmup": 2, "warmup_init": 1e-4}
    cases = {
        "adam": lambda lr: optim.Adam(learning_rate=lr),
        "adam_bias_correction": lambda lr: optim.Adam(learning_rate=lr, bias_correction=True),
        "adamw": lambda lr: optim.AdamW(learning_rate=lr, weight_decay=0.1),
        "sgd_nesterov": lambda lr: optim.SGD(learning_rate=lr, momentum=0.9, weight_decay=0.01, nesterov=True),
    }
    runs = []
    for name, make in cases.items():
        opt = make(build_schedule(schedule_cfg))
        params = {k: mx.array(v) for k, v in params0.items()}
        steps = []
        for g in grads:
            params = opt.apply_gradients({k: mx.array(v) for k, v in g.items()}, params)
            mx.eval(params)
            steps.append({"lr": float(opt.learning_rate.item()),
                          "a": np.array(params["a"]).tolist(), "b": np.array(params["b"]).tolist()})
        runs.append({"optimizer": name, "steps": steps})
    return {"schedule": schedule_cfg, "initial": {k: v.tolist() for k, v in params0.items()},
            "gradients": [{k: v.tolist() for k, v in g.items()} for g in grads], "runs": runs}


def permutations():
    out = []
    for seed in (0, 1, 42, 123456789):
        np.random.seed(seed)
        out.append({"seed": seed, "draws": [{"n": n, "permutation": np.random.permutation(n).tolist()}
                                             for n in (1, 2, 7, 40, 5)]})
    return out


class FakeDataset:
    """Raw items are dicts (as mlx_lm's datasets hold them); process() yields (tokens, offset)."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)

    def process(self, d):
        return (d["tokens"], d["offset"])


def batches():
    rng = np.random.default_rng(3)
    items = []
    for i in range(11):
        length = int(rng.integers(3, 70))
        item = {"tokens": [int(t) for t in rng.integers(1, 1000, length)], "offset": int(rng.integers(0, 3))}
        if i % 4 == 0:
            item["extra"] = 1  # mlx_lm sorts a CacheDataset by len(raw item): the number of keys
        items.append(item)
    np.random.seed(5)
    ds = CacheDataset(FakeDataset(items))
    out = []
    for k, (batch, lengths) in enumerate(iterate_batches(ds, batch_size=3, max_seq_length=48, loop=True)):
        out.append({"batch": np.array(batch).tolist(), "lengths": np.array(lengths).tolist()})
        if k == 7:
            break
    return {"items": items, "seed": 5, "batch_size": 3, "max_seq_length": 48, "batches": out}


def dump(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


dump("optimizers.json", optimizer_runs())
dump("numpy_permutation.json", permutations())
dump("batches.json", batches())
print("wrote", OUT)
