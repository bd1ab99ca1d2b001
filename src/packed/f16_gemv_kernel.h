/* Internal: per-ISA binary16 GEMV row kernels, y[r] for rows r0..r1. */
#ifndef WQC_F16_GEMV_KERNEL_H
#define WQC_F16_GEMV_KERNEL_H

#include "wqc/f16_gemv.h"

typedef void (*f16_gemv_fn)(const uint16_t *w, uint64_t r0, uint64_t r1, uint64_t cols, const float *x, float *y);

void wqc_f16_gemv_avx2(const uint16_t *w, uint64_t r0, uint64_t r1, uint64_t cols, const float *x, float *y);
void wqc_f16_gemv_avx512(const uint16_t *w, uint64_t r0, uint64_t r1, uint64_t cols, const float *x, float *y);
void wqc_f16_gemv_neon(const uint16_t *w, uint64_t r0, uint64_t r1, uint64_t cols, const float *x, float *y);

#endif
