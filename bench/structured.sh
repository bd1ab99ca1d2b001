#!/usr/bin/env bash
# Per tensor, wqc against brotli -q 11 -w 24, xz -9e and zstd -19 --long=27 of
# the same bytes (tests/support/per_tensor_peers.py): the structured tensors
# of tests/support/structured_tensors.py (F32 and BF16, full size) and the
# shared models, quantized (default affine 4-bit row) and lossless. Writes
# bench/results/structured-<machine>.md.
# usage: bench/structured.sh [WQC]
set -euo pipefail
cd "$(dirname "$0")/.."
wqc=${1:-build/wqc}
[[ -x $wqc ]] || bash scripts/build.sh build >/dev/null
machine=${WQC_BENCH_MACHINE:-$(hostname -s)}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=bench/results/structured-$machine.md
models=()
for dtype in F32 BF16; do
    PYTHONPATH=tests/support $py tests/support/structured_tensors.py "$tmp/structured.$dtype.safetensors" $dtype
    models+=("$tmp/structured.$dtype.safetensors")
done
for m in ../shared/data/stories260K.safetensors ../shared/data/stories260K.bf16.safetensors; do
    [[ -f $m ]] && models+=("$m")
done
{
    echo "# Per tensor: wqc against general-purpose compressors of the same bytes ($machine, $(date -u +%F))"
    echo
    echo "\`bash bench/structured.sh\`: quantized = the tensor's symbol bytes (\`wqc quantize\`, affine 4-bit row)"
    echo "against the .wqc's symbol_bytes; lossless = the tensor's bytes against its payload."
    for m in "${models[@]}"; do
        for kind in quantized lossless; do
            echo
            echo "## $(basename "$m") $kind"
            echo
            flag=()
            [[ $kind == lossless ]] && flag=(--lossless)
            $py tests/support/per_tensor_peers.py "$wqc" "$m" "${flag[@]}"
        done
    done
} | tee "$out"
