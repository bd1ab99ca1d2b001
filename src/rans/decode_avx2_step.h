/* AVX2 kernel steps: 8 lanes per vector. Same steps as the AVX-512 kernel
 * (states in registers for 8 to 64 lanes, every vector advanced before any
 * is renormalised); the renormalisation words are moved into the lanes that
 * need them by a permutation chosen from the 8-bit lane mask. The order-0
 * (decode_avx2.c) and context (decode_avx2_context.c) entry points are
 * files of their own so that they compile side by side. */
#ifndef WQC_RANS_DECODE_AVX2_STEP_H
#define WQC_RANS_DECODE_AVX2_STEP_H

#include <immintrin.h>
#include <string.h>

#include "decode_kernel.h"

enum { V = 8 };

/* For each mask of lanes that read a word: lane l takes word number
 * popcount(mask & ((1 << l) - 1)), as 3-bit fields at bit 4 * l (filled
 * before main by decode_avx2.c; the kernels only read it). */
extern __attribute__((visibility("hidden"))) uint32_t wqc_avx2_expand_index[256];

static inline __attribute__((always_inline)) __m256 dequant(rans_group_cursor *c, uint64_t pos, __m256i s)
{
    __m256 sc, of;
    rans_group_reach(c, pos);
    if (pos + V <= c->end) {
        sc = _mm256_set1_ps(c->scale);
        of = _mm256_set1_ps(c->offset);
    } else {
        float scale[V], offset[V];
        rans_group_lanes(c, pos, V, scale, offset);
        sc = _mm256_loadu_ps(scale);
        of = _mm256_loadu_ps(offset);
    }
    return _mm256_add_ps(of, _mm256_mul_ps(sc, _mm256_cvtepi32_ps(s)));
}

/* acc[row] = fma(q, x[col], acc[row]) for the 8 elements at pos. */
static inline __attribute__((always_inline)) void dot(rans_dot_cursor *c, uint64_t pos, __m256i s)
{
    if (rans_dot_whole(c, pos, V)) {
        rans_dot_reach(c, pos);
        float *a = rans_dot_acc(c, pos);
        _mm256_storeu_ps(a, _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(c->xj), _mm256_loadu_ps(a)));
    } else {
        uint32_t q[V];
        _mm256_storeu_si256((__m256i *)q, s);
        for (int l = 0; l < V; l++) rans_dot_add(c, pos + (uint64_t)l, q[l]);
    }
}

static inline __attribute__((always_inline)) void store(rans_kernel_ctx *k, wqc_rans_form form, uint64_t pos,
                                                        __m256i s)
{
    uint8_t *dst = k->out->dst;
    uint64_t at = pos - k->out->first;
    switch (form) {
    case WQC_FORM_SYMBOLS: {
        /* Byte 0 of each 32-bit lane to the front of its 128-bit half. */
        const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                              0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
        __m256i b = _mm256_shuffle_epi8(s, pick);
        __m128i both = _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
        _mm_storel_epi64((__m128i *)(dst + at), _mm_add_epi8(both, _mm_set1_epi8((char)k->out->add)));
        break;
    }
    case WQC_FORM_NIBBLES: {
        const __m256i pick = _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                              0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
        __m256i pair = _mm256_or_si256(s, _mm256_srli_epi64(s, 28));
        __m256i b = _mm256_shuffle_epi8(pair, pick);
        uint32_t four = (uint32_t)_mm_cvtsi128_si32(
            _mm_unpacklo_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1)));
        memcpy(dst + at / 2, &four, 4);
        break;
    }
    case WQC_FORM_F32:
        _mm256_storeu_ps((float *)(dst + 4 * at), dequant(&k->groups, pos, s));
        break;
    case WQC_FORM_F16:
        _mm_storeu_si128((__m128i *)(dst + 2 * at),
                         _mm256_cvtps_ph(dequant(&k->groups, pos, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        break;
    case WQC_FORM_BF16: {
        /* Round to nearest even on the 16 dropped bits (the values are finite). */
        __m256i u = _mm256_castps_si256(dequant(&k->groups, pos, s));
        u = _mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff),
                                                 _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1))));
        u = _mm256_srli_epi32(u, 16);
        __m128i h = _mm_packus_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
        _mm_storeu_si128((__m128i *)(dst + 2 * at), h);
        break;
    }
    case WQC_FORM_DOT:
        dot(&k->dot, pos, s);
        break;
    }
}

