#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan), writes their seed
# corpora, and runs each harness for SECONDS (default 60). New corpus entries
# go to build-fuzz/corpus/<harness>; crashes to build-fuzz/crashes/.
# usage: scripts/fuzz.sh [SECONDS [OPT]]
# OPT: the optimisation level of the build (default -O2; CI's brief run takes
# -O1: clang spends 100 s at -O2 on each large kernel file under the
# sanitizers, 68 s at -O1).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
opt=${2:--O2}
bash scripts/install-deps.sh --fuzz
build=build-fuzz
CC=clang cmake -S . -B "$build" -DWQC_FUZZ=ON -DWQC_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$opt -g -DNDEBUG" >/dev/null
harnesses=(fuzz_npy fuzz_safetensors fuzz_index fuzz_wqc_reader fuzz_rans_decode fuzz_roundtrip fuzz_gguf)
# The harnesses and the CLI that writes their seeds; nothing else.
cmake --build "$build" -j"$(nproc)" --target wqc "${harnesses[@]}"
/usr/bin/python3 tests/fuzz/make_seeds.py "$build/wqc" "$build/seeds"
mkdir -p "$build/crashes"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The harnesses run side by side, one a core: each gets its SECONDS of a
# whole core, and the stage takes SECONDS x ceil(7 / cores).
run() {
    local h=$1
    mkdir -p "$build/corpus/$h"
    if "$build/tests/fuzz/$h" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        -artifact_prefix="$build/crashes/$h-" -print_final_stats=1 \
        "$build/corpus/$h" "$build/seeds/$h" 2>"$build/$h.log"; then
        echo 0 >"$build/$h.status"
    else
        echo 1 >"$build/$h.status"
    fi
}
for h in "${harnesses[@]}"; do rm -f "$build/$h.status"; done
jobs_max=$(nproc)
for h in "${harnesses[@]}"; do
    echo "== $h: $seconds s"
    run "$h" &
    while (( $(jobs -rp | wc -l) >= jobs_max )); do wait -n || true; done
done
wait
status=0
for h in "${harnesses[@]}"; do
    if [[ $(cat "$build/$h.status" 2>/dev/null) != 0 ]]; then
        status=1
        echo "== $h failed:"
        tail -40 "$build/$h.log"
    fi
    echo "$h: $(grep -E "^stat::number_of_executed_units" "$build/$h.log" | tail -1)"
done
exit $status
