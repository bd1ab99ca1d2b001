/* AVX-512 kernel: 16 lanes per vector. Per vector: the symbol and its
 * (freq, start) from an in-register search for alphabets <= 16 symbols, or
 * two gathers (entry and symbol) for larger ones; the state update; and
 * renormalisation by expanding the next words into the lanes that need one,
 * in lane order. Output is stored per vector. */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "decode_kernel.h"

enum { V = 16 };

static inline __attribute__((always_inline)) __m512 dequant(rans_group_cursor *c, uint64_t pos, __m512i s)
{
    __m512 sc, of;
    rans_group_reach(c, pos);
    if (pos + V <= c->end) {
        sc = _mm512_set1_ps(c->scale);
        of = _mm512_set1_ps(c->offset);
    } else {
        float scale[V], offset[V];
        rans_group_lanes(c, pos, V, scale, offset);
        sc = _mm512_loadu_ps(scale);
        of = _mm512_loadu_ps(offset);
    }
    return _mm512_add_ps(of, _mm512_mul_ps(sc, _mm512_cvtepi32_ps(s)));
}

/* acc[row] = fma(q, x[col], acc[row]) for the 16 elements at pos. */
static inline __attribute__((always_inline)) void dot(rans_dot_cursor *c, uint64_t pos, __m512i s)
{
    if (rans_dot_whole(c, pos, V)) {
        rans_dot_reach(c, pos);
        float *a = rans_dot_acc(c, pos);
        _mm512_storeu_ps(a, _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(c->xj), _mm512_loadu_ps(a)));
    } else {
        uint32_t q[V];
        _mm512_storeu_si512(q, s);
        for (int l = 0; l < V; l++) rans_dot_add(c, pos + (uint64_t)l, q[l]);
    }
}

static inline __attribute__((always_inline)) void store(rans_kernel_ctx *k, wqc_rans_form form, uint64_t pos,
                                                        __m512i s)
{
    uint8_t *dst = k->out->dst;
    uint64_t at = pos - k->out->first;
    switch (form) {
    case WQC_FORM_SYMBOLS:
        _mm_storeu_si128((__m128i *)(dst + at),
                         _mm_add_epi8(_mm512_cvtepi32_epi8(s), _mm_set1_epi8((char)k->out->add)));
        break;
    case WQC_FORM_NIBBLES: {
        /* Within each 64-bit pair: low symbol | high symbol << 4 in byte 0. */
        __m512i pair = _mm512_or_si512(s, _mm512_srli_epi64(s, 28));
        _mm_storel_epi64((__m128i *)(dst + at / 2), _mm512_cvtepi64_epi8(pair));
        break;
    }
    case WQC_FORM_F32:
        _mm512_storeu_ps(dst + 4 * at, dequant(&k->groups, pos, s));
        break;
    case WQC_FORM_F16:
        _mm256_storeu_si256((__m256i *)(dst + 2 * at),
                            _mm512_cvtps_ph(dequant(&k->groups, pos, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        break;
    case WQC_FORM_BF16: {
        /* Round to nearest even on the 16 dropped bits (the values are finite). */
        __m512i u = _mm512_castps_si512(dequant(&k->groups, pos, s));
        u = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff),
                                                 _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1))));
        _mm256_storeu_si256((__m256i *)(dst + 2 * at), _mm512_cvtepi32_epi16(_mm512_srli_epi32(u, 16)));
        break;
    }
    case WQC_FORM_DOT:
        dot(&k->dot, pos, s);
        break;
    }
}

/* Alphabets of at most 16 symbols, without a gather: the symbol owning a
 * slot is found by a 4-ary search over the cumulative frequencies held in a
 * register (cum of absent symbols is 2^P, above every slot), and freq and
 * cum come from in-register permutes. */
typedef struct small_table {
    __m512i cum, freq, c4, c8, c12;
} small_table;

