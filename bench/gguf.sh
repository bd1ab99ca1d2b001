#!/usr/bin/env bash
# GGUF files recompressed by `wqc encode` (byte-identical on decode) against
# zstd -19 --long=27, brotli -q 11 -w 24 and xz -9e of the same files: Q4_0 and Q8_0 GGUF written by
# `wqc quantize --format gguf` from ../shared/data's stories260K (trained)
# and from seeded Gaussian matrices, and a Q4_K/Q6_K mix written by
# tests/support/gguf_write.py. Writes bench/results/gguf-<machine>.md.
# usage: bench/gguf.sh
set -euo pipefail
cd "$(dirname "$0")/.."
wqc=$PWD/build/wqc
[[ -x $wqc ]] || bash scripts/build.sh build >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
"$py" tests/support/make_model.py "$work/gauss.safetensors" 4 1024 4096 F32
PYTHONPATH=tests/support "$py" - "$work/kmix.gguf" <<'PY'
import sys, numpy as np
from gguf_write import write, blocks, STRING
rng = np.random.default_rng(4)
ts = [("blk.%d.weight" % i, k, [4096, 512], blocks(k, (rng.standard_normal((512, 4096)) * 0.02).astype(np.float32), rng))
      for i, k in enumerate(["Q4_K", "Q6_K", "Q4_K", "Q6_K"])]
write(sys.argv[1], [("general.architecture", STRING, "llama")], ts)
PY
files=()
for src in ../shared/data/stories260K.safetensors "$work/gauss.safetensors"; do
    [[ -f $src ]] || continue
    for ty in q4_0 q8_0; do
        out="$work/$(basename "$src" .safetensors).$ty.gguf"
        "$wqc" quantize "$src" --format gguf --gguf-type $ty -o "$out" -q
        files+=("$out")
    done
done
files+=("$work/kmix.gguf")
{
    echo "# GGUF recompressed, on $(hostname -s)"
    echo
    echo "\`bash bench/gguf.sh\`; every .wqc decodes to the identical GGUF (checked here)."
    echo
    echo "| file | bytes | .wqc | .wqc / file | zstd -19 --long=27 | brotli -q 11 -w 24 | xz -9e | .wqc / smallest peer |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for f in "${files[@]}"; do
        "$wqc" encode "$f" -o "$work/x.wqc" -q -f
        "$wqc" decode "$work/x.wqc" -o "$work/x.gguf" -q -f
        cmp -s "$f" "$work/x.gguf" || { echo "bench/gguf.sh: $f did not come back" >&2; exit 1; }
        size=$(stat -c %s "$f") w=$(stat -c %s "$work/x.wqc")
        z=$(zstd -19 --long=27 -T1 -q -c "$f" | wc -c) b=$(brotli -q 11 -w 24 -c "$f" | wc -c) x=$(xz -9e -T1 -c "$f" | wc -c)
        "$py" -c "import sys; s,w,z,b,x=map(int,sys.argv[2:]); print('| %s | %d | %d | %.4f | %d | %d | %d | %.4f |' % (sys.argv[1], s, w, w/s, z, b, x, w/min(z,b,x)))" \
            "$(basename "$f")" "$size" "$w" "$z" "$b" "$x"
    done
} | tee "bench/results/gguf-$(hostname -s).md"
