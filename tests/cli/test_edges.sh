#!/usr/bin/env bash
# The edges a new user hits in an hour, as they type them (zstd's
# playTests.sh is the model): outputs that would lose data, wrong outputs,
# endless input, wrong kinds of file, option contradictions, empty
# selections. Each case failed before its fix.
# usage: test_edges.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
rm -rf "$tmp" && mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
support=$(cd "$(dirname "$0")/../support" && pwd)
cd "$tmp" || exit 1
PYTHONPATH="$support" "$py" - <<'PY'
import numpy as np
from safetensors_write import write
rng = np.random.default_rng(26)
t = {"model.embed_tokens.weight": (rng.standard_normal((64, 96)) * 0.02).astype("<f4"),
     "model.layers.0.w": (rng.standard_normal((96, 64)) * 0.02).astype("<f4"),
     "model.norm.weight": np.ones(64, "<f4")}
write("m.safetensors", {k: ("F32", a.shape, a.tobytes()) for k, a in t.items()})
np.save("i8.npy", (np.arange(4096) % 200 - 100).astype("i1").reshape(64, 64))
PY
orig=$(sha256sum m.safetensors)

# Outputs that would lose data.
expect_status 1 "encode -f onto its own input" -- "$wqc" encode -q -f m.safetensors -o m.safetensors
check "the input is intact" '[[ $(sha256sum m.safetensors) == "$orig" ]]'
expect_status 0 "encode" -- "$wqc" encode -q m.safetensors
expect_status 0 "decode -f of a quantized file" -- "$wqc" decode -q -f m.wqc
check "the original is not replaced" '[[ $(sha256sum m.safetensors) == "$orig" ]]'
check "the symbols went to m.symbols.safetensors" '[[ -s m.symbols.safetensors ]]'

