#!/usr/bin/env bash
# Large-model habits: outputs named after their input (zstd style) and -c,
# progress only where asked for, decode to a pipe, and sharded checkpoints
# in and out (index.json -> sharded .wqc -> sharded safetensors) with every
# tensor byte-identical and indexes that a safetensors loader follows.
# usage: test_streaming.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1
make_model=$(dirname "$0")/../support/make_model.py

"$py" "$make_model" m.safetensors 5 128 300 F16 || exit 1
"$wqc" quantize m.safetensors -o q.safetensors -q || exit 1

# Output names follow the input; nothing is overwritten without -f.
expect_status 0 "encode names its output" -- "$wqc" encode m.safetensors -q
check "encode wrote m.wqc" '[[ -s m.wqc ]]'
expect_status 1 "encode refuses to overwrite m.wqc" -- "$wqc" encode m.safetensors -q
check_one_line_error "existing output" m.wqc "already exists"
expect_status 0 "encode -f overwrites" -- "$wqc" encode m.safetensors -q -f
# A quantized file never decodes onto its source's name, even with -f.
expect_status 0 "decode of a quantized file names its output apart" -- "$wqc" decode m.wqc -q -f
check "the original is untouched" 'cmp -s m.safetensors <("$py" "$make_model" /dev/stdout 5 128 300 F16)'
check "decode wrote m.symbols.safetensors, the quantize output" 'cmp -s m.symbols.safetensors q.safetensors'
expect_status 0 "decode --dequantize names its output apart" -- "$wqc" decode m.wqc -q --dequantize
check "decode --dequantize wrote m.dequantized.safetensors" '[[ -s m.dequantized.safetensors ]]'
expect_status 1 "encode refuses to write over its input, even with -f" -- "$wqc" encode -q -f m.safetensors -o m.safetensors
check_one_line_error "output is the input" m.safetensors "is the input"
check "the input is intact" 'cmp -s m.safetensors <("$py" "$make_model" /dev/stdout 5 128 300 F16)'
expect_status 1 "quantize refuses to write over its input" -- "$wqc" quantize -q -f m.safetensors -o ./m.safetensors
mkdir named && cp m.wqc named/
expect_status 0 "decode names its output" -- "$wqc" decode named/m.wqc -q
check "decode wrote named/m.symbols.safetensors, the quantize output" 'cmp -s named/m.symbols.safetensors q.safetensors'
expect_status 2 "an unknown suffix needs -o" -- "$wqc" decode q.safetensors
check_one_line_error "unknown suffix" q.safetensors "give -o FILE, or -c"
expect_status 0 "-c writes to stdout" -- "$wqc" decode m.wqc -c -q
check "-c output is the quantize output" 'cmp -s "$tmp/out" q.safetensors'
check "stdin goes to stdout" 'cmp -s <("$wqc" decode - -q <m.wqc) q.safetensors'
check "encode from stdin to stdout" 'cmp -s <("$wqc" encode - -q <m.safetensors) m.wqc'

# A pipe gets the same bytes as a file, for every output form.
"$wqc" decode m.wqc --dequantize --dtype F16 -o d.safetensors -q
check "decode --dequantize to a pipe" 'cmp -s <("$wqc" decode m.wqc --dequantize --dtype F16 -o - -q | cat) d.safetensors'

# Progress: on request (a terminal, or WQC_PROGRESS=1), never with -q.
expect_status 0 "forced progress" -- env WQC_PROGRESS=1 "$wqc" encode m.safetensors -o p.wqc
check "progress names tensors, bytes and rate" 'grep -q "5/5 tensors, .* of .* (100%), .*/s" "$tmp/err"'
check "progress line is redrawn in place" 'grep -q $'"'"'\r'"'"' "$tmp/err"'
expect_status 0 "no progress on a file" -- "$wqc" encode m.safetensors -o p.wqc -f
check "stderr holds only the summary" '[[ $(tr "\r" "\n" <"$tmp/err" | grep -c .) -eq 1 ]] && ! grep -q "tensors, " "$tmp/err"'
expect_status 0 "forced progress with -q" -- env WQC_PROGRESS=1 "$wqc" decode m.wqc -o p.safetensors -q
check "-q silences progress" '[[ ! -s "$tmp/err" ]]'

