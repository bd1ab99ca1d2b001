/* AVX-512 merge: 32 16-bit values or 16 32-bit values per step. */
#include <immintrin.h>

#include "merge_kernel.h"

size_t wqc_merge_avx512(wqc_dtype dtype, const uint8_t *sym, const uint8_t *const *rest, size_t n, void *out)
{
    size_t i = 0;
    if (dtype == WQC_DTYPE_F32) {
        const __m512i sign = _mm512_set1_epi32(0x80), low7 = _mm512_set1_epi32(0x7f);
        uint32_t *o = out;
        for (; i + 16 <= n; i += 16) {
            __m512i s = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(sym + i)));
            __m512i r0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(rest[0] + i)));
            __m512i r1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(rest[1] + i)));
            __m512i r2 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(rest[2] + i)));
            __m512i v = _mm512_or_si512(_mm512_slli_epi32(_mm512_and_si512(r0, sign), 24), _mm512_slli_epi32(s, 23));
            v = _mm512_or_si512(v, _mm512_slli_epi32(_mm512_and_si512(r0, low7), 16));
            v = _mm512_or_si512(v, _mm512_or_si512(_mm512_slli_epi32(r1, 8), r2));
            _mm512_storeu_si512(o + i, v);
        }
        return i;
    }
    const __m512i sign = _mm512_set1_epi16(0x80), low7 = _mm512_set1_epi16(0x7f);
    uint16_t *o = out;
    for (; i + 32 <= n; i += 32) {
        __m512i s = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(sym + i)));
        __m512i r0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(rest[0] + i)));
        __m512i v = _mm512_or_si512(_mm512_slli_epi16(_mm512_and_si512(r0, sign), 8), _mm512_slli_epi16(s, 7));
        _mm512_storeu_si512(o + i, _mm512_or_si512(v, _mm512_and_si512(r0, low7)));
    }
    return i;
}
