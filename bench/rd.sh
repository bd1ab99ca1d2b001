#!/usr/bin/env bash
# The rate-distortion study of analyze --rd: the full sweep on every model of
# ../shared/data (tensors of at least 1000 weights) and on a 4096x4096
# Gaussian, tables and SVG plots (curves and symbol histograms) into
# bench/results/rd-<input>.{txt,svg} and hist-<input>.svg.
# usage: bench/rd.sh
set -euo pipefail
cd "$(dirname "$0")/.."
wqc=$PWD/build/wqc
[[ -x $wqc ]] || bash scripts/build.sh build >/dev/null
out=bench/results
mkdir -p "$out"
for f in ../shared/data/*.safetensors; do
    [[ -f $f ]] || continue
    name=$(basename "$f" .safetensors)
    "$wqc" analyze --rd "$f" --min-elements 1000 --plot "$out/rd-$name.svg" >"$out/rd-$name.txt"
    "$wqc" analyze "$f" --min-elements 1000 --plot "$out/hist-$name.svg" -q
    echo "$out/rd-$name.txt"
done
"$wqc" analyze --rd --synthetic gaussian:4096x4096 --plot "$out/rd-gaussian4096.svg" >"$out/rd-gaussian4096.txt"
echo "$out/rd-gaussian4096.txt"
