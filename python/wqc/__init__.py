"""wqc for Python: .wqc files through safetensors' API, over libwqc (ctypes).

    import wqc
    tensors = wqc.load_file("model.wqc")            # dict of numpy arrays
    with wqc.safe_open("model.wqc") as f:           # one tensor decoded at a time
        w = f.get_tensor("model.embed_tokens.weight")
    wqc.save_file(tensors, "out.wqc", bits=4)       # or lossless=True

Quantized tensors come back dequantized to float32 (symbols=True: their
symbols with NAME.wqc_scale / NAME.wqc_offset, as `wqc decode --symbols`
writes them); lossless and kept tensors in their dtype, BF16 widened exactly
to float32 (numpy has no bfloat16; wqc.torch gives torch.bfloat16). libwqc is
found through $WQC_LIBRARY, then beside this package, then the system's
loader. Errors raise WqcError with the library's message.
"""
import ctypes
import ctypes.util
import os

import numpy as np

__all__ = ["WqcError", "load_file", "safe_open", "save_file", "info", "verify", "library_path"]

_MAX_DIMS = 32
_MSG_MAX = 256


class WqcError(Exception):
    """A libwqc failure: the library's status name and one-line message."""


class _Error(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("msg", ctypes.c_char * _MSG_MAX)]


class _Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("ndim", ctypes.c_int),
                ("shape", ctypes.c_uint64 * _MAX_DIMS), ("nelem", ctypes.c_uint64),
                ("data", ctypes.c_void_p), ("nbytes", ctypes.c_uint64)]


class _KV(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("value", ctypes.c_char_p)]


class _QuantParams(ctypes.Structure):
    _fields_ = [("method", ctypes.c_int), ("bits", ctypes.c_int), ("granularity", ctypes.c_int),
                ("group_size", ctypes.c_uint32), ("k", ctypes.c_double), ("step", ctypes.c_double),
                ("exact_ends", ctypes.c_int)]


class _TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("ndim", ctypes.c_int),
                ("shape", ctypes.c_uint64 * _MAX_DIMS), ("nelem", ctypes.c_uint64), ("quantized", ctypes.c_int),
                ("quant", _QuantParams), ("bits", ctypes.c_int), ("alphabet", ctypes.c_uint32),
                ("ngroups", ctypes.c_uint64), ("encoding", ctypes.c_int), ("stored_bytes", ctypes.c_uint64)]


_SINK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(_Error))

# wqc_decode_as
_AS_ORIGINAL, _AS_SYMBOLS, _AS_F32 = 0, 1, 2
_QUANT_GIVEN = 3
# wqc_dtype names -> numpy dtypes of the bytes as stored (BF16 widened later).
_NUMPY = {"F32": "<f4", "F16": "<f2", "BF16": "<u2", "I8": "i1", "U8": "u1", "BOOL": "?", "I16": "<i2",
          "U16": "<u2", "I32": "<i4", "U32": "<u4", "F64": "<f8", "I64": "<i8", "U64": "<u8",
          "F8_E4M3": "u1", "F8_E5M2": "u1", "F8_E8M0": "u1"}
_FROM_NUMPY = {"float32": "F32", "float16": "F16", "int8": "I8", "uint8": "U8", "bool": "BOOL", "int16": "I16",
               "uint16": "U16", "int32": "I32", "uint32": "U32", "float64": "F64", "int64": "I64",
               "uint64": "U64"}

_lib = None
_lib_path = None


def _find_library():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("WQC_LIBRARY")] if os.environ.get("WQC_LIBRARY") else []
    # Beside the package, or where `cmake --install` puts both (PREFIX/lib/wqc/python/wqc, PREFIX/lib).
    candidates += [os.path.join(here, "libwqc.so"), os.path.join(here, "..", "..", "..", "libwqc.so"),
                   ctypes.util.find_library("wqc"), "libwqc.so"]
    tried = []
    for c in candidates:
        if not c:
            continue
        try:
            return ctypes.CDLL(c), c
        except OSError as e:
            tried.append(f"{c}: {e}")
    raise WqcError("libwqc not found: set WQC_LIBRARY to its path (a build's libwqc.so), put it beside "
                   "this package, or install wqc (cmake --install); tried " + "; ".join(tried))