static small_table small_table_make(const wqc_rans_dtable *d)
{
    uint32_t cum[16], freq[16];
    for (uint32_t s = 0; s < 16; s++) {
        cum[s] = s < d->alphabet ? d->cum[s] : 1u << d->precision;
        freq[s] = s < d->alphabet ? d->freq[s] : 0;
    }
    small_table t = {_mm512_loadu_si512(cum), _mm512_loadu_si512(freq), _mm512_set1_epi32((int)cum[4]),
                     _mm512_set1_epi32((int)cum[8]), _mm512_set1_epi32((int)cum[12])};
    return t;
}

static inline __attribute__((always_inline)) __m512i small_symbol(const small_table *t, __m512i slot)
{
    const __m512i one = _mm512_set1_epi32(1);
    __m512i s = _mm512_maskz_mov_epi32(_mm512_cmpge_epu32_mask(slot, t->c4), _mm512_set1_epi32(4));
    s = _mm512_mask_mov_epi32(s, _mm512_cmpge_epu32_mask(slot, t->c8), _mm512_set1_epi32(8));
    s = _mm512_mask_mov_epi32(s, _mm512_cmpge_epu32_mask(slot, t->c12), _mm512_set1_epi32(12));
    __m512i s1 = _mm512_add_epi32(s, one), s2 = _mm512_add_epi32(s, _mm512_set1_epi32(2)),
            s3 = _mm512_add_epi32(s, _mm512_set1_epi32(3));
    __mmask16 m1 = _mm512_cmpge_epu32_mask(slot, _mm512_permutexvar_epi32(s1, t->cum));
    __mmask16 m2 = _mm512_cmpge_epu32_mask(slot, _mm512_permutexvar_epi32(s2, t->cum));
    __mmask16 m3 = _mm512_cmpge_epu32_mask(slot, _mm512_permutexvar_epi32(s3, t->cum));
    /* Cumulative frequencies rise, so m3 implies m2 implies m1. */
    s = _mm512_mask_mov_epi32(s, m1, s1);
    s = _mm512_mask_mov_epi32(s, m2, s2);
    return _mm512_mask_mov_epi32(s, m3, s3);
}

typedef struct kernel_consts {
    small_table t;
    __m128i shift;
    __m512i mask, low16, state_low;
    const wqc_rans_dtable *d;
} kernel_consts;

/* One vector's step with a small table t (no gather). */
static inline __attribute__((always_inline)) __m512i advance_small(const kernel_consts *c, const small_table *t,
                                                                   __m512i *x)
{
    __m512i slot = _mm512_and_si512(*x, c->mask);
    __m512i s = small_symbol(t, slot);
    __m512i f = _mm512_permutexvar_epi32(s, t->freq);
    __m512i b = _mm512_sub_epi32(slot, _mm512_permutexvar_epi32(s, t->cum));
    *x = _mm512_add_epi32(_mm512_mullo_epi32(f, _mm512_srl_epi32(*x, c->shift)), b);
    return s;
}

/* How a vector's symbols are found: a search of a small alphabet, two
 * gathers (entry and symbol), or one (packed8; packed for small alphabets). */
enum { LOOKUP_GATHERS = 0, LOOKUP_SMALL = 1, LOOKUP_PACKED8 = 2, LOOKUP_PACKED = 3 };

/* Small alphabets by the search (permutes and compares: port 5 on Intel
 * cores, where 512-bit ops issue on two ports) or by one gather of the
 * packed entry (load ports). WQC_AVX512_SMALL=search|gather chooses, for
 * benchmarks; else the search. */
static int small_by_gather(void)
{
    static int choice; /* 0 unknown, 1 search, 2 gather */
    int c = __atomic_load_n(&choice, __ATOMIC_RELAXED);
    if (!c) {
        const char *e = getenv("WQC_AVX512_SMALL");
        c = e && strcmp(e, "gather") == 0 ? 2 : 1;
        __atomic_store_n(&choice, c, __ATOMIC_RELAXED);
    }
    return c == 2;
}

