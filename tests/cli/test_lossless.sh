#!/usr/bin/env bash
# encode --lossless as a user runs it: the original .safetensors or .npy
# back byte for byte (odd headers, metadata, padding, tensor order that is
# not the header's, every float dtype, integer tensors), per-tensor rules
# mixing lossless and quantized tensors, verify --against, damage caught.
# usage: test_lossless.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
support=$(cd "$(dirname "$0")/../support" && pwd)
cd "$tmp" || exit 1

"$py" - <<'PY'
import json, struct, numpy as np
rng = np.random.default_rng(11)
def st(path, tensors, meta=None, pad=b" " * 5, reverse=False):
    header, blobs, off = {}, [], 0
    if meta: header["__metadata__"] = meta
    items = list(tensors.items())
    # Data in the reverse of the header's order, when asked: decode must follow the offsets.
    for name, (dtype, shape, raw) in (items[::-1] if reverse else items):
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw); off += len(raw)
    header = dict(sorted(header.items(), key=lambda kv: kv[0] != "__metadata__"))
    h = json.dumps(header, indent=1).encode() + pad
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
g = lambda *s: rng.standard_normal(s).astype("<f4") * np.float32(0.02)
bf16 = lambda a: ((a.view("<u4") + 0x7fff + ((a.view("<u4") >> 16) & 1)) >> 16).astype("<u2")
w = g(300, 256)
special = g(40, 70); special.ravel()[:6] = [np.nan, np.inf, -np.inf, -0.0, 1e-40, 3.4e38]
st("model.safetensors", {
    "embed": ("BF16", (512, 256), bf16(g(512, 256)).tobytes()),
    "wide": ("F32", (300, 256), w.tobytes()),
    "half": ("F16", (300, 256), g(300, 256).astype("<f2").tobytes()),
    "from_bf16": ("F32", (300, 256), (bf16(w).astype("<u4") << 16).tobytes()),
    "special": ("F32", (40, 70), special.tobytes()),
    "norm": ("F32", (256,), np.ones(256, "<f4").tobytes()),
    "steps": ("I64", (3,), np.arange(3, dtype="<i8").tobytes()),
    "empty": ("F16", (0, 4), b""),
}, {"format": "pt", "who": "test"}, reverse=True)
np.save("w.npy", g(200, 300).astype(np.float16))
np.save("wf.npy", np.asfortranarray(g(20, 30)))
PY

