/* Q4_0 GEMV, AVX2: one block of 32 weights per step. F32 x: nibbles to
 * floats and four FMAs; Q8 x: unsigned nibbles times signed bytes
 * (maddubs), pairs summed to int32, the -8 offset removed with the block's
 * sum of x, then one FMA with the two scales. */
#include <immintrin.h>

#include "q4_0_kernel.h"

static inline float f16(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }

static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

void wqc_q4_0_f32_avx2(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const float *x, float *y)
{
    const __m128i m4 = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
    for (uint64_t r = r0; r < r1; r++) {
        const wqc_q4_0_block *k = w + r * nb;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        for (uint64_t b = 0; b < nb; b++) {
            __m128i q = _mm_loadu_si128((const __m128i *)k[b].qs);
            __m128i lo = _mm_sub_epi8(_mm_and_si128(q, m4), eight);
            __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), eight);
            const float *v = x + 32 * b;
            __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), _mm256_loadu_ps(v));
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), _mm256_loadu_ps(v + 8), s);
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), _mm256_loadu_ps(v + 16), s);
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), _mm256_loadu_ps(v + 24), s);
            if (b & 1) acc1 = _mm256_fmadd_ps(_mm256_set1_ps(f16(k[b].d)), s, acc1);
            else acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16(k[b].d)), s, acc0);
        }
        y[r] = hsum(_mm256_add_ps(acc0, acc1));
    }
}

/* int32 partial sums (8 lanes) of one block's q * x8, with the -8 removed. */
static inline __m256i block_q8(const wqc_q4_0_block *k, const wqc_q8_block *x)
{
    const __m256i m4 = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    __m128i q = _mm_loadu_si128((const __m128i *)k->qs);
    __m256i qv = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), m4);
    __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(qv, _mm256_loadu_si256((const __m256i *)x->qs)), ones);
    return _mm256_sub_epi32(p, _mm256_setr_epi32(8 * x->sum, 0, 0, 0, 0, 0, 0, 0));
}

void wqc_q4_0_q8_avx2(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const wqc_q8_block *x,
                      float *y)
{
    for (uint64_t r = r0; r < r1; r++) {
        const wqc_q4_0_block *k = w + r * nb;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        uint64_t b = 0;
        for (; b + 1 < nb; b += 2) {
            __m256i p0 = block_q8(&k[b], &x[b]), p1 = block_q8(&k[b + 1], &x[b + 1]);
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16(k[b].d) * x[b].d), _mm256_cvtepi32_ps(p0), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(f16(k[b + 1].d) * x[b + 1].d), _mm256_cvtepi32_ps(p1), acc1);
        }
        if (b < nb)
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16(k[b].d) * x[b].d), _mm256_cvtepi32_ps(block_q8(&k[b], &x[b])), acc0);
        y[r] = hsum(_mm256_add_ps(acc0, acc1));
    }
}
