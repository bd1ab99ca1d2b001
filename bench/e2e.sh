#!/usr/bin/env bash
# Whole-process encode and decode, as a shell user runs them: wqc against
# zstd -T1 (-3 and -19), brotli and htscodecs' rANS 4x16 (bench/peers/hts_rans.c,
# 32 states, SIMD) on the same files, median wall time of alternating runs and
# peak resident memory. Two inputs:
#   symbols  128 Mi 4-bit symbols in a uint8 .npy (a rounded Gaussian, about
#            3.2 bits of entropy): wqc codes them as given integers; single thread.
#   model    eight 4096x4096 F16 matrices (268 MB safetensors): wqc encodes the
#            floats; the peers compress `wqc quantize`'s output, the same
#            information, which `wqc decode` gives back byte for byte.
# Decoders write to /dev/null (the CPU's share, not the disk's); encoders to a file.
# Writes bench/results/e2e-<machine>.md.
# usage: bench/e2e.sh [REPEAT]   (default 5; needs python3-numpy, zstd, brotli)
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-5}
wqc=$PWD/build/wqc hts=$PWD/build/hts_rans
[[ -x $wqc && -x $hts ]] || bash scripts/build.sh build >/dev/null
[[ -x $hts ]] || { echo "bench/e2e.sh: build/hts_rans missing (libhtscodecs-dev not installed?)" >&2; exit 1; }
machine=${WQC_BENCH_MACHINE:-$(hostname -s)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
cores=$(nproc)

"$py" -c "
import numpy as np
r = np.random.default_rng(1)
np.save('$work/sym.npy', np.clip(np.rint(r.standard_normal(128 << 20) * 2.2 + 7.5), 0, 15).astype(np.uint8))"
"$py" tests/support/make_model.py "$work/model.safetensors" 8 4096 4096 F16
"$wqc" quantize "$work/model.safetensors" -o "$work/q.safetensors" -q

# Compressed inputs for the decoders, made once.
prep() { # prep INPUT: the coded files the decoders read
    local in=$1 base=$2
    zstd -q -T1 -3 -f "$in" -o "$work/$base.z3"
    zstd -q -T1 -19 -f "$in" -o "$work/$base.z19"
    brotli -q 9 -w 24 -f "$in" -o "$work/$base.br"
    "$hts" c "$in" "$work/$base.hts"
}
prep "$work/sym.npy" sym
prep "$work/q.safetensors" q
"$wqc" encode "$work/sym.npy" -o "$work/sym.wqc" -q -f -T 1
"$wqc" encode "$work/model.safetensors" -o "$work/model.wqc" -q -f

size() { stat -c %s "$1"; }
table() { # table TITLE JSON: a markdown table of e2e_time's lines
    "$py" - "$1" "$2" <<'PY'
import json, sys
title, path = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(path)]
first = rows[0]["median_s"]
print("| %s | median s | fastest s | median / first row's | peak RSS MiB |" % title)
print("|---|---:|---:|---:|---:|")
for r in rows:
    print("| %s | %.3f | %.3f | %.2fx | %.0f |" % (r["name"], r["median_s"], r["min_s"], r["median_s"] / first,
                                                   r["peak_rss_kib"] / 1024))
PY
}

