#!/usr/bin/env python3
"""Trains two small byte-level language models on text found on the machine
(Python's own library sources), so that wqc is measured on trained weights it
was not tuned on. Needs PyTorch (a GPU makes it minutes). Writes
OUT/<name>.safetensors (F32) and OUT/<name>.bf16.safetensors.

  llama-mini: RMSNorm, rotary attention, SwiGLU, untied embedding and head
              (dim 192, 4 layers, 6 heads, hidden 512, vocab 256)
  gpt2-mini:  LayerNorm with biases, learned positions, fused QKV, GELU MLP,
              tied embedding (dim 256, 6 layers, 8 heads, vocab 256)

usage: train_tiny_lms.py OUT_DIR [SECONDS_PER_MODEL]"""
import glob
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

out = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
os.makedirs(out, exist_ok=True)
dev = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)

files = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "**", "*.py"), recursive=True))
text = b"".join(open(f, "rb").read() for f in files)[: 64 << 20]
data = torch.frombuffer(bytearray(text), dtype=torch.uint8).to(dev).long()
print("text: %d files, %d bytes" % (len(files), len(data)), flush=True)


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight


def rotary(x):
    t, d = x.shape[-2], x.shape[-1]
    freq = 1.0 / (10000 ** (torch.arange(0, d, 2, device=x.device).float() / d))
    ang = torch.outer(torch.arange(t, device=x.device).float(), freq)
    cos, sin = ang.cos(), ang.sin()
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), -1).flatten(-2)


class LlamaBlock(nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.heads = heads
        self.input_layernorm = RMSNorm(d)
        self.post_attention_layernorm = RMSNorm(d)
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)
        self.gate_proj = nn.Linear(d, hidden, bias=False)
        self.up_proj = nn.Linear(d, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, d, bias=False)

    def forward(self, x):
        b, t, d = x.shape
        h = self.input_layernorm(x)
        q, k, v = (p(h).view(b, t, self.heads, -1).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        a = F.scaled_dot_product_attention(rotary(q), rotary(k), v, is_causal=True)
        x = x + self.o_proj(a.transpose(1, 2).reshape(b, t, d))
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, d=192, layers=4, heads=6, hidden=512):
        super().__init__()
        self.embed_tokens = nn.Embedding(256, d)
        self.layers = nn.ModuleList(LlamaBlock(d, heads, hidden) for _ in range(layers))
        self.norm = RMSNorm(d)
        self.lm_head = nn.Linear(d, 256, bias=False)

    def forward(self, idx):
        x = self.embed_tokens(idx)
        for l in self.layers:
            x = l(x)
        return self.lm_head(self.norm(x))


class GPT2Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, -1)
        q, k, v = (z.view(b, t, self.heads, -1).transpose(1, 2) for z in (q, k, v))
        x = x + self.c_proj(F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT2(nn.Module):
    def __init__(self, d=256, layers=6, heads=8, ctx=256):
        super().__init__()
        self.wte = nn.Embedding(256, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList(GPT2Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for b in self.h:
            x = b(x)
        return self.ln_f(x) @ self.wte.weight.t()


def save(path, tensors, bf16):
    header, blobs, off = {"__metadata__": {"source": "bench/train_tiny_lms.py"}}, [], 0
    for name, t in tensors.items():
        t = t.detach().float().cpu().contiguous()
        if bf16:
            raw = (t.view(torch.int32) + 0x7FFF + ((t.view(torch.int32) >> 16) & 1)).bitwise_right_shift(16)
            raw = raw.to(torch.int16).numpy().tobytes()
            dtype = "BF16"
        else:
            raw, dtype = t.numpy().tobytes(), "F32"
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def train(name, model, prefix):
    model = model.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.95), weight_decay=0.1)
    start, step, ctx, batch = time.time(), 0, 256, 64
    while time.time() - start < seconds:
        lr = 2e-3 * min(1.0, (step + 1) / 200)
        for g in opt.param_groups:
            g["lr"] = lr
        ix = torch.randint(0, len(data) - ctx - 1, (batch,), device=dev)
        x = torch.stack([data[i:i + ctx] for i in ix])
        y = torch.stack([data[i + 1:i + ctx + 1] for i in ix])
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=dev == "cuda"):
            loss = F.cross_entropy(model(x).float().view(-1, 256), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 500 == 0:
            print("%s step %d loss %.3f (%.2f bits/byte)" % (name, step, loss.item(), loss.item() / math.log(2)), flush=True)
        step += 1
    print("%s: %d steps, final loss %.3f, %d parameters" % (name, step, loss.item(),
                                                            sum(p.numel() for p in model.parameters())), flush=True)
    tensors = {prefix + k: v for k, v in model.state_dict().items()}
    save(os.path.join(out, name + ".safetensors"), tensors, False)
    save(os.path.join(out, name + ".bf16.safetensors"), tensors, True)


train("llama-mini", Llama(), "model.")
train("gpt2-mini", GPT2(), "transformer.")
