/* AVX2 encoder kernel: 8 lanes per vector, table entries gathered. The
 * words of the lanes that renormalise are moved, in lane order, to the top
 * of a 16-byte vector by a byte shuffle chosen from the 8-bit lane mask and
 * stored just below the words written so far (what lies below them is
 * overwritten later). */
#include <immintrin.h>

#include "encode_kernel.h"

enum { V = 8 };

static uint8_t to_top[256][16];

/* Filled before main: the kernel only reads it. */
__attribute__((constructor)) static void init_to_top(void)
{
    for (uint32_t m = 0; m < 256; m++) {
        uint32_t k = (uint32_t)__builtin_popcount(m), j = 8 - k;
        for (int b = 0; b < 16; b++) to_top[m][b] = 0x80;
        for (uint32_t l = 0; l < V; l++)
            if (m >> l & 1) {
                to_top[m][2 * j] = (uint8_t)(2 * l);
                to_top[m][2 * j + 1] = (uint8_t)(2 * l + 1);
                j++;
            }
    }
}

static inline __m256i gather(const uint32_t *arr, __m256i idx)
{
    return _mm256_i32gather_epi32((const int *)arr, idx, 4);
}

int wqc_rans_enc_kernel_avx2(const rans_enc_table *t, const uint8_t *table, uint32_t lanes, const uint8_t *sym,
                             size_t rounds, uint32_t *state, uint8_t **wp, int *handled)
{
    *handled = lanes % V == 0;
    if (!*handled) return 0;
    const __m256i amax = _mm256_set1_epi32((int)t->alphabet - 1), alpha = _mm256_set1_epi32((int)t->alphabet);
    const __m256i ones = _mm256_set1_epi32(-1), one = _mm256_set1_epi32(1), c32 = _mm256_set1_epi32(32);
    const __m256i sign = _mm256_set1_epi32(INT32_MIN), low16 = _mm256_set1_epi32(0xffff);
    __m256i bad = _mm256_setzero_si256();
    uint8_t *w = *wp;
    for (size_t r = rounds; r-- > 0;) {
        for (uint32_t v = lanes / V; v-- > 0;) {
            size_t i = r * lanes + (size_t)v * V;
            __m256i s = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(sym + i)));
            bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(s, amax));
            __m256i idx = _mm256_min_epu32(s, amax);
            if (table) {
                __m256i tb = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(table + i)));
                idx = _mm256_add_epi32(idx, _mm256_mullo_epi32(tb, alpha));
            }
            __m256i bound = gather(t->bound, idx), mult = gather(t->mult, idx), shift = gather(t->shift, idx);
            __m256i cum = gather(t->cum, idx), spare = gather(t->spare, idx);
            bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(spare, ones));
            __m256i x = _mm256_loadu_si256((const __m256i *)(state + v * V));
            /* Unsigned x > bound, by flipping the sign bits. */
            __m256i big = _mm256_cmpgt_epi32(_mm256_xor_si256(x, sign), _mm256_xor_si256(bound, sign));
            int m = _mm256_movemask_ps(_mm256_castsi256_ps(big));
            __m256i packed = _mm256_packus_epi32(_mm256_and_si256(x, low16), _mm256_and_si256(x, low16));
            __m128i words = _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08));
            words = _mm_shuffle_epi8(words, _mm_loadu_si128((const __m128i *)to_top[m]));
            _mm_storeu_si128((__m128i *)(w - 16), words);
            w -= 2 * __builtin_popcount((unsigned)m);
            x = _mm256_blendv_epi8(x, _mm256_srli_epi32(x, 16), big);
            /* q = (x + (x * mult >> 32)) >> shift, the sum carried into bit 32. */
            __m256i even = _mm256_mul_epu32(x, mult);
            __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mult, 32));
            __m256i hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
            __m256i sum = _mm256_add_epi32(x, hi);
            __m256i carry = _mm256_cmpgt_epi32(_mm256_xor_si256(x, sign), _mm256_xor_si256(sum, sign));
            __m256i q = _mm256_srlv_epi32(sum, shift);
            q = _mm256_or_si256(q, _mm256_and_si256(carry, _mm256_sllv_epi32(one, _mm256_sub_epi32(c32, shift))));
            x = _mm256_add_epi32(_mm256_add_epi32(x, _mm256_mullo_epi32(q, spare)), cum);
            _mm256_storeu_si256((__m256i *)(state + v * V), x);
        }
    }
    *wp = w;
    return _mm256_testz_si256(bad, bad);
}
