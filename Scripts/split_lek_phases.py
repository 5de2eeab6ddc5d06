#!/usr/bin/env python3
"""Splits the LEK training set (../shared/lem/training) into curriculum phases P0-P2.

Run (standard library only):
    python3 Scripts/split_lek_phases.py [--source ../shared/lem/training] [--out ~/.cache/lem/data/lek-phases]

The rule reads only the first user turn of each conversation and is applied in this order:
  p2-reasoning  the prompt asks to build or design something technical (design, build, implement,
                architecture, algorithm, protocol, pipeline, code, system, schema, API, encrypt);
  p1-composure  the prompt speaks in the first person or puts the model in a role (I, my, me, we,
                our, "you are", "you work", "you run") -- a person under pressure to answer;
  p0-ethics     everything else: third-person dilemmas and historical analogies.
Each phase folder gets its train.jsonl (lines copied unchanged, file order kept) and the same
valid.jsonl (the shared 20 conversations), so validation losses compare across phases.
Prints the counts per phase.
"""
import argparse
import json
import os
import re

REASONING = re.compile(
    r"\b(design|build|building|implement|architecture|algorithm|protocol|pipeline|code|system|schema|api|encrypt\w*)\b",
    re.IGNORECASE)
PERSONAL = re.compile(r"\b(i|i'm|my|me|we|our)\b|\byou (are|work|run)\b", re.IGNORECASE)


def phase(line):
    messages = json.loads(line)["messages"]
    prompt = next(m["content"] for m in messages if m["role"] == "user")
    if REASONING.search(prompt):
        return "p2-reasoning"
    if PERSONAL.search(prompt):
        return "p1-composure"
    return "p0-ethics"


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=os.path.join(here, "..", "shared", "lem", "training"))
    parser.add_argument("--out", default="~/.cache/lem/data/lek-phases")
    args = parser.parse_args()
    out = os.path.expanduser(args.out)
    with open(os.path.join(args.source, "train.jsonl"), encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    with open(os.path.join(args.source, "valid.jsonl"), encoding="utf-8") as f:
        valid = f.read()
    groups = {"p0-ethics": [], "p1-composure": [], "p2-reasoning": []}
    for line in lines:
        groups[phase(line)].append(line if line.endswith("\n") else line + "\n")
    for name, group in groups.items():
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        for file, text in (("train.jsonl", "".join(group)), ("valid.jsonl", valid)):
            tmp = os.path.join(folder, file + ".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, os.path.join(folder, file))
        print(f"{name}: {len(group)} train conversations -> {folder}")


if __name__ == "__main__":
    main()
