/* AVX-512 merge: 32 16-bit values or 16 32-bit values per step. */
#include <immintrin.h>
#include <string.h>

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

/* split-e8m3: 32 values a step from 32 symbols, 16 nibble bytes and 4 sign bytes. */
size_t wqc_e8m3_merge_avx512(const uint8_t *sym, const uint8_t *nibbles, const uint8_t *signs, uint64_t first, size_t n,
                             unsigned base, uint16_t *out)
{
    const __m512i add = _mm512_set1_epi16((short)(8 * base)), top = _mm512_set1_epi16((short)0x8000);
    const __m128i low = _mm_set1_epi8(15);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t k = first + i;
        __m512i v = _mm512_slli_epi16(_mm512_add_epi16(_mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(sym + i))), add), 4);
        __m128i b = _mm_loadu_si128((const __m128i *)(nibbles + k / 2));
        __m128i lo = _mm_and_si128(b, low), hi = _mm_and_si128(_mm_srli_epi16(b, 4), low);
        __m256i nib = _mm256_set_m128i(_mm_unpackhi_epi8(lo, hi), _mm_unpacklo_epi8(lo, hi));
        v = _mm512_or_si512(v, _mm512_cvtepu8_epi16(nib));
        uint32_t s;
        memcpy(&s, signs + k / 8, 4);
        _mm512_storeu_si512(out + i, _mm512_or_si512(v, _mm512_maskz_mov_epi16((__mmask32)s, top)));
    }
    return i;
}
