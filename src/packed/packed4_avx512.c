/* Packed 4-bit unpack and dequantize with AVX-512 (F + BW). */
#include <immintrin.h>

#include "packed4_kernel.h"

size_t wqc_packed4_unpack_avx512(const uint8_t *in, size_t n, uint8_t *sym)
{
    const __m512i low = _mm512_set1_epi8(15);
    /* unpacklo/hi interleave within 128-bit blocks; put the blocks back in order. */
    const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    const __m512i second = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        __m512i b = _mm512_loadu_si512(in + i / 2);
        __m512i lo = _mm512_and_si512(b, low), hi = _mm512_and_si512(_mm512_srli_epi16(b, 4), low);
        __m512i a = _mm512_unpacklo_epi8(lo, hi), c = _mm512_unpackhi_epi8(lo, hi);
        _mm512_storeu_si512(sym + i, _mm512_permutex2var_epi64(a, first, c));
        _mm512_storeu_si512(sym + i + 64, _mm512_permutex2var_epi64(a, second, c));
    }
    return i;
}

size_t wqc_packed4_dequant_avx512(const uint8_t *in, size_t n, float scale, float offset, float *out)
{
    const __m128i low = _mm_set1_epi8(15);
    const __m512 sc = _mm512_set1_ps(scale), of = _mm512_set1_ps(offset);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m128i b = _mm_loadu_si128((const __m128i *)(in + i / 2));
        __m128i lo = _mm_and_si128(b, low), hi = _mm_and_si128(_mm_srli_epi16(b, 4), low);
        __m512 f0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi)));
        __m512 f1 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpackhi_epi8(lo, hi)));
        _mm512_storeu_ps(out + i, _mm512_add_ps(of, _mm512_mul_ps(sc, f0)));
        _mm512_storeu_ps(out + i + 16, _mm512_add_ps(of, _mm512_mul_ps(sc, f1)));
    }
    return i;
}
