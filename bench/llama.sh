#!/usr/bin/env bash
# The model-level study of examples/llama (wqc-llama) on ../shared/data's
# models: KL, top-1 agreement and NLL change of every quantizer of the sweep
# against whole-file bits/weight and SQNR (tables, JSON and plots), and
# tokens/s of the F32, Q4_0 and fused paths.
#   pylm-22M (a working language model): on reference.json's held-out windows
#     -> bench/results/kl-pylm-22M.{txt,json,svg}
#   stories260K: on sequences it samples -> bench/results/llama-kl-stories260K*
# usage: bench/llama.sh [pylm|stories|speed]...   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/wqc-llama ]] || bash scripts/build.sh build >/dev/null
out=bench/results
data=../shared/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
need() { [[ -f $1 ]] || { echo "bench/llama.sh: $1 not found (needs ../shared/data)" >&2; exit 1; }; }
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(pylm stories speed)
for part in "${parts[@]}"; do
    case $part in
    pylm)
        need $data/pylm-22M/model.safetensors
        build/wqc-llama sweep $data/pylm-22M/model.safetensors --reference $data/pylm-22M/reference.json \
            --json-out $out/kl-pylm-22M.json --plot $out/kl-pylm-22M.svg >$out/kl-pylm-22M.txt
        echo "$out/kl-pylm-22M.txt" ;;
    stories)
        for f in $data/stories260K.safetensors $data/stories260K.bf16.safetensors; do
            need "$f"
            name=$(basename "$f" .safetensors)
            build/wqc-llama sweep "$f" --json-out "$out/llama-kl-$name.json" --plot "$out/llama-kl-$name.svg" >"$out/llama-kl-$name.txt"
            echo "$out/llama-kl-$name.txt"
        done ;;
    speed)
        # tokens/s where the weights do not fit in cache (pylm-22M: 88 MB as F32) and where they do.
        for f in $data/pylm-22M/model.safetensors $data/stories260K.safetensors; do
            need "$f"
            build/wqc encode "$f" --layout gemv -o "$tmp/g.wqc" -q -f
            build/wqc-llama bench "$f" "$tmp/g.wqc" --tokens 256
        done | tee "$out/llama-speed-$(hostname -s).txt" ;;
    *) echo "usage: bench/llama.sh [pylm|stories|speed]..." >&2; exit 2 ;;
    esac
done
