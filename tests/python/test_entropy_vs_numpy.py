#!/usr/bin/python3
"""wqc analyze --json against an independent numpy computation of the same
quantizers: histograms equal, entropy and cross-entropy within 1e-6 bits,
the frequency table optimal (no single-unit move lowers cross-entropy),
SQNR within 1e-6 relative."""
import json
import math
import os
import subprocess
import sys

import numpy as np

wqc, workdir = sys.argv[1], sys.argv[2]
os.makedirs(workdir, exist_ok=True)
rng = np.random.default_rng(2026)
f32 = np.float32

w = (rng.standard_normal((300, 517)) * 0.02).astype(f32)
w[:, :50] = (rng.laplace(size=(300, 50)) * 0.05).astype(f32)   # heavy-tailed columns
w[7, :] = f32(0.125)                                            # a constant row
path = os.path.join(workdir, "w.npy")
np.save(path, w)
ints = rng.integers(-5, 9, size=(64, 100)).astype(np.int8)
ipath = os.path.join(workdir, "ints.npy")
np.save(ipath, ints)


def bf16(x):
    """x rounded to the nearest bfloat16 (ties to even), as float32."""
    u = np.atleast_1d(np.asarray(x, f32)).view(np.uint32).astype(np.uint64)
    s16 = np.uint64(16)
    u = (u + np.uint64(0x7fff) + ((u >> s16) & np.uint64(1))) >> s16 << s16
    r = u.astype(np.uint32).view(f32)
    return r if np.ndim(x) else r[0]


def affine(w, bits, group):
    maxq = f32(2 ** bits - 1)
    rows, cols = w.shape
    g = cols if group is None else group
    q = np.empty(w.shape, np.uint8)
    deq = np.empty(w.shape, f32)
    for c0 in range(0, cols, g):
        blk = w[:, c0:c0 + g]
        lo, hi = blk.min(axis=1), blk.max(axis=1)
        # The ends to bfloat16, unless that would make the group constant.
        rounded = bf16(hi) > bf16(lo)
        lo, hi = np.where(rounded, bf16(lo), lo), np.where(rounded, bf16(hi), hi)
        scale = ((hi.astype(np.float64) - lo.astype(np.float64)) / float(maxq)).astype(f32)
        safe = np.where(scale == 0, f32(1), scale)
        x = np.clip((blk - lo[:, None]) / safe[:, None], f32(0), maxq)
        sym = np.where(scale[:, None] == 0, 0, np.floor(x + f32(0.5))).astype(np.uint8)
        q[:, c0:c0 + g] = sym
        deq[:, c0:c0 + g] = lo[:, None] + scale[:, None] * sym.astype(f32)
    return q, deq


def affine_tensor(w, bits):
    q, deq = affine(w.reshape(1, -1), bits, None)
    return q.reshape(w.shape), deq.reshape(w.shape)


def sdclip(w, bits, k):
    m = 2 ** (bits - 1) - 1
    fm = f32(m)
    q = np.empty(w.shape, np.uint8)
    deq = np.empty(w.shape, f32)
    for r in range(w.shape[0]):
        row = w[r]
        sd = float(np.std(row.astype(np.float64)))
        step = bf16(f32(k * sd / m))
        if sd == 0 or step == 0:
            q[r] = m
            deq[r] = row[0]
            continue
        x = np.clip(row / step, -fm, fm)
        q[r] = (np.floor(x + f32(0.5)).astype(np.int32) + m).astype(np.uint8)
        deq[r] = -(fm * step) + step * q[r].astype(f32)
    return q, deq


def grid(w, step):
    d = f32(step)
    x = np.floor(w / d + f32(0.5))
    lo = x.min()
    return (x - lo).astype(np.uint8), (lo * d) + d * (x - lo).astype(f32)


def entropy(counts):
    n = counts.sum()
    p = counts[counts > 0] / n
    return float(-(p * np.log2(p)).sum())


