/* Binary16 GEMV, AVX2 + F16C: 16 weights per step into two accumulators. */
#include <immintrin.h>

#include "f16_gemv_kernel.h"
#include "wqc/dtype.h"

void wqc_f16_gemv_avx2(const uint16_t *w, uint64_t r0, uint64_t r1, uint64_t cols, const float *x, float *y)
{
    for (uint64_t r = r0; r < r1; r++) {
        const uint16_t *row = w + r * cols;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        uint64_t j = 0;
        for (; j + 16 <= cols; j += 16) {
            a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + j))), _mm256_loadu_ps(x + j), a0);
            a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + j + 8))),
                                 _mm256_loadu_ps(x + j + 8), a1);
        }
        __m256 a = _mm256_add_ps(a0, a1);
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        float acc = _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
        for (; j < cols; j++) acc += wqc_f16_to_f32(row[j]) * x[j];
        y[r] = acc;
    }
}
