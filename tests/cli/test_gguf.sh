#!/usr/bin/env bash
# GGUF as a user meets it: analyze on files of every supported type (written
# from the spec by tests/support/gguf_write.py, versions 2 and 3, metadata of
# every value type), and damaged files refused with one line.
# usage: test_gguf.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
export PYTHONPATH=$(cd "$(dirname "$0")/../support" && pwd)
cd "$tmp" || exit 1

"$py" - <<'PY'
import struct, numpy as np
from gguf_write import *
rng = np.random.default_rng(2)
g = lambda r, c: (rng.standard_normal((r, c)) * 0.02).astype(np.float32)
meta = [("general.architecture", STRING, "llama"), ("general.name", STRING, "t"), ("a.u8", U8, 7), ("a.i8", I8, -3),
        ("a.u16", U16, 300), ("a.i16", I16, -300), ("a.u32", U32, 9), ("a.i32", I32, -7), ("a.f32", F32, 0.5),
        ("a.bool", BOOL, True), ("a.u64", U64, 2**40), ("a.i64", I64, -2**40), ("a.f64", F64, 1.25),
        ("a.arr", ARRAY, (I32, [1, 2, 3])), ("a.strs", ARRAY, (STRING, ["x", "yz"])),
        ("a.nested", ARRAY, (ARRAY, [(U8, [1, 2]), (U8, [3])]))]
ts = [("tok_embd.weight", "F16", [64, 100], blocks("F16", g(100, 64), rng)),
      ("blk.0.attn_q.weight", "Q4_0", [256, 96], blocks("Q4_0", g(96, 256), rng)),
      ("blk.0.ffn_up.weight", "Q8_0", [64, 96], blocks("Q8_0", g(96, 64), rng)),
      ("blk.0.attn_k.weight", "Q4_K", [512, 40], blocks("Q4_K", g(40, 512), rng)),
      ("blk.0.attn_v.weight", "Q6_K", [256, 48], blocks("Q6_K", g(48, 256), rng)),
      ("output_norm.weight", "F32", [64], blocks("F32", np.ones((1, 64), np.float32), rng)),
      ("odd.bf16", "BF16", [3, 5, 7], blocks("BF16", g(1, 105), rng)),
      ("counts", "I32", [5], np.arange(5, dtype="<i4").tobytes())]
