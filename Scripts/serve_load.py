#!/usr/bin/env python3
"""A bounded loopback load on an OpenAI-compatible server (`lem serve`, llama.cpp's server…).

Usage: serve_load.py BASE_URL [--clients N] [--seconds S] [--max-tokens T] [--stream] [--model M]

N clients each send chat completions back to back for S seconds (a request started before the
end finishes); prints one JSON line: requests, errors, p50/p99 latency (s), time to first token
for streams, aggregate completion tokens per second, and the 1-minute load average before and
after (other work on the machine skews every figure). Standard library only. Refuses any
host that is not loopback.
"""
import argparse
import json
import os
import statistics
import threading
import time
import urllib.parse
import urllib.request

PROMPTS = [
    "Name three colours.",
    "What is 7 times 8?",
    "Write one sentence about the sea.",
    "Give a synonym for happy.",
]


def one_request(base, model, prompt, max_tokens, stream):
    body = {"messages": [{"role": "user", "content": prompt}], "temperature": 0, "max_tokens": max_tokens}
    if model:
        body["model"] = model
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    request = urllib.request.Request(
        base + "/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    start = time.monotonic()
    first = None
    tokens = 0
    with urllib.request.urlopen(request, timeout=600) as response:
        if not stream:
            tokens = json.loads(response.read())["usage"]["completion_tokens"]
        else:
            for raw in response:
                line = raw.decode().strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if first is None and chunk.get("choices") and chunk["choices"][0].get("delta", {}).get("content"):
                    first = time.monotonic() - start
                if chunk.get("usage"):
                    tokens = chunk["usage"]["completion_tokens"]
    return time.monotonic() - start, first, tokens


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--model")
    args = parser.parse_args()
    host = urllib.parse.urlparse(args.base_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loopback only")
    args.clients = max(1, min(args.clients, 64))
    args.seconds = max(1.0, min(args.seconds, 600.0))

    latencies, firsts, errors, tokens = [], [], [], [0]
    lock = threading.Lock()
    end = time.monotonic() + args.seconds

    def client(index):
        n = 0
        while time.monotonic() < end:
            try:
                seconds, first, count = one_request(
                    args.base_url, args.model, PROMPTS[(index + n) % len(PROMPTS)], args.max_tokens, args.stream
                )
                with lock:
                    latencies.append(seconds)
                    if first is not None:
                        firsts.append(first)
                    tokens[0] += count
            except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    errors.append(repr(error)[:200])
            n += 1

    load_before = os.getloadavg()[0]
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started

    def pct(values, p):
        if not values:
            return None
        values = sorted(values)
        return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 3)

    print(json.dumps({
        "clients": args.clients, "seconds": round(wall, 1), "stream": args.stream, "max_tokens": args.max_tokens,
        "requests": len(latencies), "errors": len(errors), "first_errors": errors[:3],
        "requests_per_s": round(len(latencies) / wall, 3),
        "latency_p50": pct(latencies, 50), "latency_p99": pct(latencies, 99),
        "ttft_p50": pct(firsts, 50), "ttft_p99": pct(firsts, 99),
        "mean_latency": round(statistics.mean(latencies), 3) if latencies else None,
        "completion_tokens": tokens[0], "completion_tokens_per_s": round(tokens[0] / wall, 1),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }))


if __name__ == "__main__":
    main()
