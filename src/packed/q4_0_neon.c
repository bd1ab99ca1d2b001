/* Q4_0 GEMV, NEON: F32 x widens the nibbles to floats (eight FMAs of four
 * per block); Q8 x multiplies bytes into int16 (vmull/vmlal: at most four
 * products of 15 x 127 per lane, no overflow) and sums pairs into int32. */
#include <arm_neon.h>

#include "q4_0_kernel.h"
#include "wqc/dtype.h"

static inline float32x4_t widen(int8x8_t v, int high)
{
    int16x8_t h = vmovl_s8(v);
    return vcvtq_f32_s32(vmovl_s16(high ? vget_high_s16(h) : vget_low_s16(h)));
}

void wqc_q4_0_f32_neon(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const float *x, float *y)
{
    const uint8x16_t m4 = vdupq_n_u8(15);
    const int8x16_t eight = vdupq_n_s8(8);
    for (uint64_t r = r0; r < r1; r++) {
        const wqc_q4_0_block *k = w + r * nb;
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (uint64_t b = 0; b < nb; b++) {
            uint8x16_t q = vld1q_u8(k[b].qs);
            int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), eight);
            int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
            const float *v = x + 32 * b;
            float32x4_t s = vmulq_f32(widen(vget_low_s8(lo), 0), vld1q_f32(v));
            s = vfmaq_f32(s, widen(vget_low_s8(lo), 1), vld1q_f32(v + 4));
            s = vfmaq_f32(s, widen(vget_high_s8(lo), 0), vld1q_f32(v + 8));
            s = vfmaq_f32(s, widen(vget_high_s8(lo), 1), vld1q_f32(v + 12));
            s = vfmaq_f32(s, widen(vget_low_s8(hi), 0), vld1q_f32(v + 16));
            s = vfmaq_f32(s, widen(vget_low_s8(hi), 1), vld1q_f32(v + 20));
            s = vfmaq_f32(s, widen(vget_high_s8(hi), 0), vld1q_f32(v + 24));
            s = vfmaq_f32(s, widen(vget_high_s8(hi), 1), vld1q_f32(v + 28));
            acc = vfmaq_n_f32(acc, s, wqc_f16_to_f32(k[b].d));
        }
        y[r] = vaddvq_f32(acc);
    }
}

void wqc_q4_0_q8_neon(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const wqc_q8_block *x,
                      float *y)
{
    const uint8x16_t m4 = vdupq_n_u8(15);
    for (uint64_t r = r0; r < r1; r++) {
        const wqc_q4_0_block *k = w + r * nb;
        float32x4_t acc = vdupq_n_f32(0.0f);
        float tail = 0.0f;
        for (uint64_t b = 0; b < nb; b++) {
            uint8x16_t q = vld1q_u8(k[b].qs);
            int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(q, m4)), hi = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
            int8x16_t x0 = vld1q_s8(x[b].qs), x1 = vld1q_s8(x[b].qs + 16);
            int16x8_t p = vmull_s8(vget_low_s8(lo), vget_low_s8(x0));
            p = vmlal_s8(p, vget_high_s8(lo), vget_high_s8(x0));
            p = vmlal_s8(p, vget_low_s8(hi), vget_low_s8(x1));
            p = vmlal_s8(p, vget_high_s8(hi), vget_high_s8(x1));
            float s = wqc_f16_to_f32(k[b].d) * x[b].d;
            acc = vfmaq_n_f32(acc, vcvtq_f32_s32(vpaddlq_s16(p)), s);
            tail -= 8.0f * s * (float)x[b].sum;
        }
        y[r] = vaddvq_f32(acc) + tail;
    }
}
