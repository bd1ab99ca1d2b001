/* Packed 4-bit unpack and dequantize with AVX2. */
#include <immintrin.h>
#include <string.h>

#include "packed4_kernel.h"

size_t wqc_packed4_unpack_avx2(const uint8_t *in, size_t n, uint8_t *sym)
{
    const __m256i low = _mm256_set1_epi8(15);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m256i b = _mm256_loadu_si256((const __m256i *)(in + i / 2));
        __m256i lo = _mm256_and_si256(b, low), hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), low);
        __m256i a = _mm256_unpacklo_epi8(lo, hi), c = _mm256_unpackhi_epi8(lo, hi);
        _mm256_storeu_si256((__m256i *)(sym + i), _mm256_permute2x128_si256(a, c, 0x20));
        _mm256_storeu_si256((__m256i *)(sym + i + 32), _mm256_permute2x128_si256(a, c, 0x31));
    }
    return i;
}

size_t wqc_packed4_dequant_avx2(const uint8_t *in, size_t n, float scale, float offset, float *out)
{
    const __m128i low = _mm_set1_epi8(15);
    const __m256 sc = _mm256_set1_ps(scale), of = _mm256_set1_ps(offset);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadl_epi64((const __m128i *)(in + i / 2));
        __m128i q = _mm_unpacklo_epi8(_mm_and_si128(b, low), _mm_and_si128(_mm_srli_epi16(b, 4), low));
        __m256 f0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(q));
        __m256 f1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(q, 8)));
        _mm256_storeu_ps(out + i, _mm256_add_ps(of, _mm256_mul_ps(sc, f0)));
        _mm256_storeu_ps(out + i + 8, _mm256_add_ps(of, _mm256_mul_ps(sc, f1)));
    }
    return i;
}