# A lossless .npy whose layout cannot be kept (Fortran order) is not lossy:
# its default name is M.safetensors, with the same values.
"$py" -c "import numpy as np; np.save('f.npy', np.asfortranarray(np.arange(12, dtype='<f4').reshape(3, 4)))"
expect_status 0 "Fortran-order .npy, --lossless" -- "$wqc" encode -q --lossless f.npy
expect_status 0 "decode it" -- "$wqc" decode -q f.wqc
check "as f.safetensors, the values in C order" '"$py" -c "
import json, struct, numpy as np
b = open(\"f.safetensors\", \"rb\").read(); n = struct.unpack(\"<Q\", b[:8])[0]
assert (np.frombuffer(b[8 + n:], \"<f4\").reshape(3, 4) == np.load(\"f.npy\")).all()"'

# Wrong outputs.
expect_status 0 "int8 .npy encode" -- "$wqc" encode -q i8.npy
expect_status 0 "int8 .npy decode --dequantize" -- "$wqc" decode -q --dequantize i8.wqc -o back.npy
check "the integers come back" '"$py" -c "import numpy as np; a, b = np.load(\"i8.npy\"), np.load(\"back.npy\"); assert a.dtype == b.dtype and (a == b).all()"'
expect_status 0 "GGUF" -- "$wqc" quantize -q m.safetensors --format gguf -o m.gguf
expect_status 0 "GGUF encode" -- "$wqc" encode -q m.gguf -o g.wqc
expect_status 2 "GGUF blocks are not dequantized into safetensors" -- "$wqc" decode --dequantize g.wqc -o d.safetensors
check "no malformed file" '[[ ! -e d.safetensors ]]'
expect_status 0 "the GGUF file comes back" -- "$wqc" decode -q g.wqc -o back.gguf
check "byte for byte" 'cmp -s back.gguf m.gguf'

# Endless or garbage input: refused at once, in little memory: peak RSS
# under 56 MiB more than `wqc --version` takes (6-10 MiB in a release
# build; AddressSanitizer's shadow and its leak check take about 64 MiB by
# themselves, and more as the binary grows).
# (exit 4 where a .wqc is expected: what it reads is not an intact .wqc)
"$py" "$support/peak_rss.py" "$wqc" --version > "$tmp/base_rss"
limit=$(( $(tail -1 "$tmp/base_rss") + 56 * 1024 ))
for cmd in "1 encode -" "4 decode -" "1 analyze -" "4 info -" "4 verify -" "1 quantize - -o z.safetensors"; do
    want=${cmd%% *} cmd=${cmd#* }
    expect_status "$want" "$cmd < /dev/zero" -- "$py" "$support/peak_rss.py" \
        bash -c 'timeout 5 "$0" $1 < /dev/zero > /dev/null' "$wqc" "$cmd"
    check "$cmd < /dev/zero: says what the stream is not" 'grep -q "not a safetensors, .npy, .wqc or GGUF stream" "$tmp/err"'
    check "$cmd < /dev/zero: under $limit KiB" '[[ $(tail -1 "$tmp/out") -lt $limit ]]'
done
expect_status 1 "a .npy header, then endless zeros" -- "$py" "$support/peak_rss.py" \
    bash -c '(cat i8.npy; cat /dev/zero) | timeout 5 "$0" encode - > /dev/null' "$wqc"
check "the stream goes on past its header's size" 'grep -q "goes on past" "$tmp/err"'
check "in under $limit KiB" '[[ $(tail -1 "$tmp/out") -lt $limit ]]'

# The wrong kind of file is named.
expect_status 1 "analyze of a .wqc" -- "$wqc" analyze m.wqc
check "names the .wqc" 'grep -q "a .wqc file, where safetensors" "$tmp/err"'
expect_status 1 "verify --against a GGUF" -- "$wqc" verify m.wqc --against m.gguf
check "names the GGUF" 'grep -q "a GGUF file" "$tmp/err"'
: > empty.npy
expect_status 1 "an empty .npy" -- "$wqc" analyze empty.npy
check "an npy message, not a safetensors one" 'grep -q "not a .npy file" "$tmp/err" && ! grep -q safetensors "$tmp/err"'

# CI gates that could be skipped or lie.
expect_status 2 "a gate with --lossless" -- "$wqc" analyze --lossless --max-bits 1 m.safetensors
expect_status 2 "a gate with --rd" -- "$wqc" analyze --rd --max-bits 1 m.safetensors
expect_status 2 "a gate on a GGUF file" -- "$wqc" analyze --max-bits 1 m.gguf
expect_status 3 "both gates missed" -- "$wqc" analyze -q --max-bits 1 --min-saving 90 m.safetensors
check "both reported, one line" '[[ $(wc -l < "$tmp/err") -eq 1 ]] && grep -q "max-bits" "$tmp/err" && grep -q "min-saving" "$tmp/err"'
expect_status 0 "analyze analyses what encode quantizes by default" -- "$wqc" analyze m.safetensors
check "both matrices" 'grep -q "^summary: 2 tensors analysed" "$tmp/out"'

# Contradictions are usage errors.
for args in "encode --lossless --bits 3 m.safetensors -o x.wqc" "encode -k 3 m.safetensors -o x.wqc" \
    "encode --step 0.01 m.safetensors -o x.wqc" "encode --method sdclip --granularity row m.safetensors -o x.wqc" \
    "decode --symbols --dequantize m.wqc -o x.safetensors" "decode -c -o x.safetensors m.wqc" \
    "decode --dtype F16 m.wqc -o x.safetensors" "quantize --gguf-type q8_0 m.safetensors -o x.safetensors" \
    "quantize --format gguf --method sdclip m.safetensors -o x.gguf" "analyze --plot x.png m.safetensors" \
    "encode --lossless --rule *embed*:sdclip m.safetensors -o x.wqc" "verify m.wqc --min-sqnr 10" \
    "verify m.wqc --digest 0000000000000000000000000000000000000000000000000000000000000000 --json" \
    "analyze --exact-ends --method grid --step 0.01 m.safetensors" "analyze --exact-ends --rd m.safetensors"; do
    expect_status 2 "$args" -- "$wqc" $args
    check "$args: one line" '[[ $(wc -l < "$tmp/err") -eq 1 ]]'
done
check "no output from any of them" '[[ ! -e x.wqc && ! -e x.safetensors && ! -e x.gguf && ! -e x.png ]]'

# Empty selections.
expect_status 2 "decode --tensors that match nothing" -- "$wqc" decode --tensors 'nomatch*' m.wqc -o none.safetensors
check "no empty file" '[[ ! -e none.safetensors ]]'
expect_status 2 "a --rule that matches nothing" -- "$wqc" encode --rule 'embed*:sdclip,bits=8,k=20' m.safetensors -o r.wqc
check "the rule is named" 'grep -q "embed\*" "$tmp/err"'
expect_status 0 "README's rule matches the embedding" -- "$wqc" encode -v --rule '*embed*:sdclip,bits=8,k=20' m.safetensors -o r.wqc
check "the embedding got 8 bits" 'grep -q "model.embed_tokens.weight: sdclip 8-bit" "$tmp/err"'

# stdin without '-', as zstd reads it.
expect_status 0 "encode reads a pipe without '-'" -- bash -c 'cat m.safetensors | "$0" encode -q > piped.wqc' "$wqc"
check "the same file as from the path" 'cmp -s piped.wqc m.wqc'

# verify --json.
expect_status 0 "verify --json" -- "$wqc" verify --json m.wqc --against m.safetensors
check "a verify document" '"$py" -c "import json,sys; d = json.load(open(sys.argv[1])); assert d[\"schema\"] == \"wqc.verify/1\" and d[\"passed\"] and len(d[\"tensors\"]) == 3" "$tmp/out"'
# A textbook numpy min/max quantizer reproduces analyze --exact-ends exactly;
# the default rounds the grid's ends to bfloat16, as encode stores them.
expect_status 0 "analyze --exact-ends" -- "$py" - "$wqc" <<'PY'
import json, subprocess, sys
import numpy as np
w = (np.random.default_rng(8).standard_t(3, (128, 256)) * 0.02).astype("<f4")
np.save("t.npy", w)
lo, hi = w.min(1, keepdims=True), w.max(1, keepdims=True)
scale = ((hi.astype(np.float64) - lo) / 15).astype(np.float32)
q = np.clip(np.floor((w - lo) / scale + 0.5), 0, 15).astype(np.uint8)
p = np.bincount(q.ravel(), minlength=16) / q.size
h = -(p[p > 0] * np.log2(p[p > 0])).sum()
run = lambda *f: json.loads(subprocess.run([sys.argv[1], "analyze", "--json", "t.npy", *f], capture_output=True, text=True).stdout)
exact, default = run("--exact-ends"), run()
assert abs(exact["tensors"][0]["entropy_bits"] - h) < 1e-8, (exact["tensors"][0]["entropy_bits"], h)
assert exact["quantizer"]["grid_ends"] == "float32" and default["quantizer"]["grid_ends"] == "bfloat16"
PY
expect_status 0 "analyze's header says how grid ends are rounded" -- "$wqc" analyze t.npy
check "bfloat16 named" 'grep -q "^quantizer: affine 4-bit row, rANS table P=12 (grid ends rounded to bfloat16" "$tmp/out"'

# Every --json document names its schema, and docs/JSON.md documents it.
doc="$(dirname "$0")/../../docs/JSON.md"
[[ -f $doc ]] || doc="$OLDPWD/$(dirname "$0")/../../docs/JSON.md"
for c in "analyze/1 analyze --json m.safetensors" "analyze-rd/1 analyze --json --rd --rd-bits 3..4 m.safetensors" \
    "analyze-lossless/1 analyze --json --lossless m.safetensors" "analyze-gguf/1 analyze --json m.gguf" \
    "info/1 info --json m.wqc" "digest/1 info --json --digest m.wqc" "verify/1 verify --json m.wqc" \
    "diff/1 diff --json m.wqc m.safetensors" "bench/1 bench --json --synthetic gaussian:64x256 --repeat 1"; do
    schema=wqc.${c%% *} args=${c#* }
    expect_status 0 "$args" -- "$wqc" $args
    check "$args: schema $schema" '"$py" -c "import json,sys; assert json.load(open(sys.argv[1]))[\"schema\"] == sys.argv[2]" "$tmp/out" "$schema"'
    check "$schema is in docs/JSON.md" 'grep -q "^## \`$schema\`" "$doc"'
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