# Sharded round trip: a 3-shard checkpoint, re-sharded by size, back by input shard.
mkdir sh && "$py" "$make_model" sh/model.safetensors.index.json 7 256 512 F16 --shards 3 || exit 1
"$wqc" quantize sh/model.safetensors.index.json -o sq.safetensors -q || exit 1
expect_status 1 "a sharded output into a missing folder" -- "$wqc" encode sh/model.safetensors.index.json --shard-size 200KB -o sw/model.wqc -q
check_one_line_error "missing folder" sw/model.wqc "cannot create a temporary file"
mkdir sw
expect_status 0 "encode --shard-size into a folder" -- "$wqc" encode sh/model.safetensors.index.json --shard-size 200KB -o sw/model.wqc -q
check "several .wqc shards, each within 200 kB" \
    '[[ $(ls sw/model-0000?-of-0000?.wqc | wc -l) -ge 3 ]] && [[ -z $(find sw -name "*.wqc" -size +200000c) ]]'
check "no temporary files left" '[[ -z $(ls sw | grep -E "\.[A-Za-z0-9]{6}$") ]]'
expect_status 0 "verify a sharded .wqc" -- "$wqc" verify sw/model.wqc.index.json -q
expect_status 0 "verify with forced progress" -- env WQC_PROGRESS=1 "$wqc" verify sw/model.wqc.index.json
check "verify shows progress over all shards" 'grep -q "7/7 tensors" "$tmp/err"'
expect_status 0 "info of a sharded .wqc" -- "$wqc" info sw/model.wqc.index.json
check "info lists all 7 tensors" 'grep -q "^7 tensors, .* in shards" "$tmp/out"'
expect_status 0 "decode one tensor from the shards" -- "$wqc" decode sw/model.wqc.index.json --tensors model.layers.5.weight --dequantize -o one.npy -q
mkdir back
expect_status 0 "decode --shard-size input" -- "$wqc" decode sw/model.wqc.index.json --shard-size input -o back/model.safetensors -q
expect_status 0 "decode whole" -- "$wqc" decode sw/model.wqc.index.json -o whole.safetensors -q
check "one file from the shards is the quantize output" 'cmp -s whole.safetensors sq.safetensors'
"$py" - sw/model.wqc.index.json back/model.safetensors.index.json sq.safetensors one.npy >"$tmp/py" 2>&1 <<'PY'
import json, os, struct, sys
import numpy as np
def read(path):
    b = open(path, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
    return {k: (v["dtype"], v["shape"], b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]])
            for k, v in h.items() if k != "__metadata__"}
wqc_index, st_index, single, one = sys.argv[1:]
wmap = json.load(open(wqc_index))["weight_map"]
assert len(wmap) == 7 and all(os.path.exists(os.path.join(os.path.dirname(wqc_index), f)) for f in wmap.values())
idx = json.load(open(st_index))
ref = read(single)
# Follow the index as a loader would: every tensor from its file.
got, files = {}, {}
for name, f in idx["weight_map"].items():
    path = os.path.join(os.path.dirname(st_index), f)
    files.setdefault(path, read(path))
    got[name] = files[path][name]