def _declare(lib):
    P, S, U64, I = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint64, ctypes.c_int
    err = ctypes.POINTER(_Error)
    sig = {
        "wqc_archive_open": (I, [ctypes.c_char_p, P, ctypes.POINTER(P), err]),
        "wqc_archive_open_memory": (I, [P, S, P, ctypes.POINTER(P), err]),
        "wqc_archive_close": (None, [P]),
        "wqc_archive_count": (S, [P]),
        "wqc_archive_name": (ctypes.c_char_p, [P, S]),
        "wqc_archive_find": (S, [P, ctypes.c_char_p]),
        "wqc_archive_metadata_count": (S, [P]),
        "wqc_archive_metadata": (ctypes.POINTER(_KV), [P, S]),
        "wqc_archive_tensor": (I, [P, S, ctypes.POINTER(_TensorInfo), err]),
        "wqc_archive_decoded_size": (U64, [P, S, I]),
        "wqc_archive_decode": (I, [P, S, I, I, P, U64, err]),
        "wqc_archive_scales": (I, [P, S, P, P, U64, err]),
        "wqc_encode_tensors": (I, [ctypes.POINTER(_Tensor), S, ctypes.POINTER(_KV), S, ctypes.c_char_p, _SINK, P,
                                   err]),
        "wqc_dtype_name": (ctypes.c_char_p, [I]),
        "wqc_dtype_from_name": (I, [ctypes.c_char_p, ctypes.POINTER(I)]),
        "wqc_encoding_name": (ctypes.c_char_p, [I]),
        "wqc_strerror": (ctypes.c_char_p, [I]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args


def _library():
    global _lib, _lib_path
    if _lib is None:
        lib, path = _find_library()
        _declare(lib)
        _lib, _lib_path = lib, path
    return _lib


def library_path():
    """The libwqc this package loaded."""
    _library()
    return _lib_path


def _check(status, err, what):
    if status != 0:
        msg = err.msg.decode("utf-8", "replace") or _library().wqc_strerror(status).decode()
        raise WqcError(f"{what}: {msg}")


def _from_bf16(raw):
    """BF16 bits widened exactly to float32."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


class safe_open:
    """A .wqc opened for reading, as safetensors.safe_open: keys(), metadata(),
    get_tensor(name) decoding that tensor alone from the mapped file. Use as a
    context manager (or call close()). framework must be "numpy" (wqc.torch
    gives torch tensors). One handle per thread; distinct handles may be used
    from distinct threads at once."""

    def __init__(self, path, framework="numpy", device="cpu", *, symbols=False, data=None):
        if framework not in ("numpy", "np"):
            raise ValueError("wqc.safe_open gives numpy arrays; use wqc.torch.load_file for torch")
        self._lib = _library()
        self._path = os.fspath(path) if data is None else "<memory>"
        self._symbols = symbols
        self._data = data
        handle = ctypes.c_void_p()
        err = _Error()
        if data is None:
            st = self._lib.wqc_archive_open(os.fsencode(self._path), None, ctypes.byref(handle), ctypes.byref(err))
        else:
            self._buf = (ctypes.c_char * len(data)).from_buffer_copy(data)
            st = self._lib.wqc_archive_open_memory(self._buf, len(data), None, ctypes.byref(handle), ctypes.byref(err))
        _check(st, err, self._path)
        self._h = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def close(self):
        if getattr(self, "_h", None):
            self._lib.wqc_archive_close(self._h)
            self._h = None

    def _handle(self):
        if not self._h:
            raise WqcError(f"{self._path}: closed")
        return self._h

    def keys(self):
        h = self._handle()
        return [self._lib.wqc_archive_name(h, i).decode() for i in range(self._lib.wqc_archive_count(h))]

    def metadata(self):
        h = self._handle()
        out = {}
        for i in range(self._lib.wqc_archive_metadata_count(h)):
            kv = self._lib.wqc_archive_metadata(h, i).contents
            out[kv.key.decode()] = kv.value.decode()
        return out

    def _info(self, i):
        info, err = _TensorInfo(), _Error()
        _check(self._lib.wqc_archive_tensor(self._handle(), i, ctypes.byref(info), ctypes.byref(err)), err,
               self._path)
        return info

    def tensor_info(self, name):
        """Name, dtype, shape, encoding and quantizer of a tensor, from its descriptor."""
        info = self._info(self._index(name))
        d = {"name": name, "dtype": self._lib.wqc_dtype_name(info.dtype).decode(),
             "shape": list(info.shape[:info.ndim]), "encoding": self._lib.wqc_encoding_name(info.encoding).decode(),
             "stored_bytes": info.stored_bytes, "quantized": bool(info.quantized)}
        if info.quantized and info.quant.method != _QUANT_GIVEN:
            d["quantizer"] = {"method": ["affine", "sdclip", "grid"][info.quant.method], "bits": info.bits,
                              "granularity": ["tensor", "row", "group"][info.quant.granularity],
                              "group_size": info.quant.group_size}
        return d

    def _index(self, name):
        i = self._lib.wqc_archive_find(self._handle(), name.encode())
        if i == ctypes.c_size_t(-1).value:
            raise KeyError(f"{self._path}: no tensor '{name}'")
        return i

    def _decode(self, i, as_, dtype, shape):
        n = self._lib.wqc_archive_decoded_size(self._handle(), i, as_)
        out = np.empty(n, dtype=np.uint8)
        err = _Error()
        st = self._lib.wqc_archive_decode(self._handle(), i, as_, 0, out.ctypes.data_as(ctypes.c_void_p), n,
                                          ctypes.byref(err))
        _check(st, err, self._path)
        return out.view(dtype).reshape(shape)

    def get_tensor(self, name):
        """The tensor as numpy: quantized ones dequantized to float32 (with
        symbols=True, their uint8 symbols), others in their dtype (BF16 as
        exact float32)."""
        return self._tensors(name)[name]

    def _tensors(self, name):
        i = self._index(name)
        info = self._info(i)
        shape = tuple(info.shape[:info.ndim])
        dtype_name = self._lib.wqc_dtype_name(info.dtype).decode()
        weights = info.quantized and info.quant.method != _QUANT_GIVEN
        if weights and self._symbols:
            out = {name: self._decode(i, _AS_SYMBOLS, np.uint8, shape)}
            scale, offset = np.empty(info.ngroups, "<f4"), np.empty(info.ngroups, "<f4")
            err = _Error()
            st = self._lib.wqc_archive_scales(self._handle(), i, scale.ctypes.data_as(ctypes.c_void_p),
                                              offset.ctypes.data_as(ctypes.c_void_p), info.ngroups, ctypes.byref(err))
            _check(st, err, self._path)
            out[name + ".wqc_scale"], out[name + ".wqc_offset"] = scale, offset
            return out
        if weights:
            return {name: self._decode(i, _AS_F32, np.float32, shape)}
        a = self._decode(i, _AS_ORIGINAL, _NUMPY.get(dtype_name, "u1"), shape if dtype_name in _NUMPY else (-1,))
        return {name: _from_bf16(a) if dtype_name == "BF16" else a}


def load_file(path, *, symbols=False):
    """Every tensor of a .wqc (or a sharded .wqc's index) as numpy arrays."""
    with safe_open(path, symbols=symbols) as f:
        out = {}
        for name in f.keys():
            out.update(f._tensors(name))
        return out


def load(data, *, symbols=False):
    """The same from the bytes of a .wqc."""
    with safe_open(None, data=bytes(data), symbols=symbols) as f:
        out = {}
        for name in f.keys():
            out.update(f._tensors(name))
        return out


def _settings(lossless, method, bits, granularity, k, step, rules, mode, precision, lanes):
    items = []
    if lossless:
        items.append("lossless=1")
    for key, value in (("method", method), ("bits", bits), ("granularity", granularity), ("k", k), ("step", step),
                       ("mode", mode), ("precision", precision), ("lanes", lanes)):
        if value is not None:
            items.append(f"{key}={value}")
    for rule in rules or ():
        items.append(f"rule={rule}")
    if any(";" in item for item in items):
        raise ValueError("settings cannot contain ';'")
    return ";".join(items)


def save_file(tensors, path, metadata=None, *, lossless=False, method=None, bits=None, granularity=None, k=None,
              step=None, rules=None, mode=None, precision=None, lanes=None):
    """Writes numpy arrays as a .wqc that `wqc decode` reads. Float matrices
    are quantized (affine 4-bit per row unless method, bits, granularity, k,
    step or rules say otherwise; rules as the CLI's --rule, e.g.
    "*embed*:sdclip,bits=8,k=20" or "*norm*:lossless"), unless lossless=True
    stores every float tensor bit-exactly. Written to a temporary file and
    renamed: never a partial file."""
    lib = _library()
    keep, items = [], []
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        dt = _FROM_NUMPY.get(a.dtype.name)
        if dt is None:
            raise ValueError(f"tensor '{name}': dtype {a.dtype} has no wqc dtype")
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        code = ctypes.c_int()
        lib.wqc_dtype_from_name(dt.encode(), ctypes.byref(code))
        t = _Tensor()
        t.name, t.dtype, t.ndim = name.encode(), code.value, a.ndim
        for d, n in enumerate(a.shape):
            t.shape[d] = n
        t.nelem, t.data, t.nbytes = a.size, a.ctypes.data, a.nbytes
        keep.append(a)
        items.append(t)
    arr = (_Tensor * max(len(items), 1))(*items)
    meta = [(k_.encode(), v.encode()) for k_, v in (metadata or {}).items()]
    kvs = (_KV * max(len(meta), 1))(*[_KV(k_, v) for k_, v in meta])
    settings = _settings(lossless, method, bits, granularity, k, step, rules, mode, precision, lanes)
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    failure = []
    with open(tmp, "wb") as out:
        def sink(ctx, buf, n, err):
            try:
                out.write(ctypes.string_at(buf, n))
                return 0
            except OSError as e:
                failure.append(e)
                return 1

        cb = _SINK(sink)
        err = _Error()
        st = lib.wqc_encode_tensors(arr, len(items), kvs, len(meta), settings.encode(), cb, None, ctypes.byref(err))
    if st != 0 or failure:
        os.unlink(tmp)
        if failure:
            raise WqcError(f"{path}: {failure[0]}")
        _check(st, err, path)
    os.replace(tmp, path)


def info(path):
    """The tensors of a .wqc: name, dtype, shape, encoding, stored bytes and quantizer."""
    with safe_open(path) as f:
        return {"metadata": f.metadata(), "tensors": [f.tensor_info(n) for n in f.keys()]}


def verify(path):
    """Checks every record of a .wqc (decoding each tensor): True, or WqcError
    naming the damage."""
    with safe_open(path, symbols=True) as f:
        for name in f.keys():
            f._tensors(name)
    return True
