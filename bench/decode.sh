#!/usr/bin/env bash
# The decode race: `wqc bench` on the seeded synthetic Gaussian (16 Mi
# symbols, 4-bit min/max per tensor, the DESIGN.md setting), on the same with
# 2 threads, and on every model under ../shared/data when present. Writes
# bench/results/decode-<machine>.md (the tables) and decode-<machine>.svg
# (decode speed against bits per symbol for every codec).
# usage: bench/decode.sh [REPEAT [SYNTHETIC_SPEC]]
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-7}
spec=${2:-gaussian:4096x4096}
wqc=$PWD/build/wqc
[[ -x $wqc ]] || bash scripts/build.sh build >/dev/null
machine=${WQC_BENCH_MACHINE:-$(hostname -s)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results
md=bench/results/decode-$machine.md
svg=bench/results/decode-$machine.svg

runs=("synthetic-T1:--synthetic $spec -T 1")
threads=$(nproc)
[[ $threads -gt 1 ]] && runs+=("synthetic-T$threads:--synthetic $spec --codecs wqc,packed -T $threads")
for f in ../shared/data/*.safetensors; do
    [[ -f $f ]] && runs+=("$(basename "$f" .safetensors):--granularity row $(realpath "$f") -T 1")
done
{
    echo "# wqc bench on $machine"
    echo
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; wqc $("$wqc" --version | cut -d' ' -f2); median of $repeat."
    for run in "${runs[@]}"; do
        name=${run%%:*}
        # shellcheck disable=SC2086
        "$wqc" bench --repeat "$repeat" --json ${run#*:} >"$work/$name.json"
        echo
        echo "## $name: \`wqc bench ${run#*:}\`"
        echo
        /usr/bin/python3 bench/bench_table.py "$work/$name.json"
    done
} | tee "$md"
/usr/bin/python3 bench/plot_decode.py "$svg" "$work"/synthetic-T1.json
echo "wrote $md and $svg"
