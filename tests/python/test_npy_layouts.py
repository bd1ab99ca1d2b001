#!/usr/bin/python3
"""numpy writes .npy files in every layout wqc supports; wqc must read each
back to exactly the values numpy holds (compared as little-endian float32)."""
import itertools
import os
import subprocess
import sys

import numpy as np

dump, workdir = sys.argv[1], sys.argv[2]
os.makedirs(workdir, exist_ok=True)
rng = np.random.default_rng(12345)

shapes = [(), (7,), (3, 5), (2, 3, 4), (0, 3), (2, 1, 3, 2)]
dtypes = ["f4", "f2", "i1", "u1"]
versions = [(1, 0), (2, 0), (3, 0)]
failures = 0
count = 0


def values(shape, dt):
    if dt in ("f4", "f2"):
        a = rng.standard_normal(shape) * 3
        a = np.asarray(a)
        flat = a.reshape(-1)
        if flat.size >= 4 and dt == "f2":
            flat[:4] = [6.0e-8, -0.0, 65504.0, 1e-5]  # subnormal, -0, max, small
        return a.astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max + 1, size=shape).astype(dt)


for shape, dt, order, endian, version in itertools.product(
        shapes, dtypes, "CF", "<>", versions):
    if dt in ("i1", "u1") and endian == ">":
        continue
    a = values(shape, dt)
    a = a.astype(np.dtype(dt).newbyteorder(endian) if dt in ("f4", "f2") else dt)
    if order == "F":
        a = np.asfortranarray(a)
    name = "t_%s_%s_%s_%s_v%d" % ("x".join(map(str, shape)) or "scalar", dt, order,
                                  "be" if endian == ">" else "le", version[0])
    path = os.path.join(workdir, name + ".npy")
    with open(path, "wb") as f:
        np.lib.format.write_array(f, a, version=version)
    out = os.path.join(workdir, name + ".f32")
    r = subprocess.run([dump, path, out], capture_output=True, text=True)
    count += 1
    want_dtype = {"f4": "F32", "f2": "F16", "i1": "I8", "u1": "U8"}[dt]
    want_shape = "x".join(map(str, a.shape))  # asfortranarray makes a scalar 1-D
    if r.returncode != 0:
        print("FAIL %s: exit %d: %s" % (name, r.returncode, r.stderr.strip()))
        failures += 1
        continue
    if r.stdout.split() != [want_dtype] + ([want_shape] if want_shape else []):
        print("FAIL %s: header %r" % (name, r.stdout))
        failures += 1
        continue
    got = np.fromfile(out, dtype="<f4")
    want = np.ascontiguousarray(a).astype("<f4").reshape(-1)
    if got.tobytes() != want.tobytes():
        print("FAIL %s: values differ" % name)
        failures += 1

# Reading from stdin.
a = rng.standard_normal((4, 6)).astype("<f4")
path = os.path.join(workdir, "stdin.npy")
np.save(path, a)
with open(path, "rb") as f:
    r = subprocess.run([dump, "-", os.path.join(workdir, "stdin.f32")], stdin=f,
                       capture_output=True, text=True)
count += 1
if r.returncode != 0 or np.fromfile(os.path.join(workdir, "stdin.f32"), "<f4").tobytes() != a.tobytes():
    print("FAIL stdin: %s" % r.stderr)
    failures += 1

# Unsupported dtypes give a clear error naming the dtype.
for dt in ["<f8", "<i4", "<c8"]:
    path = os.path.join(workdir, "bad.npy")
    np.save(path, np.zeros(3, dtype=dt))
    r = subprocess.run([dump, path, os.path.join(workdir, "bad.f32")], capture_output=True, text=True)
    count += 1
    if r.returncode != 1 or ("'%s'" % dt) not in r.stderr:
        print("FAIL unsupported %s: exit %d, %r" % (dt, r.returncode, r.stderr))
        failures += 1

print("%d passed, %d failed" % (count - failures, failures))
sys.exit(1 if failures else 0)
