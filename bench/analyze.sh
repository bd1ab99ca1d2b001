#!/usr/bin/env bash
# Whole-process timing of `wqc analyze` (median of several runs, hyperfine):
# the seeded 4096x4096 Gaussian and, when present, the real models under
# ../shared/data. Writes bench/results/analyze-<host>.md and prints it.
# usage: bench/analyze.sh [RUNS]   (needs hyperfine: scripts/install-deps.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
wqc=./build/wqc
[[ -x $wqc ]] || bash scripts/build.sh build >/dev/null
command -v hyperfine >/dev/null || { echo "bench/analyze.sh: hyperfine not installed (scripts/install-deps.sh --bench)" >&2; exit 1; }
mkdir -p bench/results
out=bench/results/analyze-$(hostname -s).md
cmds=("$wqc analyze -q --synthetic gaussian:4096x4096 -T 1"
      "$wqc analyze -q --synthetic gaussian:4096x4096 --method sdclip -T 1")
for f in ../shared/data/*.safetensors; do
    [[ -f $f ]] && cmds+=("$wqc analyze -q --min-elements 0 $f")
done
{
    echo "# wqc analyze, whole process ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
    echo
    hyperfine -N -w 2 -r "$runs" --export-markdown /tmp/wqc-analyze-bench.md \
        --export-json /tmp/wqc-analyze-bench.json "${cmds[@]}" >/dev/null 2>&1
    cat /tmp/wqc-analyze-bench.md
    echo
    echo "median seconds per command:"
    /usr/bin/python3 -c 'import json,sys; [print("  %.4f  %s" % (r["median"], r["command"])) for r in json.load(open(sys.argv[1]))["results"]]' /tmp/wqc-analyze-bench.json
} | tee "$out"
