"""A numpy reference of the Llama forward pass that examples/llama runs
(RMSNorm eps 1e-5, rotary theta 1e4 with Hugging Face or interleaved pairs,
grouped-query attention, SwiGLU, tied output), in float64, for the tests."""
import json
import struct

import numpy as np


def read_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    meta = h.pop("__metadata__", {})
    out = {}
    for k, v in h.items():
        s, e = v["data_offsets"]
        raw = b[8 + n + s:8 + n + e]
        if v["dtype"] == "BF16":
            a = (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4")
        else:
            a = np.frombuffer(raw, {"F32": "<f4", "F16": "<f2"}[v["dtype"]])
        out[k] = a.reshape(v["shape"]).astype(np.float64)
    return out, meta


def _rms(x, w):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * w


def _rope(x, pos, interleaved):
    hd = x.shape[-1]
    half = hd // 2
    f = 1.0 / 10000 ** (2 * np.arange(half) / hd)
    ang = pos[:, None] * f[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    out = x.copy()
    if interleaved:
        a, b = x[..., 0::2], x[..., 1::2]
        out[..., 0::2], out[..., 1::2] = a * c - b * s, a * s + b * c
    else:
        a, b = x[..., :half], x[..., half:]
        out[..., :half], out[..., half:] = a * c - b * s, a * s + b * c
    return out


def forward(W, meta, toks, interleaved=False, head=None):
    """Logits (len(toks) x vocab) of every position; head: the output matrix
    (default the tied embedding)."""
    dim, heads, kv = int(meta["dim"]), int(meta["n_heads"]), int(meta["n_kv_heads"])
    layers, hd = int(meta["n_layers"]), dim // heads
    T = len(toks)
    x = W["model.embed_tokens.weight"][toks]
    pos = np.arange(T, dtype=np.float64)
    for l in range(layers):
        p = "model.layers.%d." % l
        h = _rms(x, W[p + "input_layernorm.weight"])
        q = (h @ W[p + "self_attn.q_proj.weight"].T).reshape(T, heads, hd)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).reshape(T, kv, hd)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).reshape(T, kv, hd)
        q, k = _rope(q, pos, interleaved), _rope(k, pos, interleaved)
        k, v = np.repeat(k, heads // kv, axis=1), np.repeat(v, heads // kv, axis=1)
        att = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + np.triu(np.full((T, T), -1e30), 1)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        x = x + np.einsum("hts,shd->thd", att, v).reshape(T, dim) @ W[p + "self_attn.o_proj.weight"].T
        h = _rms(x, W[p + "post_attention_layernorm.weight"])
        g, u = h @ W[p + "mlp.gate_proj.weight"].T, h @ W[p + "mlp.up_proj.weight"].T
        x = x + (g / (1 + np.exp(-g)) * u) @ W[p + "mlp.down_proj.weight"].T
    return _rms(x, W["model.norm.weight"]) @ (W["model.embed_tokens.weight"] if head is None else head).T


def q4_0_roundtrip(w):
    """w (rows x cols) through Q4_0 blocks of 32 (cols padded with zeros), as wqc/q4_0.h defines them."""
    rows, cols = w.shape
    pad = -cols % 32
    x = np.concatenate([w, np.zeros((rows, pad))], axis=1).astype(np.float32).reshape(rows, -1, 32)
    idx = np.abs(x).argmax(-1)
    m = np.take_along_axis(x, idx[..., None], -1)[..., 0]
    d = (m / np.float32(-8)).astype(np.float32)
    inv = np.where(d != 0, np.float32(1) / np.where(d != 0, d, np.float32(1)), np.float32(0)).astype(np.float32)
    q = np.minimum(15, np.floor(x * inv[..., None] + np.float32(8.5))).clip(0, 15)
    d16 = d.astype(np.float16).astype(np.float32)
    return ((q - 8) * d16[..., None]).reshape(rows, -1)[:, :cols].astype(np.float64)
