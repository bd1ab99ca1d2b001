#!/usr/bin/env bash
# Whole files against what users compare them with: for each model and
# quantizer, the .wqc that `wqc encode` writes against brotli -q 11 -w 24,
# xz -9e and zstd -19 --long=27 of the quantize output (the same information),
# as a Markdown table on stdout.
# usage: bench/size.sh [WQC] [MODEL.safetensors...]   (default: ../shared/data/*.safetensors)
set -euo pipefail
cd "$(dirname "$0")/.."
wqc=${1:-build/wqc}
shift || true
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(../shared/data/*.safetensors)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| model | quantizer | .wqc | brotli | xz | zstd | .wqc / smallest |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for m in "${models[@]}"; do
    for quantizer in "" "--method sdclip"; do
        # shellcheck disable=SC2086
        "$wqc" quantize "$m" $quantizer -o "$tmp/q.safetensors" -f -q
        # shellcheck disable=SC2086
        "$wqc" encode "$m" $quantizer -o "$tmp/m.wqc" -f -q
        w=$(stat -c %s "$tmp/m.wqc")
        b=$(brotli -q 11 -w 24 -c "$tmp/q.safetensors" | wc -c)
        x=$(xz -9e -c "$tmp/q.safetensors" | wc -c)
        z=$(zstd -q -19 --long=27 -c "$tmp/q.safetensors" | wc -c)
        best=$(( b < x ? (b < z ? b : z) : (x < z ? x : z) ))
        printf '| %s | %s | %d | %d | %d | %d | %s |\n' "$(basename "$m")" "${quantizer:-affine 4-bit row}" \
            "$w" "$b" "$x" "$z" "$(awk -v w="$w" -v b="$best" 'BEGIN { printf "%.3f", w / b }')"
    done
done