/* shift: the precision in every lane (a variable shift is one uop; by an
 * xmm count two on Intel cores). */
typedef struct kernel_consts {
    __m256i shift;
    __m256i mask, field, low16, zero, nibble_shift, seven;
} kernel_consts;

/* How a vector's entries are looked up: two gathers (entry and symbol), or
 * one of the packed word (small alphabets) or of packed8 (larger ones). */
enum { GATHERS = 0, PACKED = 1, PACKED8 = 2 };

/* One vector's decoding step before renormalisation, each lane's table
 * starting at slot base (0 without a context): returns the symbols. */
static inline __attribute__((always_inline)) __m256i advance(const kernel_consts *c, const wqc_rans_dtable *d,
                                                             int packed, __m256i base, __m256i *x)
{
    __m256i slot = _mm256_add_epi32(_mm256_and_si256(*x, c->mask), base), f, b, s;
    if (packed == PACKED) {
        __m256i e = _mm256_i32gather_epi32((const int *)d->packed, slot, 4);
        f = _mm256_and_si256(e, c->field);
        b = _mm256_and_si256(_mm256_srli_epi32(e, 14), c->field);
        s = _mm256_srli_epi32(e, 28);
    } else if (packed == PACKED8) {
        const __m256i field = _mm256_set1_epi32(RANS_PACKED8_FIELD);
        __m256i e = _mm256_i32gather_epi32((const int *)d->packed8, slot, 4);
        f = _mm256_add_epi32(_mm256_and_si256(e, field), _mm256_set1_epi32(1));
        b = _mm256_and_si256(_mm256_srli_epi32(e, 12), field);
        s = _mm256_srli_epi32(e, 24);
    } else {
        __m256i e = _mm256_i32gather_epi32((const int *)d->entry, slot, 4);
        f = _mm256_and_si256(e, c->low16);
        b = _mm256_srli_epi32(e, 16);
        s = _mm256_and_si256(_mm256_i32gather_epi32((const int *)d->symbol, slot, 1), _mm256_set1_epi32(0xff));
    }
    *x = _mm256_add_epi32(_mm256_mullo_epi32(f, _mm256_srlv_epi32(*x, c->shift)), b);
    return s;
}

/* Lanes below 2^16 take the next words, in lane order. */
static inline __attribute__((always_inline)) void renormalise(const kernel_consts *c, __m256i *x, const uint8_t **w)
{
    __m256i need = _mm256_cmpeq_epi32(_mm256_srli_epi32(*x, 16), c->zero);
    uint32_t m = (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(need));
    __m256i words = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)*w));
    __m256i idx = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)wqc_avx2_expand_index[m]), c->nibble_shift),
                                   c->seven);
    words = _mm256_permutevar8x32_epi32(words, idx);
    *x = _mm256_blendv_epi8(*x, _mm256_or_si256(_mm256_slli_epi32(*x, 16), words), need);
    *w += 2 * (size_t)__builtin_popcount(m);
}

/* The first slot of each lane's table for the vector at pos (a context). */
static inline __attribute__((always_inline)) __m256i lane_bases(rans_kernel_ctx *k, uint64_t pos)
{
    uint32_t t;
    if (rans_context_uniform(&k->context, pos, V, &t)) return _mm256_set1_epi32((int)(t << k->d->precision));
    uint32_t bin;
    const int8_t *shift;
    if (k->d->context->col_shift && rans_context_shift_span(&k->context, pos, V, &bin, &shift)) {
        if (k->d->shift_base) return _mm256_loadu_si256((const __m256i *)rans_shift_bases(k->d, bin, shift));
        /* Each lane's bin: the group's moved by its column's shift, clamped. */
        __m256i b = _mm256_add_epi32(_mm256_set1_epi32((int)bin), _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)shift)));
        b = _mm256_min_epi32(_mm256_max_epi32(b, _mm256_setzero_si256()), _mm256_set1_epi32((int)k->d->context->nbins - 1));
        return _mm256_i32gather_epi32((const int *)k->d->bin_base, b, 4);
    }
    uint32_t lane_table[V];
    rans_context_lanes(&k->context, pos, V, lane_table);
    return _mm256_sllv_epi32(_mm256_loadu_si256((const __m256i *)lane_table), _mm256_set1_epi32(k->d->precision));
}

