/* Binary16 GEMV, NEON: 8 weights per step (vcvt from half) into two accumulators. */
#include <arm_neon.h>

#include "f16_gemv_kernel.h"
#include "wqc/dtype.h"

void wqc_f16_gemv_neon(const uint16_t *w, uint64_t r0, uint64_t r1, uint64_t cols, const float *x, float *y)
{
    for (uint64_t r = r0; r < r1; r++) {
        const uint16_t *row = w + r * cols;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = vdupq_n_f32(0.0f);
        uint64_t j = 0;
        for (; j + 8 <= cols; j += 8) {
            a0 = vfmaq_f32(a0, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(row + j))), vld1q_f32(x + j));
            a1 = vfmaq_f32(a1, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(row + j + 4))), vld1q_f32(x + j + 4));
        }
        float acc = vaddvq_f32(vaddq_f32(a0, a1));
        for (; j < cols; j++) acc += wqc_f16_to_f32(row[j]) * x[j];
        y[r] = acc;
    }
}
