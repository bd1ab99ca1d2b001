"""Writes GGUF files for the tests, from the format's description (ggml's
docs/gguf.md): metadata of every value type, arrays (nested too), and
tensors of F32, F16, BF16, Q4_0, Q8_0, Q4_K and Q6_K with blocks made from
Gaussian weights the way ggml's reference quantizers lay them out."""
import struct

import numpy as np

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?", U64: "<Q",
          I64: "<q", F64: "<d"}
TYPES = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q8_0": (8, 32, 34), "Q4_K": (12, 256, 144),
         "Q6_K": (14, 256, 210), "BF16": (30, 1, 2), "I32": (26, 1, 4)}


def _string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def _value(vtype, v):
    if vtype == STRING:
        return _string(v)
    if vtype == ARRAY:
        etype, items = v
        return struct.pack("<IQ", etype, len(items)) + b"".join(_value(etype, x) for x in items)
    return struct.pack(SCALAR[vtype], v)


def blocks(kind, w, rng):
    """w: rows x cols float32 (cols a multiple of the block); the tensor's bytes."""
    x = w.reshape(-1)
    out = bytearray()
    if kind in ("F32", "I32"):
        return x.astype("<f4" if kind == "F32" else "<i4").tobytes()
    if kind == "F16":
        return x.astype("<f2").tobytes()
    if kind == "BF16":
        u = x.astype("<f4").view("<u4")
        return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2").tobytes()
    if kind == "Q4_0":
        for b in x.reshape(-1, 32):
            m = b[np.abs(b).argmax()]
            d = np.float32(m / -8)
            q = np.minimum(15, np.floor(b * (1 / d if d else 0) + 8.5)).astype(np.uint8)
            out += np.float16(d).tobytes() + (q[:16] | q[16:] << 4).astype(np.uint8).tobytes()
        return bytes(out)
    if kind == "Q8_0":
        for b in x.reshape(-1, 32):
            d = np.float32(np.abs(b).max() / 127)
            q = np.round(b / d if d else b * 0).astype(np.int8)
            out += np.float16(d).tobytes() + q.tobytes()
        return bytes(out)
    if kind == "Q4_K":
        for b in x.reshape(-1, 256):
            s = np.abs(b).max() / 7.5
            q = np.clip(np.round(b / s + 8), 0, 15).astype(np.uint8).reshape(4, 64)
            qs = b"".join((q[c, :32] | q[c, 32:] << 4).astype(np.uint8).tobytes() for c in range(4))
            out += np.float16(s).tobytes() + np.float16(-8 * s).tobytes() + rng.integers(0, 64, 12, dtype=np.uint8).tobytes() + qs
        return bytes(out)
    if kind == "Q6_K":
        for b in x.reshape(-1, 256):
            s = np.abs(b).max() / 31
            q = np.clip(np.round(b / s + 32), 0, 63).astype(np.uint8).reshape(2, 128)
            ql, qh = bytearray(), bytearray()
            for h in range(2):
                a = q[h]
                ql += ((a[0:32] & 15) | (a[64:96] & 15) << 4).astype(np.uint8).tobytes()
                ql += ((a[32:64] & 15) | (a[96:128] & 15) << 4).astype(np.uint8).tobytes()
                qh += (a[0:32] >> 4 | (a[32:64] >> 4) << 2 | (a[64:96] >> 4) << 4 | (a[96:128] >> 4) << 6).astype(np.uint8).tobytes()
            out += bytes(ql) + bytes(qh) + rng.integers(-64, 64, 16).astype(np.int8).tobytes() + np.float16(s).tobytes()
        return bytes(out)
    raise ValueError(kind)


def write(path, metadata, tensors, version=3, alignment=None):
    """metadata: list of (key, vtype, value); tensors: list of (name, kind,
    dims in ggml order, bytes)."""
    align = alignment or 32
    if alignment:
        metadata = metadata + [("general.alignment", U32, alignment)]
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(metadata))
    head += b"".join(_string(k) + struct.pack("<I", t) + _value(t, v) for k, t, v in metadata)
    infos, data, off = b"", b"", 0
    for name, kind, dims, raw in tensors:
        off = (off + align - 1) // align * align
        data += b"\0" * (off - len(data))
        infos += _string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", TYPES[kind][0], off)
        data += raw
        off += len(raw)
    body = head + infos
    body += b"\0" * (-len(body) % align)
    open(path, "wb").write(body + data)