/* The lookup of an order-0 table. */
static int order0_lookup(const wqc_rans_dtable *d)
{
    if (d->alphabet <= WQC_RANS_SEARCHED_ALPHABET) return d->packed && small_by_gather() ? LOOKUP_PACKED : LOOKUP_SMALL;
    return d->packed8 ? LOOKUP_PACKED8 : LOOKUP_GATHERS;
}

/* The step of a vector whose entries are gathered (lookup: LOOKUP_PACKED,
 * LOOKUP_PACKED8 or LOOKUP_GATHERS) at slots idx: returns the symbols. */
static inline __attribute__((always_inline)) __m512i gathered_step(const kernel_consts *c, __m512i *x, __m512i idx,
                                                                   int lookup)
{
    const wqc_rans_dtable *d = c->d;
    __m512i f, b, s;
    if (lookup == LOOKUP_PACKED) {
        const __m512i field = _mm512_set1_epi32(RANS_PACKED_FIELD);
        __m512i e = _mm512_i32gather_epi32(idx, d->packed, 4);
        f = _mm512_and_si512(e, field);
        b = _mm512_and_si512(_mm512_srli_epi32(e, 14), field);
        s = _mm512_srli_epi32(e, 28);
    } else if (lookup == LOOKUP_PACKED8) {
        const __m512i field = _mm512_set1_epi32(RANS_PACKED8_FIELD);
        __m512i e = _mm512_i32gather_epi32(idx, d->packed8, 4);
        f = _mm512_add_epi32(_mm512_and_si512(e, field), _mm512_set1_epi32(1));
        b = _mm512_and_si512(_mm512_srli_epi32(e, 12), field);
        s = _mm512_srli_epi32(e, 24);
    } else {
        __m512i e = _mm512_i32gather_epi32(idx, d->entry, 4);
        f = _mm512_and_si512(e, c->low16);
        b = _mm512_srli_epi32(e, 16);
        s = _mm512_and_si512(_mm512_i32gather_epi32(idx, d->symbol, 1), _mm512_set1_epi32(0xff));
    }
    *x = _mm512_add_epi32(_mm512_mullo_epi32(f, _mm512_srl_epi32(*x, c->shift)), b);
    return s;
}

/* One vector's decoding step before renormalisation: returns the symbols. */
static inline __attribute__((always_inline)) __m512i advance(const kernel_consts *c, __m512i *x, int small)
{
    if (small == LOOKUP_SMALL) return advance_small(c, &c->t, x);
    return gathered_step(c, x, _mm512_and_si512(*x, c->mask), small);
}

/* Lanes below 2^16 take the next words, in lane order. */
static inline __attribute__((always_inline)) void renormalise(const kernel_consts *c, __m512i *x,
                                                              const uint8_t **w)
{
    __mmask16 m = _mm512_cmplt_epu32_mask(*x, c->state_low);
    __m512i words = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)*w));
    words = _mm512_maskz_expand_epi32(m, words);
    *x = _mm512_mask_or_epi32(*x, m, _mm512_slli_epi32(*x, 16), words);
    *w += 2 * (size_t)__builtin_popcount(m);
}

/* nv_fixed > 0: the lanes are exactly nv_fixed vectors, kept in registers
 * across rounds; 0: any multiple of 16 lanes, states in memory. */
