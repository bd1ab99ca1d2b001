#!/usr/bin/env bash
# Never larger than a general-purpose compressor: every tensor of a model of
# structured tensors (tests/support/structured_tensors.py: STFT and DCT
# bases, duplicated embedding rows, periodic rows, constant blocks, outlier
# columns, smooth conv kernels, a Gaussian control), quantized and lossless,
# F32 and BF16, against brotli -q 11, xz -9e and zstd -19 of the same bytes
# (+32 bytes for the descriptor); and each file decodes to its source.
# usage: test_structured.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
support=$(cd "$(dirname "$0")/../support" && pwd)
cd "$tmp" || exit 1
for dtype in F32 BF16; do
    PYTHONPATH=$support "$py" "$support/structured_tensors.py" s.$dtype.safetensors $dtype 7 --small
    expect_status 0 "$dtype: every quantized tensor <= the smallest peer + 32" -- \
        "$py" "$support/per_tensor_peers.py" "$wqc" s.$dtype.safetensors --check
    cp "$tmp/out" quantized.$dtype.md
    check "$dtype quantized: the probe sends the structured tensors to a peer's coder" \
        '[[ $(grep -cE "\| (lzma|brotli|zstd) \|" quantized.$dtype.md) -ge 5 ]] && grep -qE "^\| gaussian .*\| order0 \|" quantized.$dtype.md'
    expect_status 0 "$dtype: every lossless tensor <= the smallest peer + 32" -- \
        "$py" "$support/per_tensor_peers.py" "$wqc" s.$dtype.safetensors --lossless --check
    expect_status 0 "$dtype: encode --lossless" -- "$wqc" encode --lossless s.$dtype.safetensors -o l.wqc -f
    expect_status 0 "$dtype: decode" -- "$wqc" decode l.wqc -o back.safetensors -f
    check "$dtype: the source file back, byte for byte" 'cmp -s s.$dtype.safetensors back.safetensors'
    expect_status 0 "$dtype: encode" -- "$wqc" encode s.$dtype.safetensors -o q.wqc -f
    expect_status 0 "$dtype: quantize" -- "$wqc" quantize s.$dtype.safetensors -o q.safetensors -f
    expect_status 0 "$dtype: decode --symbols" -- "$wqc" decode q.wqc --symbols -o sym.safetensors -f
    check "$dtype: the quantize output's symbols back" 'cmp -s q.safetensors sym.safetensors'
done
finish
