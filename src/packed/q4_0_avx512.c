/* Q4_0 GEMV, AVX-512: F32 x takes one block per step (two 16-float FMAs);
 * Q8 x takes two blocks per 512-bit maddubs, the nibbles of each block
 * spread over two 128-bit lanes by a per-lane shift. */
#include <immintrin.h>

#include "q4_0_kernel.h"

static inline float f16(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }

void wqc_q4_0_f32_avx512(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const float *x, float *y)
{
    const __m128i m4 = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
    for (uint64_t r = r0; r < r1; r++) {
        const wqc_q4_0_block *k = w + r * nb;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        for (uint64_t b = 0; b < nb; b++) {
            __m128i q = _mm_loadu_si128((const __m128i *)k[b].qs);
            __m128i lo = _mm_sub_epi8(_mm_and_si128(q, m4), eight);
            __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), eight);
            const float *v = x + 32 * b;
            __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo)), _mm512_loadu_ps(v));
            s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi)), _mm512_loadu_ps(v + 16), s);
            if (b & 1) acc1 = _mm512_fmadd_ps(_mm512_set1_ps(f16(k[b].d)), s, acc1);
            else acc0 = _mm512_fmadd_ps(_mm512_set1_ps(f16(k[b].d)), s, acc0);
        }
        y[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    }
}

void wqc_q4_0_q8_avx512(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const wqc_q8_block *x,
                        float *y)
{
    const __m512i m4 = _mm512_set1_epi8(15), ones = _mm512_set1_epi16(1);
    /* 128-bit lanes: low nibbles of block b, high of b, low of b + 1, high of b + 1. */
    const __m512i shift = _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0, 0x0004000400040004,
                                            0x0004000400040004);
    for (uint64_t r = r0; r < r1; r++) {
        const wqc_q4_0_block *k = w + r * nb;
        __m512 acc = _mm512_setzero_ps();
        float tail = 0.0f;
        uint64_t b = 0;
        for (; b + 1 < nb; b += 2) {
            __m256i q0 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)k[b].qs));
            __m256i q1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)k[b + 1].qs));
            __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
            q = _mm512_and_si512(_mm512_srlv_epi16(q, shift), m4);
            __m512i xv = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)x[b].qs)),
                                            _mm256_loadu_si256((const __m256i *)x[b + 1].qs), 1);
            __m512i p = _mm512_madd_epi16(_mm512_maddubs_epi16(q, xv), ones);
            __m512 sums = _mm512_cvtepi32_ps(p);
            float s0 = f16(k[b].d) * x[b].d, s1 = f16(k[b + 1].d) * x[b + 1].d;
            acc = _mm512_fmadd_ps(_mm512_mask_blend_ps(0xff00, _mm512_set1_ps(s0), _mm512_set1_ps(s1)), sums, acc);
            tail -= 8.0f * (s0 * (float)x[b].sum + s1 * (float)x[b + 1].sum);
        }
        for (; b < nb; b++) {
            int32_t s = 0;
            for (int j = 0; j < 16; j++) s += (k[b].qs[j] & 15) * x[b].qs[j] + (k[b].qs[j] >> 4) * x[b].qs[j + 16];
            tail += f16(k[b].d) * x[b].d * (float)(s - 8 * x[b].sum);
        }
        y[r] = _mm512_reduce_add_ps(acc) + tail;
    }
}