expect_status 0 "encode --lossless" -- "$wqc" encode --lossless model.safetensors -o m.wqc
check "the summary counts the split tensors" 'grep -q "8 kept tensors (5 split)" "$tmp/err"'
expect_status 0 "decode" -- "$wqc" decode m.wqc -o back.safetensors
check "the original file, byte for byte" 'cmp -s model.safetensors back.safetensors'
check "through a pipe too" 'cmp -s model.safetensors <("$wqc" decode m.wqc -c -q)'
check "smaller than zstd -19 of the file" '[[ $(stat -c %s m.wqc) -lt $(zstd -q -19 -c model.safetensors | wc -c) ]]'
expect_status 0 "verify --against the original" -- "$wqc" verify m.wqc --against model.safetensors
check "every tensor identical" '[[ $(grep -c "identical to the original" "$tmp/out") -eq 8 ]]'
expect_status 0 "info" -- "$wqc" info m.wqc
check "info shows the split coding" 'grep -q "kept (split)" "$tmp/out"'
check "BF16 weights take the exponent and 3 mantissa bits as their symbol" 'grep -qE "^embed .*kept \(split-e8m3\)" "$tmp/out"'
expect_status 0 "one tensor, dequantized path" -- "$wqc" decode m.wqc --tensors half -o half.npy
check "the tensor as .npy" '"$py" -c "
import numpy as np, json, struct
b = open(\"model.safetensors\", \"rb\").read(); n = struct.unpack(\"<Q\", b[:8])[0]; h = json.loads(b[8:8 + n])
o = h[\"half\"][\"data_offsets\"]
assert np.load(\"half.npy\").tobytes() == b[8 + n + o[0]:8 + n + o[1]]"'

# analyze --lossless: every float tensor, its streams' entropies, and the
# very bytes encode stored.
expect_status 0 "analyze --lossless --json" -- "$wqc" analyze --lossless --json --zstd-level 3 --brotli-quality 5 model.safetensors
cp "$tmp/out" an.json
"$wqc" info --json m.wqc >info.json
check "analyze --lossless agrees with the file" '"$py" - an.json info.json <<"PY"
import json, sys
a, info = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
stored = {t["name"]: t["payload_bytes"] for t in info["tensors"]}
rows = {t["name"]: t for t in a["tensors"]}
assert sorted(rows) == sorted(["embed", "wide", "half", "from_bf16", "special", "norm", "empty"]), sorted(rows)
for name, t in rows.items():
    assert t["coded_bytes"] == stored[name], (name, t["coded_bytes"], stored[name])
    assert len(t["rest_entropy_bits"]) == (3 if t["dtype"] == "F32" else 1)
w = rows["wide"]
assert 1.5 < w["symbol_entropy_bits"] < 4 and 0.99 < w["sign_entropy_bits"] <= 1 and w["coding"] == "split"
assert rows["from_bf16"]["rest_entropy_bits"][2] == 0  # the zero low bytes
assert a["by_dtype"]["F32"]["tensors"] == 4 and a["by_dtype"]["BF16"]["coded_bytes"] == rows["embed"]["coded_bytes"]
PY'
expect_status 0 "analyze --lossless text" -- "$wqc" analyze --lossless --zstd-level 3 --brotli-quality 5 model.safetensors
check "text names the streams and totals per dtype" 'grep -q "H(sym)" "$tmp/out" && grep -q "^BF16  1 tensors" "$tmp/out"'

# .npy: back as .npy, named after the input; a Fortran-order one comes back
# in C order (values equal, not the same bytes).
expect_status 0 "encode a .npy" -- "$wqc" encode --lossless w.npy -q
mkdir npy && mv w.wqc npy/
expect_status 0 "decode names it .npy" -- "$wqc" decode npy/w.wqc -q
check "w.npy byte for byte" 'cmp -s w.npy npy/w.npy'
expect_status 0 "Fortran order" -- "$wqc" encode --lossless wf.npy -o wf.wqc -q
expect_status 0 "Fortran order decodes" -- "$wqc" decode wf.wqc -o wf_back.npy -q
check "same values, C order" '"$py" -c "
import numpy as np; a, b = np.load(\"wf.npy\"), np.load(\"wf_back.npy\")
assert a.tobytes(order=\"C\") == b.tobytes() and b.flags.c_contiguous"'

# Rules: lossless here, quantized there; decode gives the quantized layout,
# with the lossless tensors bit-exact.
expect_status 0 "mixed rules" -- "$wqc" encode model.safetensors --rule 'wide:lossless' --rule 'half:lossless' --rule 'special:lossless' -o mix.wqc -q
expect_status 0 "decode mixed" -- "$wqc" decode mix.wqc -o mix.safetensors -q
"$wqc" quantize model.safetensors --rule 'wide:keep' --rule 'half:keep' --rule 'special:keep' -o q.safetensors -q
check "a mixed file decodes to quantize's output (kept = lossless here)" 'cmp -s mix.safetensors q.safetensors'
expect_status 2 "a bad rule" -- "$wqc" encode model.safetensors --rule 'wide:losless' -o x.wqc
check "the rule error names the forms" 'grep -q "GLOB:lossless" "$tmp/err"'

# Damage in a split tensor: exit 4, nothing written.
cp m.wqc bad.wqc
"$py" -c "
b = bytearray(open('bad.wqc', 'rb').read()); b[len(b) // 2] ^= 0x20; open('bad.wqc', 'wb').write(b)"
expect_status 4 "a damaged lossless file" -- "$wqc" decode bad.wqc -o bad.safetensors
check "no output left" '[[ ! -e bad.safetensors ]]'
# From 2 threads (4 when -T covers every core) the records are checked on a
# thread of their own while the frames decode, for an output nobody reads
# before it is whole: the damage is still named, and nothing is left.
for t in 1 2 5; do
    expect_status 4 "a damaged lossless file, -T $t" -- "$wqc" decode -T $t bad.wqc -o bad.safetensors
    check "-T $t: the checksum named, no output left" 'grep -q "checksum mismatch" "$tmp/err" && [[ ! -e bad.safetensors ]]'
done
expect_status 4 "a damaged lossless file to /dev/null, -T 5" -- "$wqc" decode -T 5 bad.wqc -o /dev/null -f
expect_status 4 "a damaged lossless file to stdout, -T 5" -- "$wqc" decode -T 5 bad.wqc -o - -f
expect_status 0 "an intact one, -T 5" -- "$wqc" decode -T 5 m.wqc -o t5.safetensors -q
check "-T 5: the original, byte for byte" 'cmp -s model.safetensors t5.safetensors'
expect_status 0 "tensors picked by name (written tensor by tensor), -T 5" -- "$wqc" decode -T 5 m.wqc --tensors '*' -o t5s.safetensors -q -f
check "-T 5, by name: the same tensors" 'cmp -s <("$wqc" decode -T 1 m.wqc --tensors "*" -c -q) t5s.safetensors'
expect_status 4 "a damaged file, tensors by name, -T 5" -- "$wqc" decode -T 5 bad.wqc --tensors '*' -o bad.safetensors
check "by name: the checksum named, no output left" 'grep -q "checksum mismatch" "$tmp/err" && [[ ! -e bad.safetensors ]]'
# A record over 64 KiB has segment checks (the K record): from -T 2 its
# segments are checked all -T wide before it decodes, to any output.
"$py" -c "
import numpy as np
np.save('big.npy', (np.random.default_rng(3).standard_normal((256, 1024)) * 0.02).astype('<f2'))"
expect_status 0 "a 512 KB tensor, lossless" -- "$wqc" encode --lossless big.npy -o big.wqc -q
check "info --json says it has segment checks" '"$wqc" info --json big.wqc | "$py" -c "import json, sys; assert json.load(sys.stdin)[\"tensors\"][0][\"segment_checks\"] is True"'
check "a small tensor has none" '"$wqc" info --json m.wqc | "$py" -c "import json, sys; assert not any(t[\"segment_checks\"] for t in json.load(sys.stdin)[\"tensors\"] if t[\"payload_bytes\"] < 60000)"'
for t in 1 4; do
    expect_status 0 "its segments checked -T $t wide" -- "$wqc" decode -T $t big.wqc -o big$t.npy -q
    check "-T $t: the original, byte for byte" 'cmp -s big.npy big$t.npy'
done
cp big.wqc bigbad.wqc
"$py" -c "
b = bytearray(open('bigbad.wqc', 'rb').read()); b[len(b) // 2] ^= 0x20; open('bigbad.wqc', 'wb').write(b)"
for t in 1 4; do
    expect_status 4 "a damaged segment, -T $t" -- "$wqc" decode -T $t bigbad.wqc -o bad.npy
    check "-T $t: the checksum named, no output left" 'grep -q "checksum mismatch" "$tmp/err" && [[ ! -e bad.npy ]]'
    expect_status 4 "a damaged segment to stdout, -T $t" -- "$wqc" decode -T $t bigbad.wqc -o - -f
done
for t in 1 4; do
    expect_status 4 "verify -T $t: the damaged segment" -- "$wqc" verify -T $t bigbad.wqc
    check "verify -T $t: the checksum named" 'grep -q "checksum mismatch" "$tmp/err"'
    expect_status 0 "verify -T $t: the intact file" -- "$wqc" verify -T $t big.wqc
done
expect_status 4 "verify --list checks every record" -- "$wqc" verify --list bigbad.wqc
expect_status 0 "info reads the descriptors only, not the damaged payload" -- "$wqc" info bigbad.wqc
check "info: the tensor listed" 'grep -q "^big " "$tmp/out"'
# From -T 2 the segments are checked in place, through the mapping; with
# WQC_READ_COPIES=1 the record is read into a copy, its segments checked as
# the pieces arrive.
expect_status 0 "into a copy, -T 4" -- env WQC_READ_COPIES=1 "$wqc" decode -T 4 big.wqc -o bigm.npy -q
check "into a copy: the original, byte for byte" 'cmp -s big.npy bigm.npy'
expect_status 4 "into a copy: the damaged segment, -T 4" -- env WQC_READ_COPIES=1 "$wqc" decode -T 4 bigbad.wqc -o bad.npy
check "into a copy: the checksum named" 'grep -q "checksum mismatch" "$tmp/err"'
# 8-bit floats (DeepSeek-style FP8: E4M3 with 128x128 block scales, made by
# tests/support/fp8_convert.py): kept in their entropy in every mode, the
# file back byte for byte, their fields' entropies in analyze --lossless.
PYTHONPATH=$support "$py" - <<'PY'
import numpy as np
from safetensors_write import write
rng = np.random.default_rng(4)
t = {"model.layers.0.mlp.up_proj.weight": ("F32", (384, 256), (rng.standard_normal((384, 256)) * 0.02).astype("<f4").tobytes()),
     "model.layers.0.input_layernorm.weight": ("F32", (256,), np.ones(256, "<f4").tobytes())}
for k in range(4):  # small matrices: their tables cost more than their statistics differ
    t["model.layers.%d.self_attn.q_proj.weight" % (k + 1)] = ("F32", (32, 64), (rng.standard_normal((32, 64)) * 0.02).astype("<f4").tobytes())
write("bf.safetensors", t, {"format": "pt"})
PY
expect_status 0 "fp8_convert.py" -- env PYTHONPATH="$support" "$py" "$support/fp8_convert.py" bf.safetensors fp8.safetensors
# quantize --format fp8 makes the same checkpoint as the published recipe's script.
expect_status 0 "quantize --format fp8" -- "$wqc" quantize bf.safetensors --format fp8 -o fp8c.safetensors -q
check "quantize --format fp8: every tensor and the metadata as fp8_convert.py makes them" '"$py" -c "
import json, struct, sys
def read(path):
    b = open(path, \"rb\").read(); n = struct.unpack(\"<Q\", b[:8])[0]; h = json.loads(b[8:8 + n]); m = h.pop(\"__metadata__\", {})
    return {k: (v[\"dtype\"], v[\"shape\"], b[8 + n + v[\"data_offsets\"][0]:8 + n + v[\"data_offsets\"][1]]) for k, v in h.items()}, m
a, b = read(sys.argv[1]), read(sys.argv[2])
assert a == b, sorted(k for k in set(a[0]) | set(b[0]) if a[0].get(k) != b[0].get(k))
assert a[0][\"model.layers.0.mlp.up_proj.weight\"][0] == \"F8_E4M3\" and a[0][\"model.layers.0.mlp.up_proj.weight_scale_inv\"][1] == [3, 2]
" fp8c.safetensors fp8.safetensors'
# Embeddings and heads stay as they are under their other usual names too.
PYTHONPATH=$support "$py" - <<'PY'
import numpy as np
from safetensors_write import write
m = (np.arange(64 * 128, dtype="<f4").reshape(64, 128) % 7 - 3) / 100
write("names.safetensors", {k: ("F32", (64, 128), m.tobytes()) for k in
      ("transformer.wte.weight", "transformer.wpe.weight", "output.weight", "transformer.h.0.mlp.c_fc.weight")}, {})
PY
expect_status 0 "quantize --format fp8 -T 1" -- "$wqc" quantize bf.safetensors --format fp8 -T 1 -o fp8t1.safetensors -q
expect_status 0 "quantize --format fp8 -T 3" -- "$wqc" quantize bf.safetensors --format fp8 -T 3 -o fp8t3.safetensors -q
check "tensors converted several at once: the same checkpoint at any -T" 'cmp -s fp8t1.safetensors fp8t3.safetensors && cmp -s fp8t1.safetensors fp8c.safetensors'
# Its block scales are not matrices to convert: an FP8 checkpoint comes back as it is.
expect_status 0 "quantize --format fp8 of an FP8 checkpoint" -- "$wqc" quantize fp8c.safetensors --format fp8 -o fp8again.safetensors -q
check "quantize --format fp8 of an FP8 checkpoint: the same file" 'cmp -s fp8c.safetensors fp8again.safetensors'
expect_status 0 "quantize --format fp8, GPT-2 and Meta names" -- "$wqc" quantize names.safetensors --format fp8 -o names8.safetensors -q
expect_status 0 "fp8_convert.py, GPT-2 and Meta names" -- env PYTHONPATH="$support" "$py" "$support/fp8_convert.py" names.safetensors names8p.safetensors
check "wte, wpe and output.weight kept, the MLP matrix FP8, by both" '"$py" -c "
import json, struct, sys
for path in sys.argv[1:]:
    b = open(path, \"rb\").read(); h = json.loads(b[8:8 + struct.unpack(\"<Q\", b[:8])[0]])
    d = {k: v[\"dtype\"] for k, v in h.items() if k != \"__metadata__\"}
    assert d == {\"transformer.wte.weight\": \"F32\", \"transformer.wpe.weight\": \"F32\", \"output.weight\": \"F32\",
                 \"transformer.h.0.mlp.c_fc.weight\": \"F8_E4M3\", \"transformer.h.0.mlp.c_fc.weight_scale_inv\": \"F32\"}, d
" names8.safetensors names8p.safetensors'
expect_status 2 "quantize --format fp8 with a quantizer option" -- "$wqc" quantize bf.safetensors --format fp8 --bits 4 -o x.safetensors
expect_status 0 "FP8: encode --lossless" -- "$wqc" encode --lossless fp8.safetensors -o fp8.wqc -f
expect_status 0 "FP8: decode" -- "$wqc" decode fp8.wqc -o fp8.back.safetensors -f
check "FP8: the file back, byte for byte" 'cmp -s fp8.safetensors fp8.back.safetensors'
expect_status 0 "FP8: info --json" -- "$wqc" info --json fp8.wqc
check "FP8: the E4M3 matrix split-coded, below 7 bits a value" '"$py" -c "
import json, sys
t = {x[\"name\"]: x for x in json.load(open(sys.argv[1]))[\"tensors\"]}[\"model.layers.0.mlp.up_proj.weight\"]
assert t[\"dtype\"] == \"F8_E4M3\" and t[\"storage\"] == \"split\" and t[\"bits_per_weight\"] < 7, t
" "$tmp/out"'
check "FP8: the small matrices share one table" '"$py" -c "
import json, sys
d = json.load(open(sys.argv[1]))
small = [x for x in d[\"tensors\"] if x[\"dtype\"] == \"F8_E4M3\" and x[\"shape\"] == [32, 64]]
assert d[\"shared_models\"] >= 1 and len(small) == 4 and all(x[\"shared_tables\"] for x in small), (d[\"shared_models\"], small)
" "$tmp/out"'
expect_status 0 "FP8: encode without --lossless keeps the 8-bit floats" -- "$wqc" encode fp8.safetensors -o fp8q.wqc -f -v
check "FP8: kept split in the quantizing mode too" 'grep -q "up_proj.weight: kept F8_E4M3 (split)" "$tmp/err"'
# The block scales are part of the weights' values: never quantized, in
# encode, quantize or analyze (they had been coded as 4-bit weights).
check "FP8: block scales kept exactly in the quantizing mode" 'grep -q "up_proj.weight_scale_inv: kept F32" "$tmp/err"'
expect_status 0 "FP8: decode of the quantizing mode's file" -- "$wqc" decode fp8q.wqc -o fp8q.back.safetensors -f
expect_status 0 "FP8: quantize keeps them too" -- "$wqc" quantize fp8.safetensors -o fp8qq.safetensors -q
check "FP8: every scale and FP8 tensor back bit for bit, from encode and quantize" '"$py" -c "
import json, struct, sys
def rd(p):
    b = open(p, \"rb\").read(); n = struct.unpack(\"<Q\", b[:8])[0]; h = json.loads(b[8:8 + n]); h.pop(\"__metadata__\", None)
    return {k: b[8 + n + v[\"data_offsets\"][0]:8 + n + v[\"data_offsets\"][1]] for k, v in h.items()}
a = rd(sys.argv[1])
kept = [k for k in a if k.endswith(\"_scale_inv\") or k.endswith(\"up_proj.weight\")]
assert len(kept) >= 2, kept
for p in sys.argv[2:]:
    b = rd(p)
    for k in kept: assert a[k] == b[k], (p, k)
" fp8.safetensors fp8q.back.safetensors fp8qq.safetensors'
expect_status 0 "FP8: analyze" -- "$wqc" analyze fp8.safetensors
check "FP8: analyze skips the 8-bit floats and their scales, as encode keeps them" 'grep -q "up_proj.weight_scale_inv.*skipped: block scales" "$tmp/out" && grep -q "up_proj.weight .*skipped: 8-bit float" "$tmp/out"'
# Other published layouts (compressed-tensors FP8: P.weight_scale per row;
# ModelOpt: P.input_scale), and a name that only looks like a scale.
PYTHONPATH=$support "$py" - <<'PY'
import numpy as np
from safetensors_write import write
rng = np.random.default_rng(5)
f32 = lambda *s: (rng.standard_normal(s) * 0.02).astype("<f4").tobytes()
write("ct.safetensors", {"a.weight": ("F8_E4M3", (64, 128), rng.integers(0, 120, (64, 128), dtype=np.uint8).tobytes()),
                         "a.weight_scale": ("F32", (64, 1), np.abs(rng.standard_normal((64, 1))).astype("<f4").tobytes()),
                         "a.input_scale": ("F32", (1, 1), np.ones((1, 1), "<f4").tobytes()),
                         "b.weight": ("F32", (64, 128), f32(64, 128)),
                         "b.weight_scale": ("F32", (64, 128), f32(64, 128)),
                         # NVFP4 as ModelOpt writes it: E2M1 pairs, E4M3 scales per 16, an F32 global scale
                         "c.weight": ("U8", (64, 64), rng.integers(0, 256, (64, 64), dtype=np.uint8).tobytes()),
                         "c.weight_scale": ("F8_E4M3", (64, 8), rng.integers(40, 60, (64, 8), dtype=np.uint8).tobytes()),
                         "c.weight_scale_2": ("F32", (), np.ones((), "<f4").tobytes())})
PY
expect_status 0 "compressed-tensors FP8: encode" -- "$wqc" encode ct.safetensors -o ct.wqc -f -v
check "P.weight_scale and P.input_scale of an F8 P.weight kept; of an F32 one quantized" 'grep -q "a.weight_scale: kept F32" "$tmp/err" && grep -q "a.input_scale: kept F32" "$tmp/err" && grep -q "b.weight_scale: affine" "$tmp/err"'
expect_status 0 "NVFP4: analyze --lossless --json" -- "$wqc" analyze --lossless --json ct.safetensors
check "NVFP4: U8 weights beside E4M3 weight_scale read as E2M1 codes" '"$py" -c "
import json, sys
t = {x[\"name\"]: x for x in json.load(open(sys.argv[1]))[\"tensors\"]}
assert t[\"c.weight\"].get(\"packed\") == \"NVFP4\" and t[\"c.weight\"][\"values\"] == 2 * 64 * 64, t[\"c.weight\"]
assert 3.9 < t[\"c.weight\"][\"symbol_entropy_bits\"] <= 4, t[\"c.weight\"]
assert \"packed\" not in t[\"c.weight_scale\"]
" "$tmp/out"'
expect_status 0 "FP8: analyze --lossless --json" -- "$wqc" analyze --lossless --json fp8.safetensors
check "FP8: field entropies" '"$py" -c "
import json, sys
d = json.load(open(sys.argv[1]))
t = [x for x in d[\"tensors\"] if x[\"dtype\"] == \"F8_E4M3\"][0]
assert 0.9 < t[\"sign_entropy_bits\"] <= 1 and 1 < t[\"exponent_entropy_bits\"] < 4 and 2 < t[\"mantissa_entropy_bits\"] <= 3, t
assert t[\"symbol_entropy_bits\"] <= t[\"sign_entropy_bits\"] + t[\"exponent_entropy_bits\"] + t[\"mantissa_entropy_bits\"] + 1e-9
assert \"F8_E4M3\" in d[\"by_dtype\"], d[\"by_dtype\"]
" "$tmp/out"'
# MXFP4 as gpt-oss ships it (tests/support/mxfp4_convert.py): U8 blocks of
# packed E2M1 pairs and U8 E8M0 scales, each byte rANS-coded.
expect_status 0 "mxfp4_convert.py" -- env PYTHONPATH="$support" "$py" "$support/mxfp4_convert.py" bf.safetensors mx.safetensors
expect_status 0 "MXFP4: encode" -- "$wqc" encode mx.safetensors -o mx.wqc -f -v
check "MXFP4: blocks and scales kept split" 'grep -q "up_proj.weight_blocks: kept U8 (split)" "$tmp/err" && grep -q "up_proj.weight_scales: kept U8" "$tmp/err"'
expect_status 0 "MXFP4: decode" -- "$wqc" decode mx.wqc -o mx.back.safetensors -f
check "MXFP4: the file back, byte for byte" 'cmp -s mx.safetensors mx.back.safetensors'
check "MXFP4: a tenth smaller than its file (Gaussian weights, 4-bit codes)" '(( $(stat -c %s mx.wqc) * 10 < $(stat -c %s mx.safetensors) * 9 ))'
expect_status 0 "MXFP4: analyze --lossless --json" -- "$wqc" analyze --lossless --json mx.safetensors
check "MXFP4: E2M1 codes recognised, two a byte, their fields' entropies" '"$py" -c "
import json, sys
d = json.load(open(sys.argv[1]))
t = [x for x in d[\"tensors\"] if x[\"name\"].endswith(\"up_proj.weight_blocks\")][0]
assert t.get(\"packed\") == \"MXFP4\" and t[\"values\"] == 2 * t[\"bytes\"], t
assert 2 < t[\"symbol_entropy_bits\"] <= 4 and 0.9 < t[\"sign_entropy_bits\"] <= 1 and 0 < t[\"mantissa_entropy_bits\"] <= 1, t
assert t[\"symbol_entropy_bits\"] <= t[\"sign_entropy_bits\"] + t[\"exponent_entropy_bits\"] + t[\"mantissa_entropy_bits\"] + 1e-9
s = [x for x in d[\"tensors\"] if x[\"name\"].endswith(\"up_proj.weight_scales\")][0]
assert \"packed\" not in s and \"MXFP4\" in d[\"by_dtype\"], (s, d[\"by_dtype\"])
" "$tmp/out"'
expect_status 0 "MXFP4: analyze" -- "$wqc" analyze mx.safetensors
check "MXFP4: analyze names the packing and skips the blocks and scales" 'grep -q "weight_blocks .*skipped: MXFP4" "$tmp/out" && grep -q "weight_scales .*skipped: block scales" "$tmp/out"'
# A BF16 matrix whose columns (input channels) and rows differ in scale, as an MLP's
# down projection: column shifts over classes of rows, which info and analyze name.
SUPPORT=$support "$py" - <<'PY'
import numpy as np, os, sys
sys.path.insert(0, os.environ["SUPPORT"])
from safetensors_write import write
rng = np.random.default_rng(5)
x = rng.standard_normal((512, 768)) * 4.0 ** rng.integers(0, 3, 768) * 2.0 ** rng.integers(0, 2, (512, 1)) * 0.02
write("cols.safetensors", {"down_proj.weight": ("BF16", [512, 768], (x.astype(np.float32).view(np.uint32) >> 16).astype("<u2").tobytes())})
PY
expect_status 0 "column shifts: encode --lossless" -- "$wqc" encode --lossless cols.safetensors -o cols.wqc -f
expect_status 0 "column shifts: info" -- "$wqc" info cols.wqc
check "column shifts: info shows row tables +cols" 'grep -q "row tables +cols" "$tmp/out"'
expect_status 0 "column shifts: decode" -- "$wqc" decode cols.wqc -o cols.back.safetensors -f
check "column shifts: the file back byte for byte" 'cmp cols.safetensors cols.back.safetensors'
expect_status 0 "column shifts: analyze --lossless --json" -- "$wqc" analyze --lossless --json cols.safetensors
check "column shifts: analyze predicts them and the stored size" '"$py" -c "
import json, subprocess, sys
t = json.load(open(sys.argv[1]))[\"tensors\"][0]
info = json.loads(subprocess.run([sys.argv[2], \"info\", \"--json\", \"cols.wqc\"], capture_output=True, check=True).stdout)[\"tensors\"][0]
assert t[\"classes\"] == \"rows+cols\" and info[\"column_shifts\"] is True, (t, info)
assert t[\"coded_bytes\"] == info[\"payload_bytes\"], (t[\"coded_bytes\"], info[\"payload_bytes\"])
" "$tmp/out" "$wqc"'
finish
