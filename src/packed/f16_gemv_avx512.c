/* Binary16 GEMV, AVX-512: 32 weights per step into two accumulators. */
#include <immintrin.h>

#include "f16_gemv_kernel.h"
#include "wqc/dtype.h"

void wqc_f16_gemv_avx512(const uint16_t *w, uint64_t r0, uint64_t r1, uint64_t cols, const float *x, float *y)
{
    for (uint64_t r = r0; r < r1; r++) {
        const uint16_t *row = w + r * cols;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        uint64_t j = 0;
        for (; j + 32 <= cols; j += 32) {
            a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + j))), _mm512_loadu_ps(x + j), a0);
            a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + j + 16))),
                                 _mm512_loadu_ps(x + j + 16), a1);
        }
        float acc = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
        for (; j < cols; j++) acc += wqc_f16_to_f32(row[j]) * x[j];
        y[r] = acc;
    }
}
