/* wqc/f16_gemv.h - y = W x with W stored in IEEE binary16 (how most models
 * are shipped), the uncompressed reference next to Q4_0 and the fused
 * product. Scalar reference and AVX2 (F16C), AVX-512 and NEON paths, chosen
 * like the decoders (wqc/isa.h); the SIMD paths sum in another order, so
 * they agree with the scalar one to float rounding. */
#ifndef WQC_F16_GEMV_H
#define WQC_F16_GEMV_H

#include <stdint.h>

#include "wqc/isa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y[rows] = W x, W row-major rows x cols binary16. threads <= 0: all cores.
 * An unavailable isa runs the scalar code. */
void wqc_f16_gemv(wqc_isa isa, const uint16_t *w, uint64_t rows, uint64_t cols, const float *x, float *y,
                  int threads);

#ifdef __cplusplus
}
#endif
#endif
