/* Internal: per-ISA Q4_0 row kernels: y[r] for rows r0..r1 of a matrix of
 * nb blocks per row. */
#ifndef WQC_Q4_0_KERNEL_H
#define WQC_Q4_0_KERNEL_H

#include "wqc/q4_0.h"

typedef void (*q4_0_f32_fn)(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const float *x,
                            float *y);
typedef void (*q4_0_q8_fn)(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const wqc_q8_block *x,
                           float *y);

void wqc_q4_0_f32_avx2(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const float *x, float *y);
void wqc_q4_0_f32_avx512(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const float *x, float *y);
void wqc_q4_0_f32_neon(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const float *x, float *y);
void wqc_q4_0_q8_avx2(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const wqc_q8_block *x,
                      float *y);
void wqc_q4_0_q8_avx512(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const wqc_q8_block *x,
                        float *y);
void wqc_q4_0_q8_neon(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const wqc_q8_block *x,
                      float *y);

#endif
