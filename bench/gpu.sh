#!/usr/bin/env bash
# Builds wqc with -DWQC_CUDA=ON, runs the GPU test (and compute-sanitizer on
# it where present), then `wqc bench --gpu` on a 4096 x 14336 matrix (chunks
# of 4096, 8192 and 16384 symbols) and on Llama-2-7B's matrices; writes
# bench/results/gpu-<device>.md. Run on a machine with an NVIDIA GPU (the
# `device` tool), from the repository root.
# usage: bench/gpu.sh [OUT_DIR]   (default bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
cmake -S . -B build-cuda -DWQC_CUDA=ON -DWQC_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-cuda -j"$(nproc)" --target test_cuda_decode wqc >/dev/null
build-cuda/src/cuda/test_cuda_decode
if command -v compute-sanitizer >/dev/null; then
    compute-sanitizer --error-exitcode 1 build-cuda/src/cuda/test_cuda_decode >/dev/null && echo "compute-sanitizer: clean"
fi
device=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr ' ' '-' | tr -cd 'A-Za-z0-9-')
mkdir -p "$out"
{
    build-cuda/wqc bench --gpu --repeat 11
    echo
    for chunk in 8192 16384; do
        echo "# The same matrix with chunks of $chunk symbols"
        build-cuda/wqc bench --gpu --repeat 11 --chunk $chunk | sed -n '/^## /,$p'
        echo
    done
    echo
    build-cuda/wqc bench --gpu --model llama-7b --repeat 5 | sed -n '/^`/,$p'
} | tee "$out/gpu-$device.md"
