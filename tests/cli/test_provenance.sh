#!/usr/bin/env bash
# Provenance as a user meets it: digests equal wherever a tensor is stored
# (.wqc, quantize output, decode output, sharded, lossless) and equal to an
# independent computation of FORMAT.md's canonical form; verify --digest
# catching a one-bit change; routing keys against a Python jump hash; the
# statistics record against numpy; diff; analyze --rd and --plot.
# usage: test_provenance.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
support=$(cd "$(dirname "$0")/../support" && pwd)
cd "$tmp" || exit 1

PYTHONPATH="$support" "$py" - <<'PY'
import numpy as np
from safetensors_write import write as st
rng = np.random.default_rng(5)
g = lambda *s: (rng.standard_t(5, s) * 0.02).astype("<f4")
bf16 = lambda a: ((a.view("<u4") + 0x7fff + ((a.view("<u4") >> 16) & 1)) >> 16).astype("<u2")
st("model.safetensors", {
    "layers.0.wq": ("F32", (96, 128), g(96, 128).tobytes()),
    "layers.0.wk": ("BF16", (64, 128), bf16(g(64, 128)).tobytes()),
    "layers.0.w2": ("F16", (128, 96), g(128, 96).astype("<f2").tobytes()),
    "layers.0.norm": ("F32", (128,), (1 + g(128)).tobytes()),
    "steps": ("I64", (3,), np.arange(3, dtype="<i8").tobytes()),
}, {"format": "pt"})
PY

# ---- digests ----
expect_status 0 "quantize" -- "$wqc" quantize model.safetensors -o q.safetensors
expect_status 0 "encode the quantize output" -- "$wqc" encode q.safetensors -o q.wqc
expect_status 0 "encode the floats" -- "$wqc" encode model.safetensors -o m.wqc
expect_status 0 "decode --symbols" -- "$wqc" decode m.wqc -o back.safetensors
expect_status 0 "encode sharded" -- "$wqc" encode model.safetensors -o sh.wqc --shard-size 20000
expect_status 0 "encode lossless" -- "$wqc" encode --lossless model.safetensors -o l.wqc
for f in q.safetensors q.wqc m.wqc back.safetensors sh.wqc.index.json l.wqc model.safetensors; do
    expect_status 0 "info --digest $f" -- "$wqc" info --digest "$f"
    cp "$tmp/out" "dig.$f.txt"
done
check "digest: 5 tensor lines and a model line" '[[ $(wc -l <dig.m.wqc.txt) -eq 6 ]]'
for f in q.safetensors q.wqc back.safetensors sh.wqc.index.json; do
    check "digests of $f equal the .wqc's" 'cmp -s dig.m.wqc.txt dig.$f.txt'
done
check "lossless .wqc digests equal the original file's" 'cmp -s dig.l.wqc.txt dig.model.safetensors.txt'
check "quantized and original models differ" '! cmp -s dig.m.wqc.txt dig.model.safetensors.txt'
check "kept tensors keep their digest when others are quantized" \
    '[[ $(grep -h "steps\$" dig.m.wqc.txt) == $(grep -h "steps\$" dig.model.safetensors.txt) ]]'

# The canonical form recomputed from FORMAT.md with hashlib, from the files themselves.
expect_status 0 "digests from the spec, in Python" -- "$py" - <<'PY'
import hashlib, json, struct, sys, numpy as np
def read(path):
    b = open(path, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
    meta = h.pop("__metadata__", {})
    return {k: (v, b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]) for k, v in h.items()}, meta
u64 = lambda v: struct.pack("<Q", v)
def head(kind, name, dtype, shape):
    nb = name.encode()
    return (b"wqc.tensor.1" + bytes([kind]) + struct.pack("<H", len(nb)) + nb + bytes([len(dtype)]) + dtype.encode()
            + bytes([len(shape)]) + b"".join(u64(s) for s in shape))
def model(digests):
    m = hashlib.blake2b(digest_size=32); m.update(b"wqc.model.1" + u64(len(digests)))
    for name in sorted(digests, key=lambda s: s.encode()): m.update(digests[name])
    return m.hexdigest()
want = {}
for line in open("dig.model.safetensors.txt"):
    a, b = line.split(None, 1); want[b.strip() if a != "model" else "(model)"] = a if a != "model" else b.split()[0]