t=$work/t.json
{
    echo "# Whole-process encode and decode on $machine"
    echo
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $cores cores; wqc $("$wqc" --version | cut -d' ' -f2); $repeat alternating runs each; \`bench/e2e.sh $repeat\`."
    echo
    echo "## symbols: 128 Mi 4-bit symbols (uint8 .npy, $(size "$work/sym.npy") bytes), one thread"
    echo
    echo "| coder | bytes | bits/symbol |"
    echo "|---|---:|---:|"
    for f in sym.wqc sym.hts sym.z3 sym.z19 sym.br; do
        echo "| $f | $(size "$work/$f") | $("$py" -c "print('%.4f' % ($(size "$work/$f") * 8 / (128 << 20)))") |"
    done
    echo
    "$py" bench/e2e_time.py "$repeat" \
        "wqc decode --symbols -T 1" "$wqc decode --symbols -T 1 -f -q $work/sym.wqc -o /dev/null" \
        "htscodecs rans_uncompress_4x16" "$hts d $work/sym.hts /dev/null" \
        "zstd -d (from -3)" "zstd -q -T1 -d -c $work/sym.z3 >/dev/null" \
        "zstd -d (from -19)" "zstd -q -T1 -d -c $work/sym.z19 >/dev/null" \
        "brotli -d (from -q 9)" "brotli -d -c $work/sym.br >/dev/null" >"$t"
    table "decode" "$t"
    echo
    "$py" bench/e2e_time.py "$repeat" \
        "wqc encode -T 1" "$wqc encode -T 1 -f -q $work/sym.npy -o $work/e.wqc" \
        "htscodecs rans_compress_4x16" "$hts c $work/sym.npy $work/e.hts" \
        "zstd -T1 -3" "zstd -q -T1 -3 -f $work/sym.npy -o $work/e.zst" >"$t"
    "$py" bench/e2e_time.py 1 \
        "zstd -T1 -19 (1 run)" "zstd -q -T1 -19 -f $work/sym.npy -o $work/e.zst" \
        "brotli -q 9 -w 24 (1 run)" "brotli -q 9 -w 24 -f $work/sym.npy -o $work/e.br" >>"$t"
    table "encode" "$t"
    echo
    echo "## model: eight 4096x4096 F16 matrices ($(size "$work/model.safetensors") bytes)"
    echo
    echo "wqc encodes the floats (affine 4-bit per row, the default; $cores threads unless -T 1); the peers compress"
    echo "\`wqc quantize\`'s output ($(size "$work/q.safetensors") bytes), which \`wqc decode\` gives back byte for byte."
    echo
    echo "| file | bytes |"
    echo "|---|---:|"
    for f in model.wqc q.hts q.z3 q.z19 q.br; do echo "| $f | $(size "$work/$f") |"; done
    echo
    "$py" bench/e2e_time.py "$repeat" \
        "wqc decode --symbols -T 1" "$wqc decode -T 1 -f -q $work/model.wqc -o /dev/null" \
        "wqc decode --symbols" "$wqc decode -f -q $work/model.wqc -o /dev/null" \
        "wqc decode --dequantize --dtype F16" "$wqc decode --dequantize --dtype F16 -f -q $work/model.wqc -o /dev/null" \
        "wqc decode --dequantize --dtype F16 -c, through a pipe" "$wqc decode --dequantize --dtype F16 -q $work/model.wqc -c | cat >/dev/null" \
        "htscodecs rans_uncompress_4x16" "$hts d $work/q.hts /dev/null" \
        "zstd -d (from -3)" "zstd -q -T1 -d -c $work/q.z3 >/dev/null" \
        "zstd -d (from -19)" "zstd -q -T1 -d -c $work/q.z19 >/dev/null" \
        "brotli -d (from -q 9)" "brotli -d -c $work/q.br >/dev/null" >"$t"
    table "decode" "$t"
    echo
    "$py" bench/e2e_time.py "$repeat" \
        "wqc encode -T 1" "$wqc encode -T 1 -f -q $work/model.safetensors -o $work/e.wqc" \
        "wqc encode" "$wqc encode -f -q $work/model.safetensors -o $work/e.wqc" \
        "htscodecs rans_compress_4x16 (of q)" "$hts c $work/q.safetensors $work/e.hts" \
        "zstd -T1 -3 (of q)" "zstd -q -T1 -3 -f $work/q.safetensors -o $work/e.zst" >"$t"
    table "encode" "$t"
} | tee "bench/results/e2e-$machine.md"
echo "wrote bench/results/e2e-$machine.md"
