#!/usr/bin/env bash
# wqc-llama on ../shared/data/pylm-22M, a Hugging Face LlamaForCausalLM with
# PyTorch's held-out NLL in reference.json (skipped, exit 77, when absent):
# config.json read beside the weights, the NLL within 2e-3 of PyTorch's, and
# the identical NLL from a lossless .wqc of the same file. A sanitizer build
# (MODE=sanitized) runs one window: the same code, a fraction of the time.
# usage: test_pylm.sh WQC DATA_DIR PYTHON3 full|sanitized
wqc=$1 data=$2 py=$3 mode=${4:-full}
model=$data/pylm-22M
if [[ ! -f "$model/model.safetensors" || ! -f "$model/reference.json" ]]; then
    echo "SKIP: $model/model.safetensors or reference.json not found (needs ../shared/data)"
    exit 77
fi
llama=$(dirname "$wqc")/wqc-llama
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/lib.sh"

reference=$model/reference.json
if [[ $mode == sanitized ]]; then
    reference=$tmp/reference1.json
    "$py" -c 'import json, sys; r = json.load(open(sys.argv[1])); r["heldout_windows"] = r["heldout_windows"][:1]; r.pop("heldout_nll_nats_per_token"); json.dump(r, open(sys.argv[2], "w"))' \
        "$model/reference.json" "$reference"
fi
expect_status 0 "eval of model.safetensors" -- "$llama" eval "$model/model.safetensors" --reference "$reference" --json
cp "$tmp/out" "$tmp/st.json"
mkdir "$tmp/lossless"
expect_status 0 "encode --lossless" -- "$wqc" encode --lossless -q "$model/model.safetensors" -o "$tmp/lossless/model.wqc"
cp "$model/config.json" "$tmp/lossless/"
w=$(stat -c %s "$tmp/lossless/model.wqc") size=$(stat -c %s "$model/model.safetensors")
echo "pylm-22M --lossless: $w of $size bytes ($(( 10000 * w / size ))/10000)"
check "pylm-22M --lossless: .wqc ($w) <= 66% of the file ($size)" '(( 100 * w <= 66 * size ))'
expect_status 0 "eval of the lossless .wqc" -- "$llama" eval "$tmp/lossless/model.wqc" --reference "$reference" --json
cp "$tmp/out" "$tmp/wqc.json"
check "pylm-22M: NLL as PyTorch's, identical from the .wqc" '"$py" - "$tmp/st.json" "$tmp/wqc.json" "$mode" <<"PY"
import json, sys
st, wq = (json.load(open(p)) for p in sys.argv[1:3])
print("pylm-22M NLL: safetensors %.6f, lossless .wqc %.6f, PyTorch %s" % (st["nll"], wq["nll"], st["reference_nll"]))
assert st["nll"] == wq["nll"], (st["nll"], wq["nll"])
if sys.argv[3] == "full":
    assert st["windows"] == 16 and st["predictions"] == 4096, st
    assert abs(st["difference"]) < 2e-3, st
PY'
# Quantized (affine 4-bit row, the default): the .wqc <= 0.98 of the smallest
# general-purpose coding of what it holds, the quantize output. brotli -q 11 -w
# 24 (smaller than xz -9e and zstd -19 --long=27 here) takes a minute on its
# 22 MB, so its size is kept here with the SHA-256 of the output it was
# measured on; a quantizer change that alters the output fails until both are
# measured again (bash bench/size.sh build/wqc ../shared/data/pylm-22M/model.safetensors).
expect_status 0 "quantize" -- "$wqc" quantize -q "$model/model.safetensors" -o "$tmp/q.safetensors"
expect_status 0 "encode" -- "$wqc" encode -q "$model/model.safetensors" -o "$tmp/q.wqc"
peer_sha=44e6c2cd23bf1c99c07f236109640cb201a10cb813cdd0566903677d2956b434 peer_bytes=9357520
check "pylm-22M quantize output is the one brotli's size was measured on" \
    '[[ $(sha256sum "$tmp/q.safetensors" | cut -c1-64) == "$peer_sha" ]]'
q=$(stat -c %s "$tmp/q.wqc")
echo "pylm-22M affine 4-bit: $q bytes, brotli $peer_bytes ($(( 10000 * q / peer_bytes ))/10000)"
check "pylm-22M affine 4-bit: .wqc ($q) <= 0.98 of brotli ($peer_bytes)" '(( 100 * q <= 98 * peer_bytes ))'
# FP8 as DeepSeek ships it, stored losslessly: no tensor larger than the
# smallest general-purpose coding of its own bytes + 32 (those sizes cached,
# with the SHA-256 of the file they were measured on, in tests/data).
peers=$(dirname "$0")/../data/pylm-22M-fp8-peers.json
expect_status 0 "quantize --format fp8" -- "$wqc" quantize -q "$model/model.safetensors" --format fp8 -o "$tmp/fp8.safetensors"
expect_status 0 "encode --lossless the FP8 file" -- "$wqc" encode --lossless -q "$tmp/fp8.safetensors" -o "$tmp/fp8.wqc"
expect_status 0 "info --json" -- "$wqc" info --json "$tmp/fp8.wqc"
check "pylm-22M FP8: every tensor <= the smallest peer's coding of it + 32 bytes" '"$py" - "$peers" "$tmp/out" "$tmp/fp8.safetensors" <<"PY"
import hashlib, json, sys
peers = json.load(open(sys.argv[1]))
tensors = {t["name"]: t["payload_bytes"] for t in json.load(open(sys.argv[2]))["tensors"]}
assert hashlib.sha256(open(sys.argv[3], "rb").read()).hexdigest() == peers["sha256"], "FP8 output changed: measure the peers again"
smallest = peers["smallest_peer_bytes"]
assert set(smallest) <= set(tensors) and len(smallest) == 87, "tensors differ from those measured (all of 64 bytes and more)"
over = {k: (tensors[k], v) for k, v in smallest.items() if tensors[k] > v + 32}
print("pylm-22M FP8: %d tensors, %d bytes against %d of their smallest peers" % (len(smallest), sum(tensors[k] for k in smallest), sum(smallest.values())))
assert not over, over
PY'
finish
