#!/usr/bin/env python3
"""Checks a `lem bench run --engine-url` run against the server that answered it (llama.cpp's
`llama-server`, a server nobody here wrote), and compares its answers with lem's own.

Usage:
  check_llamacpp_server.py --lem .build/release/lem --db DB --url http://127.0.0.1:PORT/v1 \\
      --benchmark truthfulqa --limit 20 --max-tokens 64 --run-model llama-server [--local-model lem-local]

1. `lem bench export-batch` (model name `<run-model>:recheck`, greedy, the same limit and token
   budget) writes the exact chat requests `lem bench run` sends for those items.
2. Each request is sent to the server again, one at a time; its reply (whitespace-trimmed, as
   lem stores answers) must equal the answer stored for the item in `--run-model`'s latest run.
   Any difference is a failure (exit 1): the store holds what the server said.
3. With `--local-model`, the stored server answers are compared with lem's local answers of the
   same items: equal answers counted, and for the others the first differing token (both texts
   tokenized by llama-server's `/tokenize`, the same vocabulary) — greedy decodes of two engines
   part after a near-tie, so this is a report, not a check. With `--lem-url` (a `lem serve` of the
   same model), lem's gap between its two likeliest tokens at that place is reported too.

Prints one line per item and a JSON summary last. Standard library only; loopback only. The
store gains one extra run (`<run-model>:recheck`, engine `batch:…`, no answers).
"""
import argparse
import json
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def stored_answers(db, model, benchmark):
    """Item key -> answer text of `model`'s latest run on `benchmark`."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            """
            SELECT item.key, response.text FROM response
            JOIN item ON item.id = response.item_id
            WHERE response.run_id = (
                SELECT run.id FROM run JOIN model ON model.id = run.model_id
                WHERE model.name = ? AND run.benchmark = ? ORDER BY run.id DESC LIMIT 1)
            """,
            (model, benchmark),
        ).fetchall()
    if not rows:
        raise SystemExit(f"{db}: no answers stored for model `{model}` on {benchmark}")
    return dict(rows)


def lem_margin(lem_url, llama_root, messages, common):
    """lem's log-probability gap between its two likeliest next tokens after the prompt and the
    answers' common tokens (the prompt rendered by llama-server's /apply-template — the same text
    lem renders — and the tokens decoded by its /detokenize, then sent to lem as text)."""
    prompt = post(llama_root.removesuffix("/v1") + "/apply-template", {"messages": messages})["prompt"]
    prefix = post(llama_root.removesuffix("/v1") + "/detokenize", {"tokens": common})["content"] if common else ""
    reply = post(lem_url.rstrip("/") + "/completions",
                 {"prompt": prompt + prefix, "max_tokens": 1, "temperature": 0, "logprobs": 2})
    top = sorted(reply["choices"][0]["logprobs"]["top_logprobs"][-1].values(), reverse=True)
    return top[0] - top[1] if len(top) > 1 else float("inf")


def first_difference(a, b):
    """Index of the first differing element of two sequences (their common length if one is a prefix)."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lem", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", required=True, help="the server's API root, …/v1")
    parser.add_argument("--benchmark", required=True)
    parser.add_argument("--limit", type=int, required=True)
    parser.add_argument("--max-tokens", type=int, required=True)
    parser.add_argument("--run-model", required=True, help="the model name the --engine-url run was stored under")
    parser.add_argument("--local-model", help="the model name of lem's local run of the same items")
    parser.add_argument(
        "--lem-url", help="a `lem serve` of the same model (API root): lem's top-2 margin where the answers part")
    args = parser.parse_args()
    root = args.url.rstrip("/")
    if urllib.parse.urlparse(root).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loopback only")

    served = json.loads(urllib.request.urlopen(root + "/models", timeout=30).read())["data"][0]["id"]
    export = subprocess.run(
        [args.lem, "bench", "export-batch", "--db", args.db, "--model-name", args.run_model + ":recheck",
         "--engine-model", served, "--benchmark", args.benchmark, "--limit", str(args.limit),
         "--max-tokens", str(args.max_tokens), "--temperature", "0"],
        check=True, capture_output=True, text=True)
    requests = [json.loads(line) for line in export.stdout.splitlines() if line.strip()]
    if len(requests) != args.limit:
        raise SystemExit(f"export-batch gave {len(requests)} requests, expected {args.limit} (a fresh recheck name?)")

    stored = stored_answers(args.db, args.run_model, args.benchmark)
    local = stored_answers(args.db, args.local_model, args.benchmark) if args.local_model else {}
    tokenize_url = root.removesuffix("/v1") + "/tokenize"
    summary = {"benchmark": args.benchmark, "items": len(requests), "server_equal_stored": 0, "mismatches": []}
    if args.local_model:
        summary.update({"local_equal_server": 0, "first_divergence_token": {}})
    if args.lem_url:
        summary["lem_margin_at_divergence"] = {}
    for line in requests:
        key = line["custom_id"]
        reply = post(root + "/chat/completions", line["body"])
        text = reply["choices"][0]["message"]["content"].strip()
        same = stored.get(key) == text
        summary["server_equal_stored"] += same
        if not same:
            summary["mismatches"].append(key)
        note = ""
        if args.local_model:
            if local.get(key) == stored.get(key):
                summary["local_equal_server"] += 1
                note = "local equal"
            else:
                a = post(tokenize_url, {"content": stored.get(key, "")})["tokens"]
                b = post(tokenize_url, {"content": local.get(key, "")})["tokens"]
                at = first_difference(a, b)
                summary["first_divergence_token"][key] = at
                note = f"local differs from token {at} (server {len(a)}, local {len(b)} tokens)"
                if args.lem_url and at < min(len(a), len(b)):
                    margin = lem_margin(args.lem_url, root, line["body"]["messages"], a[:at])
                    summary["lem_margin_at_divergence"][key] = margin
                    note += f"; lem's top-2 log-probability gap there {margin:.4f}"
        print(f"{key}: server {'equals' if same else 'DIFFERS from'} stored; {note}", file=sys.stderr)
    print(json.dumps(summary))
    return 0 if not summary["mismatches"] else 1


if __name__ == "__main__":
    sys.exit(main())
