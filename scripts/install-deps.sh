#!/usr/bin/env bash
# Installs the Debian packages that building and testing wqc need.
# Idempotent: packages already installed are skipped; apt-get runs only when
# something is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzstd-dev libbrotli-dev libxxhash-dev libsodium-dev libjansson-dev liblzma-dev
  libcmocka-dev python3-numpy libhtscodecs-dev brotli xz-utils zstd
)
# Optional extras: `--test` what only some tests need (chromium and
# python3-pil: rendering analyze --plot's SVGs; nodejs and npm's
# @huggingface/gguf, in ~/.cache/wqc-node: reading wqc's GGUF files with a
# reader wqc did not write), `--bench` hyperfine, `--fuzz` clang's libFuzzer,
# `--neon` the AArch64 cross compiler, qemu-user and arm64 libraries.
for extra in "$@"; do
  case $extra in
    --test) packages+=(chromium python3-pil nodejs); with_node=1 ;;
    --bench) packages+=(hyperfine) ;;
    --neon)
      neon=1
      packages+=(gcc-aarch64-linux-gnu qemu-user libc6-dev:arm64 libcmocka-dev:arm64 libzstd-dev:arm64
                 libbrotli-dev:arm64 libxxhash-dev:arm64 libsodium-dev:arm64 libjansson-dev:arm64
                 liblzma-dev:arm64) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    *) echo "install-deps: unknown option $extra" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

node_modules() {
  [[ ${with_node:-0} == 1 ]] || return 0
  local prefix=$HOME/.cache/wqc-node
  [[ -d $prefix/node_modules/@huggingface/gguf ]] && return 0
  if ! command -v npm >/dev/null; then
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm
  fi
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --silent --no-audit --no-fund @huggingface/gguf@0.4.6
}

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  node_modules
  exit 0
fi

if [[ ${neon:-0} == 1 ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  "${sudo_cmd[@]}" dpkg --add-architecture arm64
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
node_modules