static inline __attribute__((always_inline)) size_t rounds(rans_kernel_ctx *k, wqc_rans_form form, int small,
                                                           uint32_t nv_fixed)
{
    const wqc_rans_dtable *d = k->d;
    const kernel_consts c = {small_table_make(d), _mm_cvtsi32_si128(d->precision),
                             _mm512_set1_epi32((int)((1u << d->precision) - 1)), _mm512_set1_epi32(0xffff),
                             _mm512_set1_epi32(WQC_RANS_STATE_LOW), d};
    const uint8_t *w = k->w;
    uint64_t pos = k->pos;
    size_t r = 0;
    const size_t need = 2 * (size_t)k->lanes;
    if (nv_fixed) {
        __m512i x[4], s[4];
        for (uint32_t v = 0; v < nv_fixed; v++) x[v] = _mm512_loadu_si512(k->state + V * v);
        for (; r < k->rounds && (size_t)(k->end - w) >= need; r++) {
            for (uint32_t v = 0; v < nv_fixed; v++) s[v] = advance(&c, &x[v], small);
            for (uint32_t v = 0; v < nv_fixed; v++) renormalise(&c, &x[v], &w);
            for (uint32_t v = 0; v < nv_fixed; v++) store(k, form, pos + V * v, s[v]);
            pos += V * nv_fixed;
        }
        for (uint32_t v = 0; v < nv_fixed; v++) _mm512_storeu_si512(k->state + V * v, x[v]);
    } else {
        const uint32_t nv = k->lanes / V;
        for (; r < k->rounds && (size_t)(k->end - w) >= need; r++) {
            for (uint32_t v = 0; v < nv; v++) {
                __m512i x = _mm512_loadu_si512(k->state + V * v);
                __m512i s = advance(&c, &x, small);
                renormalise(&c, &x, &w);
                _mm512_storeu_si512(k->state + V * v, x);
                store(k, form, pos, s);
                pos += V;
            }
        }
    }
    k->w = w;
    k->pos = pos;
    return r;
}

static inline __attribute__((always_inline)) size_t by_lanes(rans_kernel_ctx *k, wqc_rans_form form, int small)
{
    switch (k->lanes) {
    case 16: return rounds(k, form, small, 1);
    case 32: return rounds(k, form, small, 2);
    case 64: return rounds(k, form, small, 4);
    default: return rounds(k, form, small, 0);
    }
}

size_t wqc_rans_kernel_avx512(rans_kernel_ctx *k)
{
    const int lookup = order0_lookup(k->d);
#define BY_LOOKUP(form)                                                                                       \
    (lookup == LOOKUP_SMALL     ? by_lanes(k, form, LOOKUP_SMALL)                                            \
     : lookup == LOOKUP_PACKED  ? by_lanes(k, form, LOOKUP_PACKED)                                           \
     : lookup == LOOKUP_PACKED8 ? by_lanes(k, form, LOOKUP_PACKED8)                                          \
                                : by_lanes(k, form, LOOKUP_GATHERS))
    switch (k->out->form) {
    case WQC_FORM_SYMBOLS: return BY_LOOKUP(WQC_FORM_SYMBOLS);
    case WQC_FORM_NIBBLES: return BY_LOOKUP(WQC_FORM_NIBBLES);
    case WQC_FORM_F32: return BY_LOOKUP(WQC_FORM_F32);
    case WQC_FORM_F16: return BY_LOOKUP(WQC_FORM_F16);
    case WQC_FORM_BF16: return BY_LOOKUP(WQC_FORM_BF16);
    case WQC_FORM_DOT: return BY_LOOKUP(WQC_FORM_DOT);
    }
#undef BY_LOOKUP
    return 0;
}

/* ---- context-modelled streams: a table per parameter group ------------ */

/* One vector's step with a table per lane, by gathers: `base` holds each
 * lane's first slot (its table times 2^P). */
static inline __attribute__((always_inline)) __m512i advance_lanes(const kernel_consts *c, __m512i *x, __m512i base)
{
    __m512i idx = _mm512_add_epi32(_mm512_and_si512(*x, c->mask), base);
    if (c->d->packed) return gathered_step(c, x, idx, LOOKUP_PACKED);
    /* Byte alphabets (split frames' row tables): one gather, as order-0 takes. */
    return c->d->packed8 ? gathered_step(c, x, idx, LOOKUP_PACKED8) : gathered_step(c, x, idx, LOOKUP_GATHERS);
}

/* Small-alphabet search tables of every table of the context. */
static void context_small_tables(const wqc_rans_dtable *d, small_table *out)
{
    for (uint32_t t = 0; t < d->ntables; t++) {
        wqc_rans_dtable one = *d;
        memcpy(one.freq, d->context->tables[t].freq, sizeof one.freq);
        memcpy(one.cum, d->context->tables[t].cum, sizeof one.cum);
        out[t] = small_table_make(&one);
    }
}

