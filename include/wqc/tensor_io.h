/* wqc/tensor_io.h - reading tensors from .npy, .safetensors and sharded
 * safetensors checkpoints (model.safetensors.index.json).
 *
 * Files are memory-mapped; a tensor's bytes are touched only when the caller
 * reads them. Every declared size, offset and shape is validated against the
 * real file size (with overflow checks) before anything is allocated. */
#ifndef WQC_TENSOR_IO_H
#define WQC_TENSOR_IO_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/dtype.h"
#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WQC_MAX_DIMS 32
/* Largest .npy header accepted (numpy itself writes a few hundred bytes). */
#define WQC_NPY_HEADER_MAX (1u << 20)
/* Largest safetensors JSON header accepted (the reference implementation's cap). */
#define WQC_SAFETENSORS_HEADER_MAX (100u * 1000u * 1000u)
/* Largest index.json accepted. */
#define WQC_INDEX_JSON_MAX (256u << 20)

/* A tensor view: little-endian, C (row-major) order. `data` stays valid
 * until the model it came from is closed. */
typedef struct wqc_tensor {
    const char *name;
    wqc_dtype dtype;
    int ndim;                       /* 0 for a scalar */
    uint64_t shape[WQC_MAX_DIMS];
    uint64_t nelem;                 /* product of shape (1 for a scalar) */
    const unsigned char *data;
    uint64_t nbytes;                /* nelem * wqc_dtype_size(dtype) */
} wqc_tensor;

/* The matrix a tensor is quantized as: rows = shape[0] for rank >= 2, else
 * 1; cols the product of the other dimensions; 0 x 0 when empty. */
void wqc_shape_matrix(int ndim, const uint64_t *shape, uint64_t nelem, uint64_t *rows, uint64_t *cols);
void wqc_tensor_matrix(const wqc_tensor *t, uint64_t *rows, uint64_t *cols);

/* ---- what a file is ---------------------------------------------------- */

#define WQC_FILE_MAGIC "\x89WQC\r\n\x1a\n"  /* the first 8 bytes of a .wqc */

/* What a file is, from its first bytes (and the .json suffix of indexes). */
typedef enum wqc_file_format {
    WQC_FILE_UNKNOWN = 0,
    WQC_FILE_SAFETENSORS,       /* 8-byte header length, then '{' */
    WQC_FILE_NPY,               /* "\x93NUMPY" */
    WQC_FILE_SAFETENSORS_INDEX, /* *.json other than *.wqc.index.json */
    WQC_FILE_WQC,               /* the .wqc magic */
    WQC_FILE_WQC_INDEX,         /* *.wqc.index.json */
    WQC_FILE_GGUF               /* "GGUF" */
} wqc_file_format;

/* From the first len bytes of a file called path (path may be NULL). */
wqc_file_format wqc_detect_format(const uint8_t *head, size_t len, const char *path);
/* Reads the first bytes of the file at path; "-" (stdin) is not read:
 * WQC_FILE_UNKNOWN, as for a file that cannot be opened. */
wqc_file_format wqc_detect_file(const char *path);
/* "safetensors", "npy", "safetensors index", ".wqc", "sharded .wqc index", "GGUF", "unknown". */
const char *wqc_file_format_name(wqc_file_format f);

/* ---- .npy -------------------------------------------------------------- */

typedef struct wqc_npy_header {
    int version_major;              /* 1, 2 or 3 */
    wqc_dtype dtype;                /* F32, F16, I8 or U8 */
    int big_endian;                 /* data stored big-endian ('>' descr) */
    int fortran_order;
    int ndim;
    uint64_t shape[WQC_MAX_DIMS];
    uint64_t nelem;
    size_t data_offset;             /* bytes from the start of the file */
    uint64_t data_bytes;
} wqc_npy_header;

/* Parses the header of an in-memory .npy file of `len` bytes and checks that
 * exactly nelem * itemsize bytes of data follow it. */
wqc_status wqc_npy_parse_header(const unsigned char *buf, size_t len, wqc_npy_header *out,
                                wqc_error *err);

/* The bytes a .npy file declares (header and data), from buf[0..len),
 * which must hold at least its header: what a reader of a stream reads. */
wqc_status wqc_npy_declared_size(const unsigned char *buf, size_t len, uint64_t *total, wqc_error *err);

