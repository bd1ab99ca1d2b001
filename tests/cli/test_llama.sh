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
# A Hugging Face checkpoint: no llama2.c metadata, the sizes in config.json
# beside it (or --config); the same logits as from the metadata.
mkdir -p hf
"$py" - <<'PY'
import json
from llama_reference import read_safetensors
from safetensors_write import write
W, meta = read_safetensors("model.safetensors")
write("hf/model.safetensors", {k: ("F32", v.shape, v.astype("<f4").tobytes()) for k, v in W.items()}, {})
json.dump({"model_type": "llama", "hidden_size": 64, "intermediate_size": 80, "num_hidden_layers": 2,
           "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 96, "rms_norm_eps": 1e-5,
           "max_position_embeddings": 64, "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"},
           "tie_word_embeddings": True}, open("hf/config.json", "w"))
json.dump({"model_type": "bert", "hidden_size": 64}, open("bert.json", "w"))
PY
expect_status 0 "logits of a Hugging Face checkpoint (config.json beside it)" -- "$llama" logits hf/model.safetensors --tokens $tokens
check "config.json gives the metadata's logits" 'cmp -s "$tmp/out" f32.half.txt'
cp hf/model.safetensors bare.safetensors
expect_status 0 "logits with --config" -- "$llama" logits bare.safetensors --config hf/config.json --tokens $tokens
check "--config gives the same logits" 'cmp -s "$tmp/out" f32.half.txt'
expect_status 1 "a config.json of another model type" -- "$llama" logits bare.safetensors --config bert.json --tokens $tokens
check_one_line_error "bert config" bert.json "not llama"
expect_status 1 "no config at all" -- "$llama" logits bare.safetensors --tokens 1
check_one_line_error "no config" bare.safetensors "config.json"

# GGUF (llama.cpp's files): F16 and Q4_0 blocks read back as ggml defines them.
expect_status 0 "quantize --format gguf (F16)" -- "$wqc" quantize model.safetensors --format gguf --gguf-type f16 -o f16.gguf
expect_status 0 "logits of the F16 GGUF" -- "$llama" logits f16.gguf --tokens $tokens
cp "$tmp/out" gguf16.txt
expect_status 0 "quantize --format gguf (Q4_0)" -- "$wqc" quantize model.safetensors --format gguf -o q4.gguf
expect_status 0 "logits of the Q4_0 GGUF" -- "$llama" logits q4.gguf --tokens $tokens
cp "$tmp/out" gguf4.txt
expect_status 0 "GGUF logits against the reference on rounded weights" -- "$py" - $tokens <<'PY'
import sys, numpy as np
from llama_reference import read_safetensors, forward, q4_0_roundtrip
toks = [int(t) for t in sys.argv[1].split(",")]
W, meta = read_safetensors("model.safetensors")
f16 = lambda v: v.astype(np.float16).astype(np.float64)
# F16: matrices rounded to F16, vectors F32.
W16 = {k: (f16(v) if v.ndim == 2 else v) for k, v in W.items()}
ref = forward(W16, meta, toks)
assert np.abs(np.loadtxt("gguf16.txt") - ref).max() < 1e-4 * np.abs(ref).max()
# Q4_0: matrices whose rows are whole blocks of 32, the embedding included; others F16.
W4 = {k: (q4_0_roundtrip(v) if v.shape[1] % 32 == 0 else f16(v)) if v.ndim == 2 else v for k, v in W.items()}
ref4 = forward(W4, meta, toks)
d = np.abs(np.loadtxt("gguf4.txt") - ref4).max()
assert d < 1e-4 * np.abs(ref4).max(), d
PY

# eval: the mean NLL of a reference.json's windows (all positions at once,
# on threads) against the numpy reference's.
"$py" - <<'PY'
import json, numpy as np
rng = np.random.default_rng(5)
json.dump({"heldout_windows": rng.integers(0, 96, (3, 33)).tolist(), "heldout_nll_nats_per_token": 4.5},
          open("reference.json", "w"))
json.dump({"heldout_windows": [[1, 2, 96]]}, open("badref.json", "w"))
PY
for T in 1 3; do
    expect_status 0 "eval -T $T" -- "$llama" eval model.safetensors --reference reference.json --json -T $T
    cp "$tmp/out" eval$T.json
done
expect_status 0 "eval of the .wqc" -- "$llama" eval r.wqc --reference reference.json --json
cp "$tmp/out" evalr.json
expect_status 0 "eval of the quantize output" -- "$llama" eval q.safetensors --reference reference.json --json
cp "$tmp/out" evalq.json
expect_status 0 "eval against the numpy reference" -- "$py" - <<'PY'
import json, numpy as np
from llama_reference import read_safetensors, forward
W, meta = read_safetensors("model.safetensors")
wins = json.load(open("reference.json"))["heldout_windows"]
nll = []
for w in wins:
    L = forward(W, meta, w[:-1])
    L = L - L.max(-1, keepdims=True)
    lp = L - np.log(np.exp(L).sum(-1, keepdims=True))
    nll += [-lp[t, w[t + 1]] for t in range(len(w) - 1)]
e1, e3, er, eq = (json.load(open(f)) for f in ("eval1.json", "eval3.json", "evalr.json", "evalq.json"))
assert e1["schema"] == "wqc-llama.eval/1" and e1["windows"] == 3 and e1["predictions"] == 96, e1
assert abs(e1["nll"] - np.mean(nll)) < 1e-5, (e1["nll"], np.mean(nll))
assert e1["nll"] == e3["nll"], "the thread count changes nothing"
assert abs(e1["difference"] - (e1["nll"] - 4.5)) < 1e-12 and e1["reference_nll"] == 4.5
assert er["nll"] == eq["nll"] != e1["nll"], "the same symbols give the same NLL, and quantization changes it"
PY
expect_status 2 "eval without --reference" -- "$llama" eval model.safetensors
expect_status 2 "--json with --json-out" -- "$llama" sweep model.safetensors --json --json-out x.json
expect_status 2 "--reference outside eval and sweep" -- "$llama" logits model.safetensors --tokens 1 --reference reference.json
expect_status 2 "--plot outside sweep" -- "$llama" eval model.safetensors --reference reference.json --plot x.svg
expect_status 1 "eval, a token outside the vocabulary" -- "$llama" eval model.safetensors --reference badref.json
check_one_line_error "bad reference" badref.json "vocabulary"
expect_status 1 "eval, a missing reference" -- "$llama" eval model.safetensors --reference nothere.json
check_one_line_error "missing reference" nothere.json "nothere"

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
assert len(v) == 6 * 4 + 2, sorted(v)
assert v["GGUF Q8_0"]["kl"] < v["GGUF Q4_0"]["kl"] and 8 < v["GGUF Q8_0"]["bits_per_weight"], v["GGUF Q8_0"]
assert -1 <= d["spearman_sqnr_kl"] < 0, d["spearman_sqnr_kl"]
assert d["original_nll"] > 0
for x in d["variants"]:
    assert x["kl"] >= 0 and 0 <= x["top1"] <= 1 and x["bits_per_weight"] > 0, x
    assert abs(x["delta_nll"] - (x["nll"] - d["original_nll"])) < 1e-9
for fam in ("affine row", "affine group:64", "sdclip k=4"):
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
