/* AVX-512 encoder kernel: 16 lanes per vector. The words of the lanes that
 * renormalise are packed to the front in lane order (vpcompressd) and
 * stored with a mask, so they land exactly where the scalar encoder puts
 * them. Tables of up to 16 entries (4-bit order-0) are looked up with
 * permutes held in registers, larger ones with gathers. */
#include <immintrin.h>

#include "encode_kernel.h"

enum { V = 16 };

static inline __attribute__((always_inline)) __m512i look(int small, __m512i reg, const uint32_t *arr, __m512i idx)
{
    return small ? _mm512_permutexvar_epi32(idx, reg) : _mm512_i32gather_epi32(idx, arr, 4);
}

static inline __attribute__((always_inline)) int rounds_v(int small, const rans_enc_table *t, const uint8_t *table,
                                                         uint32_t lanes, const uint8_t *sym, size_t rounds,
                                                         uint32_t *state, uint8_t **wp)
{
    __m512i r_bound = _mm512_setzero_si512(), r_mult = r_bound, r_shift = r_bound, r_cum = r_bound, r_spare = r_bound;
    if (small) {
        r_bound = _mm512_loadu_si512(t->bound);
        r_mult = _mm512_loadu_si512(t->mult);
        r_shift = _mm512_loadu_si512(t->shift);
        r_cum = _mm512_loadu_si512(t->cum);
        r_spare = _mm512_loadu_si512(t->spare);
    }
    const __m512i amax = _mm512_set1_epi32((int)t->alphabet - 1), alpha = _mm512_set1_epi32((int)t->alphabet);
    const __m512i ones = _mm512_set1_epi32(-1), one = _mm512_set1_epi32(1), c32 = _mm512_set1_epi32(32);
    __mmask16 bad = 0;
    uint8_t *w = *wp;
    for (size_t r = rounds; r-- > 0;) {
        for (uint32_t v = lanes / V; v-- > 0;) {
            size_t i = r * lanes + (size_t)v * V;
            __m512i s = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(sym + i)));
            bad |= _mm512_cmpgt_epu32_mask(s, amax);
            __m512i idx = _mm512_min_epu32(s, amax);
            if (table) {
                __m512i tb = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(table + i)));
                idx = _mm512_add_epi32(idx, _mm512_mullo_epi32(tb, alpha));
            }
            __m512i bound = look(small, r_bound, t->bound, idx), mult = look(small, r_mult, t->mult, idx);
            __m512i shift = look(small, r_shift, t->shift, idx), cum = look(small, r_cum, t->cum, idx);
            __m512i spare = look(small, r_spare, t->spare, idx);
            bad |= _mm512_cmpeq_epi32_mask(spare, ones);
            __m512i x = _mm512_loadu_si512(state + v * V);
            __mmask16 big = _mm512_cmpgt_epu32_mask(x, bound);
            int k = __builtin_popcount(big);
            w -= 2 * k;
            _mm256_mask_storeu_epi16(w, (__mmask16)((1u << k) - 1),
                                     _mm512_cvtepi32_epi16(_mm512_maskz_compress_epi32(big, x)));
            x = _mm512_mask_srli_epi32(x, big, x, 16);
            /* q = (x + (x * mult >> 32)) >> shift, the sum carried into bit 32. */
            __m512i even = _mm512_mul_epu32(x, mult);
            __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(mult, 32));
            __m512i hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
            __m512i sum = _mm512_add_epi32(x, hi);
            __mmask16 carry = _mm512_cmplt_epu32_mask(sum, x);
            __m512i q = _mm512_srlv_epi32(sum, shift);
            q = _mm512_mask_or_epi32(q, carry, q, _mm512_sllv_epi32(one, _mm512_sub_epi32(c32, shift)));
            x = _mm512_add_epi32(_mm512_add_epi32(x, _mm512_mullo_epi32(q, spare)), cum);
            _mm512_storeu_si512(state + v * V, x);
        }
    }
    *wp = w;
    return bad == 0;
}

int wqc_rans_enc_kernel_avx512(const rans_enc_table *t, const uint8_t *table, uint32_t lanes, const uint8_t *sym,
                               size_t rounds, uint32_t *state, uint8_t **w, int *handled)
{
    *handled = lanes % V == 0;
    if (!*handled) return 0;
    if (t->entries <= V) return rounds_v(1, t, table, lanes, sym, rounds, state, w);
    return rounds_v(0, t, table, lanes, sym, rounds, state, w);
}
