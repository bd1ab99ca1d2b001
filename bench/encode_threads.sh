#!/usr/bin/env bash
# Whole-process `wqc encode -T N` against `zstd -3 -T N` of the same inputs,
# N = 1, 2, 4, ... up to the cores: pylm-22M (4-bit and --lossless), one
# 4096x4096 F32 tensor as .npy (a shell pipeline's input) and 8 F16
# matrices of 4096x4096 in one safetensors. Medians of REPEAT runs, the
# output removed before each; checks that every -T writes the same .wqc.
#   bash bench/encode_threads.sh [REPEAT] [WQC] > table.md
# pylm-22M from .devdata/pylm-22M/ (the device) or ../shared/data/;
# PYTHON: a python3 with numpy (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-5}
wqc=${2:-build/wqc}
source bench/timing.sh
pylm=.devdata/pylm-22M/model.safetensors
[[ -f $pylm ]] || pylm=../shared/data/pylm-22M/model.safetensors
[[ -f $pylm ]] || { echo "bench/encode_threads.sh: no pylm-22M (.devdata/pylm-22M or ../shared/data)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${PYTHON:-python3}" tests/support/make_model.py "$tmp/big.safetensors" 8 4096 4096 F16
"${PYTHON:-python3}" -c "import numpy as np; np.save('$tmp/one.npy', (np.random.default_rng(1).standard_normal((4096, 4096)) * 0.02).astype('<f4'))"
cores=$(nproc)
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $cores cores; wqc $("$wqc" --version | cut -d' ' -f2); \`bash bench/encode_threads.sh $repeat\`, medians of $repeat whole processes (ms), OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"
echo
echo "| -T | pylm-22M 4-bit | pylm-22M --lossless | one 4096x4096 F32 .npy | 8 x 4096x4096 F16 | zstd -3 pylm | zstd -3 8 x F16 |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for ((t = 1; t <= cores; t *= 2)); do
    row="| $t"
    for job in "e:$pylm:" "l:$pylm:--lossless" "n:$tmp/one.npy:" "b:$tmp/big.safetensors:"; do
        IFS=: read -r tag in opt <<<"$job"
        row="$row | $(FRESH=$tmp/$tag$t.wqc median_ms "$repeat" "$wqc" encode "$in" $opt -T "$t" -o "$tmp/$tag$t.wqc" -q -f)"
        cmp -s "$tmp/${tag}1.wqc" "$tmp/$tag$t.wqc" || echo "$tag: -T $t wrote another file than -T 1" >&2
    done
    row="$row | $(FRESH=$tmp/z.zst median_ms "$repeat" zstd -3 -T"$t" -q -f "$pylm" -o "$tmp/z.zst")"
    echo "$row | $(FRESH=$tmp/zb.zst median_ms "$repeat" zstd -3 -T"$t" -q -f "$tmp/big.safetensors" -o "$tmp/zb.zst") |"
done
