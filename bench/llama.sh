#!/usr/bin/env bash
# The model-level study of examples/llama (wqc-llama) on ../shared/data's
# Llama models: KL, top-1 agreement and NLL change of every quantizer of the
# sweep against whole-file bits/weight and SQNR (tables, JSON and plots), and
# tokens/s of the F32, Q4_0 and fused paths. Writes bench/results/llama-*.
# usage: bench/llama.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/wqc-llama ]] || bash scripts/build.sh build >/dev/null
out=bench/results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in ../shared/data/stories260K.safetensors ../shared/data/stories260K.bf16.safetensors; do
    [[ -f $f ]] || { echo "bench/llama.sh: $f not found (needs ../shared/data)" >&2; exit 1; }
    name=$(basename "$f" .safetensors)
    build/wqc-llama sweep "$f" --plot "$out/llama-kl-$name.svg" >"$out/llama-kl-$name.txt"
    build/wqc-llama sweep "$f" --json >"$out/llama-kl-$name.json"
    echo "$out/llama-kl-$name.txt"
done
build/wqc encode ../shared/data/stories260K.safetensors --layout gemv -o "$tmp/g.wqc" -q
build/wqc-llama bench ../shared/data/stories260K.safetensors "$tmp/g.wqc" --tokens 256 | tee "$out/llama-speed-$(hostname -s).txt"
