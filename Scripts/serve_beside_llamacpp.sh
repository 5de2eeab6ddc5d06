#!/usr/bin/env bash
# The same streaming load on `lem serve` and on llama.cpp's `llama-server`, one after the other.
#
# Usage: Scripts/serve_beside_llamacpp.sh LEM LLAMA_SERVER MODEL.gguf [CLIENTS] [SECONDS] [MAX_TOKENS]
#   LEM           .build/release/lem
#   LLAMA_SERVER  llama.cpp's build/bin/llama-server (cmake --build build --target llama-server)
#   defaults: 32 clients, 60 s, 32 tokens; greedy; 2 threads for both.
#
# Configurations, each on its own port, started, warmed with one request, loaded with
# Scripts/serve_load.py (streaming), then stopped: `lem serve --max-batch CLIENTS`, `lem serve`
# (default batch), `llama-server -np CLIENTS -cb` (parallel slots, continuous batching, the GGUF's
# own chat template with --jinja). Prints one JSON line per configuration with its name, the
# server's CPU seconds during the load (from /proc) and completion tokens per CPU second — the
# figure least moved by other work on a shared machine — added. ORDER=llama-first runs
# llama-server first (alternate the order between rounds to cancel drift in the machine's load);
# LLAMA_ARGS adds llama-server options (e.g. "--poll 0": its threads sleep instead of spinning
# while they wait for each other, which matters when other processes share the cores).
set -euo pipefail
lem=$1 llama=$2 model=$3 clients=${4:-32} seconds=${5:-60} tokens=${6:-32}
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp -d)
server=

stop() {
    if [[ -n $server ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        server=
    fi
}
trap 'stop; rm -rf "$log"' EXIT

# wait_up PORT: until /health answers 200 (60 s at most).
wait_up() {
    for _ in $(seq 600); do
        if curl -sf "http://127.0.0.1:$1/health" >/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "server on port $1 did not come up; its log:" >&2
    cat "$log"/*.log >&2
    return 1
}

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure NAME PORT: warm up, load, print the result with NAME and the server's CPU use.
measure() {
    wait_up "$2"
    curl -sf "http://127.0.0.1:$2/v1/chat/completions" -H 'Content-Type: application/json' \
        -d '{"messages":[{"role":"user","content":"Say hi."}],"max_tokens":4,"temperature":0}' >/dev/null
    local before after
    before=$(cpu_ticks "$server")
    python3 "$here/serve_load.py" "http://127.0.0.1:$2/v1" --clients "$clients" --seconds "$seconds" \
        --max-tokens "$tokens" --stream >"$log/result.json"
    after=$(cpu_ticks "$server")
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
cpu = (int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4])
print(json.dumps({"server": sys.argv[5], **d, "server_cpu_s": round(cpu, 1),
                  "tokens_per_cpu_s": round(d["completion_tokens"] / cpu, 1) if cpu else None}))
' "$log/result.json" "$before" "$after" "$(getconf CLK_TCK)" "$1"
    stop
}

lem_batch() {
    LEM_THREADS=2 "$lem" serve --model "$model" --port 18180 --max-batch "$clients" >"$log/lem-batch.log" 2>&1 &
    server=$!
    measure "lem serve --max-batch $clients" 18180
}

lem_default() {
    LEM_THREADS=2 "$lem" serve --model "$model" --port 18181 >"$log/lem-default.log" 2>&1 &
    server=$!
    measure "lem serve (default batch)" 18181
}

llama() {
    "$llama" -m "$model" --port 18182 -t 2 -np "$clients" -cb -c $((clients * 256)) --jinja ${LLAMA_ARGS:-} \
        >"$log/llama.log" 2>&1 &
    server=$!
    measure "llama-server -np $clients -cb ${LLAMA_ARGS:-}" 18182
}

if [[ ${ORDER:-} == llama-first ]]; then
    llama
    lem_batch
    lem_default
else
    lem_batch
    lem_default
    llama
fi
