"""wqc.torch.load_file: a .wqc as torch tensors, BF16 tensors as torch.bfloat16
(bit-exact), quantized ones dequantized to float32. Imports torch only here."""
import numpy as np

import wqc


def load_file(path, device="cpu"):
    import torch

    out = {}
    with wqc.safe_open(path) as f:
        for name in f.keys():
            a, info = f.get_tensor(name), f.tensor_info(name)
            if info["dtype"] == "BF16" and not info["quantized"]:
                # Exact: the float32 widening of BF16 keeps its bits in the top half.
                t = torch.from_numpy(a.view(np.int32) >> 16).to(torch.int16).view(torch.bfloat16)
            else:
                t = torch.from_numpy(np.ascontiguousarray(a))
            out[name] = t.to(device)
    return out
