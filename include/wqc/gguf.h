/* wqc/gguf.h - reading and writing GGUF (llama.cpp's format, versions 2 and
 * 3, little-endian): header, typed metadata, tensor infos, aligned data.
 *
 * The reader checks every count, length, string, dimension, type and offset
 * against the buffer before using it (docs/SECURITY.md), and keeps views into
 * the buffer: nothing is copied but the names. */
#ifndef WQC_GGUF_H
#define WQC_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/dtype.h"
#include "wqc/status.h"
#include "wqc/tensor_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ggml tensor types this library knows the block layout of. */
enum {
    WQC_GGML_F32 = 0, WQC_GGML_F16 = 1, WQC_GGML_Q4_0 = 2, WQC_GGML_Q4_1 = 3, WQC_GGML_Q5_0 = 6,
    WQC_GGML_Q5_1 = 7, WQC_GGML_Q8_0 = 8, WQC_GGML_Q8_1 = 9, WQC_GGML_Q2_K = 10, WQC_GGML_Q3_K = 11,
    WQC_GGML_Q4_K = 12, WQC_GGML_Q5_K = 13, WQC_GGML_Q6_K = 14, WQC_GGML_Q8_K = 15, WQC_GGML_I8 = 24,
    WQC_GGML_I16 = 25, WQC_GGML_I32 = 26, WQC_GGML_I64 = 27, WQC_GGML_F64 = 28, WQC_GGML_BF16 = 30
};

/* Metadata value types. */
enum {
    WQC_GGUF_UINT8 = 0, WQC_GGUF_INT8, WQC_GGUF_UINT16, WQC_GGUF_INT16, WQC_GGUF_UINT32, WQC_GGUF_INT32,
    WQC_GGUF_FLOAT32, WQC_GGUF_BOOL, WQC_GGUF_STRING, WQC_GGUF_ARRAY, WQC_GGUF_UINT64, WQC_GGUF_INT64,
    WQC_GGUF_FLOAT64
};

#define WQC_GGUF_MAX_DIMS 4
#define WQC_GGUF_DEFAULT_ALIGNMENT 32

/* "Q4_0", "F16", ...; NULL for a type without a known layout. Weights and
 * bytes per block (1 and the element size for plain types). */
const char *wqc_ggml_type_name(uint32_t type);
int wqc_ggml_type_block(uint32_t type, uint32_t *block_weights, uint32_t *block_bytes);

typedef struct wqc_gguf_kv {
    char *key;
    uint32_t type;              /* WQC_GGUF_* */
    uint32_t array_type;        /* for arrays */
    uint64_t count;             /* array elements (1 otherwise) */
    const uint8_t *value;       /* its bytes in the buffer (for a string: after the length) */
    uint64_t value_len;
} wqc_gguf_kv;

typedef struct wqc_gguf_tensor {
    char *name;
    uint32_t ndim;
    uint64_t dims[WQC_GGUF_MAX_DIMS];  /* ggml order: dims[0] is the innermost (a row) */
    uint32_t type;
    uint64_t offset;            /* from the start of the data section */
    uint64_t nelem, nbytes;
    const uint8_t *data;
} wqc_gguf_tensor;

typedef struct wqc_gguf {
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;       /* start of the data section in the file */
    uint64_t infos_end;         /* end of the tensor infos (padding up to data_offset follows) */
    size_t nkv, ntensors;
    wqc_gguf_kv *kv;
    wqc_gguf_tensor *tensors;   /* in the file's info order */
} wqc_gguf;

/* True when buf starts with the GGUF magic. */
int wqc_gguf_is(const uint8_t *buf, size_t len);
/* Parses a GGUF file held in buf[0..len). Tensors may not overlap; their
 * data must lie inside the file, at multiples of the alignment. */
wqc_status wqc_gguf_parse(const uint8_t *buf, size_t len, wqc_gguf *out, wqc_error *err);
void wqc_gguf_free(wqc_gguf *g);
/* A tensor's bytes as separate streams that model better than the
 * interleaved blocks: the codes (one symbol per weight: Q4_0, Q4_K 4-bit;
 * Q8_0 the int8 byte; Q6_K the 6-bit code from its low and high parts) and
 * the per-block fields (scales, minimums, sub-block scales) as byte streams.
 * Other types are one byte stream. The split is a bijection:
 * wqc_gguf_merge gives the tensor's bytes back. */
