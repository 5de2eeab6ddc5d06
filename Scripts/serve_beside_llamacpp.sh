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
# own chat template with --jinja). Prints one JSON line per configuration with its name added.
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

# measure NAME PORT: warm up, load, print the result with NAME.
measure() {
    wait_up "$2"
    curl -sf "http://127.0.0.1:$2/v1/chat/completions" -H 'Content-Type: application/json' \
        -d '{"messages":[{"role":"user","content":"Say hi."}],"max_tokens":4,"temperature":0}' >/dev/null
    python3 "$here/serve_load.py" "http://127.0.0.1:$2/v1" --clients "$clients" --seconds "$seconds" \
        --max-tokens "$tokens" --stream | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({"server": sys.argv[1], **d}))' "$1"
    stop
}

LEM_THREADS=2 "$lem" serve --model "$model" --port 18180 --max-batch "$clients" >"$log/lem-batch.log" 2>&1 &
server=$!
measure "lem serve --max-batch $clients" 18180

LEM_THREADS=2 "$lem" serve --model "$model" --port 18181 >"$log/lem-default.log" 2>&1 &
server=$!
measure "lem serve (default batch)" 18181

"$llama" -m "$model" --port 18182 -t 2 -np "$clients" -cb -c $((clients * 256)) --jinja >"$log/llama.log" 2>&1 &
server=$!
measure "llama-server -np $clients -cb" 18182
