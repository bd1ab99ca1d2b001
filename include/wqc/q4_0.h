/* wqc/q4_0.h - the packed 4-bit GEMV that fused decoding must beat, in the
 * style of llama.cpp's Q4_0: blocks of 32 weights along a row with one F16
 * scale d, weight = d * (q - 8), q in 0..15, byte j of a block holding
 * q[j] (low nibble) and q[j + 16] (high nibble). x is F32, or quantized to
 * 8 bits per block of 32 (Q8: x ~ dx * q8) so that the dot products run on
 * integers, as llama.cpp does for CPU inference. A scalar reference and
 * AVX2, AVX-512 and NEON paths, chosen like the decoders (wqc/isa.h); the
 * SIMD paths sum in a different order, so they agree with the scalar one
 * to float rounding, not bit for bit. */
#ifndef WQC_Q4_0_H
#define WQC_Q4_0_H

#include <stdint.h>

#include "wqc/isa.h"
#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WQC_Q4_0_BLOCK 32

typedef struct wqc_q4_0_block {
    uint16_t d;          /* F16 scale */
    uint8_t qs[16];
} wqc_q4_0_block;        /* 18 bytes: 4.5 bits per weight */

typedef struct wqc_q8_block {
    float d;             /* x ~ d * qs */
    int32_t sum;         /* sum of qs, to remove the weights' -8 once per block */
    int8_t qs[32];
} wqc_q8_block;

/* Quantizes a rows x cols F32 matrix (cols a multiple of 32) to rows x
 * cols / 32 blocks: d = m / -8 where m is the element of largest magnitude,
 * q = min(15, (int)(w / d + 8.5)). */
wqc_status wqc_q4_0_quantize(const float *w, uint64_t rows, uint64_t cols, wqc_q4_0_block *out, wqc_error *err);
/* Quantizes x[cols] (a multiple of 32) to cols / 32 blocks: d = max|x| / 127, q = round(x / d). */
void wqc_q8_quantize(const float *x, uint64_t cols, wqc_q8_block *out);

/* y[rows] = W x. threads <= 0: all cores. An unavailable isa runs the scalar code. */
void wqc_q4_0_gemv_f32(wqc_isa isa, const wqc_q4_0_block *w, uint64_t rows, uint64_t cols, const float *x,
                       float *y, int threads);
void wqc_q4_0_gemv_q8(wqc_isa isa, const wqc_q4_0_block *w, uint64_t rows, uint64_t cols, const wqc_q8_block *x,
                      float *y, int threads);

#ifdef __cplusplus
}
#endif
#endif