/* One vector's step with its table(s) chosen from the context: one search
 * table when all lanes share it, else gathers with per-lane bases. */
static inline __attribute__((always_inline)) __m512i advance_context(rans_kernel_ctx *k, const kernel_consts *c,
                                                                     const small_table *tables, int small,
                                                                     uint64_t pos, __m512i *x)
{
    uint32_t t;
    if (rans_context_uniform(&k->context, pos, V, &t)) {
        if (small) return advance_small(c, &tables[t], x);
        return advance_lanes(c, x, _mm512_set1_epi32((int)(t << c->d->precision)));
    }
    uint32_t lane_table[V];
    rans_context_lanes(&k->context, pos, V, lane_table);
    return advance_lanes(c, x, _mm512_sllv_epi32(_mm512_loadu_si512(lane_table), _mm512_set1_epi32(c->d->precision)));
}

/* nv vectors of lanes (1, 2 or 4) kept in registers; a round whose lanes all
 * lie in one group takes one table for all of them. `tables`: the search
 * tables (small alphabets), made once by the entry point: an array in every
 * inlined copy would grow its stack frame by 20 KiB a copy (megabytes under
 * AddressSanitizer, which keeps them apart). */
static inline __attribute__((always_inline)) size_t context_rounds(rans_kernel_ctx *k, wqc_rans_form form, int small,
                                                                   uint32_t nv, const small_table *tables)
{
    const wqc_rans_dtable *d = k->d;
    const kernel_consts c = {{{0}}, _mm_cvtsi32_si128(d->precision), _mm512_set1_epi32((int)((1u << d->precision) - 1)),
                             _mm512_set1_epi32(0xffff), _mm512_set1_epi32(WQC_RANS_STATE_LOW), d};
    const uint8_t *w = k->w;
    uint64_t pos = k->pos;
    size_t r = 0;
    const size_t need = 2 * (size_t)k->lanes;
    __m512i x[4], s[4];
    for (uint32_t v = 0; v < nv; v++) x[v] = _mm512_loadu_si512(k->state + V * v);
    for (; r < k->rounds && (size_t)(k->end - w) >= need; r++) {
        uint32_t t;
        if (rans_context_uniform(&k->context, pos, k->lanes, &t)) {
            if (small) {
                const small_table *tab = &tables[t];
                for (uint32_t v = 0; v < nv; v++) s[v] = advance_small(&c, tab, &x[v]);
            } else {
                __m512i base = _mm512_set1_epi32((int)(t << d->precision));
                for (uint32_t v = 0; v < nv; v++) s[v] = advance_lanes(&c, &x[v], base);
            }
        } else {
            for (uint32_t v = 0; v < nv; v++) s[v] = advance_context(k, &c, tables, small, pos + V * v, &x[v]);
        }
        for (uint32_t v = 0; v < nv; v++) renormalise(&c, &x[v], &w);
        for (uint32_t v = 0; v < nv; v++) store(k, form, pos + V * v, s[v]);
        pos += V * nv;
    }
    for (uint32_t v = 0; v < nv; v++) _mm512_storeu_si512(k->state + V * v, x[v]);
    k->w = w;
    k->pos = pos;
    return r;
}

/* Any multiple of 16 lanes: states in memory, a vector at a time. */
static inline __attribute__((always_inline)) size_t context_rounds_any(rans_kernel_ctx *k, wqc_rans_form form,
                                                                       int small, const small_table *tables)
{
    const wqc_rans_dtable *d = k->d;
    const kernel_consts c = {{{0}}, _mm_cvtsi32_si128(d->precision), _mm512_set1_epi32((int)((1u << d->precision) - 1)),
                             _mm512_set1_epi32(0xffff), _mm512_set1_epi32(WQC_RANS_STATE_LOW), d};
    const uint8_t *w = k->w;
    uint64_t pos = k->pos;
    size_t r = 0;
    const size_t need = 2 * (size_t)k->lanes;
    for (; r < k->rounds && (size_t)(k->end - w) >= need; r++) {
        for (uint32_t v = 0; v < k->lanes / V; v++) {
            __m512i x = _mm512_loadu_si512(k->state + V * v);
            __m512i sv = advance_context(k, &c, tables, small, pos, &x);
            renormalise(&c, &x, &w);
            _mm512_storeu_si512(k->state + V * v, x);
            store(k, form, pos, sv);
            pos += V;
        }
    }
    k->w = w;
    k->pos = pos;
    return r;
}

