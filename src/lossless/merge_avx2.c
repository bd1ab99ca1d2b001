/* AVX2 merge: 16 16-bit values or 8 32-bit values per step. */
#include <immintrin.h>
#include <string.h>

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

/* split-e8m3: 16 values a step from 16 symbols, 8 nibble bytes and 2 sign bytes. */
size_t wqc_e8m3_merge_avx2(const uint8_t *sym, const uint8_t *nibbles, const uint8_t *signs, uint64_t first, size_t n,
                           unsigned base, uint16_t *out)
{
    const __m256i add = _mm256_set1_epi16((short)(8 * base)), top = _mm256_set1_epi16((short)0x8000);
    const __m256i bit = _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, (short)0x8000);
    const __m128i low = _mm_set1_epi8(15);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint64_t k = first + i;
        __m256i v = _mm256_slli_epi16(_mm256_add_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(sym + i))), add), 4);
        __m128i b = _mm_loadl_epi64((const __m128i *)(nibbles + k / 2));
        __m128i lo = _mm_and_si128(b, low), hi = _mm_and_si128(_mm_srli_epi16(b, 4), low);
        v = _mm256_or_si256(v, _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(lo, hi)));
        uint16_t s;
        memcpy(&s, signs + k / 8, 2);
        __m256i set = _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_set1_epi16((short)s), bit), bit);
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_or_si256(v, _mm256_and_si256(set, top)));
    }
    return i;
}
