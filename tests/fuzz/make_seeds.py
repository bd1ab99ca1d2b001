#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses: small valid inputs made here
with numpy and the wqc binary, so that no blob of unknown origin is committed.
usage: make_seeds.py WQC OUT_DIR"""
import json
import os
import random
import struct
import subprocess
import sys

import numpy as np

wqc, out = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(5)
dirs = {h: os.path.join(out, h) for h in
        ["fuzz_npy", "fuzz_safetensors", "fuzz_index", "fuzz_wqc_reader", "fuzz_rans_decode", "fuzz_roundtrip",
         "fuzz_gguf"]}
for d in dirs.values():
    os.makedirs(d, exist_ok=True)

arrays = {
    "f4_c": (rng.standard_normal((6, 7)) * 0.1).astype("<f4"),
    "f2_be_f": np.asfortranarray((rng.standard_normal((5, 3)) * 0.1).astype(">f2")),
    "i1_3d": rng.integers(-8, 8, (2, 3, 4)).astype("i1"),
    "u1_scalar": np.array(7, dtype="u1"),
}
for name, a in arrays.items():
    for version in [(1, 0), (2, 0), (3, 0)]:
        with open(os.path.join(dirs["fuzz_npy"], "%s_v%d.npy" % (name, version[0])), "wb") as f:
            np.lib.format.write_array(f, a, version=version)


def safetensors(path, tensors, meta=None):
    header, blobs, off = ({"__metadata__": meta} if meta else {}), [], 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


model = os.path.join(dirs["fuzz_safetensors"], "model.safetensors")
safetensors(model, {
    "w": ("F32", [16, 20], (rng.standard_normal((16, 20)) * 0.02).astype("<f4").tobytes()),
    "b": ("BF16", [4], b"\x80\x3f" * 4),
    "n": ("I64", [2], np.arange(2, dtype="<i8").tobytes()),
    "e": ("U8", [0], b""),
}, {"format": "pt"})
safetensors(os.path.join(dirs["fuzz_safetensors"], "empty.safetensors"), {})

key = os.path.join(out, "key")
with open(key, "wb") as f:
    f.write(b"fuzzing-key-0001")
for name, extra in [("plain", []), ("keyed", ["--key-file", key]),
                    ("sdclip", ["--method", "sdclip"]), ("small_chunks", ["--chunk", "1024", "--lanes", "16"]),
                    ("gemv", ["--layout", "gemv", "--lanes", "8", "--chunk", "1024"]),
                    ("context", ["--mode", "context", "--granularity", "group:8"]),
                    ("order0", ["--mode", "order0", "--lanes", "1"]),
                    ("brotli", ["--mode", "brotli"]), ("zstd", ["--mode", "zstd", "--bits", "3"]),
                    ("lossless", ["--lossless", "--chunk", "1024"]),
                    ("lossless_rule", ["--rule", "*:lossless", "--lanes", "8"])]:
    subprocess.run([wqc, "encode", model, "-o", os.path.join(dirs["fuzz_wqc_reader"], name + ".wqc"),
                    "-f", "-q"] + extra, check=True)

def varint(v):
    b = bytearray()
    while True:
        b.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
        v >>= 7
        if not v:
            return bytes(b)


def with_segment_checks(src, dst):
    """src with a K record (segment checks of 4 KiB segments for its first
    tensor) before its index; checks left zero: fuzzing builds skip them."""
    b = open(src, "rb").read()
    at, recs = 20, []
    while at < len(b):
        t, n, k = b[at], 0, at + 2
        for shift in range(0, 70, 7):
            n |= (b[k] & 0x7F) << shift
            k += 1
            if not b[k - 1] & 0x80:
                break
        recs.append((chr(t), at, k + 4, k + 4 + n))
        at = k + 4 + n
    first_t = next(r for r in recs if r[0] == "T")
    index = next(r for r in recs if r[0] == "I")
    body = varint(12) + varint(1) + varint(0) + varint((first_t[3] - first_t[2] + 4095) // 4096)
    body += bytes(8 * ((first_t[3] - first_t[2] + 4095) // 4096))
    k_rec = b"K\0" + varint(len(body)) + bytes(4) + body
    out = bytearray(b[:index[1]] + k_rec + b[index[1]:])
    end = len(out) - (len(b) - recs[-1][1])
    struct.pack_into("<QQ", out, end + (recs[-1][2] - recs[-1][1]), index[1] + len(k_rec), end)
    open(dst, "wb").write(out)


with_segment_checks(os.path.join(dirs["fuzz_wqc_reader"], "lossless.wqc"), os.path.join(dirs["fuzz_wqc_reader"], "segments.wqc"))

# BF16 weights with a zero: split-e8m3 with an exception; rows at three
# scales: row tables (27 KB each, under -max_len).
for name, scale in (("split_e8m3", 1.0), ("split_rows", 4.0 ** rng.integers(0, 3, (160, 1)))):
    bf16 = os.path.join(out, name + ".safetensors")
    w = (rng.standard_normal((160, 128)) * 0.02 * scale).astype("<f4").view("<u4") >> 16
    w[0, 3] = 0
    safetensors(bf16, {"x": ("BF16", [160, 128], w.astype("<u2").tobytes())})
    subprocess.run([wqc, "encode", bf16, "--lossless", "--chunk", "1024", "-o",
                    os.path.join(dirs["fuzz_wqc_reader"], name + ".wqc"), "-f", "-q"], check=True)

# A matrix whose columns sit off the rows' zero points: column shifts (COLUMNS).
cols = os.path.join(out, "cols.safetensors")
safetensors(cols, {"x": ("F32", [96, 64], ((rng.standard_normal((96, 64)) + rng.standard_normal(64)) * 0.02)
                         .astype("<f4").tobytes())})
subprocess.run([wqc, "encode", cols, "--mode", "context", "--chunk", "1024", "-o",
                os.path.join(dirs["fuzz_wqc_reader"], "columns.wqc"), "-f", "-q"], check=True)

# Files of format 1.0, written by an earlier wqc.
v1 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "v1")
for name in sorted(os.listdir(v1)):
    if name.endswith(".wqc"):
        with open(os.path.join(v1, name), "rb") as src, open(os.path.join(dirs["fuzz_wqc_reader"], "v1_" + name), "wb") as dst:
            dst.write(src.read())

r = random.Random(1)
for i in range(8):
    with open(os.path.join(dirs["fuzz_rans_decode"], "random%d" % i), "wb") as f:
        f.write(bytes(r.randrange(256) for _ in range(16 + 64 * i)))
    with open(os.path.join(dirs["fuzz_roundtrip"], "random%d" % i), "wb") as f:
        f.write(bytes([r.randrange(256) for _ in range(4)] + [r.randrange(1 + i * 30) for _ in range(200 * i)]))

# Index files naming the two shards that fuzz_index writes (a.safetensors with
# layers.0.w, b.safetensors with layers.1.w).
indexes = {
    "both": {"metadata": {"total_size": 48}, "weight_map": {"layers.0.w": "a.safetensors", "layers.1.w": "b.safetensors"}},
    "one": {"weight_map": {"layers.0.w": "a.safetensors"}},
    "missing_tensor": {"weight_map": {"layers.9.w": "a.safetensors"}},
    "dotdot": {"weight_map": {"layers.0.w": "../a.safetensors"}},
}
for name, doc in indexes.items():
    with open(os.path.join(dirs["fuzz_index"], name + ".json"), "w") as f:
        json.dump(doc, f)

# GGUF files of every split type and metadata of every value type.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import gguf_write as gw  # noqa: E402
meta = [("general.name", gw.STRING, "seed"), ("a.u32", gw.U32, 7), ("a.f64", gw.F64, 0.5),
        ("a.arr", gw.ARRAY, (gw.I16, [1, -2])), ("a.nested", gw.ARRAY, (gw.ARRAY, [(gw.U8, [1]), (gw.STRING, ["s"])]))]
w = lambda r, c: (rng.standard_normal((r, c)) * 0.02).astype(np.float32)
for kind, cols in (("Q4_0", 64), ("Q8_0", 32), ("Q4_K", 256), ("Q6_K", 256), ("F16", 8), ("BF16", 8)):
    gw.write(os.path.join(dirs["fuzz_gguf"], kind + ".gguf"), meta, [("t", kind, [cols, 2], gw.blocks(kind, w(2, cols), rng))])
gw.write(os.path.join(dirs["fuzz_gguf"], "v2_align64.gguf"), meta,
         [("a", "Q4_0", [32, 1], gw.blocks("Q4_0", w(1, 32), rng)), ("b", "F32", [3], gw.blocks("F32", w(1, 3), rng))],
         version=2, alignment=64)

# A .wqc of a GGUF file whose Q8_0 and Q4_0 codes leave their block peaks out.
peaks = os.path.join(out, "peaks.gguf")
gw.write(peaks, meta, [(k, k, [256, 24], gw.blocks(k, w(24, 256), rng)) for k in ("Q8_0", "Q4_0")])
subprocess.run([wqc, "encode", peaks, "-o", os.path.join(dirs["fuzz_wqc_reader"], "gguf_peaks.wqc"), "-f", "-q"],
               check=True)

# FP8 values whose 128 x 128 blocks differ in spread: a table a class of tiles (TILES).
from fp8_convert import to_e4m3  # noqa: E402
spread = 4.0 ** rng.integers(0, 3, (3, 3))
x = rng.standard_normal((260, 260)) * np.kron(spread, np.ones((128, 128)))[:260, :260] * 4
tiles = os.path.join(out, "tiles.safetensors")
safetensors(tiles, {"x": ("F8_E4M3", [260, 260], np.asarray(to_e4m3(x), dtype=np.uint8).tobytes())})
subprocess.run([wqc, "encode", tiles, "--lossless", "--chunk", "4096", "-o",
                os.path.join(dirs["fuzz_wqc_reader"], "fp8_tiles.wqc"), "-f", "-q"], check=True)

# BF16 values whose columns and rows differ in scale: column shifts over
# classes of rows (COLUMNS beside ROWS in a split frame).
x = rng.standard_normal((96, 200)) * 4.0 ** rng.integers(0, 3, 200) * 2.0 ** rng.integers(0, 2, (96, 1)) * 0.02
bf16 = (x.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
columns = os.path.join(out, "columns.safetensors")
safetensors(columns, {"x": ("BF16", [96, 200], bf16.tobytes())})
subprocess.run([wqc, "encode", columns, "--lossless", "--chunk", "4096", "-o",
                os.path.join(dirs["fuzz_wqc_reader"], "column_shifts.wqc"), "-f", "-q"], check=True)