/* NK chunks of 32 lanes each, states in registers: 2 NK independent
 * vectors per round instead of two. With a context, each chunk takes one
 * table per round while its lanes lie in one group. */
static inline __attribute__((always_inline)) size_t multi_rounds(rans_kernel_ctx *const *k, int nk,
                                                                 wqc_rans_form form, int small, int context,
                                                                 const small_table *tables)
{
    const wqc_rans_dtable *d = k[0]->d;
    const kernel_consts c = {small == LOOKUP_SMALL && !context ? small_table_make(d) : (small_table){{0}},
                             _mm_cvtsi32_si128(d->precision), _mm512_set1_epi32((int)((1u << d->precision) - 1)),
                             _mm512_set1_epi32(0xffff), _mm512_set1_epi32(WQC_RANS_STATE_LOW), d};
    const uint8_t *w[4];
    uint64_t pos[4];
    __m512i x[4][2], s[4][2];
    size_t rounds = k[0]->rounds;
    const size_t need = 2 * (size_t)k[0]->lanes;
    for (int i = 0; i < nk; i++) {
        w[i] = k[i]->w;
        pos[i] = k[i]->pos;
        x[i][0] = _mm512_loadu_si512(k[i]->state);
        x[i][1] = _mm512_loadu_si512(k[i]->state + V);
        if (k[i]->rounds < rounds) rounds = k[i]->rounds;
    }
    size_t r = 0;
    for (; r < rounds; r++) {
        int room = 1;
        for (int i = 0; i < nk; i++) room &= (size_t)(k[i]->end - w[i]) >= need;
        if (!room) break;
        if (!context) {
            for (int v = 0; v < 2; v++)
                for (int i = 0; i < nk; i++) s[i][v] = advance(&c, &x[i][v], small);
        } else {
            for (int i = 0; i < nk; i++) {
                uint32_t t;
                if (small && rans_context_uniform(&k[i]->context, pos[i], 2 * V, &t)) {
                    s[i][0] = advance_small(&c, &tables[t], &x[i][0]);
                    s[i][1] = advance_small(&c, &tables[t], &x[i][1]);
                } else {
                    s[i][0] = advance_context(k[i], &c, tables, small, pos[i], &x[i][0]);
                    s[i][1] = advance_context(k[i], &c, tables, small, pos[i] + V, &x[i][1]);
                }
            }
        }
        for (int v = 0; v < 2; v++)
            for (int i = 0; i < nk; i++) renormalise(&c, &x[i][v], &w[i]);
        for (int i = 0; i < nk; i++) {
            store(k[i], form, pos[i], s[i][0]);
            store(k[i], form, pos[i] + V, s[i][1]);
            pos[i] += 2 * V;
        }
    }
    for (int i = 0; i < nk; i++) {
        _mm512_storeu_si512(k[i]->state, x[i][0]);
        _mm512_storeu_si512(k[i]->state + V, x[i][1]);
        k[i]->w = w[i];
        k[i]->pos = pos[i];
    }
    return r;
}

static inline __attribute__((always_inline)) size_t multi_by_count(rans_kernel_ctx *const *k, int nk,
                                                                   wqc_rans_form form, int small, int context,
                                                                   const small_table *tables)
{
    return nk == 4 ? multi_rounds(k, 4, form, small, context, tables) : multi_rounds(k, 2, form, small, context, tables);
}

