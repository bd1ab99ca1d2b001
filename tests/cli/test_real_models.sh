#!/usr/bin/env bash
# analyze on the real trained weights in ../shared/data (skipped, exit 77, when absent).
# usage: test_real_models.sh WQC DATA_DIR PYTHON3
wqc=$1 data=$2 py=$3
if [[ ! -f "$data/stories260K.safetensors" ]]; then
    echo "SKIP: $data/stories260K.safetensors not found (real-model tests need ../shared/data)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/lib.sh"

# peers FILE: b, x, z = bytes of brotli -q 11 -w 24, xz -9e, zstd -19 --long=27
# of FILE, and best = the smallest of them.
peers() {
    b=$(brotli -q 11 -w 24 -c "$1" | wc -c)
    x=$(xz -9e -c "$1" | wc -c)
    z=$(zstd -q -19 --long=27 -c "$1" | wc -c)
    best=$(( b < x ? (b < z ? b : z) : (x < z ? x : z) ))
}

for f in stories260K.safetensors stories260K.bf16.safetensors; do
    expect_status 0 "$f text" -- "$wqc" analyze --min-elements 0 "$data/$f"
    check "$f: all matrices analysed" 'grep -qE "^summary: [0-9]+ tensors analysed" "$tmp/out"'
    expect_status 0 "$f json" -- "$wqc" analyze --json --min-elements 0 "$data/$f"
    cp "$tmp/out" "$tmp/$f.json"
done
# F32 and its BF16 rounding carry nearly the same information; every 4-bit
# tensor has entropy below 4 bits and at most its cross-entropy. (Coded
# bits/weight can exceed 4 on these 4096-weight matrices: lane states and
# the table cost 0.3 bits/weight there.)
check "real models: figures consistent" '"$py" - "$tmp/stories260K.safetensors.json" "$tmp/stories260K.bf16.safetensors.json" <<"PY"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sa, sb = a["summary"], b["summary"]
assert sa["tensors"] == sb["tensors"] >= 30, (sa["tensors"], sb["tensors"])
assert abs(sa["entropy_bits"] - sb["entropy_bits"]) < 0.02, (sa["entropy_bits"], sb["entropy_bits"])
for t in a["tensors"]:
    if "skipped" in t: continue
    assert t["entropy_bits"] <= t["cross_entropy_bits"] + 1e-12 and t["entropy_bits"] < 4, t["name"]
    assert sum(t["histogram"]) == t["elements"]
PY'
expect_status 0 "gate passes at 4 bits" -- "$wqc" analyze -q --min-elements 0 --max-bits 4 "$data/stories260K.safetensors"
expect_status 3 "gate fails at 2 bits" -- "$wqc" analyze -q --min-elements 0 --max-bits 2 "$data/stories260K.safetensors"
# The codec on real weights: round trip bit-exact, and each tensor's payload
# within 0.2% of n H / 8 plus the fixed per-chunk lane states (order-0: with
# context models or brotli the payload goes below n H / 8).
for f in stories260K.safetensors stories260K.bf16.safetensors; do
    expect_status 0 "$f quantize" -- "$wqc" quantize "$data/$f" -o "$tmp/q.safetensors" -f
    expect_status 0 "$f encode" -- "$wqc" encode --mode order0 "$data/$f" -o "$tmp/m.wqc" -f
    expect_status 0 "$f decode" -- "$wqc" decode "$tmp/m.wqc" -o "$tmp/d.safetensors" -f
    check "$f: decode --symbols equals quantize" 'cmp -s "$tmp/q.safetensors" "$tmp/d.safetensors"'
    expect_status 0 "$f verify --against" -- "$wqc" verify -q "$tmp/m.wqc" --against "$data/$f"
    "$wqc" info --json "$tmp/m.wqc" > "$tmp/info.json"
    "$wqc" analyze --json --min-elements 0 "$data/$f" > "$tmp/an.json"
    check "$f: payloads at the entropy bound" '"$py" - "$tmp/info.json" "$tmp/an.json" <<"PY"
import json, sys
info = {t["name"]: t for t in json.load(open(sys.argv[1]))["tensors"]}
for t in json.load(open(sys.argv[2]))["tensors"]:
    if "skipped" in t: continue
    n, h = t["elements"], t["entropy_bits"]
    chunks = (n + 2**20 - 1) // 2**20
    bound = n * h / 8 * 1.002 + 4 * 32 * chunks + 16
    got = info[t["name"]]["payload_bytes"]
    assert got <= bound, (t["name"], got, bound)
PY'
done

