/* wqc/weights.h - the tensors of any input wqc reads, wherever they live:
 * plain tensors (.safetensors, .npy, a safetensors index), the quantized
 * safetensors of `wqc quantize`, a .wqc or a sharded .wqc's index; the
 * format told by the file's first bytes (wqc_detect_format, wqc/tensor_io.h). For whatever
 * compares or fingerprints weights across formats: `wqc diff`,
 * `info --digest`, `verify --digest`, a client checking a download.
 *
 * Threads: distinct handles on distinct threads; one handle one thread at a
 * time. Nothing here prints or exits. */
#ifndef WQC_WEIGHTS_H
#define WQC_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/archive.h"
#include "wqc/tensor_io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wqc_weights wqc_weights;

/* Opens any of the inputs above (opts: the .wqc's key; may be NULL). A GGUF
 * file is WQC_ERR_UNSUPPORTED here. */
wqc_status wqc_weights_open(const char *path, const wqc_archive_options *opts, wqc_weights **out, wqc_error *err);
void wqc_weights_close(wqc_weights *w);

size_t wqc_weights_count(const wqc_weights *w);
const char *wqc_weights_name(const wqc_weights *w, size_t i);
/* Index of the tensor called name, or (size_t)-1. */
size_t wqc_weights_find(const wqc_weights *w, const char *name);
/* Tensor i's rank, with its shape in shape[] (nothing is decoded); -1 when a
 * .wqc's descriptor cannot be read. */
int wqc_weights_shape(wqc_weights *w, size_t i, uint64_t shape[WQC_MAX_DIMS]);
/* The value of metadata entry `key` (the safetensors __metadata__, or a
 * .wqc's first file's), or NULL. */
const char *wqc_weights_metadata(const wqc_weights *w, const char *key);
/* The .wqc behind w, or NULL for plain and quantized safetensors. */
wqc_archive *wqc_weights_archive(const wqc_weights *w);
/* The file tensor i is in (for errors). */
const char *wqc_weights_path(const wqc_weights *w, size_t i);

/* Tensor i's digest (wqc/digest.h): the same for the same values in any format. */
wqc_status wqc_weights_digest(wqc_weights *w, size_t i, int threads, uint8_t out[32], wqc_error *err);

/* Every tensor's digest (tensor[i], room for wqc_weights_count) and the
 * model's (wqc_digest_model over all of them). On failure *failed (may be
 * NULL) is the tensor that failed. done (may be NULL) follows each tensor. */
wqc_status wqc_weights_digest_all(wqc_weights *w, int threads, uint8_t (*tensor)[32], uint8_t model[32],
                                  void (*done)(void *ctx, size_t i), void *ctx, size_t *failed, wqc_error *err);

/* Tensor i as float32: quantized tensors dequantized, 8-bit integers (given
 * symbols included) as their values; WQC_ERR_UNSUPPORTED for dtypes with no
 * float values. w (malloc'ed) is the caller's to free. */
typedef struct wqc_float_tensor {
    float *w;
    uint64_t nelem;
    int ndim;
    uint64_t shape[WQC_MAX_DIMS];
    wqc_dtype dtype;             /* the dtype it has in the input */
    int quantized;
} wqc_float_tensor;
wqc_status wqc_weights_floats(wqc_weights *w, size_t i, int threads, wqc_float_tensor *out, wqc_error *err);
/* Done with tensor i: a mapped file's pages may go. */
void wqc_weights_release(wqc_weights *w, size_t i);

#ifdef __cplusplus
}
#endif
#endif
