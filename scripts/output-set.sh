#!/usr/bin/env bash
# Writes the outputs of a fixed list of commands (encode in every mode and
# layout, quantize, decode; the shared models and seeded synthetic inputs)
# into OUTDIR, so that two builds can be compared file by file:
#   scripts/output-set.sh OLD/wqc /tmp/a; scripts/output-set.sh NEW/wqc /tmp/b
#   scripts/output-set.sh --compare /tmp/a /tmp/b
# A refactoring that must not change what wqc writes runs this before and after.
set -euo pipefail
if [ "${1:-}" = --compare ]; then
    a=$2 b=$3 bad=0 n=0
    for f in "$a"/*; do
        n=$((n + 1))
        if ! cmp -s "$f" "$b/$(basename "$f")"; then echo "differs: $(basename "$f")"; bad=1; fi
    done
    [ "$n" -gt 0 ] || { echo "no outputs in $a"; exit 1; }
    [ $bad = 0 ] && echo "$n outputs identical"
    exit $bad
fi
wqc=$(realpath "$1") out=$2
data=$(dirname "$0")/../../shared/data
mkdir -p "$out"
run() { local name=$1; shift; "$wqc" "$@" -q -f -o "$out/$name"; }
python3 - "$out" <<'PY'
import struct, sys, random
# A seeded safetensors file: two matrices, a vector, an int8 tensor.
random.seed(7)
def tensor(n): return struct.pack('<%df' % n, *[random.gauss(0, 0.02) for _ in range(n)])
t = {'a.weight': ('F32', [96, 80], tensor(96 * 80)), 'b.weight': ('F32', [40, 33], tensor(40 * 33)),
     'norm': ('F32', [80], tensor(80)), 'codes': ('I8', [64], bytes((i * 37) % 256 for i in range(64)))}
import json
hdr, off, blobs = {}, 0, []
for k, (dt, shape, b) in t.items():
    hdr[k] = {'dtype': dt, 'shape': shape, 'data_offsets': [off, off + len(b)]}; off += len(b); blobs.append(b)
h = json.dumps(hdr).encode(); h += b' ' * (-len(h) % 8)
open(sys.argv[1] + '/../seeded.safetensors', 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
PY
seeded=$out/../seeded.safetensors
inputs=("$seeded")
for f in stories260K.safetensors stories260K.bf16.safetensors pylm-22M/model.safetensors; do
    [ -f "$data/$f" ] && inputs+=("$data/$f")
done
i=0
for in in "${inputs[@]}"; do
    i=$((i + 1))
    run "$i-default.wqc" encode "$in"
    run "$i-order0.wqc" encode "$in" --mode order0 --lanes 8
    run "$i-context.wqc" encode "$in" --mode context --precision 11
    run "$i-sdclip.wqc" encode "$in" --method sdclip --rule '*norm*:keep'
    run "$i-group.wqc" encode "$in" --granularity group:32 --bits 3 --no-stats
    run "$i-gemv.wqc" encode "$in" --layout gemv
    run "$i-lossless.wqc" encode "$in" --lossless
    run "$i-mixed.wqc" encode "$in" --rule '*.weight:lossless' --min-elements 2000
    run "$i-q.safetensors" quantize "$in"
    run "$i-given.wqc" encode "$out/$i-q.safetensors"
    run "$i-symbols.safetensors" decode "$out/$i-default.wqc" --symbols
    run "$i-deq.safetensors" decode "$out/$i-default.wqc" --dequantize
    run "$i-lossless.safetensors" decode "$out/$i-lossless.wqc"
    run "$i-q4.gguf" quantize "$in" --format gguf
    run "$i-gguf.wqc" encode "$out/$i-q4.gguf"
    run "$i-gguf.gguf" decode "$out/$i-gguf.wqc"
    run "$i-q8.gguf" quantize "$in" --format gguf --gguf-type q8_0
    run "$i-q8.wqc" encode "$out/$i-q8.gguf" --lanes 8 --zstd-level 3
done
