#!/usr/bin/env bash
# `wqc bench` and the WQC_ISA override as a user runs them: every ISA of this
# machine decodes a .wqc to the same bytes in every output, a bad WQC_ISA is a
# usage error, and the bench report (text and JSON) holds the promised rows.
# usage: test_bench.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1

"$py" -c "import numpy as np; np.save('w.npy', (np.random.default_rng(3).standard_normal((700, 300)) * 0.02).astype('<f4'))"
expect_status 0 "encode" -- "$wqc" encode w.npy -o w.wqc --lanes 32 --chunk 4099
isas=()
for isa in scalar avx2 avx512 neon; do
    if WQC_ISA=$isa "$wqc" decode w.wqc -o "sym-$isa.safetensors" 2>/dev/null; then
        isas+=("$isa")
        for dt in F32 F16 BF16; do
            ext=npy
            [[ $dt == BF16 ]] && ext=safetensors  # numpy has no bfloat16
            expect_status 0 "decode --dequantize --dtype $dt with $isa" -- \
                env WQC_ISA=$isa "$wqc" decode --dequantize --dtype "$dt" w.wqc -o "w-$isa-$dt.$ext"
        done
    else
        check "WQC_ISA=$isa refused with a reason" 'grep -q "no $isa decoder" <(WQC_ISA=$isa "$wqc" decode w.wqc -o x.safetensors -f 2>&1)'
    fi
done
check "scalar and at least one other ISA here" '[[ ${#isas[@]} -ge 1 && ${isas[0]} == scalar ]]'
for isa in "${isas[@]}"; do
    check "$isa symbols equal scalar's" 'cmp -s sym-scalar.safetensors sym-$isa.safetensors'
    for f in F32.npy F16.npy BF16.safetensors; do
        check "$isa $f equals scalar's" 'cmp -s w-scalar-$f w-$isa-$f'
    done