/* Copies the data of a parsed .npy file into `dst` (hdr->data_bytes bytes) in
 * little-endian C order, swapping bytes and transposing Fortran order. */
void wqc_npy_copy_c_order(const wqc_npy_header *hdr, const unsigned char *file, unsigned char *dst);

/* ---- .safetensors ------------------------------------------------------ */

typedef struct wqc_kv {
    char *key;
    char *value;
} wqc_kv;

typedef struct wqc_st_entry {
    char *name;
    wqc_dtype dtype;
    int ndim;
    uint64_t shape[WQC_MAX_DIMS];
    uint64_t nelem;
    uint64_t begin, end;            /* offsets into the data section */
} wqc_st_entry;

typedef struct wqc_st_header {
    uint64_t header_len;            /* bytes of JSON */
    uint64_t data_offset;           /* 8 + header_len */
    size_t count;
    wqc_st_entry *entries;          /* sorted by begin offset */
    size_t nmeta;
    wqc_kv *meta;                   /* __metadata__, in file order */
} wqc_st_header;

/* The bytes a .safetensors file declares: 8 + its header + the end of its
 * last tensor, from buf[0..len), which must hold at least the header. */
wqc_status wqc_safetensors_declared_size(const unsigned char *buf, size_t len, uint64_t *total, wqc_error *err);

/* Parses and validates the header of an in-memory .safetensors file: header
 * length within the file and WQC_SAFETENSORS_HEADER_MAX, valid JSON object,
 * known dtypes, byte ranges matching shape * dtype size, ranges contiguous
 * from 0 with no overlap or gap, ending exactly at the end of the file. */
wqc_status wqc_safetensors_parse(const unsigned char *buf, size_t len, wqc_st_header *out,
                                 wqc_error *err);
void wqc_st_header_free(wqc_st_header *hdr);

/* ---- models: one or more files seen as one list of tensors ------------- */

typedef enum wqc_model_format {
    WQC_FORMAT_NPY,
    WQC_FORMAT_SAFETENSORS,
    WQC_FORMAT_SAFETENSORS_INDEX,
    WQC_FORMAT_TENSORS           /* the caller's tensors in memory (wqc_model_from_tensors) */
} wqc_model_format;

typedef struct wqc_model wqc_model;

/* Opens a .npy file, a .safetensors file, or a sharded checkpoint through its
 * `*.index.json` (shards are resolved next to the index; absolute paths and
 * '..' components are refused). "-" reads a .npy or .safetensors from stdin.
 * The format is detected from content (and the .json suffix for indexes).
 * A .npy tensor is named after the file's base name without ".npy". */
wqc_status wqc_model_open(const char *path, wqc_model **out, wqc_error *err);
/* A model over the caller's tensors (name, dtype, shape, nelem, data,
 * nbytes; distinct names) and metadata, which must outlive it: what
 * wqc_model_encode (wqc/model_encode.h) codes for a client that holds its
 * weights in memory. Nothing is copied but the arrays of structs. */
wqc_status wqc_model_from_tensors(const wqc_tensor *tensors, size_t n, const wqc_kv *meta, size_t nmeta,
                                  wqc_model **out, wqc_error *err);
/* A size as users give shards one: bytes with an optional K, M, G, T
 * (powers of 1000, as transformers' max_shard_size) or KiB, MiB, GiB, TiB
 * suffix (B optional), above 0. Returns 1, or 0 when malformed. */
int wqc_size_parse(const char *text, uint64_t *bytes);
/* The JSON text of a sharded file's index (the layout of a safetensors
 * *.index.json): metadata (total_size, then meta) and a weight_map of
 * names[i] to files[file_of[i]], keys sorted; malloc'ed, NULL when out of
 * memory. wqc_model_open and wqc_archive_open read what this writes. */
char *wqc_index_json(const char *const *names, const size_t *file_of, size_t n, const char *const *files,
                     uint64_t total_size, const wqc_kv *meta, size_t nmeta);
/* The rule an index's shard names follow: a relative path without a '..'
 * component (so that an index cannot reach outside its folder). */
int wqc_shard_path_is_safe(const char *path);
void wqc_model_close(wqc_model *model);

wqc_model_format wqc_model_format_of(const wqc_model *model);
size_t wqc_model_count(const wqc_model *model);
/* Tensors in file order (shard by shard for an index). */
const wqc_tensor *wqc_model_tensor(const wqc_model *model, size_t index);
/* The file tensor i lies in: 0 for a single file, the shard (0, 1, ... in
 * the sorted order of the index's shard names) for an index. */
