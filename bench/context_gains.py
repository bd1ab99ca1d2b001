#!/usr/bin/env python3
"""How much structure a context model could find in a model's 1-byte
tensors, before any side cost: the conditional entropy of the bytes of every
2-D F8_E4M3 / U8 tensor (FP8 weights, or the symbols `wqc quantize` writes)
given a context, against their order-0 entropy, summed over the file.

Contexts: 8 row classes and 8 column classes (rows or columns ranked by
their mean byte magnitude, cut into equal eighths), row x column (64), the
128 x 128 block (DeepSeek's scale blocks), and the previous byte (its top
nibble for alphabets over 16 symbols). The figures are ideal (plug-in entropies, no table or map cost):
a coder pays about 300 bytes a 256-symbol table, so they bound what a
context is worth. Numbers of 2026-12-06 are in the closing note of that
session (issues 23 and 25).
usage: bench/context_gains.py MODEL.safetensors [--tensors]"""
import json
import struct
import sys

import numpy as np

CLASSES = 8


def read(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    h.pop("__metadata__", None)
    for name, v in h.items():
        if v["dtype"] in ("F8_E4M3", "U8") and len(v["shape"]) == 2:
            lo, hi = v["data_offsets"]
            yield name, v["dtype"], np.frombuffer(b[8 + n + lo:8 + n + hi], np.uint8).reshape(v["shape"])


def bits(x):
    c = np.bincount(x.ravel(), minlength=256).astype(float)
    c = c[c > 0]
    return -(c * np.log2(c / c.sum())).sum()


def given(ctx, x):
    return sum(bits(x[ctx == k]) for k in np.unique(ctx))


def ranks(key, n):
    return np.argsort(np.argsort(key, kind="stable"), kind="stable") * CLASSES // n


def gains(dtype, a):
    rows, cols = a.shape
    mag = (a & 0x7F if dtype == "F8_E4M3" else a).astype(float)
    row = np.repeat(ranks(mag.mean(1), rows), cols).reshape(rows, cols)
    col = np.tile(ranks(mag.mean(0), cols), rows).reshape(rows, cols)
    block = (np.arange(rows)[:, None] // 128) * ((cols + 127) // 128) + np.arange(cols)[None, :] // 128
    shift = 4 if a.max() >= 16 else 0  # 4-bit symbols: the whole previous symbol
    prev = np.concatenate([[0], a.ravel()[:-1] >> shift]).reshape(rows, cols)
    return {"order-0": bits(a), "row": given(row, a), "column": given(col, a), "row x column": given(row * CLASSES + col, a),
            "block": given(block, a), "previous byte": given(prev, a)}


def main():
    per_tensor = "--tensors" in sys.argv
    total = {}
    for name, dtype, a in read(sys.argv[1]):
        g = gains(dtype, a)
        if per_tensor:
            print("%-48s %-8s %s" % (name, dtype, " ".join("%s %.3f" % (k, v / a.size) for k, v in g.items())))
        for k, v in g.items():
            total[k] = total.get(k, 0.0) + v / 8
    if not total:
        sys.exit("%s: no 2-D F8_E4M3 or U8 tensors" % sys.argv[1])
    for k, v in total.items():
        print("%-16s %12.0f bytes  %5.2f%% under order-0" % (k, v, 100 * (1 - v / total["order-0"])))


if __name__ == "__main__":
    main()
