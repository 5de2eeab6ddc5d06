#!/usr/bin/env bash
# Compiles the C kernels that arm64 builds run (the NEON row dots, the scalar bodies, attention)
# for aarch64 with this machine's clang, with and without the dot-product extension, warnings on,
# and counts the `sdot`/`smull` instructions emitted: an arm64 build's kernels compile before
# one runs. No aarch64 sysroot is needed: x86_64 glibc headers stand in (their one 32-bit stub
# include is satisfied by an empty file); the NEON arithmetic itself is tested on x86 through
# SIMDe (Tests/LEMEngineTests/NeonKernelTests.swift).
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG="${CLANG:-$(dirname "$(command -v swift)")/clang}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/inc/gnu" && : > "$tmp/inc/gnu/stubs-32.h"
for arch in armv8-a armv8.2-a+dotprod; do
  for f in dot_neon.c dot_scalar.c attention.c; do
    "$CLANG" --target=aarch64-linux-gnu -march="$arch" -O2 -Wall -Wextra -Werror -c \
      -idirafter "$tmp/inc" -idirafter /usr/include/x86_64-linux-gnu -ISources/CLEMKernels/include \
      "Sources/CLEMKernels/$f" -o "$tmp/${f%.c}.o"
  done
  dis=$("$(dirname "$CLANG")/llvm-objdump" -d "$tmp/dot_neon.o")
  echo "$arch: compiled; dot_neon.o has $(grep -c 'sdot' <<<"$dis") sdot, $(grep -cE 'smull|smlal' <<<"$dis") smull/smlal"
done
