#!/usr/bin/env bash
# `wqc analyze` as a user runs it: synthetic input, files, stdin, filters,
# JSON, histograms, thread counts, and the CI gates' exit status.
# usage: test_analyze.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"

expect_status 0 "synthetic default" -- "$wqc" analyze --synthetic gaussian:256x1024
check "synthetic: summary line" 'grep -q "^summary: 1 tensors analysed (262144 weights)" "$tmp/out"'
check "synthetic: quantizer line" 'grep -q "^quantizer: affine 4-bit row, rANS table P=12" "$tmp/out"'

expect_status 0 "json" -- "$wqc" analyze --json --synthetic gaussian:256x1024:seed=4
cp "$tmp/out" "$tmp/a.json"
check "json parses, 4-bit row H in [3.0,3.5]" \
    '"$py" -c "import json,sys; d=json.load(open(sys.argv[1])); h=d[\"summary\"][\"entropy_bits\"]; sys.exit(0 if 3.0<h<3.5 and d[\"summary\"][\"gates\"][\"passed\"] else 1)" "$tmp/a.json"'
expect_status 0 "json -T 1" -- "$wqc" analyze --json -T 1 --synthetic gaussian:256x1024:seed=4
check "-T 1 and default threads give identical JSON" 'cmp -s "$tmp/out" "$tmp/a.json"'

# Gates: exit 3 with a message when missed, 0 when met.
expect_status 3 "--max-bits missed" -- "$wqc" analyze -q --max-bits 2.5 --synthetic gaussian:128x1024
check "gate message" 'grep -q "exceeds --max-bits 2.5" "$tmp/err"'
expect_status 0 "--max-bits met" -- "$wqc" analyze -q --max-bits 3.5 --synthetic gaussian:128x1024
expect_status 3 "--min-saving missed" -- "$wqc" analyze -q --min-saving 50 --synthetic gaussian:128x1024
check "saving message" 'grep -q "below --min-saving 50" "$tmp/err"'
expect_status 0 "--min-saving met" -- "$wqc" analyze -q --min-saving 15 --synthetic gaussian:128x1024
expect_status 0 "gate result in JSON" -- "$wqc" analyze --json --max-bits 3.5 --synthetic gaussian:128x1024
check "gates.passed true" 'grep -q "\"passed\": true" "$tmp/out"'

# --hist: one bar line per symbol.
expect_status 0 "--hist" -- "$wqc" analyze --hist --bits 3 --synthetic gaussian:64x1024
check "--hist prints 8 bars" '[[ $(grep -cE "^ +[0-9]+ +[0-9.]+% \|" "$tmp/out") -eq 8 ]]'

