"""Writes a .safetensors file for the CLI tests: tensors as name -> (dtype,
shape, raw little-endian bytes), in the order given, with optional
__metadata__; the header is padded with spaces to a multiple of 8 bytes."""
import json
import struct


def write(path, tensors, meta=None):
    header, blobs, off = {}, [], 0
    if meta:
        header["__metadata__"] = meta
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
