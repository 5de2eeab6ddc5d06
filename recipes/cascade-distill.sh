#!/usr/bin/env bash
# Cascaded distillation on the two default models (docs/DATA.md): model A's distilled adapter
# becomes the teacher of model B.
#   stage 1  teacher T = Gemma 3 270M + a curriculum adapter, shown the kernel (sandwich), answers
#            the seed prompts; A = SmolLM2-135M learns the bare prompt -> answer pairs;
#   stage 2  A + its adapter answers the same prompts bare (no kernel: "bare distillation at
#            runtime"); B = the Gemma 3 270M base learns from A.
# Usage: bash recipes/cascade-distill.sh TEACHER_ADAPTER [WORK_DIR]
#   TEACHER_ADAPTER: e.g. the folder `lem train --curriculum recipes/gemma3-270m-lek-curriculum-small.yaml` wrote.
# Sizes are for a two-core CPU (a few minutes); raise PROMPTS, ITERS and TOKENS for a real run.
set -euo pipefail
teacher_adapter=${1:?teacher adapter folder}
work=${2:-/tmp/lem-cascade}
lem=${LEM:-lem}
models=${LEM_HOME:-$HOME/.cache/lem}/models
gemma=$models/gemma-3-270m-q4_k_m.gguf
smol=$models/SmolLM2-135M-Instruct.Q4_1.gguf
seeds=$(cd "$(dirname "$0")/.." && pwd)/seeds
PROMPTS=${PROMPTS:-12}; ITERS=${ITERS:-10}; TOKENS=${TOKENS:-96}
mkdir -p "$work"
# The first PROMPTS seed probes, one per line.
python3 - "$seeds" "$PROMPTS" > "$work/prompts.txt" <<'PY'
import json, os, sys
folder, n = sys.argv[1], int(sys.argv[2])
items = []
for name in sorted(os.listdir(folder)):
    if name.endswith(".json"):
        data = json.load(open(os.path.join(folder, name)))
        items += data if isinstance(data, list) else [data]
for item in items[:n]:
    print(" ".join(item["prompt"].split()))
PY
train() {  # MODEL DATA ADAPTER_DIR
  "$lem" train --model "$1" --train --data "$2" --adapter-path "$3" --iters "$ITERS" --batch-size 2 \
    --num-layers 4 --learning-rate 1e-4 --mask-prompt --max-seq-length 192 --val-batches 2 \
    --steps-per-eval "$ITERS" --steps-per-report 5 --save-every "$ITERS"
}
"$lem" distill --db "$work/cascade.sqlite" --teacher "$gemma" --teacher-adapter "$teacher_adapter" \
  --kernel sandwich --prompts "$work/prompts.txt" --max-tokens "$TOKENS" --valid-fraction 0.25 --out "$work/stage1-data"
train "$smol" "$work/stage1-data" "$work/A-smollm2"
"$lem" distill --db "$work/cascade.sqlite" --teacher "$smol" --teacher-adapter "$work/A-smollm2" \
  --kernel none --prompts "$work/prompts.txt" --max-tokens "$TOKENS" --valid-fraction 0.25 --out "$work/stage2-data"
train "$gemma" "$work/stage2-data" "$work/B-gemma3"
echo "cascade: A = $work/A-smollm2, B = $work/B-gemma3"
