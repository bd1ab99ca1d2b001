#!/usr/bin/env bash
# Builds wqc with -DWQC_CUDA=ON, runs the GPU test (and compute-sanitizer on
# it where present) and the benchmark at two chunk lengths; writes
# bench/results/gpu-<device>.md. Run on a machine with an NVIDIA GPU (the
# `device` tool), from the repository root.
# usage: bench/gpu.sh [OUT_DIR]   (default bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
cmake -S . -B build-cuda -DWQC_CUDA=ON -DWQC_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-cuda -j"$(nproc)" --target test_cuda_decode wqc_gpu_bench >/dev/null
build-cuda/src/cuda/test_cuda_decode
if command -v compute-sanitizer >/dev/null; then
    compute-sanitizer --error-exitcode 1 build-cuda/src/cuda/test_cuda_decode >/dev/null && echo "compute-sanitizer: clean"
fi
device=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr ' ' '-' | tr -cd 'A-Za-z0-9-')
mkdir -p "$out"
{
    build-cuda/src/cuda/wqc_gpu_bench 4096 14336 4096
    echo
    echo "The same matrix with chunks of 16384 symbols:"
    echo
    build-cuda/src/cuda/wqc_gpu_bench 4096 14336 16384 | sed -n '/^|/,$p'
    echo
    echo "The .wqc load uploads its payload from pageable host memory, the F16 load from pinned memory."
} | tee "$out/gpu-$device.md"
