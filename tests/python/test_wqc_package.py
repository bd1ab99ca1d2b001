#!/usr/bin/env python3
"""python/wqc against the CLI: load_file / safe_open agree with `wqc decode`
tensor by tensor (weights, symbols, lossless BF16 bits), save_file writes
what `wqc encode` writes for the same tensors, damage and missing tensors
raise, two threads decode at once, wqc.torch where torch is installed.
usage: test_wqc_package.py WQC LIBWQC WORKDIR"""
import json
import os
import shutil
import struct
import subprocess
import sys
import threading

import numpy as np

wqc_bin, lib, work = sys.argv[1], sys.argv[2], sys.argv[3]
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "python"))
sys.path.insert(0, os.path.join(here, "..", "support"))
os.environ["WQC_LIBRARY"] = lib
import wqc  # noqa: E402
from safetensors_write import write  # noqa: E402

passed = failed = 0


def check(ok, what):
    global passed, failed
    passed, failed = passed + bool(ok), failed + (not ok)
    if not ok:
        print(f"FAIL: {what}")


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    types = {"F32": "<f4", "F16": "<f2", "BF16": "<u2", "U8": "u1", "I8": "i1"}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], types[t["dtype"]]).reshape(t["shape"])
    return out


def cli(*args):
    r = subprocess.run([wqc_bin, *args], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"wqc {' '.join(args)}: {r.stderr}")


shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chdir(work)
rng = np.random.default_rng(24)
w = {"embed": (rng.standard_normal((64, 96)) * 0.02).astype("<f4"),
     "layer.w": (rng.standard_t(4, (96, 64)) * 0.02).astype("<f4"),
     "norm": (1 + 0.01 * rng.standard_normal(64)).astype("<f4")}
write("m.safetensors", {k: ("F32", a.shape, a.tobytes()) for k, a in w.items()})
bf = {k: (a.view("<u4") >> 16).astype("<u2") for k, a in w.items()}
write("b.safetensors", {k: ("BF16", a.shape, a.tobytes()) for k, a in bf.items()})
cli("encode", "-q", "m.safetensors", "-o", "m.wqc")
cli("encode", "-q", "--lossless", "b.safetensors", "-o", "b.wqc")
cli("decode", "-q", "--dequantize", "m.wqc", "-o", "deq.safetensors")
cli("decode", "-q", "--symbols", "m.wqc", "-o", "sym.safetensors")

# load_file and safe_open against decode, tensor by tensor, bit for bit.
got, want = wqc.load_file("m.wqc"), read_safetensors("deq.safetensors")
check(sorted(got) == sorted(want), "load_file: the same tensors as decode --dequantize")
for name in want:
    check(got[name].dtype == want[name].dtype and np.array_equal(got[name].view("u4"), want[name].view("u4")),
          f"load_file['{name}'] == decode --dequantize, bit for bit")
got, want = wqc.load_file("m.wqc", symbols=True), read_safetensors("sym.safetensors")
check(sorted(got) == sorted(want), "symbols=True: decode --symbols's tensors (symbols, scales, offsets)")
for name in want:
    check(np.array_equal(got[name], want[name]), f"symbols=True['{name}'] == decode --symbols")
lossless = wqc.load_file("b.wqc")
for name, a in bf.items():
    check(lossless[name].dtype == np.float32 and np.array_equal(lossless[name].view("<u4") >> 16, a),
          f"BF16 '{name}' widened exactly to float32")
with wqc.safe_open("m.wqc") as f:
    check(f.keys() == list(w), "safe_open keys in file order")
    check(np.array_equal(f.get_tensor("norm"), w["norm"]), "safe_open.get_tensor of a kept tensor")
    try:
        f.get_tensor("nope")
        check(False, "a missing tensor raises KeyError")
    except KeyError:
        check(True, "")
    check(f.tensor_info("embed")["quantizer"]["bits"] == 4, "tensor_info: the quantizer")
check(wqc.info("m.wqc")["tensors"][2]["quantized"] is False, "info: the kept norm")

# save_file writes what `wqc encode` writes for the same tensors.
wqc.save_file(w, "py.wqc")
check(open("py.wqc", "rb").read() == open("m.wqc", "rb").read(), "save_file == wqc encode, byte for byte")
wqc.save_file(w, "py3.wqc", bits=3, rules=["*norm:lossless"], metadata={"source": "test"})
cli("encode", "-q", "--bits", "3", "--rule", "*norm:lossless", "m.safetensors", "-o", "cli3.wqc")
cli("decode", "-q", "--dequantize", "py3.wqc", "-o", "py3.safetensors")
back = read_safetensors("py3.safetensors")
check(all(np.array_equal(back[k], wqc.load_file("cli3.wqc")[k]) for k in w), "save_file(bits=3, rules) == CLI's")
check(wqc.safe_open("py3.wqc").metadata().get("source") == "test", "save_file's metadata")
wqc.save_file({k: a for k, a in w.items()}, "ll.wqc", lossless=True)
check(all(np.array_equal(wqc.load_file("ll.wqc")[k], a) for k, a in w.items()), "save_file(lossless) exact")
for bad in ({"lossless": True, "bits": 3}, {"rules": ["nomatch*:keep"]}, {"method": "magic"},
            {"lossless": True, "rules": ["embed:sdclip"]}):
    try:
        wqc.save_file(w, "bad.wqc", **bad)
        check(False, f"save_file({bad}) raises")
    except wqc.WqcError:
        check(not os.path.exists("bad.wqc") and not [f for f in os.listdir(".") if ".tmp" in f],
              f"save_file({bad}): no file, no temporary left")

# Damage raises with the library's message; nothing is returned.
data = bytearray(open("m.wqc", "rb").read())
data[len(data) // 2] ^= 0x20
open("bad.wqc", "wb").write(bytes(data))
try:
    wqc.verify("bad.wqc")
    check(False, "a damaged file raises")
except wqc.WqcError as e:
    check("bad.wqc" in str(e), f"the error names the file: {e}")
check(wqc.verify("m.wqc"), "verify of an intact file")

# Two threads decoding at once, each with its own handle.
results = []


def decode_all():
    results.append(all(np.array_equal(wqc.load_file("m.wqc")[k], v) for k, v in want_deq.items()))


want_deq = read_safetensors("deq.safetensors")
threads = [threading.Thread(target=decode_all) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(results == [True, True], "two threads decode the same tensors")

# No library: a clear error.
r = subprocess.run([sys.executable, "-c", "import wqc; wqc.load_file('m.wqc')"], capture_output=True, text=True,
                   env={**os.environ, "WQC_LIBRARY": "/nonexistent/libwqc.so",
                        "PYTHONPATH": os.path.join(here, "..", "..", "python")})
check(r.returncode != 0 and "libwqc not found" in r.stderr, "a missing libwqc is named")

try:
    import torch
except ImportError:
    torch = None
if torch is None:
    print("note: torch is not installed here; wqc.torch is tested where it is (the device)")
else:
    import wqc.torch as wt
    t = wt.load_file("b.wqc")
    check(t["embed"].dtype == torch.bfloat16 and np.array_equal(t["embed"].view(torch.int16).numpy().view("<u2"),
                                                                 bf["embed"]), "wqc.torch: BF16 bit for bit")
    check(t["norm"].dtype == torch.bfloat16, "wqc.torch: every BF16 tensor as bfloat16")
    check(torch.equal(wt.load_file("m.wqc")["embed"], torch.from_numpy(want_deq["embed"].copy())),
          "wqc.torch: quantized tensors dequantized as decode does")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
