/* A model from any input the tool reads: a .wqc (one file, or the index of
 * a sharded one), the quantized safetensors of `quantize`, or plain tensors
 * (.safetensors, .npy, a safetensors index). For the commands that look at
 * tensors wherever they live: info --digest, verify --digest, diff. */
#ifndef WQC_TOOLS_ANY_MODEL_H
#define WQC_TOOLS_ANY_MODEL_H

#include "cli_archive.h"

typedef struct any_model {
    const char *path;
    int is_wqc;
    wqc_archive *wqc;          /* is_wqc */
    wqc_model *m;           /* otherwise */
    wqc_frame *qframes;     /* a quantized safetensors: its frames */
    size_t count;
} any_model;

/* A .wqc by its magic (or a *.wqc.index.json); the rest through
 * wqc_model_open. Prints the error and returns the exit status. The key of a
 * (.wqc checks the HMAC with it); a->input is replaced by path. */
int any_model_open(any_model *am, const coding_args *a, const char *path);
void any_model_close(any_model *am);

const char *any_model_name(const any_model *am, size_t i);
/* Tensor i's digest (wqc/digest.h); errors name the file. */
wqc_status any_model_digest(any_model *am, size_t i, int threads, uint8_t out[32], wqc_error *err);

/* Tensor i as float32 (quantized ones dequantized), with its shape and the
 * dtype it has in the input (malloc'ed; free it). Non-float integer tensors
 * come as their values. */
typedef struct any_tensor {
    float *w;
    uint64_t nelem;
    int ndim;
    uint64_t shape[WQC_MAX_DIMS];
    wqc_dtype dtype;
    int quantized;
} any_tensor;
wqc_status any_model_floats(any_model *am, size_t i, int threads, any_tensor *out, wqc_error *err);
/* The tensor's file pages may go. */
void any_model_release(any_model *am, size_t i);

/* Exit status for a failure on tensor i (corrupt .wqc: 4). */
int any_model_fail(const any_model *am, size_t i, wqc_status st, const wqc_error *err);

#endif