# Files: a safetensors with mixed tensors, filters and skip rules.
"$py" - "$tmp" <<'PY'
import json, struct, sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(1)
tensors = {
    "layers.0.wq": (rng.standard_normal((256, 300)) * 0.02).astype("<f4"),
    "layers.0.norm": np.ones(300, "<f4"),
    "layers.1.wq": (rng.standard_normal((256, 300)) * 0.02).astype("<f2"),
    "tok_embeddings": (rng.standard_normal((512, 64)) * 0.02).astype("<f4"),
    "steps": np.arange(4, dtype="<i8"),
}
header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
for name, a in tensors.items():
    b = a.tobytes()
    header[name] = {"dtype": {"float32": "F32", "float16": "F16", "int64": "I64"}[str(a.dtype)],
                    "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode()
with open(d + "/m.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
np.save(d + "/one.npy", tensors["layers.0.wq"])
PY
expect_status 0 "safetensors defaults: every matrix, as encode quantizes them" -- "$wqc" analyze "$tmp/m.safetensors"
check "the three 2-D tensors analysed" 'grep -q "^summary: 3 tensors analysed (186368 weights), 2 skipped" "$tmp/out"'
expect_status 0 "--min-elements" -- "$wqc" analyze --min-elements 65536 "$tmp/m.safetensors"
check "the two large 2-D tensors analysed" 'grep -q "^summary: 2 tensors analysed (153600 weights), 3 skipped" "$tmp/out"'
check "small matrix skipped with reason" 'grep -E "^tok_embeddings .*skipped: below --min-elements" "$tmp/out" >/dev/null'
check "1-D tensor skipped with reason" 'grep -E "^layers.0.norm .*skipped: rank < 2" "$tmp/out" >/dev/null'
check "I64 listed as not analysed" 'grep -E "^steps .*skipped: dtype not analysed" "$tmp/out" >/dev/null'
expect_status 0 "--tensors glob" -- "$wqc" analyze --tensors 'layers.*.wq' "$tmp/m.safetensors"
check "glob keeps the two wq" 'grep -q "^summary: 2 tensors analysed (153600 weights), 0 skipped" "$tmp/out"'
expect_status 0 "--min-elements" -- "$wqc" analyze --min-elements 1000 "$tmp/m.safetensors"
check "--min-elements 1000 takes the embedding too" 'grep -q "^summary: 3 tensors analysed (186368 weights), 2 skipped" "$tmp/out"'
expect_status 0 "--vectors" -- "$wqc" analyze --vectors --min-elements 0 --tensors '*norm' "$tmp/m.safetensors"
check "--vectors analyses a constant vector exactly" 'grep -E "^layers.0.norm .* exact$" "$tmp/out" >/dev/null'

# The same tensor from .npy, from stdin and inside the safetensors agree.
expect_status 0 "npy file" -- "$wqc" analyze --json "$tmp/one.npy"
"$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["tensors"][0]["entropy_bits"])' "$tmp/out" >"$tmp/h_npy"
expect_status 0 "npy on stdin" -- bash -c '"$0" analyze --json - <"$1"' "$wqc" "$tmp/one.npy"
"$py" -c 'import json,sys; d=json.load(open(sys.argv[1]))["tensors"][0]; print(d["entropy_bits"]); assert d["name"]=="stdin"' "$tmp/out" >"$tmp/h_stdin"
check "stdin equals file" 'cmp -s "$tmp/h_npy" "$tmp/h_stdin"'
expect_status 0 "multiple inputs" -- "$wqc" analyze "$tmp/one.npy" "$tmp/m.safetensors"
check "summary over all inputs" 'grep -q "^summary: 4 tensors analysed" "$tmp/out"'

# Baselines print zstd and brotli rows.
expect_status 0 "--baselines" -- "$wqc" analyze --baselines --zstd-level 3 --brotli-quality 5 --synthetic gaussian:64x1024
check "zstd nibble row" 'grep -q "zstd -3 , packed nibbles" "$tmp/out"'
check "brotli byte row" 'grep -q "brotli -q 5 , byte per symbol" "$tmp/out"'
check "xz row" 'grep -q "xz -9e, byte per symbol" "$tmp/out"'

# Context entropies and coding modes: a table of them, and in JSON. A heavy-tailed
# matrix quantized per row has zero points that differ, so a context model pays.
expect_status 0 "modes table" -- "$wqc" analyze --synthetic laplace:512x512
check "modes table header" 'grep -qE "^tensor +H +H\|row +H\|col +H\|prev +H\|zero +order0 +context +brotli +zstd +lzma +encode picks" "$tmp/out"'
check "encode picks context for it" 'grep -qE "^laplace:512x512 .* context( \(shared tables\))?$" "$tmp/out"'
check "summary gives the conditional entropies" 'grep -q "H given zero point" "$tmp/out" && grep -q "encode.s modes" "$tmp/out"'
expect_status 0 "modes in JSON" -- "$wqc" analyze --json --baselines --synthetic laplace:512x512
check "json: conditional entropies below H, context below order-0, xz measured" '"$py" - "$tmp/out" <<"PY"
import json, sys
t = json.load(open(sys.argv[1]))["tensors"][0]
c, m = t["conditional_entropy_bits"], t["mode_bytes"]
assert all(c[k] <= t["entropy_bits"] + 1e-9 for k in ("row", "column", "previous", "zero_point")), c
assert m["context"] < m["order0"] and m["pick"] == "context", m
assert t["baselines"]["xz_bytes"] > 0
PY'

# Usage errors: exit 2 with a message.
expect_status 2 "no input" -- "$wqc" analyze
expect_status 2 "bad bits" -- "$wqc" analyze --bits 9 --synthetic gaussian:4x4
check "bad bits message" 'grep -q -- "--bits: expected an integer in 1..8" "$tmp/err"'
expect_status 2 "bad method" -- "$wqc" analyze --method foo --synthetic gaussian:4x4
expect_status 2 "grid without step" -- "$wqc" analyze --method grid --synthetic gaussian:4x4
expect_status 2 "bad granularity" -- "$wqc" analyze --granularity group:0 --synthetic gaussian:4x4
expect_status 2 "bad synthetic" -- "$wqc" analyze --synthetic gaussian:4
expect_status 2 "unknown command" -- "$wqc" frobnicate
expect_status 0 "help" -- "$wqc" analyze --help
check "help mentions gates" 'grep -q -- "--max-bits" "$tmp/out"'
expect_status 1 "grid step too fine" -- "$wqc" analyze --method grid --step 1e-6 --synthetic gaussian:256x256
check "grid error says more than 8 bits" 'grep -q "more than 8 bits" "$tmp/err"'

finish