size_t wqc_model_shard_of(const wqc_model *model, size_t index);
/* Tells the system that tensor i's bytes will not be read again: the pages
 * of a mapped file are dropped from this process (they are read back from
 * the file if touched later), so that a pass over a large model keeps
 * little of it resident. Nothing for data held in memory. */
void wqc_model_release(const wqc_model *model, size_t index);
/* The same for any bytes of the model's tensors (data[0..nbytes)). */
void wqc_model_release_data(const wqc_model *model, const void *data, uint64_t nbytes);
/* The layout of a single .safetensors or .npy file, for storing it so that
 * it comes back byte for byte: the header is the file's first *header_len
 * bytes, and order[0..count) lists the tensors by position; together they
 * tile the rest of the file exactly. WQC_ERR_UNSUPPORTED for an index, a
 * .npy converted on reading (Fortran order, big-endian), or gaps. */
wqc_status wqc_model_layout(const wqc_model *model, uint64_t *header_len, size_t *order, wqc_error *err);
/* The bytes of the model's (first) file as read. */
const unsigned char *wqc_model_bytes(const wqc_model *model, uint64_t *len);
/* Metadata (safetensors __metadata__ or the index's "metadata" strings). */
size_t wqc_model_metadata_count(const wqc_model *model);
const wqc_kv *wqc_model_metadata(const wqc_model *model, size_t index);

/* ---- writing ------------------------------------------------------------ */

/* Receives a file's bytes in order; returns WQC_OK or an error status. */
typedef wqc_status (*wqc_sink_fn)(void *ctx, const void *buf, size_t len, wqc_error *err);

/* A file written to memory: wqc_memory_sink appends to the wqc_memory_out
 * given as ctx (zeroed to start), WQC_ERR_NOMEM if it cannot grow. free(data). */
typedef struct wqc_memory_out {
    uint8_t *data;
    size_t len, cap;
} wqc_memory_out;
wqc_status wqc_memory_sink(void *ctx, const void *buf, size_t len, wqc_error *err);
/* A caller's buffer of fixed size: wqc_buffer_sink copies to at and moves it
 * on; more than reaches end is WQC_ERR_FORMAT (a decoder that gives more
 * than it declared). The caller checks at == end for a short output. */
typedef struct wqc_buffer_out {
    uint8_t *at, *end;
} wqc_buffer_out;
wqc_status wqc_buffer_sink(void *ctx, const void *buf, size_t len, wqc_error *err);

/* Writes a .safetensors file: the tensors in the order given (their `data`
 * little-endian, `nbytes` each), data offsets contiguous from 0, and the
 * metadata as __metadata__ (omitted when n_meta is 0). The JSON header is
 * padded with spaces to a multiple of 8 bytes. The same input always gives
 * the same bytes. */
wqc_status wqc_safetensors_write(wqc_sink_fn sink, void *ctx, const wqc_tensor *tensors, size_t n,
                                 const wqc_kv *meta, size_t n_meta, wqc_error *err);
/* The header alone (from each tensor's name, dtype, shape and nbytes; data
 * unused): a caller that streams the tensors' bytes after it, in order. */
wqc_status wqc_safetensors_write_header(wqc_sink_fn sink, void *ctx, const wqc_tensor *tensors, size_t n,
                                        const wqc_kv *meta, size_t n_meta, wqc_error *err);

/* Writes a .npy version 1.0 file (C order) of a F32, F16, I8 or U8 tensor. */
wqc_status wqc_npy_write(wqc_sink_fn sink, void *ctx, const wqc_tensor *t, wqc_error *err);
/* The .npy header alone; nbytes of data follow it. */
wqc_status wqc_npy_write_header(wqc_sink_fn sink, void *ctx, const wqc_tensor *t, wqc_error *err);

/* Converts a F32/F16/BF16/I8/U8 tensor to a newly malloc'ed float32 array
 * (exact). WQC_ERR_UNSUPPORTED for other dtypes, WQC_ERR_NOMEM. */
wqc_status wqc_tensor_to_f32(const wqc_tensor *t, float **out, wqc_error *err);

#ifdef __cplusplus
}
#endif
#endif
