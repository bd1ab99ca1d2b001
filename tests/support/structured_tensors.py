"""Tensors with the structure real models contain and near-Gaussian weights
lack, for testing that wqc is never larger than a general-purpose compressor:
  stft_basis        258 x 1 x 256: Hann-windowed cos/sin rows (an audio
                    front end's STFT kernel: long exact repeats inside rows)
  dct_basis         256 x 256: DCT-II basis rows (periodic rows)
  embedding_dup     2048 x 64: Gaussian rows, a quarter of them exact copies
                    of earlier rows (untrained or tied tokens)
  periodic_rows     512 x 512: each row a Gaussian pattern of period 8..64
  constant_blocks   1024 x 256: constant over 32 x 32 blocks
  outlier_columns   1024 x 1024: Gaussian, 2% of input columns 20x larger
                    (the channels AWQ-style scaling exists for)
  conv_kernels      128 x 129 x 3: smooth 3-tap kernels (taps correlated)
  gaussian          1024 x 1024: the control, near-i.i.d., where rANS wins
With --small, the large tensors have an eighth of their rows (for CI).
usage: structured_tensors.py OUT.safetensors [DTYPE F32|BF16] [SEED] [--small]"""
import sys

import numpy as np

from safetensors_write import write


def tensors(seed=7, small=False):
    rng = np.random.default_rng(seed)
    big = 128 if small else 1024
    g = lambda *s: rng.standard_normal(s)
    out = {}
    n = np.arange(256)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / 256)
    k = np.arange(129)[:, None]
    stft = np.concatenate([np.cos(2 * np.pi * k * n / 256), -np.sin(2 * np.pi * k * n / 256)]) * window
    out["stft_basis"] = stft.reshape(258, 1, 256)
    i = np.arange(256)
    out["dct_basis"] = np.cos(np.pi * (i[None, :] + 0.5) * i[:, None] / 256) * np.sqrt(2 / 256)
    vocab = 2 * big
    emb = g(vocab, 64) * 0.02
    copies = rng.choice(np.arange(vocab // 4, vocab), vocab // 4, replace=False)
    emb[copies] = emb[rng.integers(0, vocab // 4, vocab // 4)]
    out["embedding_dup"] = emb
    rows = []
    for _ in range(big // 2):
        period = int(rng.integers(8, 65))
        rows.append(np.tile(g(period), 512 // period + 1)[:512] * 0.05)
    out["periodic_rows"] = np.array(rows)
    out["constant_blocks"] = np.kron(g(big // 32, 8), np.ones((32, 32))) * 0.1
    w = g(big, 1024) * 0.02
    w[:, rng.choice(1024, 20, replace=False)] *= 20
    out["outlier_columns"] = w
    base, slope = g(128, 129, 1), g(128, 129, 1) * 0.3
    out["conv_kernels"] = (base + slope * np.array([-1.0, 0.0, 1.0]) + 0.05 * g(128, 129, 3)) * 0.1
    out["gaussian"] = g(big, 1024) * 0.02
    return out


def as_dtype(a, dtype):
    a = np.ascontiguousarray(a, dtype="<f4")
    if dtype == "F32":
        return a.tobytes()
    bits = a.view("<u4").astype(np.uint64)
    # round to nearest even, as BF16 conversions do
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2").tobytes()


def main():
    args = [a for a in sys.argv[1:] if a != "--small"]
    out = args[0]
    dtype = args[1] if len(args) > 1 else "F32"
    seed = int(args[2]) if len(args) > 2 else 7
    t = tensors(seed, "--small" in sys.argv)
    write(out, {k: (dtype, v.shape, as_dtype(v, dtype)) for k, v in t.items()}, {"source": "structured_tensors.py"})


if __name__ == "__main__":
    main()
