#!/usr/bin/env bash
# The CPU measurements of the device machine in one call (its machines are
# lent for minutes, start bare and have no Debian -dev packages): builds wqc
# from the carried .debs (scripts/device-env.sh), then writes to $OUT (or
# bench/results) the parts asked for (default all):
#   codec     the codec table against htscodecs (codec-device.txt)
#   lookups   the AVX-512 decoder's two lookups of small alphabets
#             (WQC_AVX512_SMALL=search|gather) and 8-bit symbols, one chunk
#             and many, against htscodecs (codec-device-lookups.txt)
#   lossless  `wqc decode -T 1` of pylm-22M's lossless .wqc (records read
#             into a buffer, and in place) against `zstd -d` of its zstd -19
#             file, whole processes (lossless-pylm-device.txt)
#   threads   whole-process `wqc decode --symbols -T N` of 128 Mi symbols to
#             /dev/null and to a file, N = 1..16, with and without the
#             record's segment checks (threads-device.txt)
#   encode    bench/encode_threads.sh: whole-process `wqc encode -T N`
#             against `zstd -3 -T N` (encode-threads-device.txt)
#   scaling   in-memory decode thread scaling (scaling-device.md)
#   llama     wqc-llama's tokens/s (llama-speed-device.txt)
# Before the call, here: fetch .devlibs/ (see scripts/device-env.sh), copy
# ../shared/data/pylm-22M/{model.safetensors,config.json,reference.json} into
# .devdata/pylm-22M/ and ../shared/data/stories260K.safetensors into
# .devdata/, then run `bash bench/device.sh [PART...]` with carry [".devlibs", ".devdata"].
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/results}
parts=${*:-codec lookups lossless threads encode scaling llama}
want() { [[ " $parts " == *" $1 "* ]]; }
source scripts/device-env.sh
root=${WQC_DEVROOT:-/tmp/wqc-devroot}
cmake -S . -B /tmp/wqc-build -DCMAKE_BUILD_TYPE=Release -DWQC_BUILD_TESTS=OFF \
    -DHTSCODECS_LIBRARY="$root/usr/lib/x86_64-linux-gnu/libhtscodecs.so.2" -DHTSCODECS_INCLUDE_DIR="$root/usr/include" >/dev/null
cmake --build /tmp/wqc-build -j"$(nproc)" >/dev/null
b=/tmp/wqc-build
lscpu | grep -E "Model name|Thread\(s\) per core|Core\(s\) per socket|Socket|^CPU\(s\)|MHz|NUMA node\(s\)" >"$out/cpu.txt"
source bench/timing.sh
[[ -n ${EPOCHREALTIME:-} ]] || { echo "bench/device.sh: needs bash 5 (EPOCHREALTIME)" >&2; exit 1; }
if want codec; then "$b/wqc" bench --repeat 5 >"$out/codec-device.txt" 2>&1; fi
if want lookups; then
    {
        for small in search gather; do
            echo "## WQC_AVX512_SMALL=$small: 1 Mi-symbol chunks, then one chunk of 64 Mi"
            WQC_AVX512_SMALL=$small "$b/wqc" bench --codecs wqc,htscodecs --repeat 5 --synthetic gaussian:8192x8192
            WQC_AVX512_SMALL=$small "$b/wqc" bench --codecs wqc --repeat 5 --synthetic gaussian:8192x8192 --chunk 67108864 |
                grep -E 'rANS'
        done
        echo "## 8-bit symbols"
        "$b/wqc" bench --bits 8 --codecs wqc,htscodecs --repeat 5
    } >"$out/codec-device-lookups.txt" 2>&1
fi
pylm=.devdata/pylm-22M/model.safetensors
if want lossless; then
    "$b/wqc" encode --lossless "$pylm" -o /tmp/l.wqc -q -f
    zstd -19 -q -f "$pylm" -o /tmp/l.zst
    {
        for round in 1 2 3; do
            echo "round $round, medians of 11: wqc decode -T 1 $(median_ms 11 "$b/wqc" decode -T 1 /tmp/l.wqc -o /dev/null -f) ms" \
                "(records read in place, WQC_READ_COPIES=0: $(WQC_READ_COPIES=0 median_ms 11 "$b/wqc" decode -T 1 /tmp/l.wqc -o /dev/null -f) ms);" \
                "zstd -d $(median_ms 11 zstd -d -q -c /tmp/l.zst) ms"
        done
        "$b/wqc" bench --lossless "$pylm" --codecs wqc,zstd --repeat 7
    } >"$out/lossless-pylm-device.txt" 2>&1
fi
if want threads; then
    # 128 Mi uint8 symbols, binomial(15, 1/2) by a 256-entry map of random bytes (no numpy needed).
    python3 - <<'PY'
import math, os
m = bytearray()
for v in range(16):
    m += bytes([v]) * round(256 * math.comb(15, v) / 2**15)
m = bytes((m + bytes([7]) * 256)[:256])
n = 1 << 27
head = "{'descr': '|u1', 'fortran_order': False, 'shape': (%d,), }" % n
head += " " * (63 - (10 + len(head)) % 64) + "\n"
with open("/tmp/s.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head.encode())
    for _ in range(n >> 24):
        f.write(os.urandom(1 << 24).translate(m))
PY
    "$b/wqc" encode /tmp/s.npy -o /tmp/s.wqc -q -f
    {
        echo "128 Mi uint8 symbols (binomial 15, 1/2); median of 9 whole processes, ms; the record"
        echo "(50 MB) checked by its segment checks -T wide before it decodes (the default), or, without"
        echo "them (WQC_SEGMENT_CHECKS=0), whole on one thread before decoding (WQC_CHECK_AHEAD=0) or"
        echo "on a thread of its own while it decodes"
        echo "| threads | to /dev/null: segments | whole, before | whole, beside | to a file: segments | whole, before | whole, beside |"
        echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        for t in 1 2 4 8 16; do
            r="| $t"
            for dst in /dev/null /tmp/s.out.npy; do
                r="$r | $(FRESH=$dst median_ms 9 "$b/wqc" decode --symbols -T $t /tmp/s.wqc -o $dst -f)"
                r="$r | $(FRESH=$dst WQC_SEGMENT_CHECKS=0 WQC_CHECK_AHEAD=0 median_ms 9 "$b/wqc" decode --symbols -T $t /tmp/s.wqc -o $dst -f)"
                r="$r | $(FRESH=$dst WQC_SEGMENT_CHECKS=0 median_ms 9 "$b/wqc" decode --symbols -T $t /tmp/s.wqc -o $dst -f)"
            done
            echo "$r |"
        done
    } >"$out/threads-device.txt" 2>&1
fi
if want encode; then
    { cat "$out/cpu.txt"; bash bench/encode_threads.sh 5 "$b/wqc"; } >"$out/encode-threads-device.txt" 2>&1
fi
if want scaling; then
    WQC_BENCH_MACHINE=device bash bench/scaling.sh 3 gaussian:8192x8192 "$b/wqc" >/dev/null
    [[ $out == bench/results ]] || cp bench/results/scaling-device.md "$out/"
fi
if want llama; then
    "$b/wqc" encode "$pylm" --layout gemv -o /tmp/g.wqc -q -f
    "$b/wqc" encode .devdata/stories260K.safetensors --layout gemv -o /tmp/gs.wqc -q -f
    { "$b/wqc-llama" bench "$pylm" /tmp/g.wqc --tokens 256; "$b/wqc-llama" bench .devdata/stories260K.safetensors /tmp/gs.wqc --tokens 256; } \
        >"$out/llama-speed-device.txt"
fi
ls "$out"
