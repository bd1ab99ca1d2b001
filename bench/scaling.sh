#!/usr/bin/env bash
# Thread scaling of wqc's decoders: `wqc bench --codecs wqc` at 1, 2, 4, ...
# threads up to the core count, on a synthetic Gaussian large enough to give
# every thread several 1 Mi-symbol chunks. Writes
# bench/results/scaling-<machine>.md.
# usage: bench/scaling.sh [REPEAT [SYNTHETIC_SPEC [WQC]]]
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-5}
spec=${2:-gaussian:8192x8192}
wqc=${3:-$PWD/build/wqc}
[[ -x $wqc ]] || bash scripts/build.sh build >/dev/null
machine=${WQC_BENCH_MACHINE:-$(hostname -s)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results
cores=$(nproc)
threads=()
for ((t = 1; t < cores; t *= 2)); do threads+=("$t"); done
threads+=("$cores")
for t in "${threads[@]}"; do
    "$wqc" bench --synthetic "$spec" --codecs wqc --repeat "$repeat" -T "$t" --json >"$work/T$t.json"
done
/usr/bin/env python3 - "$work" "$machine" "$spec" "${threads[@]}" <<'PY' | tee "bench/results/scaling-$machine.md"
import json, sys
work, machine, spec, threads = sys.argv[1], sys.argv[2], sys.argv[3], [int(t) for t in sys.argv[4:]]
runs = {t: json.load(open(f"{work}/T{t}.json")) for t in threads}
first = runs[threads[0]]
names = [r["codec"] for r in first["rows"]]
print(f"# wqc decode thread scaling on {machine}\n")
print(f"{first['cpu']}; `wqc bench --synthetic {spec} --codecs wqc -T N`; {first['symbols']} symbols, "
      f"entropy {first['entropy_bits']:.4f} bits; median of {first['repeat']}. "
      "Decode in G symbols/s (speed-up over 1 thread).\n")
print("| decoder | " + " | ".join(f"{t} thr" for t in threads) + " |")
print("| --- |" + " ---: |" * len(threads))
for i, name in enumerate(names):
    base = first["rows"][i]["decode_symbols_per_s"]
    cells = []
    for t in threads:
        v = runs[t]["rows"][i]["decode_symbols_per_s"]
        cells.append(f"{v / 1e9:.2f} ({v / base:.2f}x)")
    print(f"| {name} | " + " | ".join(cells) + " |")
enc = [runs[t]["rows"][0]["encode_symbols_per_s"] for t in threads]
print("| encode | " + " | ".join(f"{v / 1e9:.2f} ({v / enc[0]:.2f}x)" for v in enc) + " |")
PY
