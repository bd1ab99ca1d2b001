#!/usr/bin/env bash
# The CPU measurements of the device machine in one call (its machines are
# lent for minutes, start bare and have no Debian -dev packages): builds wqc
# from the carried .debs (scripts/device-env.sh), then writes to $OUT (or
# bench/results) the codec table against htscodecs, decode thread scaling,
# lossless decode of pylm-22M against zstd -d, and wqc-llama's tokens/s.
# Before the call, here: fetch .devlibs/ (see scripts/device-env.sh), copy
# ../shared/data/pylm-22M/{model.safetensors,config.json,reference.json} into
# .devdata/pylm-22M/ and ../shared/data/stories260K.safetensors into
# .devdata/, then run `bash bench/device.sh` with carry [".devlibs", ".devdata"].
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/results}
source scripts/device-env.sh
root=${WQC_DEVROOT:-/tmp/wqc-devroot}
cmake -S . -B /tmp/wqc-build -DCMAKE_BUILD_TYPE=Release -DWQC_BUILD_TESTS=OFF \
    -DHTSCODECS_LIBRARY="$root/usr/lib/x86_64-linux-gnu/libhtscodecs.so.2" -DHTSCODECS_INCLUDE_DIR="$root/usr/include" >/dev/null
cmake --build /tmp/wqc-build -j"$(nproc)" >/dev/null
b=/tmp/wqc-build
lscpu | grep -E "Model name" >"$out/cpu.txt"
"$b/wqc" bench --repeat 5 >"$out/codec-device.txt" 2>&1
pylm=.devdata/pylm-22M/model.safetensors
"$b/wqc" encode --lossless "$pylm" -o /tmp/l.wqc -q -f
zstd -19 -q -f "$pylm" -o /tmp/l.zst
for i in 1 2 3 4 5 6 7; do
    /usr/bin/time -f "wqc %e" "$b/wqc" decode -T 1 /tmp/l.wqc -o /dev/null -f
    /usr/bin/time -f "zstd %e" zstd -d -q -c /tmp/l.zst >/dev/null
done 2>&1 | sort | uniq -c >"$out/lossless-pylm-device.txt"
WQC_BENCH_MACHINE=device bash bench/scaling.sh 3 gaussian:8192x8192 "$b/wqc" >/dev/null
[[ $out == bench/results ]] || cp bench/results/scaling-device.md "$out/"
"$b/wqc" encode "$pylm" --layout gemv -o /tmp/g.wqc -q -f
"$b/wqc" encode .devdata/stories260K.safetensors --layout gemv -o /tmp/gs.wqc -q -f
{ "$b/wqc-llama" bench "$pylm" /tmp/g.wqc --tokens 256; "$b/wqc-llama" bench .devdata/stories260K.safetensors /tmp/gs.wqc --tokens 256; } \
    >"$out/llama-speed-device.txt"
ls "$out"
