#!/usr/bin/env bash
# Builds wqc with -DWQC_CUDA=ON, runs the GPU tests (and compute-sanitizer on
# them where it works), then `wqc bench --gpu` on a 4096 x 14336 matrix
# (chunks of 4096 and 16384 symbols) and on Llama-2-7B's matrices: decode
# against a pure write, lossless BF16 decode, products, and the load table
# (every file kind through the library's loader). With pylm-22M at hand
# (../shared/data/pylm-22M, or .devdata/pylm-22M on the device): its
# safetensors, lossless .wqc and quantized .wqc loaded into GPU memory, and
# tests/cuda/torch_load_check.py (torch and transformers on the GPU-loaded
# weights). Writes bench/results/gpu-<device>.md. Run on a machine with an
# NVIDIA GPU (the `device` tool: carry .devlibs and .devdata), from the
# repository root.
# usage: bench/gpu.sh [OUT_DIR]   (default bench/results; WQC_GPU_QUICK=1 leaves out
# the second chunk size)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
mkdir -p "$out"
if ! pkg-config --exists jansson 2>/dev/null && [[ -d .devlibs ]]; then source scripts/device-env.sh; fi
b=build-cuda
build() {
    cmake -S . -B $b -DWQC_CUDA=ON -DCMAKE_BUILD_TYPE=Release -DWQC_WERROR=ON -DWQC_BUILD_TESTS=OFF &&
        cmake --build $b -j"$(nproc)" --target wqc wqc_shared wqc_cuda_shared test_cuda_decode test_cuda_load
}
build >"$out/build.log" 2>&1 || { echo "build failed:"; grep -m 20 -E 'error|Error' "$out/build.log"; exit 1; }
failed=0
for t in test_cuda_decode test_cuda_load; do
    $b/src/cuda/$t >"$out/$t.log" 2>&1 || { failed=1; echo "FAILED: $t"; tail -20 "$out/$t.log"; }
    if command -v compute-sanitizer >/dev/null; then
        if compute-sanitizer --error-exitcode 1 $b/src/cuda/$t >"$out/$t.sanitizer.log" 2>&1; then
            echo "compute-sanitizer $t: clean"
        else
            echo "compute-sanitizer $t: failed (see $t.sanitizer.log)"
            tail -5 "$out/$t.sanitizer.log"
        fi
    fi
done
device=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr ' ' '-' | tr -cd 'A-Za-z0-9-')
pylm=
for d in ../shared/data/pylm-22M .devdata/pylm-22M; do [[ -f $d/model.safetensors ]] && pylm=$d && break; done
md="$out/gpu-$device.md"
{
    $b/wqc bench --gpu --repeat 11
    if [[ -z ${WQC_GPU_QUICK:-} ]]; then
        echo
        echo "# The same matrix with chunks of 16384 symbols"
        $b/wqc bench --gpu --repeat 11 --chunk 16384 | sed -n '/^## /,$p'
    fi
    if [[ -n $pylm ]]; then
        echo
        echo "# pylm-22M (BF16, 57 tensors) into GPU memory"
        echo
        echo 'Its safetensors; `wqc encode --lossless --chunk 16384` of it; `wqc encode --chunk 4096` of it (4-bit, dequantized to BF16 on the GPU).'
        echo
        $b/wqc encode --lossless --chunk 16384 "$pylm/model.safetensors" -o /tmp/pylm-l.wqc -q -f
        $b/wqc encode --chunk 4096 "$pylm/model.safetensors" -o /tmp/pylm-q.wqc -q -f
        for f in "$pylm/model.safetensors" /tmp/pylm-l.wqc /tmp/pylm-q.wqc; do
            if [[ $f == */model.safetensors ]]; then $b/wqc bench --gpu "$f" --repeat 21 | sed -n '/^Each file/,$p'
            else $b/wqc bench --gpu "$f" --repeat 21 | sed -n '/^|/p' | tail -1; fi
        done
    fi
} | tee "$md"
if [[ -n $pylm ]]; then
    PYTHONPATH=python WQC_LIBRARY=$b/libwqc.so WQC_CUDA_LIBRARY=$b/src/cuda/libwqc_cuda.so \
        python3 tests/cuda/torch_load_check.py "$pylm" /tmp/pylm-l.wqc /tmp/pylm-q.wqc --json "$out/torch-load-$device.json" \
        | tee "$out/torch-load-$device.txt" || failed=1
fi
{ echo; $b/wqc bench --gpu --model llama-7b --repeat 5 | sed -n '/^`/,$p'; } | tee -a "$md"
{
    echo
    echo "The same, loaded as before units and segment checks (WQC_LOAD_WHOLE=1 WQC_SEGMENT_CHECKS=0: one worker per tensor, each record checked whole):"
    WQC_LOAD_WHOLE=1 WQC_SEGMENT_CHECKS=0 $b/wqc bench --gpu --model llama-7b --repeat 5 | sed -n '/^|/,$p'
} | tee -a "$md"
exit $failed