#define WQC_GGUF_STREAMS_MAX 4
typedef struct wqc_gguf_stream {
    const char *name;           /* "codes", "d", "d+dmin", "scales", "bytes" */
    uint32_t alphabet;          /* symbols in 0..alphabet-1 (256 for byte streams) */
    int codes;                  /* 1: one symbol per weight */
    uint8_t *data;
    uint64_t len;
    uint32_t halves;            /* fields of F16 values: how many a block holds (else 0) */
} wqc_gguf_stream;
/* The streams of a split type: the codes' alphabet and the per-block byte
 * fields (count and lengths); 0 for types kept as one byte stream. */
int wqc_gguf_layout(uint32_t type, uint32_t *alphabet, uint32_t *nfields, uint32_t field_len[WQC_GGUF_STREAMS_MAX]);
/* How a .wqc stores a field stream (docs/FORMAT.md): as it is, zstd'd, or
 * (fields of F16 values) through the adaptive range coder or rANS. */
#define WQC_FIELD_RAW 0
#define WQC_FIELD_ZSTD 1
#define WQC_FIELD_HALVES 2
#define WQC_FIELD_HALVES_RANS 3
/* How many F16 values a block's field k holds (0: not F16 values). */
uint32_t wqc_gguf_field_halves(uint32_t type, uint32_t k);
/* Bytes field k's stream (len bytes) takes as WQC_FIELD_HALVES or
 * WQC_FIELD_HALVES_RANS, the smaller; 0 where they do not apply. */
uint64_t wqc_gguf_halves_bytes(uint32_t type, uint32_t k, const uint8_t *field, uint64_t len);
/* Splits nbytes of blocks of `type` (allocates each stream's data). */
wqc_status wqc_gguf_split(uint32_t type, const uint8_t *data, uint64_t nbytes, wqc_gguf_stream *out, size_t *n,
                          wqc_error *err);
/* The inverse, into out[nbytes]. */
void wqc_gguf_merge(uint32_t type, const wqc_gguf_stream *s, size_t n, uint8_t *out, uint64_t nbytes);
void wqc_gguf_streams_free(wqc_gguf_stream *s, size_t n);

/* The plain ggml types and wqc's dtypes (F32, F16, BF16, I8, I16, I32, I64,
 * F64): 1 and the match, 0 for block types and dtypes GGUF lacks. */
int wqc_ggml_to_dtype(uint32_t type, wqc_dtype *out);
int wqc_dtype_to_ggml(wqc_dtype dtype, uint32_t *out);

/* ---- writing ---------------------------------------------------------- */

/* A metadata entry to write: a string or an unsigned 32-bit integer. */
typedef struct wqc_gguf_kv_out {
    const char *key;
    uint32_t type;              /* WQC_GGUF_STRING or WQC_GGUF_UINT32 */
    const char *str;
    uint32_t u32;
} wqc_gguf_kv_out;

typedef struct wqc_gguf_tensor_out {
    const char *name;
    uint32_t ndim;
    uint64_t dims[WQC_GGUF_MAX_DIMS];  /* ggml order: innermost first */
    uint32_t type;
} wqc_gguf_tensor_out;

/* Writes a version-3 header, the metadata (plus general.alignment) and the
 * tensor infos, with each tensor's data placed at the next multiple of
 * `alignment` in the order given, then the padding up to the data section.
 * The caller then writes each tensor's bytes (wqc_gguf_tensor_bytes) and
 * zero padding up to the next multiple of the alignment. */
wqc_status wqc_gguf_write_header(wqc_sink_fn sink, void *ctx, const wqc_gguf_kv_out *kv, size_t nkv,
                                 const wqc_gguf_tensor_out *t, size_t n, uint32_t alignment, wqc_error *err);
/* Bytes of a tensor of `type` and nelem weights (0 when they are not whole blocks). */
uint64_t wqc_gguf_tensor_bytes(uint32_t type, uint64_t nelem);
/* ggml's Q8_0 of n weights (a multiple of 32): per block of 32, an F16
 * d = max|w| / 127 and the int8 round(w / d). */
void wqc_q8_0_quantize(const float *w, uint64_t n, uint8_t *out);

/* The metadata entry `key`, or NULL. */
const wqc_gguf_kv *wqc_gguf_find(const wqc_gguf *g, const char *key);

#ifdef __cplusplus
}
#endif
#endif
