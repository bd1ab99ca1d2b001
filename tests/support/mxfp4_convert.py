"""A checkpoint converted to MXFP4 as gpt-oss ships its expert weights (OCP
Microscaling: blocks of 32 values along a row share an E8M0 scale, each
value an E2M1 code): every matrix but the embedding and the output head
becomes NAME_blocks, U8 of shape (rows, cols / 32, 16), two codes per byte
(the first value in the low nibble), and NAME_scales, U8 of shape
(rows, cols / 32), the shared exponent + 127. The shared exponent is
floor(log2(amax of the block)) - 2 (E2M1's largest exponent); values are
w / 2^exponent rounded to nearest E2M1 (0, 0.5, 1, 1.5, 2, 3, 4, 6, ties
to even), saturated. Other tensors keep their dtype.
usage: mxfp4_convert.py IN.safetensors OUT.safetensors"""
import sys

import numpy as np

from fp8_convert import embedding_or_head, floats, nearest, read
from safetensors_write import write

E2M1 = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])


def to_e2m1(x):
    """4-bit codes (sign << 3 | magnitude index) of x rounded to nearest E2M1, ties to even codes."""
    code = nearest(E2M1, x)
    return (code | ((x < 0) & (code > 0)) << 3).astype(np.uint8)


def main():
    tensors, meta = read(sys.argv[1])
    out = {}
    for name, (dtype, shape, raw) in tensors.items():
        keep = (len(shape) != 2 or embedding_or_head(name) or dtype not in ("F32", "F16", "BF16")
                or shape[1] % 32)
        if keep:
            out[name] = (dtype, shape, raw)
            continue
        rows, cols = shape
        w = floats(dtype, raw).reshape(rows, cols // 32, 32)
        amax = np.abs(w).max(-1)
        exp = np.where(amax > 0, np.floor(np.log2(np.where(amax > 0, amax, 1))) - 2, -127).astype(np.int64)
        exp = np.clip(exp, -127, 127)
        codes = to_e2m1(w / np.exp2(exp)[..., None])
        packed = (codes[..., 0::2] | codes[..., 1::2] << 4).astype(np.uint8)
        base = name[:-len(".weight")] if name.endswith(".weight") else name
        out[base + ".weight_blocks"] = ("U8", [rows, cols // 32, 16], packed.tobytes())
        out[base + ".weight_scales"] = ("U8", [rows, cols // 32], (exp + 127).astype(np.uint8).tobytes())
    meta = dict(meta, quantization="mxfp4 (e2m1 values, e8m0 scales per 32 along a row)")
    write(sys.argv[2], out, meta)


if __name__ == "__main__":
    main()
