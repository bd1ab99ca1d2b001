#!/usr/bin/env bash
# Malformed and hostile inputs: one clear line on stderr naming the file and
# the problem, exit status 1, never a crash.
# usage: test_malformed.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"

"$py" - "$tmp" <<'PY'
import json, struct, sys, numpy as np
d = sys.argv[1]
def st(name, header, data, hlen=None):
    h = json.dumps(header).encode() if isinstance(header, dict) else header
    with open("%s/%s" % (d, name), "wb") as f:
        f.write(struct.pack("<Q", len(h) if hlen is None else hlen) + h + data)
good = {"a": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 64]}}
st("truncated.safetensors", good, bytes(40))
st("badlen.safetensors", good, bytes(64), hlen=10)
st("longheader.safetensors", good, bytes(64), hlen=1 << 20)
st("overlap.safetensors", {"a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]},
                          "b": {"dtype": "U8", "shape": [8], "data_offsets": [4, 12]}}, bytes(12))
st("notjson.safetensors", b"{not json}", b"")
st("nan.safetensors", good, np.array([1.0] * 5 + [np.nan] + [0.0] * 10, "<f4").tobytes())
np.save(d + "/f8.npy", np.zeros((4, 4), "<f8"))
np.save(d + "/ok.npy", np.zeros((4, 4), "<f4"))
raw = open(d + "/ok.npy", "rb").read()
open(d + "/truncated.npy", "wb").write(raw[:-5])
open(d + "/badheader.npy", "wb").write(raw.replace(b"'shape'", b"'shope'"))
open(d + "/empty.npy", "wb").write(b"")
PY

before=$(sha256sum "$tmp"/*.npy "$tmp"/*.safetensors)
for case in "truncated.safetensors:ends at byte" "badlen.safetensors:bad JSON" \
            "longheader.safetensors:longer than the file" "overlap.safetensors:overlap" \
            "notjson.safetensors:bad JSON" "f8.npy:unsupported dtype '<f8'" \
            "truncated.npy:truncated data" "badheader.npy:unexpected or repeated key 'shope'" \
            "empty.npy:not a .npy file" "missing.npy:No such file" \
            "nan.safetensors:tensor 'a': NaN at element 5"; do
    file=$tmp/${case%%:*} needle=${case#*:}
    expect_status 1 "$case" -- "$wqc" analyze --min-elements 0 "$file"
    check_one_line_error "$case" "$file" "$needle"
done
expect_status 1 "a directory" -- "$wqc" analyze "$tmp"
check_one_line_error "a directory" "$tmp" "is a directory"
check "inputs untouched" '[[ $(sha256sum "$tmp"/*.npy "$tmp"/*.safetensors) == "$before" ]]'

# A decompression bomb: one symbol costs 0 bits, so a tiny .wqc declares
# 2^22 elements. --max-elements refuses it before allocating; raising it decodes.
"$py" -c "import numpy as np; np.save('$tmp/zeros.npy', np.zeros((2048, 2048), 'i1'))"
rm -f "$tmp/bomb.wqc" "$tmp/bomb.npy"
"$wqc" encode -q "$tmp/zeros.npy" -o "$tmp/bomb.wqc" || exit 1
check "the bomb is small" '[[ $(stat -c %s "$tmp/bomb.wqc") -lt 4096 ]]'
for cmd in decode verify; do
    out=(); [[ $cmd == decode ]] && out=(-o "$tmp/bomb.npy")
    expect_status 1 "$cmd above --max-elements" -- "$wqc" $cmd --max-elements 4194303 "$tmp/bomb.wqc" "${out[@]}"
    check_one_line_error "$cmd above --max-elements" "$tmp/bomb.wqc" "4194304 elements, more than --max-elements 4194303"
done
check "no output from the refused bomb" '[[ -z $(compgen -G "$tmp/bomb.npy*") ]]'
# The bomb among small tensors: verify -T 4 decodes those side by side, and still refuses it by name.
"$py" - "$tmp" <<'PY'
import json, struct, sys
d = sys.argv[1]
h, at = {}, 0
for name, n in [("a", 16), ("b", 1 << 22), ("c", 16)]:
    h[name] = {"dtype": "I8", "shape": [n], "data_offsets": [at, at + n]}
    at += n
hb = json.dumps(h).encode()
with open(d + "/three.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb + bytes(at))
PY
"$wqc" encode -q "$tmp/three.safetensors" -o "$tmp/three.wqc" -f || exit 1
expect_status 1 "verify -T 4 above --max-elements among small tensors" -- \
    "$wqc" verify -q -T 4 --max-elements 4194303 "$tmp/three.wqc"
check_one_line_error "verify -T 4 among small tensors" "$tmp/three.wqc" "4194304 elements, more than --max-elements 4194303"
expect_status 0 "verify -T 4 within --max-elements" -- "$wqc" verify -T 4 "$tmp/three.wqc"
expect_status 0 "decode within --max-elements" -- "$wqc" decode --max-elements 4194304 "$tmp/bomb.wqc" -o "$tmp/bomb.npy"
check "decoded bomb equals its source" 'cmp -s "$tmp/bomb.npy" "$tmp/zeros.npy"'
for bad in 0 68719476737 lots; do
    expect_status 2 "--max-elements $bad" -- "$wqc" decode --max-elements $bad "$tmp/bomb.wqc" -o "$tmp/x.npy"
    check "--max-elements $bad: says why" 'grep -q -- "--max-elements" "$tmp/err"'
done

finish
