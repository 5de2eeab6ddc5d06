#!/usr/bin/env python3
"""Writes the local lm-evaluation-harness task data from ../shared/lem's benchmark files.

Usage: make_data.py [--lem-data ../shared/lem] [--limit 10]

Writes `Scripts/lmeval/data/truthfulqa_mc.jsonl` (the question, the best answer first, then up
to three incorrect answers: a multiple-choice task whose target is choice 0) and
`Scripts/lmeval/data/gsm8k.jsonl` (question, worked answer ending `#### N` as in the harness's
gsm8k), the first LIMIT items of each in key order — the items `lem bench run --limit LIMIT`
answers. The data is not committed (it belongs to the LEM repository); the task YAMLs beside
this script read it.
"""
import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def read(path, limit):
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return sorted(rows, key=lambda r: r["id"])[:limit]


def write(name, rows):
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    path = os.path.join(HERE, "data", name)
    with open(path + ".tmp", "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    os.replace(path + ".tmp", path)
    print(f"{path}: {len(rows)} items")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lem-data", default=os.path.join(HERE, "..", "..", "..", "shared", "lem"))
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args()
    benchmarks = os.path.join(args.lem_data, "benchmarks")
    write("truthfulqa_mc.jsonl", [
        {"id": r["id"], "question": r["question"], "choices": [r["best_answer"]] + r["incorrect_answers"][:3]}
        for r in read(os.path.join(benchmarks, "truthfulqa.jsonl"), args.limit)
    ])
    write("gsm8k.jsonl", [
        {"id": r["id"], "question": r["question"], "answer": r["answer_cot"]}
        for r in read(os.path.join(benchmarks, "gsm8k.jsonl"), args.limit)
    ])


if __name__ == "__main__":
    main()
