/* AVX-512 kernel: 16 lanes per vector. Per vector: one gather from the
 * packed table (alphabets <= 16, P <= 13) or two (entry and symbol), the
 * state update, and renormalisation by expanding the next words into the
 * lanes that need one, in lane order. Output is stored per vector. */
#include <immintrin.h>
#include <string.h>

#include "decode_kernel.h"

enum { V = 16 };

/* Group scale and offset per lane, for a vector that straddles groups. */
static void lane_groups(rans_group_cursor *c, uint64_t pos, float *scale, float *offset)
{
    for (int l = 0; l < V; l++) {
        rans_group_reach(c, pos + (uint64_t)l);
        scale[l] = c->scale;
        offset[l] = c->offset;
    }
}

static inline __attribute__((always_inline)) __m512 dequant(rans_group_cursor *c, uint64_t pos, __m512i s)
{
    __m512 sc, of;
    rans_group_reach(c, pos);
    if (pos + V <= c->end) {
        sc = _mm512_set1_ps(c->scale);
        of = _mm512_set1_ps(c->offset);
    } else {
        float scale[V], offset[V];
        lane_groups(c, pos, scale, offset);
        sc = _mm512_loadu_ps(scale);
        of = _mm512_loadu_ps(offset);
    }
    return _mm512_add_ps(of, _mm512_mul_ps(sc, _mm512_cvtepi32_ps(s)));
}

static inline __attribute__((always_inline)) void store(rans_kernel_ctx *k, wqc_rans_form form, uint64_t pos,
                                                        __m512i s)
{
    uint8_t *dst = k->out->dst;
    switch (form) {
    case WQC_FORM_SYMBOLS:
        _mm_storeu_si128((__m128i *)(dst + pos), _mm512_cvtepi32_epi8(s));
        break;
    case WQC_FORM_NIBBLES: {
        /* Within each 64-bit pair: low symbol | high symbol << 4 in byte 0. */
        __m512i pair = _mm512_or_si512(s, _mm512_srli_epi64(s, 28));
        _mm_storel_epi64((__m128i *)(dst + pos / 2), _mm512_cvtepi64_epi8(pair));
        break;
    }
    case WQC_FORM_F32:
        _mm512_storeu_ps(dst + 4 * pos, dequant(&k->groups, pos, s));
        break;
    case WQC_FORM_F16:
        _mm256_storeu_si256((__m256i *)(dst + 2 * pos),
                            _mm512_cvtps_ph(dequant(&k->groups, pos, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        break;
    }
}

static inline __attribute__((always_inline)) size_t rounds(rans_kernel_ctx *k, wqc_rans_form form, int packed)
{
    const wqc_rans_dtable *d = k->d;
    const __m128i shift = _mm_cvtsi32_si128(d->precision);
    const __m512i mask = _mm512_set1_epi32((int)((1u << d->precision) - 1));
    const __m512i field = _mm512_set1_epi32(RANS_PACKED_FIELD);
    const __m512i low16 = _mm512_set1_epi32(0xffff);
    const __m512i state_low = _mm512_set1_epi32(WQC_RANS_STATE_LOW);
    const uint32_t nv = k->lanes / V;
    const uint8_t *w = k->w;
    uint64_t pos = k->pos;
    size_t r = 0;
    for (; r < k->rounds && (size_t)(k->end - w) >= 2 * (size_t)k->lanes; r++) {
        for (uint32_t v = 0; v < nv; v++) {
            __m512i x = _mm512_loadu_si512(k->state + V * v);
            __m512i slot = _mm512_and_si512(x, mask), f, b, s;
            if (packed) {
                __m512i e = _mm512_i32gather_epi32(slot, d->packed, 4);
                f = _mm512_and_si512(e, field);
                b = _mm512_and_si512(_mm512_srli_epi32(e, 14), field);
                s = _mm512_srli_epi32(e, 28);
            } else {
                __m512i e = _mm512_i32gather_epi32(slot, d->entry, 4);
                f = _mm512_and_si512(e, low16);
                b = _mm512_srli_epi32(e, 16);
                s = _mm512_and_si512(_mm512_i32gather_epi32(slot, d->symbol, 1), _mm512_set1_epi32(0xff));
            }
            x = _mm512_add_epi32(_mm512_mullo_epi32(f, _mm512_srl_epi32(x, shift)), b);
            __mmask16 m = _mm512_cmplt_epu32_mask(x, state_low);
            __m512i words = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)w));
            words = _mm512_maskz_expand_epi32(m, words);
            x = _mm512_mask_or_epi32(x, m, _mm512_slli_epi32(x, 16), words);
            w += 2 * (size_t)__builtin_popcount(m);
            _mm512_storeu_si512(k->state + V * v, x);
            store(k, form, pos, s);
            pos += V;
        }
    }
    k->w = w;
    k->pos = pos;
    return r;
}

size_t wqc_rans_kernel_avx512(rans_kernel_ctx *k)
{
    int packed = k->d->packed != NULL;
    switch (k->out->form) {
    case WQC_FORM_SYMBOLS: return packed ? rounds(k, WQC_FORM_SYMBOLS, 1) : rounds(k, WQC_FORM_SYMBOLS, 0);
    case WQC_FORM_NIBBLES: return packed ? rounds(k, WQC_FORM_NIBBLES, 1) : rounds(k, WQC_FORM_NIBBLES, 0);
    case WQC_FORM_F32: return packed ? rounds(k, WQC_FORM_F32, 1) : rounds(k, WQC_FORM_F32, 0);
    case WQC_FORM_F16: return packed ? rounds(k, WQC_FORM_F16, 1) : rounds(k, WQC_FORM_F16, 0);
    }
    return 0;
}
