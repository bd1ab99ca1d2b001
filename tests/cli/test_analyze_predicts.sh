#!/usr/bin/env bash
# `wqc analyze` predicts what `wqc encode` writes: per tensor the mode picked
# and its bytes, on float checkpoints, quantize outputs (whose small tensors
# share tables), given int8 symbols and the real models when ../shared is there.
# usage: test_analyze_predicts.sh WQC WORKDIR PYTHON3 [DATA_DIR]
wqc=$1 tmp=$2 py=$3 data=${4:-}
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
compare="$(dirname "$0")/../support/compare_predicted.py"

PYTHONPATH="$(dirname "$0")/../support" "$py" - "$tmp" <<'PY'
import sys
import numpy as np
from safetensors_write import write
d = sys.argv[1]
rng = np.random.default_rng(11)
t = {}
# Small heavy-tailed matrices whose rows differ in mean: the rows' zero
# points tell where their peak lies, so zero-point contexts and the tables
# the tensors share pay here.
for i in range(6):
    shift = rng.standard_normal((96, 1)) * 0.02
    t[f"layers.{i}.w"] = (rng.standard_t(4, (96, 64)) * 0.01 + shift).astype("<f4")
# An embedding with repeated rows: a general-purpose coder wins it.
base = (rng.standard_normal((8, 64)) * 0.02).astype("<f4")
t["embed"] = base[rng.integers(0, 8, 256)]
t["big"] = (rng.standard_normal((512, 600)) * 0.02).astype("<f4")
t["norm"] = np.ones(64, "<f4")
write(d + "/m.safetensors", {k: ("F32", a.shape, a.tobytes()) for k, a in t.items()})
np.save(d + "/codes.npy", rng.integers(-5, 6, (300, 200)).astype("i1"))
PY

# predicts NAME FILE [quantizer options]: analyze --json, encode, info --json, compared.
predicts() {
    local name=$1 file=$2
    shift 2
    expect_status 0 "$name: analyze" -- "$wqc" analyze --json "$@" "$file"
    cp "$tmp/out" "$tmp/$name.analyze.json"
    expect_status 0 "$name: encode" -- "$wqc" encode -q -f "$@" "$file" -o "$tmp/$name.wqc"
    expect_status 0 "$name: info" -- "$wqc" info --json "$tmp/$name.wqc"
    cp "$tmp/out" "$tmp/$name.info.json"
    check "$name: analyze's modes and bytes are encode's" \
        '"$py" "$compare" "$tmp/$name.analyze.json" "$tmp/$name.info.json" 0 >"$tmp/cmp" || { cat "$tmp/cmp"; false; }'
    sed "s/^/  $name: /" "$tmp/cmp"
}

predicts float "$tmp/m.safetensors"
check "float: the small tensors share tables (context picked)" \
    '"$py" -c "import json,sys; assert json.load(open(sys.argv[1]))[\"summary\"][\"picked\"][\"context\"] > 0" "$tmp/float.analyze.json"'
check "float: the repeated rows go to a general-purpose coder" \
    '"$py" -c "import json,sys; p=json.load(open(sys.argv[1]))[\"summary\"][\"picked\"]; assert p[\"zstd\"] + p[\"brotli\"] > 0, p" "$tmp/float.analyze.json"'
predicts sdclip "$tmp/m.safetensors" --method sdclip --bits 5
predicts precision "$tmp/m.safetensors" --precision 10 --granularity group:32
expect_status 0 "quantize output" -- "$wqc" quantize -q -f "$tmp/m.safetensors" -o "$tmp/q.safetensors"
predicts quantized "$tmp/q.safetensors"
predicts given "$tmp/codes.npy"

# GGUF: analyze's stored bytes per tensor are what encode writes for it.
expect_status 0 "gguf: quantize" -- "$wqc" quantize -q -f "$tmp/m.safetensors" --format gguf -o "$tmp/m.gguf"
expect_status 0 "gguf: analyze" -- "$wqc" analyze --json "$tmp/m.gguf"
cp "$tmp/out" "$tmp/gguf.analyze.json"
expect_status 0 "gguf: encode" -- "$wqc" encode -q -f "$tmp/m.gguf" -o "$tmp/gguf.wqc"
expect_status 0 "gguf: info" -- "$wqc" info --json "$tmp/gguf.wqc"
check "gguf: analyze's bytes per tensor are encode's" '"$py" - "$tmp/gguf.analyze.json" "$tmp/out" <<"PY"
import json, sys
a = json.load(open(sys.argv[1]))["gguf"][0]["tensors"]
w = {t["name"]: t["payload_bytes"] for t in json.load(open(sys.argv[2]))["tensors"]}
bad = [(t["name"], t["stored_bytes"], w[t["name"]]) for t in a if t["stored_bytes"] != w[t["name"]]]
assert len(a) == len(w) and not bad, bad
PY'

# The gate judges encode's bytes: a budget just above them passes, just below fails.
bits=$("$py" -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["mode_bytes"] * 8 / s["elements"])' "$tmp/quantized.analyze.json")
above=$("$py" -c "print($bits + 0.001)") below=$("$py" -c "print($bits - 0.001)")
expect_status 0 "gate at encode's bits + 0.001 passes" -- "$wqc" analyze -q --max-bits "$above" "$tmp/q.safetensors"
expect_status 3 "gate at encode's bits - 0.001 fails" -- "$wqc" analyze -q --max-bits "$below" "$tmp/q.safetensors"
expect_status 3 "both gates missed" -- "$wqc" analyze -q --max-bits "$below" --min-saving 99 "$tmp/q.safetensors"
check "both gates reported" 'grep -q "exceeds --max-bits" "$tmp/err" && grep -q "below --min-saving 99" "$tmp/err"'

if [[ -n "$data" && -f "$data/stories260K.safetensors" ]]; then
    predicts stories "$data/stories260K.safetensors"
    expect_status 0 "stories260K quantize output" -- "$wqc" quantize -q -f "$data/stories260K.safetensors" -o "$tmp/sq.safetensors"
    predicts stories-quantized "$tmp/sq.safetensors"
    if [[ -f "$data/pylm-22M/model.safetensors" ]]; then predicts pylm "$data/pylm-22M/model.safetensors"; fi
else
    echo "SKIP (part): the real models are not at '$data' (they need ../shared/data)"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
