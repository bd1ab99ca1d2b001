#!/usr/bin/env bash
# Lossless floats, whole process: wqc encode --lossless / decode against
# zstd -19 --long=27, brotli -q 11 -w 24 and xz -9e of the same file, one
# thread each: file sizes, decode medians of alternating runs to /dev/null,
# encode times (the peers' once: they take minutes on large files), peak
# memory. Inputs: the models of ../shared/data (when present) and eight
# seeded 4096x4096 BF16 Gaussian matrices (268 MB). Writes
# bench/results/lossless-<machine>.md.
# usage: bench/lossless.sh [REPEAT]   (default 5; needs python3-numpy, zstd, brotli, xz)
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-5}
wqc=$PWD/build/wqc
[[ -x $wqc ]] || bash scripts/build.sh build >/dev/null
machine=${WQC_BENCH_MACHINE:-$(hostname -s)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
"$py" tests/support/make_model.py "$work/gaussian-bf16.safetensors" 8 4096 4096 BF16
inputs=()
for f in ../shared/data/*.safetensors; do [[ -f $f ]] && inputs+=("$(realpath "$f")"); done
inputs+=("$work/gaussian-bf16.safetensors")
{
    echo "# Lossless floats, whole process, on $machine"
    echo
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; wqc $("$wqc" --version | cut -d' ' -f2); one thread; decode medians of $repeat alternating runs to /dev/null; \`bench/lossless.sh $repeat\`."
    for f in "${inputs[@]}"; do
        name=$(basename "$f") size=$(stat -c %s "$f")
        enc=$("$py" bench/e2e_time.py 1 "wqc encode --lossless -T 1" "$wqc encode --lossless -T 1 -q -f $f -o $work/m.wqc" \
              "zstd -19 --long=27" "zstd -q -T1 -19 --long=27 -f $f -o $work/m.zst" \
              "brotli -q 11 -w 24" "brotli -q 11 -w 24 -f $f -o $work/m.br" \
              "xz -9e" "xz -9e -T1 -k -c $f >$work/m.xz")
        "$wqc" decode "$work/m.wqc" -o "$work/back" -f -q
        cmp -s "$f" "$work/back" || { echo "bench/lossless.sh: $name did not come back byte for byte" >&2; exit 1; }
        dec=$("$py" bench/e2e_time.py "$repeat" "wqc decode -T 1" "$wqc decode -T 1 -q -f $work/m.wqc -o /dev/null" \
              "zstd -d" "zstd -q -T1 -d --long=27 -c $work/m.zst >/dev/null" \
              "brotli -d" "brotli -d -c $work/m.br >/dev/null" \
              "xz -d" "xz -d -T1 -c $work/m.xz >/dev/null")
        echo
        echo "## $name ($size bytes)"
        echo
        echo "| coder | bytes | of the file | vs smallest peer | encode s | decode s (median) | decode MB/s | peak RSS MiB (dec) |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|"
        "$py" - "$size" "$work/m.wqc" "$work/m.zst" "$work/m.br" "$work/m.xz" <<PY
import json, os, sys
size = int(sys.argv[1]); files = sys.argv[2:]
enc = [json.loads(l) for l in """$enc""".splitlines()]
dec = [json.loads(l) for l in """$dec""".splitlines()]
sizes = [os.path.getsize(p) for p in files]
best_peer = min(sizes[1:])
for i, (e, d) in enumerate(zip(enc, dec)):
    print("| %s | %d | %.1f%% | %.3f | %.2f | %.3f | %.0f | %.0f |" % (e["name"], sizes[i], 100 * sizes[i] / size,
          sizes[i] / best_peer, e["median_s"], d["median_s"], size / d["median_s"] / 1e6, d["peak_rss_kib"] / 1024))
PY
    done
} | tee "bench/results/lossless-$machine.md"
echo "wrote bench/results/lossless-$machine.md"
