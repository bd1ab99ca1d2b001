#!/usr/bin/env bash
# GGUF files that wqc writes (quantize --format gguf) and decodes (a GGUF
# recompressed into a .wqc) parsed by a reader wqc did not write: the npm
# package @huggingface/gguf, which scripts/install-deps.sh installs into
# ~/.cache/wqc-node. Their metadata and tensor lists must be what wqc meant.
# Exit 77 (skipped) where node or the package is missing.
# usage: test_gguf_npm.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
modules=${WQC_NODE_MODULES:-$HOME/.cache/wqc-node/node_modules}
if ! command -v node >/dev/null || [[ ! -d $modules/@huggingface/gguf ]]; then
    echo "SKIP: node or @huggingface/gguf missing (scripts/install-deps.sh installs it into ~/.cache/wqc-node)"
    exit 77
fi
export WQC_NODE_MODULES=$modules
dump=$(cd "$(dirname "$0")/../node" && pwd)/gguf_dump.cjs
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
export PYTHONPATH=$(cd "$(dirname "$0")/../support" && pwd)
cd "$tmp" || exit 1

"$py" - <<'PY'
import numpy as np
from safetensors_write import write
rng = np.random.default_rng(8)
g = lambda *s: (rng.standard_normal(s) * 0.02).astype("<f4")
write("model.safetensors", {
    "embed.weight": ("F32", (100, 64), g(100, 64).tobytes()),
    "layers.0.attn.weight": ("F32", (96, 128), g(96, 128).tobytes()),
    "layers.0.mlp.weight": ("F16", (64, 80), g(64, 80).astype("<f2").tobytes()),   # rows of 80: not whole blocks
    "layers.0.norm.weight": ("F32", (64,), np.ones(64, "<f4").tobytes()),
    "cube": ("BF16", (2, 3, 64), (g(2, 3, 64).view("<u4") >> 16).astype("<u2").tobytes()),
    "steps": ("I32", (3,), np.arange(3, dtype="<i4").tobytes()),
}, {"format": "pt", "general.architecture": "testarch"})
PY
for ty in q4_0 q8_0 f16; do
    expect_status 0 "quantize --format gguf --gguf-type $ty" -- "$wqc" quantize model.safetensors --format gguf --gguf-type $ty -o m.$ty.gguf
    expect_status 0 "@huggingface/gguf parses the $ty file" -- node "$dump" m.$ty.gguf
    cp "$tmp/out" m.$ty.json
    expect_status 0 "encode the $ty GGUF" -- "$wqc" encode m.$ty.gguf -o m.$ty.wqc
    expect_status 0 "decode it" -- "$wqc" decode m.$ty.wqc -o m.$ty.back.gguf
    check "$ty: byte-identical" 'cmp -s m.$ty.gguf m.$ty.back.gguf'
    expect_status 0 "@huggingface/gguf parses the decoded $ty file" -- node "$dump" m.$ty.back.gguf
    check "$ty: the same parse" 'cmp -s m.$ty.json "$tmp/out"'
done
expect_status 0 "what the other reader saw is what wqc wrote" -- "$py" - <<'PY'
import json
want = {"embed.weight": [64, 100], "layers.0.attn.weight": [128, 96], "layers.0.mlp.weight": [80, 64],
        "layers.0.norm.weight": [64], "cube": [64, 3, 2], "steps": [3]}
for ty, code in (("q4_0", 2), ("q8_0", 8), ("f16", 1)):
    d = json.load(open("m.%s.json" % ty))
    m, t = d["metadata"], {x["name"]: x for x in d["tensors"]}
    assert m["version"] == 3 and int(m["tensor_count"]) == 6, m
    assert m["general.architecture"] == "testarch" and m["general.alignment"] == 32
    assert m["source.format"] == "pt" and m["general.quantization_version"] == 2
    assert m["general.file_type"] == {"q4_0": 2, "q8_0": 7, "f16": 1}[ty]
    assert {k: v["shape"] for k, v in t.items()} == want, t
    assert t["embed.weight"]["dtype"] == code and t["layers.0.attn.weight"]["dtype"] == code
    assert t["layers.0.mlp.weight"]["dtype"] == 1          # rows of 80 stay F16
    assert t["layers.0.norm.weight"]["dtype"] == 0 and t["cube"]["dtype"] == code   # rank 3, rows of 64
    assert t["steps"]["dtype"] == 26
    assert all(x["offset"] % 32 == 0 for x in d["tensors"])
PY
finish
