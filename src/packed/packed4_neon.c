/* Packed 4-bit unpack and dequantize with NEON. */
#include <arm_neon.h>

#include "packed4_kernel.h"

size_t wqc_packed4_unpack_neon(const uint8_t *in, size_t n, uint8_t *sym)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint8x16_t b = vld1q_u8(in + i / 2);
        uint8x16x2_t z = vzipq_u8(vandq_u8(b, vdupq_n_u8(15)), vshrq_n_u8(b, 4));
        vst1q_u8(sym + i, z.val[0]);
        vst1q_u8(sym + i + 16, z.val[1]);
    }
    return i;
}

static inline float32x4_t dequant4(uint16x4_t q, float32x4_t sc, float32x4_t of)
{
    return vaddq_f32(of, vmulq_f32(sc, vcvtq_f32_u32(vmovl_u16(q))));
}

size_t wqc_packed4_dequant_neon(const uint8_t *in, size_t n, float scale, float offset, float *out)
{
    const float32x4_t sc = vdupq_n_f32(scale), of = vdupq_n_f32(offset);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint8x8_t b = vld1_u8(in + i / 2);
        uint8x8x2_t z = vzip_u8(vand_u8(b, vdup_n_u8(15)), vshr_n_u8(b, 4));
        uint16x8_t q0 = vmovl_u8(z.val[0]), q1 = vmovl_u8(z.val[1]);
        vst1q_f32(out + i, dequant4(vget_low_u16(q0), sc, of));
        vst1q_f32(out + i + 4, dequant4(vget_high_u16(q0), sc, of));
        vst1q_f32(out + i + 8, dequant4(vget_low_u16(q1), sc, of));
        vst1q_f32(out + i + 12, dequant4(vget_high_u16(q1), sc, of));
    }
    return i;
}