ts, _ = read("model.safetensors"); dig = {}
for name, (v, raw) in ts.items():
    dig[name] = hashlib.blake2b(head(0, name, v["dtype"], v["shape"]) + u64(len(raw)) + raw, digest_size=32).digest()
    assert dig[name].hex() == want[name], name
assert model(dig) == want["(model)"]
# Quantized tensors, from the quantize output's symbols, scales and offsets.
want = {}
for line in open("dig.q.wqc.txt"):
    a, b = line.split(None, 1); want[b.strip() if a != "model" else "(model)"] = a if a != "model" else b.split()[0]
ts, meta = read("q.safetensors"); dig = {}
for name, (v, raw) in ts.items():
    if name.endswith(".wqc_scale") or name.endswith(".wqc_offset"): continue
    q = json.loads(meta["wqc.q." + name]) if "wqc.q." + name in meta else None
    if q is None:
        dig[name] = hashlib.blake2b(head(0, name, v["dtype"], v["shape"]) + u64(len(raw)) + raw, digest_size=32).digest()
        continue
    scale, offset = ts[name + ".wqc_scale"][1], ts[name + ".wqc_offset"][1]
    ngroups = len(scale) // 4; rows, cols = q["rows"], q["cols"]
    group_len = cols if ngroups in (rows, 1) and q["granularity"] != "group" else q["group_size"]
    body = (bytes([q["bits"]]) + struct.pack("<I", q["alphabet"]) + u64(rows) + u64(cols) + u64(group_len) + u64(ngroups)
            + scale + offset + u64(len(raw)) + raw)
    dig[name] = hashlib.blake2b(head(1, name, q["dtype"], v["shape"]) + body, digest_size=32).digest()
    assert dig[name].hex() == want[name], name
assert model(dig) == want["(model)"]
PY

model_digest=$(awk '$1 == "model" {print $2}' dig.model.safetensors.txt)
tensor_digest=$(awk '$2 == "layers.0.wk" {print $1}' dig.m.wqc.txt)
expect_status 0 "verify --digest: the model" -- "$wqc" verify --digest "$model_digest" model.safetensors
check "verify names the match" 'grep -q "model digest matches" "$tmp/out"'
expect_status 0 "verify --digest: a tensor of the .wqc" -- "$wqc" verify --digest "$tensor_digest" m.wqc
check "verify names the tensor" 'grep -q "layers.0.wk" "$tmp/out"'
expect_status 0 "verify --digest: lossless .wqc against the original's model digest" -- "$wqc" verify --digest "$model_digest" l.wqc
"$py" -c "
b = bytearray(open('model.safetensors', 'rb').read()); b[-40] ^= 0x04
open('flipped.safetensors', 'wb').write(b)"
expect_status 1 "verify --digest: one bit changed" -- "$wqc" verify --digest "$model_digest" flipped.safetensors
check_one_line_error "one bit changed" flipped.safetensors "matches neither"
expect_status 1 "verify --digest: a tensor digest against another tensor" -- "$wqc" verify --digest "$tensor_digest" m.wqc --tensors 'layers.0.wq'
expect_status 2 "verify --digest: not hex" -- "$wqc" verify --digest xyz m.wqc
cp m.wqc bad.wqc && printf '\x55' | dd of=bad.wqc bs=1 seek=200 conv=notrunc 2>/dev/null
expect_status 4 "verify --digest: a damaged .wqc" -- "$wqc" verify --digest "$model_digest" bad.wqc

# ---- routing keys: wqc's against the jump hash computed from FORMAT.md ----
routes=""
for n in 1 2 3 7 10 100 1000 65536; do
    expect_status 0 "info --route $n" -- "$wqc" info --route "$n" m.wqc
    routes+="$n:$(cat "$tmp/out") "