assert got.keys() == ref.keys(), (sorted(got), sorted(ref))
assert all(got[k] == ref[k] for k in ref)
assert idx["metadata"]["total_size"] == sum(len(v[2]) for v in ref.values())
# Each shard holds exactly the tensors the index gives it.
assert sum(len(t) for t in files.values()) == len(ref)
assert len(files) == 3
w = np.load(one)
assert w.shape == (256, 512) and w.dtype == np.float32
print("ok")
PY
check "the sharded safetensors follow their index, byte-identical to quantize's" 'grep -qx ok "$tmp/py" || { cat "$tmp/py"; false; }'
expect_status 0 "re-encode the sharded quantized output" -- "$wqc" encode back/model.safetensors.index.json -o re.wqc -q
"$wqc" decode re.wqc -o re.safetensors -q
check "its symbols come back identical" '"$py" -c "
import json,struct,sys
def t(p):
    b=open(p,\"rb\").read();n=struct.unpack(\"<Q\",b[:8])[0];h=json.loads(b[8:8+n])
    return {k:b[8+n+v[\"data_offsets\"][0]:8+n+v[\"data_offsets\"][1]] for k,v in h.items() if k!=\"__metadata__\"}
sys.exit(t(\"re.safetensors\")!=t(\"sq.safetensors\"))"'

# Failures name the file and leave nothing behind.
expect_status 1 "sharded outputs refuse existing shards" -- "$wqc" encode sh/model.safetensors.index.json --shard-size 200KB -o sw/model.wqc -q
check "the existing shards are untouched" '"$wqc" verify sw/model.wqc.index.json -q'
check "no temporary files left after the refusal" '[[ -z $(ls sw | grep -E "\.[A-Za-z0-9]{6}$") ]]'
expect_status 2 "--shard-size needs a size" -- "$wqc" encode m.safetensors --shard-size lots -o x.wqc
check "bad --shard-size says why" 'head -1 "$tmp/err" | grep -q "lots.* is neither a size"' 
expect_status 2 "sharded output to stdout" -- "$wqc" encode m.safetensors --shard-size 1MB -c
cp -r sw sbad
"$py" -c "
import sys; p='sbad/model-00002-of-0000' + sys.argv[1] + '.wqc'; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=0x40; open(p,'wb').write(b)" "$(ls sw/*.wqc | wc -l)"
expect_status 4 "a damaged shard" -- "$wqc" decode sbad/model.wqc.index.json -o bad.safetensors -q
check "the error names the damaged shard" 'grep -q "model-00002-of" "$tmp/err"'
check "no output from a damaged shard" '[[ ! -e bad.safetensors ]]'
rm sbad/model-00001-of-*.wqc
expect_status 1 "a missing shard" -- "$wqc" decode sbad/model.wqc.index.json -o bad.safetensors -q
check "the error names the missing shard" 'grep -q "model-00001-of" "$tmp/err"'
echo '{"weight_map": {"a": "../m.wqc"}}' >escape.wqc.index.json
expect_status 4 "an index escaping its folder" -- "$wqc" info escape.wqc.index.json
check "says the shard path is invalid" 'grep -q "invalid shard path" "$tmp/err"'

# WQC_TRACE=1: the run's moments on stderr at exit (a tensor of 1 Mi symbols in
# chunks of 64 Ki streams as tasks on the threads), the same output; nothing without it.
"$py" "$make_model" big.safetensors 1 1024 1024 F16 || exit 1
"$wqc" encode big.safetensors --chunk 65536 -o big.wqc -q -f || exit 1
"$wqc" decode big.wqc -T 2 -o plain.safetensors -q -f 2>plain.err
WQC_TRACE=1 "$wqc" decode big.wqc -T 2 -o traced.safetensors -q -f 2>traced.err
check "WQC_TRACE=1 names the reader's open, the stream's tasks and the exit" \
    'grep -q "ms  t0  reader opened 1$" traced.err && grep -q " stream tasks " traced.err && grep -q " worked 0$" traced.err && tail -1 traced.err | grep -q " exit 0$"'
check "a traced run writes what an untraced one does" 'cmp -s traced.safetensors plain.safetensors'
check "nothing on stderr without WQC_TRACE" '[[ ! -s plain.err ]]'
finish
