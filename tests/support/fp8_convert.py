"""A checkpoint converted to FP8 as DeepSeek-V3 ships its weights: every
matrix but the embedding and the output head as F8_E4M3 (OCP E4M3FN: bias 7,
no infinities, 448 the largest finite value) with one F32 scale per 128 x 128
block, `NAME_scale_inv` (shape ceil(rows/128) x ceil(cols/128)), such that
weight = fp8 * scale_inv; scale_inv = amax(block) / 448, values rounded to
nearest (ties to even) and saturated. Other tensors keep their dtype; the
config travels as metadata.
usage: fp8_convert.py IN.safetensors OUT.safetensors"""
import json
import struct
import sys

import numpy as np

from safetensors_write import write

BLOCK = 128


def e4m3_values():
    """The 127 non-negative finite E4M3FN values, by code 0x00..0x7e."""
    v = []
    for code in range(0x7F):
        e, m = code >> 3, code & 7
        v.append(m / 8 * 2.0 ** -6 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7))
    return np.array(v)


VALUES = e4m3_values()


def nearest(grid, x):
    """Index in grid (the ascending non-negative values of a float format, by
    code) of |x| rounded to nearest, ties to the even code, saturated."""
    a = np.minimum(np.abs(x), grid[-1])
    hi = np.clip(np.searchsorted(grid, a), 1, len(grid) - 1)
    lo = hi - 1
    dlo, dhi = a - grid[lo], grid[hi] - a
    return np.where(dlo < dhi, lo, np.where(dhi < dlo, hi, np.where(lo % 2 == 0, lo, hi)))


def to_e4m3(x):
    """Codes (uint8) of x rounded to nearest E4M3FN, ties to even, saturated at 448."""
    code = nearest(VALUES, x)
    return (code | (np.signbit(x) & (code > 0)) << 7).astype(np.uint8)


def embedding_or_head(name):
    """The embeddings and the output head by their usual names (kept as they
    are, as DeepSeek-V3 keeps them): *embed* and *lm_head* (Hugging Face,
    llama2.c), GPT-2's token and position tables (wte, wpe), Meta's
    output.weight."""
    parts = name.split(".")
    return ("embed" in name or "lm_head" in name or name == "output.weight"
            or (len(parts) > 1 and parts[-2] in ("wte", "wpe")))


def read(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    meta = h.pop("__metadata__", {}) or {}
    out = {}
    for k, v in h.items():
        raw = b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
        out[k] = (v["dtype"], v["shape"], raw)
    return out, meta


def floats(dtype, raw):
    if dtype == "BF16":
        return (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4").astype(np.float64)
    return np.frombuffer(raw, {"F32": "<f4", "F16": "<f2"}[dtype]).astype(np.float64)


def main():
    tensors, meta = read(sys.argv[1])
    out = {}
    for name, (dtype, shape, raw) in tensors.items():
        keep = len(shape) != 2 or embedding_or_head(name) or dtype not in ("F32", "F16", "BF16")
        if keep:
            out[name] = (dtype, shape, raw)
            continue
        w = floats(dtype, raw).reshape(shape)
        rows, cols = shape
        br, bc = -(-rows // BLOCK), -(-cols // BLOCK)
        scale = np.zeros((br, bc))
        codes = np.zeros(shape, np.uint8)
        for i in range(br):
            for j in range(bc):
                blk = w[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK]
                s = np.abs(blk).max() / VALUES[-1]
                s = s if s > 0 else 1.0
                scale[i, j] = np.float32(s)
                codes[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK] = to_e4m3(blk / scale[i, j])
        out[name] = ("F8_E4M3", shape, codes.tobytes())
        out[name + "_scale_inv"] = ("F32", [br, bc], scale.astype("<f4").tobytes())
    meta = dict(meta, quantization="fp8 e4m3, 128x128 block scales (weight_scale_inv)")
    write(sys.argv[2], out, meta)


if __name__ == "__main__":
    main()
