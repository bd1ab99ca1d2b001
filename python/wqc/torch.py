"""wqc.torch.load_file: a .wqc as torch tensors, BF16 tensors as torch.bfloat16
(bit-exact), quantized ones dequantized to float32. Imports torch only here.

With device="cuda" (or "cuda:N") the file goes straight into GPU memory
through libwqc_cuda (a build with -DWQC_CUDA=ON): the library's loader reads
it with several threads into pinned staging, checks every record, and
decodes the coded tensors on the GPU into the torch tensors' memory; the
result equals the CPU path's bit for bit. libwqc_cuda is found through
$WQC_CUDA_LIBRARY, then beside libwqc (or in its build's src/cuda)."""
import ctypes
import ctypes.util
import os

import numpy as np

import wqc

_MAX_DIMS = 32
_AS_F32 = 2
_cuda = None


class _LoadOptions(ctypes.Structure):
    _fields_ = [("as_", ctypes.c_int), ("threads", ctypes.c_int), ("piece", ctypes.c_size_t)]


class _CudaTensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("ndim", ctypes.c_int),
                ("shape", ctypes.c_uint64 * _MAX_DIMS), ("bytes", ctypes.c_uint64)]


class LoadTimes(ctypes.Structure):
    """The stages of a GPU load (wqc_cuda_load_times): seconds and bytes."""
    _fields_ = [("total", ctypes.c_double), ("read", ctypes.c_double), ("check", ctypes.c_double),
                ("cpu_decode", ctypes.c_double), ("wait", ctypes.c_double), ("gpu_decode", ctypes.c_double),
                ("file_bytes", ctypes.c_uint64), ("gpu_bytes", ctypes.c_uint64), ("out_bytes", ctypes.c_uint64),
                ("started", ctypes.c_double), ("issued", ctypes.c_double),
                ("gpu_last_decode", ctypes.c_double), ("gpu_end", ctypes.c_double), ("synced", ctypes.c_double)]


def _cuda_library():
    global _cuda
    if _cuda is not None:
        return _cuda
    here = os.path.dirname(os.path.abspath(wqc.library_path()))
    candidates = [os.environ.get("WQC_CUDA_LIBRARY")] if os.environ.get("WQC_CUDA_LIBRARY") else []
    candidates += [os.path.join(here, "libwqc_cuda.so"), os.path.join(here, "src", "cuda", "libwqc_cuda.so"),
                   ctypes.util.find_library("wqc_cuda")]
    tried = []
    for c in candidates:
        if not c:
            continue
        try:
            lib = ctypes.CDLL(c)
            break
        except OSError as e:
            tried.append(f"{c}: {e}")
    else:
        raise wqc.WqcError("libwqc_cuda not found (build with -DWQC_CUDA=ON, or set WQC_CUDA_LIBRARY); tried "
                           + "; ".join(tried))
    P, err = ctypes.c_void_p, ctypes.POINTER(wqc._Error)
    sig = {
        "wqc_cuda_model_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(_LoadOptions), ctypes.POINTER(P), err]),
        "wqc_cuda_model_close": (None, [P]),
        "wqc_cuda_model_count": (ctypes.c_size_t, [P]),
        "wqc_cuda_model_tensor": (None, [P, ctypes.c_size_t, ctypes.POINTER(_CudaTensor)]),
        "wqc_cuda_model_load": (ctypes.c_int, [P, ctypes.POINTER(P), ctypes.POINTER(LoadTimes), err]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    _cuda = lib
    return lib


def _torch_dtype(torch, name):
    table = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
             "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool, "I16": torch.int16, "I32": torch.int32,
             "I64": torch.int64, "F8_E4M3": getattr(torch, "float8_e4m3fn", None),
             "F8_E5M2": getattr(torch, "float8_e5m2", None), "U16": getattr(torch, "uint16", None),
             "U32": getattr(torch, "uint32", None), "U64": getattr(torch, "uint64", None)}
    return table.get(name)


def _load_cuda(path, device, times, threads):
    import torch

    lib = _cuda_library()
    device = torch.device(device)
    path = os.fspath(path)
    err = wqc._Error()
    handle = ctypes.c_void_p()
    opts = _LoadOptions(_AS_F32, threads, 0)
    with torch.cuda.device(device):
        wqc._check(lib.wqc_cuda_model_open(os.fsencode(path), ctypes.byref(opts), ctypes.byref(handle),
                                           ctypes.byref(err)), err, path)
        try:
            n = lib.wqc_cuda_model_count(handle)
            out, views, dst = {}, [], (ctypes.c_void_p * max(n, 1))()
            for i in range(n):
                t = _CudaTensor()
                lib.wqc_cuda_model_tensor(handle, i, ctypes.byref(t))
                dtype_name = wqc._library().wqc_dtype_name(t.dtype).decode()
                shape = tuple(t.shape[:t.ndim])
                dtype = _torch_dtype(torch, dtype_name)
                # Bytes first: a dtype torch lacks stays uint8 of the stored bytes.
                raw = torch.empty(max(t.bytes, 1), dtype=torch.uint8, device=device)
                dst[i] = raw.data_ptr()
                views.append((t.name.decode(), raw, t.bytes, dtype, shape))
            # The loader's streams are its own: torch's allocations must be settled first.
            torch.cuda.synchronize(device)
            wqc._check(lib.wqc_cuda_model_load(handle, dst, ctypes.byref(times), ctypes.byref(err)), err, path)
        finally:
            lib.wqc_cuda_model_close(handle)
    for name, raw, nbytes, dtype, shape in views:
        raw = raw[:nbytes]
        out[name] = raw.view(dtype).reshape(shape) if dtype is not None else raw
    return out


def load_file(path, device="cpu", *, threads=0, times=None):
    """Every tensor of a .wqc as torch tensors on device. On a CUDA device
    the GPU loader decodes them in GPU memory; times (a LoadTimes) receives
    its stages."""
    import torch

    if str(device).startswith("cuda"):
        return _load_cuda(path, device, times if times is not None else LoadTimes(), threads)
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