done
md=$(awk '$1 == "model" {print $2}' dig.m.wqc.txt)
expect_status 0 "routes match a Python jump consistent hash" -- "$py" - "$md" $routes <<'PY'
import sys
key = int.from_bytes(bytes.fromhex(sys.argv[1])[:8], "little")
def jump(key, n):
    b, j = -1, 0
    while j < n:
        b = j
        key = (key * 2862933555777941757 + 1) % 2**64
        j = int((b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b
for pair in sys.argv[2:]:
    n, got = map(int, pair.split(":"))
    assert jump(key, n) == got, (n, got, jump(key, n))
PY
expect_status 0 "info --digest --route --json" -- "$wqc" info --digest --route 8 --json m.wqc
check "JSON has the model digest and the place" \
    '"$py" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"model_digest\"] == sys.argv[2] and 0 <= d[\"route\"][\"place\"] < 8 and len(d[\"tensors\"]) == 5" "$tmp/out" "$md"'

# ---- statistics record ----
expect_status 0 "encode sdclip k=3 (clips)" -- "$wqc" encode model.safetensors -o s.wqc --method sdclip --bits 4 -k 3
expect_status 0 "quantize the same" -- "$wqc" quantize model.safetensors -o sq.safetensors --method sdclip --bits 4 -k 3
expect_status 0 "info --json" -- "$wqc" info --json s.wqc
cp "$tmp/out" s.json
expect_status 0 "statistics match numpy (relative 1e-6)" -- "$py" - <<'PY'
import json, struct, numpy as np
def read(path):
    b = open(path, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
    meta = h.pop("__metadata__", {}); out = {}
    for k, v in h.items():
        raw = b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
        dt = {"F32": "<f4", "F16": "<f2", "U8": "u1", "I64": "<i8"}.get(v["dtype"])
        a = (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4") if v["dtype"] == "BF16" else np.frombuffer(raw, dt)
        out[k] = a.reshape(v["shape"])
    return out, meta
w, _ = read("model.safetensors"); q, meta = read("sq.safetensors")
info = {t["name"]: t for t in json.load(open("s.json"))["tensors"]}
assert "stats" not in info["steps"], "integer tensors have no statistics"
clipped_total = 0
for name in ("layers.0.wq", "layers.0.wk", "layers.0.w2", "layers.0.norm"):
    s, a = info[name]["stats"], w[name].astype(np.float64).ravel()
    m, sd = a.mean(), a.std()
    ref = {"count": a.size, "mean": m, "std": sd, "min": a.min(), "max": a.max(), "kurtosis": ((a - m) ** 4).mean() / sd ** 4 - 3}
    for k, v in ref.items():
        assert abs(s[k] - v) <= 1e-6 * abs(v), (name, k, s[k], v)
    if name == "layers.0.norm":
        assert "sqnr_db" not in s; continue
    qm = json.loads(meta["wqc.q." + name]); sym = q[name].astype(np.float64).reshape(qm["rows"], -1)
    sc, of = q[name + ".wqc_scale"].astype(np.float64), q[name + ".wqc_offset"].astype(np.float64)
    x = a.reshape(sym.shape); deq = (of[:, None].astype(np.float32) + sc[:, None].astype(np.float32) * sym.astype(np.float32)).astype(np.float64)
    sqnr = 10 * np.log10((x ** 2).sum() / ((x - deq) ** 2).sum())
    lo, hi = of[:, None] - sc[:, None] / 2, of[:, None] + sc[:, None] * (qm["alphabet"] - 1) + sc[:, None] / 2
    clipped = int(((x < lo) | (x > hi)).sum())
    assert abs(s["sqnr_db"] - sqnr) <= 1e-6 * sqnr, (name, s["sqnr_db"], sqnr)
    assert s["clipped_count"] == clipped and abs(s["clipped"] - clipped / a.size) < 1e-12, (name, s["clipped_count"], clipped)
    clipped_total += clipped
assert clipped_total > 0, "k=3 clips some weights"
PY
expect_status 0 "info --stats" -- "$wqc" info --stats s.wqc
check "info --stats: a row per float tensor" '[[ $(grep -c "^layers" "$tmp/out") -eq 4 ]]'
expect_status 0 "encode --no-stats" -- "$wqc" encode model.safetensors -o ns.wqc --no-stats
expect_status 0 "info --json of a file without statistics" -- "$wqc" info --json ns.wqc
check "no stats without the record" '! grep -q "\"stats\"" "$tmp/out"'
check "the record costs bytes" '[[ $(stat -c %s ns.wqc) -lt $(stat -c %s m.wqc) ]]'
expect_status 0 "sharded files carry their tensors' statistics" -- "$wqc" info --json sh.wqc.index.json
check "every float tensor of the shards has stats" '[[ $(grep -c "\"kurtosis\"" "$tmp/out") -eq 4 ]]'
# The record is covered by the checksum and the HMAC like the rest.
printf 'k%.0s' {1..40} >key
expect_status 0 "encode with a key" -- "$wqc" encode model.safetensors -o k.wqc --key-file key
"$py" - <<'PY'
import subprocess
for src, dst in (("k.wqc", "kbad.wqc"), ("m.wqc", "mbad.wqc")):
    b = bytearray(open(src, "rb").read())
    # The STATS record: type 'D', flags 0, just before NAMES, INDEX and END; flip a byte of its body.
    at = len(b) - 60
    while not (b[at] == ord("D") and b[at + 1] == 0): at -= 1
    b[at + 9] ^= 1
    open(dst, "wb").write(b)
PY
expect_status 5 "a changed STATS record fails the HMAC" -- "$wqc" verify kbad.wqc --key-file key
expect_status 4 "a damaged STATS record fails its checksum" -- "$wqc" verify mbad.wqc
expect_status 4 "info of a file with a damaged STATS record" -- "$wqc" info --json mbad.wqc

# ---- diff ----
"$py" - <<'PY'
import json, struct, numpy as np
b = bytearray(open("model.safetensors", "rb").read()); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
s, e = h["layers.0.wq"]["data_offsets"]
a = np.frombuffer(bytes(b[8 + n + s:8 + n + e]), "<f4") * np.float32(1.01)
b[8 + n + s:8 + n + e] = a.astype("<f4").tobytes()
open("scaled.safetensors", "wb").write(b)
PY
expect_status 0 "diff of a model against itself" -- "$wqc" diff model.safetensors model.safetensors --json
check "nothing changed" '"$py" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"changed\"] == 0 and len(d[\"tensors\"]) == 5 and all(t[\"changed\"] is False for t in d[\"tensors\"]) and d[\"max_rel_change\"] == 0" "$tmp/out"'
expect_status 0 "diff against one tensor scaled by 1.01" -- "$wqc" diff model.safetensors scaled.safetensors --json
check "that tensor alone, relative change 0.01" '"$py" -c "
import json,sys; d=json.load(open(sys.argv[1])); ch=[t for t in d[\"tensors\"] if t[\"changed\"]]
assert [t[\"name\"] for t in ch] == [\"layers.0.wq\"], ch
assert abs(ch[0][\"rel_change\"] - 0.01) < 1e-6 and abs(ch[0][\"cosine\"] - 1) < 1e-9, ch" "$tmp/out"'
expect_status 1 "the gate fails beyond --max-rel-change" -- "$wqc" diff model.safetensors scaled.safetensors --max-rel-change 0.005 -q
check "the gate names the tensor" 'grep -q "layers.0.wq" "$tmp/err" && [[ $(wc -l <"$tmp/err") -eq 1 ]]'
expect_status 0 "the gate passes within it" -- "$wqc" diff model.safetensors scaled.safetensors --max-rel-change 0.02 -q
expect_status 0 "encode the scaled model" -- "$wqc" encode scaled.safetensors -o scaled.wqc
expect_status 0 "diff --stats-only of two .wqc" -- "$wqc" diff m.wqc scaled.wqc --stats-only --json
check "stats-only: the tensor alone, its bound 0.01" '"$py" -c "
import json,sys; d=json.load(open(sys.argv[1])); ch=[t for t in d[\"tensors\"] if t[\"changed\"]]
assert [t[\"name\"] for t in ch] == [\"layers.0.wq\"], ch
assert abs(ch[0][\"rel_change_lower_bound\"] - 0.01) < 1e-5, ch" "$tmp/out"'
expect_status 1 "stats-only gate" -- "$wqc" diff m.wqc scaled.wqc --stats-only --max-rel-change 0.005 -q
expect_status 2 "--stats-only needs two .wqc" -- "$wqc" diff model.safetensors m.wqc --stats-only
expect_status 0 "diff across containers: .wqc against the quantize output" -- "$wqc" diff m.wqc q.safetensors --json
check "the same quantized model" '"$py" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"changed\"] == 0, d" "$tmp/out"'
"$py" - <<'PY'
import json, struct
b = open("model.safetensors", "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
data = b[8 + n:]; out, blobs, off = {}, [], 0
for k, v in h.items():
    if k in ("__metadata__", "steps"): continue
    s, e = v["data_offsets"]; raw = data[s:e]
    if k == "layers.0.norm": v = dict(v, shape=[2, 64])
    out[k] = dict(v, data_offsets=[off, off + len(raw)]); blobs.append(raw); off += len(raw)
out["extra"] = {"dtype": "F32", "shape": [2], "data_offsets": [off, off + 8]}; blobs.append(b"\0" * 8)
hj = json.dumps(out).encode(); hj += b" " * (-len(hj) % 8)
open("edited.safetensors", "wb").write(struct.pack("<Q", len(hj)) + hj + b"".join(blobs))
PY
expect_status 0 "diff: added, removed, reshaped" -- "$wqc" diff model.safetensors edited.safetensors
check "added" 'grep -q "^extra .*added" "$tmp/out"'
check "removed" 'grep -q "^steps .*removed" "$tmp/out"'
check "reshaped" 'grep -q "^layers.0.norm .*reshaped" "$tmp/out"'
expect_status 1 "structural changes fail the gate" -- "$wqc" diff model.safetensors edited.safetensors --max-rel-change 1 -q
expect_status 1 "diff of a missing file" -- "$wqc" diff model.safetensors nothere.safetensors
check_one_line_error "missing file" nothere.safetensors "No such file"

# ---- analyze --rd and --plot ----
expect_status 0 "analyze --rd on a Gaussian" -- "$wqc" analyze --rd --synthetic gaussian:1024x4096 --rd-bits 5..8 --rd-k 6,8,12.85 --json
cp "$tmp/out" rd.json
expect_status 0 "--rd points sit where the theory puts them" -- "$py" - <<'PY'
import json
d = json.load(open("rd.json"))
pts = {p["quantizer"]: p for p in d["model"]}
assert len(d["tensors"]) == 1 and len(pts) == 4 * 3 + 4 * 3, sorted(pts)
for p in d["model"]:
    assert abs(p["line_db"] - (6.020599913 * p["entropy_bits"] - 1.532994770)) < 1e-6
    assert abs(p["gap_db"] - (p["sqnr_db"] - p["line_db"])) < 1e-9
    assert p["coded_bits"] > p["entropy_bits"] and p["coded_bits"] < p["entropy_bits"] + 0.05 + p["scale_bits"], p
# Uniform grids without clipping at high resolution lie on the ECSQ line.
for k in (6, 8, 12.85):
    for b in (6, 7, 8):
        g = pts["sdclip %d-bit k=%g" % (b, k)]["gap_db"]
        assert abs(g) < 0.1, (k, b, g)
for b in (5, 6, 7, 8):
    g = pts["affine %d-bit row" % b]["gap_db"]
    assert -0.3 < g < 0, (b, g)          # per-row steps mix in the pooled entropy
    assert abs(pts["affine %d-bit tensor" % b]["gap_db"]) < 0.05
front = [p for p in d["model"] if p["pareto"]]
assert front and all(not (q["coded_bits"] <= p["coded_bits"] and q["sqnr_db"] > p["sqnr_db"]) for p in front for q in d["model"])
PY
expect_status 0 "analyze --rd text on a model, with a plot" -- "$wqc" analyze --rd --rd-bits 3..5 --rd-k 4,12.85 model.safetensors --min-elements 1000 --plot rd.svg
check "a table per tensor and one for the model" '[[ $(grep -c "^== " "$tmp/out") -eq 4 ]] && grep -q "^== model" "$tmp/out"'
expect_status 0 "analyze --plot: histograms" -- "$wqc" analyze model.safetensors --min-elements 1000 --plot hist.svg -q
expect_status 0 "the SVGs are well-formed and hold what they should" -- "$py" - <<'PY'
import xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
rd = ET.parse("rd.svg").getroot(); hist = ET.parse("hist.svg").getroot()
assert rd.tag == ns + "svg" and hist.tag == ns + "svg"
texts = " ".join(t.text or "" for t in rd.iter(ns + "text"))
assert "ECSQ" in texts and "sdclip k=4" in texts and "affine row" in texts, texts
assert len(list(rd.iter(ns + "circle"))) >= 5 * 3
titles = [t.text for t in hist.iter(ns + "text") if t.text and t.text.startswith("layers.")]
assert titles[:3] == ["layers.0.wq", "layers.0.w2", "layers.0.wk"], titles     # largest first
assert len(list(hist.iter(ns + "rect"))) > 3 * 16
PY
expect_status 0 "--plot replaces an old plot" -- "$wqc" analyze model.safetensors --min-elements 1000 --plot hist.svg -q
expect_status 1 "--plot into a missing folder" -- "$wqc" analyze model.safetensors --plot nowhere/hist.svg -q
check "no stray file" '[[ ! -e nowhere ]]'
expect_status 2 "--rd-bits out of range" -- "$wqc" analyze --rd --rd-bits 1..9 model.safetensors
expect_status 2 "--rd-k not a number" -- "$wqc" analyze --rd --rd-k 2,x model.safetensors

finish