done
# The fused F32 output is offset + scale * q, as the quantized file says.
expect_status 0 "quantize" -- "$wqc" quantize w.npy -o q.safetensors
check "dequantized F32 equals offset + scale * q" '"$py" - <<PY
import json, struct, numpy as np
raw = open("q.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]; h = json.loads(raw[8:8 + n]); body = raw[8 + n:]
def get(name, dt):
    a, b = h[name]["data_offsets"]; return np.frombuffer(body[a:b], dt).reshape(h[name]["shape"])
name = [k for k in h if k != "__metadata__" and not k.endswith((".wqc_scale", ".wqc_offset"))][0]
q = get(name, "u1").astype(np.float32)
s = get(name + ".wqc_scale", "<f4").reshape(-1, 1); o = get(name + ".wqc_offset", "<f4").reshape(-1, 1)
want = (o + s * q).astype(np.float32)
got = np.load("w-scalar-F32.npy")
raise SystemExit(0 if np.array_equal(want.view("<u4"), got.view("<u4")) else 1)
PY'

expect_status 2 "unknown WQC_ISA" -- env WQC_ISA=sse9 "$wqc" decode w.wqc -o y.safetensors
check "unknown WQC_ISA: says why" 'grep -q "WQC_ISA: unknown ISA .sse9." "$tmp/err"'
check "unknown WQC_ISA: no output" '[[ ! -e y.safetensors ]]'

expect_status 0 "bench on a small synthetic" -- "$wqc" bench --synthetic gaussian:128x256 --repeat 2 --codecs wqc,packed,zstd
for isa in "${isas[@]}"; do check "bench has a wqc $isa row" 'grep -q "^wqc rANS $isa " "$tmp/out"'; done
for row in "packed 4-bit unpack scalar" "packed 4-bit -> F32" "zstd -19" "-> nibbles" "-> F32" "-> F16"; do
    check "bench has a '$row' row" 'grep -qF -- "$row" "$tmp/out"'
done
expect_status 0 "bench --json on a file, 2 threads" -- "$wqc" bench --json -T 2 --repeat 1 --codecs wqc,zstd w.npy
check "bench JSON: sizes near the entropy, ratios, speeds" '"$py" - "$tmp/out" <<PY
import json, sys
r = json.load(open(sys.argv[1]))
assert r["threads"] == 2 and r["symbols"] == 700 * 300, r
rows = {x["codec"]: x for x in r["rows"]}
wqc = rows["wqc rANS scalar"]
assert r["entropy_bits"] <= wqc["bits_per_symbol"] <= r["entropy_bits"] + 0.05, (wqc, r["entropy_bits"])
assert abs(wqc["ratio_vs_packed"] - 4 / wqc["bits_per_symbol"]) < 1e-9
assert all(x["decode_symbols_per_s"] > 0 and x["encode_symbols_per_s"] > 0 for x in r["rows"])
assert rows["zstd -19"]["bits_per_symbol"] > wqc["bits_per_symbol"]
PY'
expect_status 2 "bench: unknown codec family" -- "$wqc" bench --codecs wqc,lz4
check "bench: names the bad family" 'grep -q "unknown codec family .lz4." "$tmp/err"'
expect_status 2 "bench: xz races only --lossless" -- "$wqc" bench --codecs wqc,xz
expect_status 2 "bench --lossless: packed is not a lossless peer" -- "$wqc" bench --lossless --codecs packed w.npy
expect_status 2 "bench: --codecs with --gemv" -- "$wqc" bench --gemv --codecs wqc
expect_status 2 "bench: an empty --codecs" -- "$wqc" bench --codecs ""
printf 'not a tensor' >bad.npy
expect_status 1 "bench: bad input file" -- "$wqc" bench bad.npy
check_one_line_error "bench: bad input file" bad.npy "npy"

# The gemv layout: same symbols and weights back as the row layout, shown by
# info, refused for group scales; then `bench --gemv` on small shapes.
expect_status 0 "encode --layout gemv" -- "$wqc" encode --layout gemv --lanes 16 --chunk 5000 w.npy -o g.wqc
check "info shows the gemv layout" 'grep -q "gemv16" <("$wqc" info g.wqc) && grep -q "\"layout\": \"gemv\"" <("$wqc" info --json g.wqc)'
expect_status 0 "verify a gemv file" -- "$wqc" verify g.wqc
expect_status 0 "encode the same with --layout row" -- "$wqc" encode --layout row --lanes 16 w.npy -o r.wqc
for mode in "" --dequantize; do
    "$wqc" decode $mode g.wqc -o "g$mode.safetensors" && "$wqc" decode $mode r.wqc -o "r$mode.safetensors"
    check "gemv decode $mode equals row decode" 'cmp -s "g$mode.safetensors" "r$mode.safetensors"'
done
expect_status 1 "gemv layout with group scales" -- "$wqc" encode --layout gemv --granularity group:32 w.npy -o x.wqc
check_one_line_error "gemv layout with group scales" w.npy "per-tensor or per-row scales"
check "no output for the refused layout" '[[ -z $(compgen -G "x.wqc*") ]]'
expect_status 2 "bad --layout" -- "$wqc" encode --layout diagonal w.npy -o x.wqc

expect_status 0 "bench --gemv text" -- "$wqc" bench --gemv --shapes 96x160,33x64 --repeat 1 -T 2
for m in "wqc fused" "Q4_0 x Q8" "Q4_0 x F32" "F16" "F32"; do
    check "bench --gemv has $m rows in cache and memory" \
        '[[ $(grep -cE "^  cache +[0-9]+  $m " "$tmp/out") -eq 2 && $(grep -cE "^  memory +[0-9]+  $m " "$tmp/out") -eq 2 ]]'
done
check "bench --gemv derives the break-even bandwidth" 'grep -q "B\* = 0.5625 x R" "$tmp/out"'
expect_status 0 "bench --gemv --json with a file" -- "$wqc" bench --gemv --json --shapes 64x64 --repeat 1 -T 1 w.npy
check "bench --gemv JSON: rows, bandwidth, break-even" '"$py" - "$tmp/out" <<PY
import json, sys
d = json.load(open(sys.argv[1]))
assert [c["matrix"] for c in d["cases"]] == ["64x64", "w.npy (1 matrices)"], d["cases"]
for c in d["cases"]:
    methods = {(r["method"], r["residency"]) for r in c["rows"]}
    # w.npy has 300 columns: no Q4_0 (blocks of 32) for it.
    assert len(methods) == (10 if c["matrix"] == "64x64" else 6), methods
    assert all(r["seconds"] > 0 and r["weights_per_s"] > 0 for r in c["rows"])
    be = c["break_even"]
    assert abs(be["break_even_gbs_per_core"] - 0.5625 * be["fused_weights_per_s_per_core"] / 1e9) < 1e-9
    assert 1.5 < c["wqc_bits_per_weight"] < 6
assert d["memory_bandwidth"][0]["read_gbs"] > 0
PY'
expect_status 2 "bench --gemv: bad shape" -- "$wqc" bench --gemv --shapes 10y20
check "bad shape: says why" 'grep -q "expected ROWSxCOLS" "$tmp/err"'
expect_status 2 "--shapes without --gemv or --gpu" -- "$wqc" bench --shapes 8x8

# bench --gpu: its arguments checked before any device is looked for; then,
# in a build without CUDA (CI's), a one-line refusal, or without a GPU the
# same for the missing device. (The GPU itself: tests/cuda, bench/gpu.sh.)
expect_status 2 "--model without --gpu" -- "$wqc" bench --model llama-7b
expect_status 2 "--gpu with a FILE and --shapes" -- "$wqc" bench --gpu w.npy --shapes 64x64
expect_status 2 "--gpu with a FILE and --model" -- "$wqc" bench --gpu w.npy --model llama-7b
expect_status 2 "--gpu with --json" -- "$wqc" bench --gpu --json
expect_status 2 "--gpu with --shapes and --model" -- "$wqc" bench --gpu --shapes 64x64 --model llama-7b
expect_status 2 "--gpu --lanes the GPU does not decode" -- "$wqc" bench --gpu --lanes 48
check "--gpu --lanes 48: says what the GPU takes" 'grep -q "up to 32 lanes or 64, got 48" "$tmp/err"'
expect_status 2 "--gpu FILE with --lanes" -- "$wqc" bench --gpu w.npy --lanes 64
check "--gpu FILE --lanes: says the file loads as coded" 'grep -q "loads the file as coded" "$tmp/err"'
expect_status 2 "--gpu FILE with --chunk" -- "$wqc" bench --gpu w.npy --chunk 4096
check "--gpu FILE --chunk: names --chunk" 'grep -q "loads the file as coded: --chunk goes" "$tmp/err"'
expect_status 2 "--gpu FILE with --precision" -- "$wqc" bench --gpu w.npy --precision 11
if ! nvidia-smi -L >/dev/null 2>&1; then
    expect_status 1 "--gpu without CUDA or a GPU" -- "$wqc" bench --gpu --shapes 64x64
    check "--gpu without CUDA or a GPU: one line that says which" \
        '[[ $(wc -l <"$tmp/err") -eq 1 ]] && grep -qE "built without CUDA|no CUDA device" "$tmp/err" && [[ ! -s "$tmp/out" ]]'
fi
finish
