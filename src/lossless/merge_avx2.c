/* AVX2 merge: 16 16-bit values or 8 32-bit values per step. */
#include <immintrin.h>

#include "merge_kernel.h"

size_t wqc_merge_avx2(wqc_dtype dtype, const uint8_t *sym, const uint8_t *const *rest, size_t n, void *out)
{
    size_t i = 0;
    if (dtype == WQC_DTYPE_F32) {
        const __m256i sign = _mm256_set1_epi32(0x80), low7 = _mm256_set1_epi32(0x7f);
        uint32_t *o = out;
        for (; i + 8 <= n; i += 8) {
            __m256i s = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(sym + i)));
            __m256i r0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(rest[0] + i)));
            __m256i r1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(rest[1] + i)));
            __m256i r2 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(rest[2] + i)));
            __m256i v = _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(r0, sign), 24), _mm256_slli_epi32(s, 23));
            v = _mm256_or_si256(v, _mm256_slli_epi32(_mm256_and_si256(r0, low7), 16));
            v = _mm256_or_si256(v, _mm256_or_si256(_mm256_slli_epi32(r1, 8), r2));
            _mm256_storeu_si256((__m256i *)(o + i), v);
        }
        return i;
    }
    const __m256i sign = _mm256_set1_epi16(0x80), low7 = _mm256_set1_epi16(0x7f);
    uint16_t *o = out;
    for (; i + 16 <= n; i += 16) {
        __m256i s = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(sym + i)));
        __m256i r0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(rest[0] + i)));
        __m256i v = _mm256_or_si256(_mm256_slli_epi16(_mm256_and_si256(r0, sign), 8), _mm256_slli_epi16(s, 7));
        _mm256_storeu_si256((__m256i *)(o + i), _mm256_or_si256(v, _mm256_and_si256(r0, low7)));
    }
    return i;
}