cases = [
    (["--granularity", "tensor", "--bits", "4"], lambda: affine_tensor(w, 4), 4),
    (["--granularity", "row", "--bits", "3"], lambda: affine(w, 3, None), 3),
    (["--granularity", "group:64", "--bits", "4", "--precision", "10"], lambda: affine(w, 4, 64), 4),
    (["--granularity", "group:32", "--bits", "8", "--precision", "15"], lambda: affine(w, 8, 32), 8),
    (["--method", "sdclip"], lambda: sdclip(w, 6, 12.85), 6),
    (["--method", "sdclip", "--bits", "4", "-k", "3"], lambda: sdclip(w, 4, 3.0), 4),
    (["--method", "grid", "--step", "0.004"], lambda: grid(w, 0.004), None),
]
failures = 0
count = 0


def check(label, cond, detail):
    global failures, count
    count += 1
    if not cond:
        failures += 1
        print("FAIL %s: %s" % (label, detail))


for args, ref, bits in cases:
    label = " ".join(args)
    r = subprocess.run([wqc, "analyze", "--json", "--min-elements", "0", "-T", "2", path] + args,
                       capture_output=True, text=True)
    if r.returncode != 0:
        check(label, False, "exit %d: %s" % (r.returncode, r.stderr))
        continue
    t = json.loads(r.stdout)["tensors"][0]
    precision = json.loads(r.stdout)["quantizer"]["precision"]
    q, deq = ref()
    alphabet = t["alphabet"]
    counts = np.bincount(q.reshape(-1), minlength=alphabet).astype(np.float64)
    hist = np.array(t["histogram"], dtype=np.float64)
    check(label + " histogram", counts.shape == hist.shape and (counts == hist).all(),
          "differs in %s symbols" % (np.nonzero(counts[:len(hist)] != hist)[0] if len(hist) == len(counts) else "size"))
    h = entropy(counts)
    check(label + " entropy", abs(t["entropy_bits"] - h) < 1e-6, "%r vs %r" % (t["entropy_bits"], h))
    f = np.array(t["frequencies"], dtype=np.float64)
    total = 2 ** precision
    check(label + " table total", f.sum() == total and ((f >= 1) | (counts == 0)).all()
          and ((f == 0) | (counts > 0)).all(), "sum %r" % f.sum())
    present = counts > 0
    ce = float(-(counts[present] * np.log2(f[present] / total)).sum() / counts.sum())
    check(label + " cross-entropy", abs(t["cross_entropy_bits"] - ce) < 1e-6,
          "%r vs %r" % (t["cross_entropy_bits"], ce))
    check(label + " ce >= h", ce >= h - 1e-12, "%r < %r" % (ce, h))
    gain = max(c * math.log((fi + 1) / fi) for c, fi in zip(counts, f) if c > 0)
    loss = min([c * math.log(fi / (fi - 1)) for c, fi in zip(counts, f) if c > 0 and fi > 1] or [math.inf])
    check(label + " table optimal", gain <= loss * (1 + 1e-9), "gain %r > loss %r" % (gain, loss))
    if bits is not None:
        check(label + " bits", t["bits"] == bits, t["bits"])
    noise = float(((w.astype(np.float64) - deq.astype(np.float64)) ** 2).sum())
    sqnr = 10 * math.log10(float((w.astype(np.float64) ** 2).sum()) / noise)
    check(label + " sqnr", abs(t["sqnr_db"] - sqnr) < 1e-6 * abs(sqnr), "%r vs %r" % (t["sqnr_db"], sqnr))

# An int8 tensor is coded as the given symbols v - min.
r = subprocess.run([wqc, "analyze", "--json", "--min-elements", "0", ipath], capture_output=True, text=True)
t = json.loads(r.stdout)["tensors"][0]
vals = ints.astype(np.int64) - ints.min()
counts = np.bincount(vals.reshape(-1)).astype(np.float64)
check("int8 given symbols", t["alphabet"] == 14 and t["bits"] == 4 and not t["quantized"]
      and abs(t["entropy_bits"] - entropy(counts)) < 1e-6, t)

print("%d passed, %d failed" % (count - failures, failures))
sys.exit(1 if failures else 0)
