/* wqc/fp8.h - FP8 checkpoints as DeepSeek-V3 ships its weights: a matrix as
 * F8_E4M3 codes (OCP E4M3FN: bias 7, no infinities, 448 the largest finite
 * value) with one F32 scale per 128 x 128 block, `NAME_scale_inv` (shape
 * ceil(rows/128) x ceil(cols/128)) such that weight = fp8 * scale_inv, where
 * scale_inv = amax(block) / 448 rounded to F32 (1 for a block of zeros) and
 * each value w / scale_inv is rounded, in double, to the nearest E4M3FN value
 * (ties to the even code), saturated at +-448. */
#ifndef WQC_FP8_H
#define WQC_FP8_H

#include <stdint.h>

#include "wqc/status.h"
#include "wqc/tensor_io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WQC_FP8_BLOCK 128
#define WQC_E4M3_MAX 448.0

/* The E4M3FN code of x rounded to nearest (ties to the even code) and
 * saturated; NaN gives the NaN code 0x7f (with x's sign). */
uint8_t wqc_e4m3_encode(double x);
/* The value of an E4M3FN code (NaN for 0x7f and 0xff). */
double wqc_e4m3_decode(uint8_t code);

/* A rows x cols matrix (row-major) into codes[rows x cols] and
 * scale_inv[ceil(rows/128) x ceil(cols/128)]. WQC_ERR_INVALID_ARG names the
 * first value that is not finite. */
wqc_status wqc_fp8_block_quantize(const float *w, uint64_t rows, uint64_t cols, uint8_t *codes, float *scale_inv,
                                  wqc_error *err);

/* quantize --format fp8: the model as safetensors in which every float
 * matrix but the embedding and the output head (names containing "embed" or
 * "lm_head") becomes F8_E4M3 with its NAME_scale_inv right after it; other
 * tensors as they are; the source's metadata, and "quantization" saying so. */
typedef struct wqc_fp8_options {
    void (*done)(void *ctx, size_t tensor);
    void *done_ctx;
    int threads;                /* tensors converted at once (<= 0: every core) */
} wqc_fp8_options;
wqc_status wqc_model_to_fp8(const wqc_model *m, const wqc_fp8_options *o, wqc_sink_fn sink, void *ctx,
                            wqc_error *err);

#ifdef __cplusplus
}
#endif
#endif
