#!/usr/bin/env bash
# The GEMV race: `wqc bench --gemv` on the LLM layer shapes (4096x4096,
# 4096x14336, 14336x4096) for 1..all threads, then on each model under
# ../shared/data when present (all its matrices as one product pass). Writes
# bench/results/gemv-<machine>.txt (text tables) and gemv-<machine>.json.
# usage: bench/gemv.sh [REPEAT [SHAPES]]
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-5}
shapes=${2:-4096x4096,4096x14336,14336x4096}
wqc=$PWD/build/wqc
[[ -x $wqc ]] || bash scripts/build.sh build >/dev/null
machine=${WQC_BENCH_MACHINE:-$(hostname -s)}
mkdir -p bench/results
txt=bench/results/gemv-$machine.txt
json=bench/results/gemv-$machine.json
models=()
for f in ../shared/data/*.safetensors; do [[ -f $f ]] && models+=("$f"); done
{
    echo "# wqc bench --gemv on $machine, $(nproc) cores, wqc $("$wqc" --version | cut -d' ' -f2)"
    "$wqc" bench --gemv --shapes "$shapes" --repeat "$repeat"
    for f in "${models[@]}"; do
        echo
        "$wqc" bench --gemv --shapes "" --repeat "$repeat" "$f"
    done
} | tee "$txt"
"$wqc" bench --gemv --json --shapes "$shapes" --repeat "$repeat" >"$json"
echo "wrote $txt and $json"
