#!/usr/bin/env bash
# Fuzzes one parser (or all) for SECONDS each:
#   bash Scripts/fuzz.sh TARGET|all SECONDS [libfuzzer|mutate]
# Targets: gguf safetensors config tokenizer jinja jsonl yaml judge.
# libfuzzer (default): coverage-guided, `swift build --sanitize=fuzzer` of the Fuzz/ package;
# the growing corpus and crash reproducers go to Fuzz/.build/work/TARGET/. mutate: the package's
# own seeded mutation harness (no libFuzzer). Seeds: Fuzz/Corpus/TARGET (Scripts/fuzz_corpus.py).
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
# File-based targets write each input to a scratch file: keep it in memory where possible.
[ -d /dev/shm ] && export TMPDIR=/dev/shm
# Swift's own crash backtracer would take the signal before libFuzzer could save the input.
export SWIFT_BACKTRACE=enable=no
target=${1:?target or all}; seconds=${2:?seconds}; engine=${3:-libfuzzer}
targets=$target
[ "$target" = all ] && targets="gguf safetensors config tokenizer jinja jsonl yaml judge"
if [ "$engine" = libfuzzer ]; then
  swift build -c release --sanitize=fuzzer --product lem-fuzz --scratch-path .build/libfuzzer >/dev/null
else
  swift build -c release --product lem-mutate --scratch-path .build/mutate >/dev/null
fi
for t in $targets; do
  work=.build/work/$t
  mkdir -p "$work/corpus"
  echo "== $t ($engine, ${seconds}s)"
  if [ "$engine" = libfuzzer ]; then
    LEM_FUZZ_TARGET=$t .build/libfuzzer/release/lem-fuzz "$work/corpus" "Corpus/$t" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
      -artifact_prefix="$work/" -print_final_stats=1 2>&1 | grep -E 'stat::number_of_executed_units|Done|ERROR|SUMMARY|crash-|timeout-|oom-' || true
  else
    .build/mutate/release/lem-mutate "$t" "$seconds" "Corpus/$t" "$work"
  fi
done