write("t.gguf", meta, ts)
write("t2.gguf", meta, ts, version=2, alignment=64)
b = open("t.gguf", "rb").read()
open("trunc.gguf", "wb").write(b[:len(b) // 2])
open("head.gguf", "wb").write(b[:20])
open("v1.gguf", "wb").write(b[:4] + struct.pack("<I", 1) + b[8:])
open("counts.gguf", "wb").write(b[:8] + struct.pack("<QQ", 2**40, 2**40) + b[24:])
def patch(name, old, new, out):
    i = b.index(old); assert b.count(old) == 1, name
    open(out, "wb").write(b[:i] + new + b[i + len(old):])
# The first tensor info: name, ndim 2, dims 64 and 100, type 1 (F16), offset 0.
info = struct.pack("<Q", 15) + b"tok_embd.weight" + struct.pack("<IQQIQ", 2, 64, 100, 1, 0)
patch("type", info, info[:-12] + struct.pack("<IQ", 99, 0), "badtype.gguf")
patch("dims", info, info[:-28] + struct.pack("<QQIQ", 0, 100, 1, 0), "zerodim.gguf")
patch("align", info, info[:-8] + struct.pack("<Q", 4), "misaligned.gguf")
patch("overlap", info, info[:-8] + struct.pack("<Q", 12800 + 32 * 5), "overlap.gguf")
patch("ndim", info, info[:-32] + struct.pack("<I", 9) + info[-28:], "ndim.gguf")
patch("strlen", struct.pack("<Q", 15) + b"tok_embd", struct.pack("<Q", 2**62) + b"tok_embd", "strlen.gguf")
write("deep.gguf", [("a", ARRAY, (ARRAY, [(ARRAY, [(ARRAY, [(ARRAY, [(U8, [1])])])])]))], [])
write("dup.gguf", [], [("x", "F32", [4], b"\0" * 16), ("x", "F32", [4], b"\0" * 16)])
PY

for f in t.gguf t2.gguf; do
    expect_status 0 "analyze $f" -- "$wqc" analyze "$f"
    check "$f: a line per tensor" '[[ $(grep -cE "^(tok_embd|blk|output_norm|odd|counts)" "$tmp/out") -eq 8 ]]'
    check "$f: a file total" 'grep -q "^file: " "$tmp/out"'
done
expect_status 0 "analyze --json" -- "$wqc" analyze t.gguf --json
cp "$tmp/out" t.json
expect_status 0 "the streams' figures" -- "$py" - <<'PY'
import json
d = json.load(open("t.json"))["gguf"][0]
t = {x["name"]: x for x in d["tensors"]}
assert d["version"] == 3 and len(t) == 8
s = {x["name"]: x for x in t["blk.0.attn_q.weight"]["streams"]}
assert s["codes"]["alphabet"] == 16 and s["codes"]["symbols"] == 96 * 256 and 3.5 < s["codes"]["entropy_bits"] < 3.95, s
assert s["d"]["symbols"] == 2 * 96 * 256 // 32
assert [x["name"] for x in t["blk.0.attn_k.weight"]["streams"]] == ["codes", "d+dmin", "scales"]
assert [x["name"] for x in t["blk.0.attn_v.weight"]["streams"]] == ["codes", "scales", "d"]
q6 = t["blk.0.attn_v.weight"]["streams"][0]
assert q6["alphabet"] == 64 and q6["symbols"] == 48 * 256 and 4.5 < q6["entropy_bits"] < 6, q6
assert t["blk.0.ffn_up.weight"]["streams"][0]["alphabet"] == 256
assert t["counts"]["streams"][0]["name"] == "bytes"
assert t["odd.bf16"]["dims"] == [3, 5, 7]
for x in d["tensors"]:
    assert 0 < x["stored_bytes"] <= x["bytes"] * 1.02 + 64, x
assert d["estimated_bytes"] < d["bytes"]
assert d["by_type"]["Q4_0"]["stored_bytes"] < 0.95 * d["by_type"]["Q4_0"]["bytes"]
PY
expect_status 0 "--tensors selects" -- "$wqc" analyze t.gguf --tensors 'blk.*' -q

# Lossless recompression: the identical file back, smaller.
for f in t t2; do
    expect_status 0 "encode $f.gguf" -- "$wqc" encode $f.gguf -o $f.wqc
    check "$f: the summary says byte for byte" 'grep -q "byte for byte" "$tmp/err"'
    expect_status 0 "decode $f.wqc" -- "$wqc" decode $f.wqc -o $f.back.gguf
    check "$f: byte-identical GGUF" 'cmp -s $f.gguf $f.back.gguf'
    check "$f: smaller" '[[ $(stat -c %s $f.wqc) -lt $(stat -c %s $f.gguf) ]]'
    expect_status 0 "verify $f.wqc" -- "$wqc" verify $f.wqc
    # Tensors are coded several at once on -T threads: the file does not change.
    expect_status 0 "encode $f.gguf -T 1" -- "$wqc" encode $f.gguf -o $f.t1.wqc -T 1 -q
    expect_status 0 "encode $f.gguf -T 5" -- "$wqc" encode $f.gguf -o $f.t5.wqc -T 5 -q
    check "$f: -T 1 and -T 5 write the same file" 'cmp -s $f.t1.wqc $f.t5.wqc && cmp -s $f.t1.wqc $f.wqc'
done
cp t.gguf named.gguf
expect_status 0 "default names: named.gguf -> named.wqc -> named.gguf" -- "$wqc" encode named.gguf
mv named.gguf named.orig.gguf
expect_status 0 "decode by default name" -- "$wqc" decode named.wqc
check "named.gguf restored" 'cmp -s named.gguf named.orig.gguf'
expect_status 0 "info lists the ggml types" -- "$wqc" info t.wqc
check "info: Q4_K blocks" 'grep -q "gguf Q4_K" "$tmp/out"'
printf 'k%.0s' {1..32} >key
# Small tensors of one block type share a code table: stories-sized Q8_0
# matrices (a table of up to 256 codes costs more than their statistics differ).
"$py" - <<'PY'
import numpy as np
from safetensors_write import write
rng = np.random.default_rng(11)
write("small.safetensors", {"w%d" % i: ("F32", (64, 64), (rng.standard_normal((64, 64)) * 0.02).astype("<f4").tobytes())
                            for i in range(8)}, {})
PY
expect_status 0 "quantize --format gguf --gguf-type q8_0" -- "$wqc" quantize small.safetensors --format gguf --gguf-type q8_0 -o small.gguf
# Tensors converted several at once: the same file at any -T, and the
# same as one at a time.
for ty in q8_0 q4_0; do
    expect_status 0 "quantize --format gguf --gguf-type $ty -T 1" -- "$wqc" quantize small.safetensors --format gguf --gguf-type $ty -T 1 -o small.$ty.t1.gguf
    expect_status 0 "quantize --format gguf --gguf-type $ty -T 3" -- "$wqc" quantize small.safetensors --format gguf --gguf-type $ty -T 3 -o small.$ty.t3.gguf
    check "$ty: -T 1 and -T 3 write the same GGUF" 'cmp -s small.$ty.t1.gguf small.$ty.t3.gguf'
done
check "q8_0: and the same as the default -T" 'cmp -s small.q8_0.t1.gguf small.gguf'
expect_status 0 "encode the Q8_0 file" -- "$wqc" encode small.gguf -o small.wqc
expect_status 0 "decode it" -- "$wqc" decode small.wqc -o small.back.gguf
check "the Q8_0 file back" 'cmp -s small.gguf small.back.gguf'
# ggml's quantizers give each block's largest weight a fixed code (Q8_0
# +-127, Q4_0 0): its position is stored apart and the code left out.
expect_status 0 "info on the Q8_0 .wqc" -- "$wqc" info small.wqc
check "Q8_0: every tensor leaves its block peaks out" '[[ $(grep -c "gguf Q8_0+peaks" "$tmp/out") -eq 8 ]]'
expect_status 0 "encode the Q4_0 file" -- "$wqc" encode small.q4_0.t1.gguf -o small.q4_0.wqc
expect_status 0 "decode it" -- "$wqc" decode small.q4_0.wqc -o small.q4_0.back.gguf
check "the Q4_0 file back" 'cmp -s small.q4_0.t1.gguf small.q4_0.back.gguf'
expect_status 0 "info on the Q4_0 .wqc" -- "$wqc" info small.q4_0.wqc
check "Q4_0: block peaks too" '[[ $(grep -c "gguf Q4_0+peaks" "$tmp/out") -eq 8 ]]'
# Blocks without a peak (a quantizer that searched its scales) beside blocks
# with one or two, most in one column (an outlier channel): the same bytes
# back; no peak at all: no peak stream.
"$py" - <<'PY'
import numpy as np
from gguf_write import write
rng = np.random.default_rng(12)
def q8(blocks, peaks):
    out = bytearray()
    for b in range(blocks):
        q = np.clip(np.round(rng.standard_normal(32) * 20), -100, 100).astype(np.int8)
        for _ in range(peaks(b)):
            q[7 if rng.random() < 0.8 else rng.integers(0, 32)] = rng.choice([127, -127])
        out += np.float16(0.001 * (1 + b % 5)).tobytes() + q.tobytes()
    return bytes(out)
write("mixed.gguf", [], [("mixed", "Q8_0", [256, 64], q8(512, lambda b: [0, 2, 1, 1, 1][b % 5])),
                        ("none", "Q8_0", [256, 64], q8(512, lambda b: 0))])
PY
expect_status 0 "encode blocks with 0 to 2 peaks" -- "$wqc" encode mixed.gguf -o mixed.wqc
expect_status 0 "decode them" -- "$wqc" decode mixed.wqc -o mixed.back.gguf
check "0 to 2 peaks a block: the file back" 'cmp -s mixed.gguf mixed.back.gguf'
expect_status 0 "info" -- "$wqc" info mixed.wqc
check "peaks where blocks have them, none where none has" \
    'grep -q "^mixed .*gguf Q8_0+peaks" "$tmp/out" && grep -q "^none .*gguf Q8_0)" "$tmp/out"'
expect_status 0 "info --json" -- "$wqc" info --json small.wqc
check "shared tables (codes, peak symbols), used by every tensor; a peak in every block" '"$py" -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d[\"shared_models\"] == 2 and all(t[\"shared_tables\"] for t in d[\"tensors\"]), d
assert all(t[\"block_peaks\"] == 64 * 64 // 32 for t in d[\"tensors\"]), d
" "$tmp/out"'
expect_status 0 "encode with an HMAC" -- "$wqc" encode t.gguf -o k.wqc --key-file key
expect_status 0 "verify the HMAC" -- "$wqc" verify k.wqc --key-file key
"$py" - <<'PY'
b = bytearray(open("t.wqc", "rb").read()); b[len(b) // 2] ^= 0x10
open("bad.wqc", "wb").write(b)
b = bytearray(open("t.gguf", "rb").read())
# A non-zero byte in the padding before the data section's second tensor.
import struct
open("pad.gguf", "wb").write(b)
PY
expect_status 4 "a damaged .wqc of a GGUF" -- "$wqc" decode bad.wqc -o bad.gguf
check "nothing left behind" '[[ ! -e bad.gguf ]]'
"$py" - <<'PY'
from gguf_write import *
import numpy as np
rng = np.random.default_rng(3)
write("pad.gguf", [], [("a", "Q4_0", [32, 1], blocks("Q4_0", np.ones((1, 32), np.float32), rng)),
                       ("b", "Q4_0", [32, 1], blocks("Q4_0", np.ones((1, 32), np.float32), rng))])
b = bytearray(open("pad.gguf", "rb").read())
i = b.rindex(b"\0" * 8, 0, len(b) - 18)   # padding after the first tensor
b[i + 4] = 7
open("pad.gguf", "wb").write(b)
PY
expect_status 1 "GGUF with non-zero padding" -- "$wqc" encode pad.gguf -o pad.wqc
check_one_line_error "padding" pad.gguf "zero padding"
check "no output" '[[ ! -e pad.wqc ]]'

expect_status 0 "bench --lossless on a GGUF file" -- "$wqc" bench t.gguf --lossless --repeat 1
check "bench: every decoder gave the file back and the peers ran" 'grep -q "^wqc --lossless scalar" "$tmp/out" && grep -q "^xz -9e" "$tmp/out"'

for bad in trunc:"past the end" head:"truncated" v1:"version 1" counts:"exceed" badtype:"unknown ggml type" \
           zerodim:"dimension" misaligned:"aligned" overlap:"overlap" ndim:"dimensions" strlen:"truncated" \
           deep:"malformed" dup:"twice"; do
    name=${bad%%:*} needle=${bad#*:}
    expect_status 1 "damaged GGUF: $name" -- "$wqc" analyze "$name.gguf"
    check_one_line_error "$name" "$name.gguf" "$needle"
done
finish
