#!/usr/bin/env python3
"""Compares lm-evaluation-harness samples with lem's own answers and scores, item by item.

Usage:
  compare.py gsm8k SAMPLES.jsonl --db DB --model NAME
      lm-eval's `lem_gsm8k_chat` samples (`--log_samples`) against the answers `lem bench run`
      stored for NAME and lem's scorers `gsm8k-lmeval-strict` / `gsm8k-lmeval-flexible`: the
      same text per item (whitespace-trimmed, as lem stores it), the same extracted answer and
      the same 0/1 per filter.
  compare.py mc SAMPLES.jsonl REFERENCE_SAMPLES.jsonl [--tol 0.05]
      two runs of `lem_truthfulqa_mc` (e.g. local-completions on `lem serve` and the `hf`
      backend on the same weights): the per-choice log-likelihoods' largest difference, and
      the items whose chosen answer (acc) differs.

Prints one JSON line; exits 1 when anything differs (mc: beyond --tol).
"""
import argparse
import json
import sqlite3
import sys


def samples(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def gsm8k(args):
    with sqlite3.connect(f"file:{args.db}?mode=ro", uri=True) as connection:
        run = connection.execute(
            "SELECT run.id FROM run JOIN model ON model.id = run.model_id WHERE model.name = ? "
            "AND run.benchmark = 'gsm8k' ORDER BY run.id DESC LIMIT 1", (args.model,)).fetchone()
        if run is None:
            raise SystemExit(f"{args.db}: no gsm8k run for model `{args.model}`")
        rows = connection.execute(
            """
            SELECT item.key, response.text, score.scorer, score.value, score.reasoning FROM response
            JOIN item ON item.id = response.item_id
            LEFT JOIN score ON score.response_id = response.id AND score.dimension = 'correct'
            WHERE response.run_id = ?
            """, (run[0],)).fetchall()
    lem_text, lem_score, lem_extracted = {}, {}, {}
    for key, text, scorer, value, reasoning in rows:
        lem_text[key] = text
        if scorer is not None:
            lem_score[(key, scorer)] = value
            # "extracted=X expected=Y"; lem writes `none` where the harness writes `[invalid]`.
            extracted = (reasoning or "").removeprefix("extracted=").rsplit(" expected=", 1)[0]
            lem_extracted[(key, scorer)] = "[invalid]" if extracted == "none" else extracted
    filters = {"strict-match": "gsm8k-lmeval-strict", "flexible-extract": "gsm8k-lmeval-flexible"}
    report = {"items": 0, "text_equal": 0, "text_differs": [], "score_differs": [], "extracted_differs": [],
              "lmeval": {f: 0 for f in filters}, "lem": {s: 0 for s in filters.values()}}
    seen = set()
    for sample in samples(args.samples):
        key = sample["doc"]["id"]
        scorer = filters[sample["filter"]]
        if key not in seen:
            seen.add(key)
            report["items"] += 1
            text = sample["resps"][0][0].strip()
            if lem_text.get(key) == text:
                report["text_equal"] += 1
            else:
                report["text_differs"].append(key)
        theirs = sample["exact_match"]
        ours = lem_score.get((key, scorer))
        report["lmeval"][sample["filter"]] += theirs
        report["lem"][scorer] += ours or 0
        if ours is None or float(ours) != float(theirs):
            report["score_differs"].append([key, sample["filter"], theirs, ours])
        if sample["filtered_resps"][0] != lem_extracted.get((key, scorer)):
            report["extracted_differs"].append(
                [key, sample["filter"], sample["filtered_resps"][0], lem_extracted.get((key, scorer))])
    print(json.dumps(report))
    return 0 if not (report["text_differs"] or report["score_differs"] or report["extracted_differs"]) else 1


def mc(args):
    def by_id(path):
        out = {}
        for sample in samples(path):
            out[sample["doc"]["id"]] = ([float(r[0]) for r in sample["filtered_resps"]], sample["acc"])
        return out

    a, b = by_id(args.samples), by_id(args.reference)
    if set(a) != set(b):
        raise SystemExit(f"the two runs cover different items: {sorted(set(a) ^ set(b))}")
    largest, where, choice_differs = 0.0, None, []
    for key in sorted(a):
        (la, acc_a), (lb, acc_b) = a[key], b[key]
        for i, (x, y) in enumerate(zip(la, lb)):
            if abs(x - y) > largest:
                largest, where = abs(x - y), [key, i]
        pick_a = max(range(len(la)), key=lambda i: la[i])
        pick_b = max(range(len(lb)), key=lambda i: lb[i])
        if pick_a != pick_b or acc_a != acc_b:
            choice_differs.append(key)
    report = {"items": len(a), "acc": sum(v[1] for v in a.values()) / len(a),
              "reference_acc": sum(v[1] for v in b.values()) / len(b),
              "max_abs_loglikelihood_diff": largest, "at": where, "choice_differs": choice_differs}
    print(json.dumps(report))
    return 0 if largest <= args.tol and not choice_differs else 1


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    g = sub.add_parser("gsm8k")
    g.add_argument("samples")
    g.add_argument("--db", required=True)
    g.add_argument("--model", required=True)
    m = sub.add_parser("mc")
    m.add_argument("samples")
    m.add_argument("reference")
    m.add_argument("--tol", type=float, default=0.05)
    args = parser.parse_args()
    return gsm8k(args) if args.what == "gsm8k" else mc(args)


if __name__ == "__main__":
    sys.exit(main())