/* nv_fixed > 0: the lanes are exactly nv_fixed vectors, kept in registers
 * across rounds, every vector advanced before any is renormalised (their
 * lookups overlap); 0: any multiple of 8 lanes, states in memory. */
static inline __attribute__((always_inline)) size_t rounds(rans_kernel_ctx *k, wqc_rans_form form, int packed,
                                                           int context, uint32_t nv_fixed)
{
    const wqc_rans_dtable *d = k->d;
    const kernel_consts c = {_mm256_set1_epi32((int)d->precision), _mm256_set1_epi32((int)((1u << d->precision) - 1)),
                             _mm256_set1_epi32(RANS_PACKED_FIELD), _mm256_set1_epi32(0xffff), _mm256_setzero_si256(),
                             _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28), _mm256_set1_epi32(7)};
    const uint8_t *w = k->w;
    uint64_t pos = k->pos;
    size_t r = 0;
    const size_t need = 2 * (size_t)k->lanes;
    if (nv_fixed) {
        __m256i x[8], s[8];
        for (uint32_t v = 0; v < nv_fixed; v++) x[v] = _mm256_loadu_si256((const __m256i *)(k->state + V * v));
        for (; r < k->rounds && (size_t)(k->end - w) >= need; r++) {
            for (uint32_t v = 0; v < nv_fixed; v++)
                s[v] = advance(&c, d, packed, context ? lane_bases(k, pos + V * v) : c.zero, &x[v]);
            for (uint32_t v = 0; v < nv_fixed; v++) renormalise(&c, &x[v], &w);
            for (uint32_t v = 0; v < nv_fixed; v++) store(k, form, pos + V * v, s[v]);
            pos += V * nv_fixed;
        }
        for (uint32_t v = 0; v < nv_fixed; v++) _mm256_storeu_si256((__m256i *)(k->state + V * v), x[v]);
    } else {
        const uint32_t nv = k->lanes / V;
        for (; r < k->rounds && (size_t)(k->end - w) >= need; r++) {
            for (uint32_t v = 0; v < nv; v++) {
                __m256i x = _mm256_loadu_si256((const __m256i *)(k->state + V * v));
                __m256i s = advance(&c, d, packed, context ? lane_bases(k, pos) : c.zero, &x);
                renormalise(&c, &x, &w);
                _mm256_storeu_si256((__m256i *)(k->state + V * v), x);
                store(k, form, pos, s);
                pos += V;
            }
        }
    }
    k->w = w;
    k->pos = pos;
    return r;
}

static inline __attribute__((always_inline)) size_t by_lanes(rans_kernel_ctx *k, wqc_rans_form form, int packed,
                                                             int context)
{
    switch (k->lanes) {
    case 8: return rounds(k, form, packed, context, 1);
    case 16: return rounds(k, form, packed, context, 2);
    case 32: return rounds(k, form, packed, context, 4);
    case 64: return rounds(k, form, packed, context, 8);
    default: return rounds(k, form, packed, context, 0);
    }
}

static inline __attribute__((always_inline)) size_t by_table(rans_kernel_ctx *k, wqc_rans_form form, int context)
{
    if (k->d->packed) return by_lanes(k, form, PACKED, context);
    return k->d->packed8 ? by_lanes(k, form, PACKED8, context) : by_lanes(k, form, GATHERS, context);
}

static inline __attribute__((always_inline)) size_t kernel(rans_kernel_ctx *k, int context)
{
    switch (k->out->form) {
    case WQC_FORM_SYMBOLS: return context ? by_table(k, WQC_FORM_SYMBOLS, 1) : by_table(k, WQC_FORM_SYMBOLS, 0);
    case WQC_FORM_NIBBLES: return context ? by_table(k, WQC_FORM_NIBBLES, 1) : by_table(k, WQC_FORM_NIBBLES, 0);
    case WQC_FORM_F32: return context ? by_table(k, WQC_FORM_F32, 1) : by_table(k, WQC_FORM_F32, 0);
    case WQC_FORM_F16: return context ? by_table(k, WQC_FORM_F16, 1) : by_table(k, WQC_FORM_F16, 0);
    case WQC_FORM_BF16: return context ? by_table(k, WQC_FORM_BF16, 1) : by_table(k, WQC_FORM_BF16, 0);
    case WQC_FORM_DOT: return context ? by_table(k, WQC_FORM_DOT, 1) : by_table(k, WQC_FORM_DOT, 0);
    }
    return 0;
}

#endif
