#!/usr/bin/env python3
"""Writes a synthetic safetensors model of Gaussian weights (seeded), one
tensor at a time, so that models larger than memory can be made.
usage: make_model.py OUT.safetensors COUNT ROWS COLS [DTYPE F16|BF16|F32] [--shards N]
With --shards N, OUT names the index (model.safetensors.index.json style):
the tensors are spread over N files next to it, as transformers saves them."""
import json
import os
import struct
import sys

import numpy as np


def tensor(rng, rows, cols, dtype):
    w = (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02)
    if dtype == "F16":
        return w.astype("<f2").tobytes()
    if dtype == "BF16":
        # Round to nearest even on the top 16 bits of the float32.
        b = w.view(np.uint32)
        b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype("<u2")
        return b.tobytes()
    return w.astype("<f4").tobytes()


def write_file(path, names, rows, cols, dtype, rng):
    size = {"F16": 2, "BF16": 2, "F32": 4}[dtype] * rows * cols
    header = {"__metadata__": {"format": "pt"}}
    for i, name in enumerate(names):
        header[name] = {"dtype": dtype, "shape": [rows, cols], "data_offsets": [i * size, (i + 1) * size]}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _ in names:
            f.write(tensor(rng, rows, cols, dtype))
    return size * len(names)


def main():
    args = sys.argv[1:]
    shards = 0
    if "--shards" in args:
        k = args.index("--shards")
        shards = int(args[k + 1])
        del args[k:k + 2]
    out, count, rows, cols = args[0], int(args[1]), int(args[2]), int(args[3])
    dtype = args[4] if len(args) > 4 else "F16"
    rng = np.random.default_rng(12345)
    names = ["model.layers.%d.weight" % i for i in range(count)]
    if not shards:
        write_file(out, names, rows, cols, dtype, rng)
        return
    folder = os.path.dirname(out) or "."
    weight_map, total = {}, 0
    per = (count + shards - 1) // shards
    for s in range(shards):
        part = names[s * per:(s + 1) * per]
        fname = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
        total += write_file(os.path.join(folder, fname), part, rows, cols, dtype, rng)
        weight_map.update({n: fname for n in part})
    with open(out, "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


if __name__ == "__main__":
    main()
