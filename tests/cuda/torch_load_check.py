"""pylm-22M through the GPU loader into torch and transformers (the GPU-load
issue's check; run on a machine with CUDA, torch and transformers):

    python3 tests/cuda/torch_load_check.py MODEL_DIR LOSSLESS.wqc QUANTIZED.wqc [--json OUT]

1. LOSSLESS.wqc (wqc encode --lossless of MODEL_DIR/model.safetensors) loaded
   with wqc.torch.load_file(device="cuda") equals safetensors.torch's own
   load of the original, bit for bit, tensor by tensor.
2. QUANTIZED.wqc loaded on the GPU equals its CPU load, bit for bit.
3. transformers' LlamaForCausalLM with the GPU-loaded weights, widened to
   F32 as reference.json was made, reproduces reference.json's held-out NLL
   (1.8253) within 1e-4.
Prints one line per check and the load's stages; exit 1 on any failure."""
import argparse
import json
import os
import sys
import time

import torch

import wqc
import wqc.torch as wt


def bits(t):
    """A tensor's bytes, for a bit-for-bit comparison whatever its dtype."""
    return t.contiguous().view(torch.uint8) if t.dtype != torch.bool else t.to(torch.uint8)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model_dir")
    p.add_argument("lossless")
    p.add_argument("quantized")
    p.add_argument("--json")
    a = p.parse_args()
    from safetensors.torch import load_file as st_load
    from transformers import AutoConfig, LlamaForCausalLM

    failures = []
    report = {}
    st_path = os.path.join(a.model_dir, "model.safetensors")

    # 1. Lossless .wqc on the GPU against safetensors' loader.
    times = wt.LoadTimes()
    t0 = time.perf_counter()
    gpu = wt.load_file(a.lossless, device="cuda", times=times)
    torch.cuda.synchronize()
    wqc_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = st_load(st_path, device="cuda")
    torch.cuda.synchronize()
    st_s = time.perf_counter() - t0
    same = set(gpu) == set(ref) and all(gpu[k].dtype == ref[k].dtype and gpu[k].shape == ref[k].shape
                                        and torch.equal(bits(gpu[k]), bits(ref[k])) for k in ref)
    print(f"{'ok ' if same else 'FAIL'} lossless .wqc on the GPU equals safetensors.torch.load_file, {len(ref)} tensors "
          f"bit for bit ({wqc_s * 1e3:.1f} ms against {st_s * 1e3:.1f} ms, first loads)")
    print(f"     stages: total {times.total * 1e3:.2f} ms, read {times.read * 1e3:.2f}, check {times.check * 1e3:.2f}, "
          f"host decode {times.cpu_decode * 1e3:.2f}, wait {times.wait * 1e3:.2f}, GPU decode "
          f"{times.gpu_decode * 1e3:.3f} (thread-ms); {times.file_bytes} bytes read, {times.out_bytes} made")
    if not same:
        failures.append("lossless load differs")
    report["lossless_equal"] = same

    # 2. Quantized .wqc: GPU load against the CPU load.
    qg = wt.load_file(a.quantized, device="cuda")
    qc = wt.load_file(a.quantized)
    same_q = set(qg) == set(qc) and all(qg[k].dtype == qc[k].dtype and torch.equal(bits(qg[k].cpu()), bits(qc[k]))
                                        for k in qc)
    print(f"{'ok ' if same_q else 'FAIL'} quantized .wqc on the GPU equals its CPU load, {len(qc)} tensors bit for bit")
    if not same_q:
        failures.append("quantized load differs")
    report["quantized_equal"] = same_q

    # 3. transformers with the GPU-loaded weights, in F32 as the reference.
    config = AutoConfig.from_pretrained(a.model_dir)
    model = LlamaForCausalLM(config).to("cuda").float().eval()
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in gpu.items()}, strict=False)
    missing = [m for m in missing if not m.endswith("rotary_emb.inv_freq")]
    if missing or unexpected:
        failures.append(f"state dict: missing {missing[:3]}, unexpected {unexpected[:3]}")
    with open(os.path.join(a.model_dir, "reference.json")) as f:
        reference = json.load(f)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    total, count = 0.0, 0
    with torch.no_grad():
        for w in reference["heldout_windows"]:
            ids = torch.tensor([w], device="cuda")
            loss = model(ids, labels=ids).loss
            total += loss.item() * (len(w) - 1)
            count += len(w) - 1
    nll, want = total / count, reference["heldout_nll_nats_per_token"]
    ok_nll = abs(nll - want) <= 1e-4
    print(f"{'ok ' if ok_nll else 'FAIL'} transformers LlamaForCausalLM on the GPU-loaded weights: NLL {nll:.6f} "
          f"against the reference's {want:.6f} ({len(reference['heldout_windows'])} windows)")
    if not ok_nll:
        failures.append(f"NLL {nll} != {want}")
    report.update(nll=nll, reference_nll=want, load_ms=times.total * 1e3, safetensors_first_load_ms=st_s * 1e3)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