# The whole file against what users compare it with: brotli, xz and zstd of
# the quantize output (the same information), for both quantizers. The
# target is 0.95 of the smallest; a regression past it fails here.
for f in stories260K.safetensors stories260K.bf16.safetensors; do
    for quantizer in "" "--method sdclip"; do
        # shellcheck disable=SC2086
        "$wqc" quantize "$data/$f" $quantizer -o "$tmp/q.safetensors" -f -q
        # shellcheck disable=SC2086
        expect_status 0 "$f $quantizer: encode" -- "$wqc" encode "$data/$f" $quantizer -o "$tmp/m.wqc" -f
        expect_status 0 "$f $quantizer: decode" -- "$wqc" decode "$tmp/m.wqc" -o "$tmp/d.safetensors" -f
        check "$f $quantizer: decode equals quantize" 'cmp -s "$tmp/q.safetensors" "$tmp/d.safetensors"'
        w=$(stat -c %s "$tmp/m.wqc")
        peers "$tmp/q.safetensors"
        echo "$f $quantizer: wqc $w, brotli $b, xz $x, zstd $z: $(( 10000 * w / best )) / 10000 of the smallest"
        check "$f $quantizer: .wqc ($w) <= 0.95 x smallest of brotli/xz/zstd ($best)" '(( 100 * w <= 95 * best ))'
    done
done
# Lossless: the original file back byte for byte, at <= 0.97 of the smallest
# of brotli/xz/zstd of that file, and the BF16 file at <= 67% of its size.
for f in stories260K.safetensors stories260K.bf16.safetensors; do
    expect_status 0 "$f: encode --lossless" -- "$wqc" encode --lossless "$data/$f" -o "$tmp/l.wqc" -f
    expect_status 0 "$f: decode of a lossless file" -- "$wqc" decode "$tmp/l.wqc" -o "$tmp/l.safetensors" -f
    check "$f: the original file, byte for byte" 'cmp -s "$data/$f" "$tmp/l.safetensors"'
    expect_status 0 "$f: verify --against the original" -- "$wqc" verify -q "$tmp/l.wqc" --against "$data/$f"
    w=$(stat -c %s "$tmp/l.wqc") size=$(stat -c %s "$data/$f")
    peers "$data/$f"
    echo "$f --lossless: wqc $w ($(( 1000 * w / size ))/1000 of $size), brotli $b, xz $x, zstd $z: $(( 10000 * w / best )) / 10000 of the smallest"
    check "$f --lossless: .wqc ($w) <= 0.97 x smallest of brotli/xz/zstd ($best)" '(( 100 * w <= 97 * best ))'
done
w=$(stat -c %s "$tmp/l.wqc") size=$(stat -c %s "$data/stories260K.bf16.safetensors")
check "BF16 --lossless: .wqc ($w) <= 67% of the file ($size)" '(( 100 * w <= 67 * size ))'

# examples/llama on the real model: its F32 logits against the numpy reference,
# and the same logits from the quantize output, the .wqc and the fused product.
llama=$(dirname "$wqc")/wqc-llama
tokens=1,461,465,300,12,7,88,401,2,9
expect_status 0 "quantize for wqc-llama" -- "$wqc" quantize "$data/stories260K.safetensors" -o "$tmp/lq.safetensors" -f
expect_status 0 "encode --layout gemv for wqc-llama" -- "$wqc" encode "$data/stories260K.safetensors" --layout gemv -o "$tmp/lg.wqc" -f
for spec in "$data/stories260K.safetensors:f32:orig" "$tmp/lq.safetensors:f32:q" "$tmp/lg.wqc:f32:g" "$tmp/lg.wqc:fused:fused"; do
    IFS=: read -r file path tag <<<"$spec"
    expect_status 0 "wqc-llama logits $tag" -- "$llama" logits "$file" --path "$path" --tokens $tokens
    cp "$tmp/out" "$tmp/logits.$tag"
done
check "stories260K: logits match the reference and agree across loading paths" \
    'PYTHONPATH="$(dirname "$0")/../support" "$py" - "$data/stories260K.safetensors" "$tmp" $tokens <<"PY"
import sys, numpy as np
from llama_reference import read_safetensors, forward
W, meta = read_safetensors(sys.argv[1]); t = sys.argv[2]; toks = [int(x) for x in sys.argv[3].split(",")]
L = lambda tag: np.loadtxt(t + "/logits." + tag)
ref = forward(W, meta, toks)
assert np.abs(L("orig") - ref).max() < 1e-4 * np.abs(ref).max()
assert np.array_equal(L("q"), L("g"))
assert np.abs(L("fused") - L("g")).max() < 1e-4 * np.abs(L("g")).max()
PY'
finish
