#!/usr/bin/env bash
# The whole test suite: installs what the tests need (system packages, the two default models),
# builds in release mode failing on any compiler warning in the project's own code, then runs
# every test optimised (numeric tests on real models are 10-100x slower unoptimised).
set -euo pipefail
cd "$(dirname "$0")/.."
LEM_SETUP_TESTS=1 bash Scripts/setup.sh

# The code stays formatted with the repository's .swift-format (STYLE.md): any finding fails.
if ! swift format lint --strict -r -p Sources Tests Fuzz/Sources Package.swift; then
  echo "test.sh: run 'swift format -i -r -p Sources Tests Fuzz/Sources Package.swift' and commit" >&2
  exit 1
fi

log=$(mktemp)
swift build -c release 2>&1 | tee "$log" | grep -E 'error:|warning:|Compiling|Build complete' | grep -vE '^\[[0-9]+/[0-9]+\] Compiling' || true
if grep -E "^$(pwd)/(Sources|Tests)/.*(warning|error):" "$log" >/dev/null; then
  echo "test.sh: the release build has warnings or errors in the project's code:" >&2
  grep -E "^$(pwd)/(Sources|Tests)/.*(warning|error):" "$log" >&2
  exit 1
fi
grep -q 'Build complete' "$log" || { tail -40 "$log" >&2; exit 1; }

out=$(mktemp)
set +e
swift test -c release -Xswiftc -enable-testing "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
# One plain closing line for whoever reads the log: Swift Testing's per-test results counted.
passed=$(grep -E '^✔ Test .* passed' "$out" | grep -vc 'Test run with' || true)
failed=$(grep -cE '^✘ Test .* failed' "$out" || true)
skipped=$(grep -cE '^➜ Test .* skipped' "$out" || true)
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
