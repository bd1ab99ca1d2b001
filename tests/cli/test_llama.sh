#!/usr/bin/env bash
# examples/llama (wqc-llama) as a client of libwqc, on a small random
# Llama-shaped model: its F32 logits against a numpy reference (both rotary
# conventions), the same logits whichever way the same symbols arrive
# (quantize output, .wqc, fused wqc_gemv from a gemv-layout .wqc), the Q4_0
# path against the reference run on Q4_0-rounded weights, generation, the
# quality sweep's figures, and errors.
# usage: test_llama.sh WQC_LLAMA WQC WORKDIR PYTHON3
llama=$1 wqc=$2 tmp=$3 py=$4
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
support=$(cd "$(dirname "$0")/../support" && pwd)
export PYTHONPATH=$support
cd "$tmp" || exit 1

"$py" - <<'PY'
import numpy as np
from safetensors_write import write
rng = np.random.default_rng(3)
dim, hidden, layers, heads, kv, vocab = 64, 80, 2, 4, 2, 96
g = lambda *s: (rng.standard_normal(s) * 0.08).astype("<f4")
t = {"model.embed_tokens.weight": ("F32", (vocab, dim), g(vocab, dim).tobytes())}
for l in range(layers):
    p = "model.layers.%d." % l
    t[p + "input_layernorm.weight"] = ("F32", (dim,), (1 + g(dim)).tobytes())
    t[p + "self_attn.q_proj.weight"] = ("F32", (dim, dim), g(dim, dim).tobytes())
    t[p + "self_attn.k_proj.weight"] = ("F32", (dim // heads * kv, dim), g(dim // heads * kv, dim).tobytes())
    t[p + "self_attn.v_proj.weight"] = ("F32", (dim // heads * kv, dim), g(dim // heads * kv, dim).tobytes())
    t[p + "self_attn.o_proj.weight"] = ("F32", (dim, dim), g(dim, dim).tobytes())
    t[p + "post_attention_layernorm.weight"] = ("F32", (dim,), (1 + g(dim)).tobytes())
    t[p + "mlp.gate_proj.weight"] = ("F32", (hidden, dim), g(hidden, dim).tobytes())
    t[p + "mlp.down_proj.weight"] = ("F32", (dim, hidden), g(dim, hidden).tobytes())
    t[p + "mlp.up_proj.weight"] = ("F32", (hidden, dim), g(hidden, dim).tobytes())
t["model.norm.weight"] = ("F32", (dim,), (1 + g(dim)).tobytes())
meta = {"dim": str(dim), "hidden_dim": str(hidden), "n_layers": str(layers), "n_heads": str(heads),
        "n_kv_heads": str(kv), "vocab_size": str(vocab), "seq_len": "64"}
write("model.safetensors", t, meta)
PY
tokens=1,17,33,5,90,2,64,41,12,77
expect_status 0 "quantize" -- "$wqc" quantize model.safetensors -o q.safetensors
expect_status 0 "encode (row layout)" -- "$wqc" encode model.safetensors -o r.wqc
expect_status 0 "encode --layout gemv" -- "$wqc" encode model.safetensors --layout gemv -o g.wqc
for rope in half interleaved; do
    expect_status 0 "logits, F32, rope $rope" -- "$llama" logits model.safetensors --rope $rope --tokens $tokens
    cp "$tmp/out" f32.$rope.txt
done
expect_status 0 "logits of the quantize output" -- "$llama" logits q.safetensors --tokens $tokens
cp "$tmp/out" q.txt
expect_status 0 "logits of the .wqc" -- "$llama" logits r.wqc --tokens $tokens
cp "$tmp/out" r.txt
expect_status 0 "logits of the gemv .wqc, dequantized" -- "$llama" logits g.wqc --tokens $tokens
cp "$tmp/out" g.txt
expect_status 0 "logits of the gemv .wqc, fused wqc_gemv" -- "$llama" logits g.wqc --path fused --tokens $tokens
cp "$tmp/out" fused.txt
expect_status 0 "logits through Q4_0 products" -- "$llama" logits model.safetensors --path q4_0 --tokens $tokens
cp "$tmp/out" q4.txt
expect_status 0 "the three paths against the numpy reference" -- "$py" - $tokens <<'PY'
import sys, numpy as np
from llama_reference import read_safetensors, forward, q4_0_roundtrip
toks = [int(t) for t in sys.argv[1].split(",")]
W, meta = read_safetensors("model.safetensors")
L = lambda f: np.loadtxt(f)
for rope in ("half", "interleaved"):
    ref = forward(W, meta, toks, rope == "interleaved")
    d = np.abs(L("f32.%s.txt" % rope) - ref).max()
    assert d < 1e-4 * max(1, np.abs(ref).max()), (rope, d)
assert np.abs(L("f32.half.txt") - L("f32.interleaved.txt")).max() > 1e-3, "the rotary conventions differ"
# The same symbols, however they arrive: exactly the same dequantized weights.
q, r, g, fused = L("q.txt"), L("r.txt"), L("g.txt"), L("fused.txt")
assert np.array_equal(q, r) and np.array_equal(r, g), (np.abs(q - r).max(), np.abs(r - g).max())
# Fused products sum in another order: equal to float rounding.
assert np.abs(fused - g).max() < 1e-4 * max(1, np.abs(g).max()), np.abs(fused - g).max()
assert np.abs(g - L("f32.half.txt")).max() > 1e-4, "quantization changes the logits"
# Q4_0 (x as Q8): against the reference run with Q4_0-rounded matrices (the
# tied output head too; the embedding lookup stays float).
W4 = {k: (q4_0_roundtrip(v) if v.ndim == 2 and k != "model.embed_tokens.weight" else v) for k, v in W.items()}
ref4 = forward(W4, meta, toks, head=q4_0_roundtrip(W["model.embed_tokens.weight"]))
d4 = np.abs(L("q4.txt") - ref4).max()
assert d4 < 0.02 * np.abs(ref4).max(), (d4, np.abs(ref4).max())
print("f32 ok; fused vs dequantized", np.abs(fused - g).max(), "; q4_0 vs reference", d4)
PY
expect_status 0 "generate" -- "$llama" generate model.safetensors -n 20 --seed 7
check "BOS and 20 tokens" '[[ $(wc -w <"$tmp/out") -eq 21 ]]'
expect_status 0 "generate is seeded" -- "$llama" generate model.safetensors -n 20 --seed 7
cp "$tmp/out" gen2.txt
expect_status 0 "generate from the fused path" -- "$llama" generate g.wqc --path fused -n 20 --seed 7
expect_status 0 "sweep" -- "$llama" sweep model.safetensors --wqc "$wqc" --seqs 2 --len 24 --bits 3..6 --k 4 --json --plot sweep.svg
cp "$tmp/out" sweep.json
expect_status 0 "the sweep's figures" -- "$py" - <<'PY'
import json, xml.etree.ElementTree as ET
d = json.load(open("sweep.json"))
v = {x["quantizer"]: x for x in d["variants"]}
assert len(v) == 4 * 4, sorted(v)
assert d["original_nll"] > 0
for x in d["variants"]:
    assert x["kl"] >= 0 and 0 <= x["top1"] <= 1 and x["bits_per_weight"] > 0, x
    assert abs(x["delta_nll"] - (x["nll"] - d["original_nll"])) < 1e-9
for fam in ("affine row", "sdclip k=4"):
    xs = sorted((x for x in d["variants"] if x["family"] == fam), key=lambda x: x["bits_per_weight"])
    assert xs[0]["kl"] > xs[-1]["kl"] and xs[0]["sqnr_db"] < xs[-1]["sqnr_db"], fam
    assert xs[-1]["top1"] >= 0.8 and xs[-1]["kl"] < 0.01, xs[-1]
assert any(x["pareto"] for x in d["variants"])
assert ET.parse("sweep.svg").getroot().tag.endswith("svg")
PY
expect_status 1 "fused needs a gemv-layout .wqc" -- "$llama" logits r.wqc --path fused --tokens 1
check_one_line_error "row layout" r.wqc "gemv layout"
expect_status 1 "fused needs a .wqc" -- "$llama" logits model.safetensors --path fused --tokens 1
expect_status 1 "a missing model" -- "$llama" logits nothere.safetensors --tokens 1
check_one_line_error "missing model" nothere.safetensors "No such file"
expect_status 2 "bad path" -- "$llama" logits model.safetensors --path q8 --tokens 1
finish