static inline __attribute__((always_inline)) size_t multi_by_table(rans_kernel_ctx *const *k, int nk,
                                                                   wqc_rans_form form, int context,
                                                                   const small_table *tables)
{
    /* Context tables: the search (1) or gathers (0); order-0: its lookup. */
    if (context)
        return k[0]->d->alphabet <= 16 ? multi_by_count(k, nk, form, 1, 1, tables) : multi_by_count(k, nk, form, 0, 1, tables);
    switch (order0_lookup(k[0]->d)) {
    case LOOKUP_SMALL: return multi_by_count(k, nk, form, LOOKUP_SMALL, 0, NULL);
    case LOOKUP_PACKED: return multi_by_count(k, nk, form, LOOKUP_PACKED, 0, NULL);
    case LOOKUP_PACKED8: return multi_by_count(k, nk, form, LOOKUP_PACKED8, 0, NULL);
    default: return multi_by_count(k, nk, form, LOOKUP_GATHERS, 0, NULL);
    }
}

static size_t multi_kernel(rans_kernel_ctx *const *k, int nk, int context)
{
    for (int i = 0; i < nk; i++)
        if (k[i]->lanes != 32) return 0;
    if (nk != 2 && nk != 4) return 0;
    small_table tables[WQC_RANS_TABLES_MAX];
    if (context && k[0]->d->alphabet <= 16) context_small_tables(k[0]->d, tables);
    switch (k[0]->out->form) {
    case WQC_FORM_SYMBOLS: return multi_by_table(k, nk, WQC_FORM_SYMBOLS, context, tables);
    case WQC_FORM_NIBBLES: return multi_by_table(k, nk, WQC_FORM_NIBBLES, context, tables);
    case WQC_FORM_F32: return multi_by_table(k, nk, WQC_FORM_F32, context, tables);
    case WQC_FORM_F16: return multi_by_table(k, nk, WQC_FORM_F16, context, tables);
    case WQC_FORM_BF16: return multi_by_table(k, nk, WQC_FORM_BF16, context, tables);
    case WQC_FORM_DOT: return multi_by_table(k, nk, WQC_FORM_DOT, context, tables);
    }
    return 0;
}

size_t wqc_rans_kernel_multi_avx512(rans_kernel_ctx *const *k, int nk) { return multi_kernel(k, nk, 0); }

size_t wqc_rans_kernel_context_multi_avx512(rans_kernel_ctx *const *k, int nk) { return multi_kernel(k, nk, 1); }

static inline __attribute__((always_inline)) size_t context_by_lanes(rans_kernel_ctx *k, wqc_rans_form form,
                                                                     int small, const small_table *tables)
{
    switch (k->lanes) {
    case 16: return context_rounds(k, form, small, 1, tables);
    case 32: return context_rounds(k, form, small, 2, tables);
    case 64: return context_rounds(k, form, small, 4, tables);
    default: return context_rounds_any(k, form, small, tables);
    }
}

size_t wqc_rans_kernel_context_avx512(rans_kernel_ctx *k)
{
    if (k->lanes % V) return 0;
    int small = k->d->alphabet <= 16;
    small_table tables[WQC_RANS_TABLES_MAX];
    if (small) context_small_tables(k->d, tables);
#define BY_TABLE(form) (small ? context_by_lanes(k, form, 1, tables) : context_by_lanes(k, form, 0, tables))
    switch (k->out->form) {
    case WQC_FORM_SYMBOLS: return BY_TABLE(WQC_FORM_SYMBOLS);
    case WQC_FORM_NIBBLES: return BY_TABLE(WQC_FORM_NIBBLES);
    case WQC_FORM_F32: return BY_TABLE(WQC_FORM_F32);
    case WQC_FORM_F16: return BY_TABLE(WQC_FORM_F16);
    case WQC_FORM_BF16: return BY_TABLE(WQC_FORM_BF16);
    case WQC_FORM_DOT: return BY_TABLE(WQC_FORM_DOT);
    }
#undef BY_TABLE
    return 0;
}
