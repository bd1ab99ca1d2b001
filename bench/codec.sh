#!/usr/bin/env bash
# Whole-process encode/decode timings and sizes (hyperfine medians) on the
# real models under ../shared/data (when present) and a seeded 4096x4096
# Gaussian .npy (sigma 0.02, written by numpy). Writes bench/results/codec-<host>.md.
# usage: bench/codec.sh [RUNS]   (needs hyperfine: scripts/install-deps.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
wqc=$PWD/build/wqc
[[ -x $wqc ]] || bash scripts/build.sh build >/dev/null
command -v hyperfine >/dev/null || { echo "bench/codec.sh: hyperfine not installed (scripts/install-deps.sh --bench)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 -c "import numpy as np; np.save('$work/gaussian4096.npy', (np.random.default_rng(1).standard_normal((4096, 4096)) * 0.02).astype('<f4'))"
inputs=("$work/gaussian4096.npy")
for f in ../shared/data/*.safetensors; do [[ -f $f ]] && inputs+=("$(realpath "$f")"); done
mkdir -p bench/results
out=bench/results/codec-$(hostname -s).md
{
    echo "# wqc encode/decode, whole process ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), affine 4-bit per row, P=12, 32 lanes"
    echo
    echo "| input | input bytes | .wqc bytes | coded bits/weight | entropy bits/weight | encode median s | decode --symbols median s |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for f in "${inputs[@]}"; do
        "$wqc" encode "$f" -o "$work/m.wqc" -f -T 1 2>"$work/summary"
        bpw=$(grep -o 'coded weights [0-9.]*' "$work/summary" | awk '{print $3}')
        ent=$(grep -o 'entropy [0-9.]*' "$work/summary" | awk '{print $2}')
        hyperfine -N -w 1 -r "$runs" --export-json "$work/e.json" "$wqc encode $f -o $work/e.wqc -f -q -T 1" >/dev/null 2>&1
        hyperfine -N -w 1 -r "$runs" --export-json "$work/d.json" "$wqc decode $work/m.wqc -o $work/d.safetensors -f -q -T 1" >/dev/null 2>&1
        med() { /usr/bin/python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"; }
        echo "| $(basename "$f") | $(stat -c %s "$f") | $(stat -c %s "$work/m.wqc") | $bpw | $ent | $(med "$work/e.json") | $(med "$work/d.json") |"
    done
} | tee "$out"
