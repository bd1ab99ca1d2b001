/* Internal: the AVX-512 decoding steps shared by the kernels of
 * decode_avx512.c (order-0), decode_avx512_context.c (a table per group) and
 * decode_avx512_multi.c (several chunks at once), kept in three files so that
 * their many inlined variants compile side by side.
 *
 * 16 lanes per vector. Per vector: the symbol and its (freq, start) from an
 * in-register search for alphabets <= 16 symbols, or gathers for larger ones;
 * the state update; and renormalisation by expanding the next words into the
 * lanes that need one, in lane order. Output is stored per vector. */
#ifndef WQC_RANS_DECODE_AVX512_STEP_H
#define WQC_RANS_DECODE_AVX512_STEP_H

#include <immintrin.h>
#include <string.h>

#include "decode_kernel.h"

enum { V = 16 };

/* How a vector's symbols are found: a search of a small alphabet, two
 * gathers (entry and symbol), or one (packed8; packed for small alphabets);
 * mixed: a small alphabet's vectors alternate between the search and the
 * packed gather. */
enum { LOOKUP_GATHERS = 0, LOOKUP_SMALL = 1, LOOKUP_PACKED8 = 2, LOOKUP_PACKED = 3, LOOKUP_MIXED = 4 };
/* A context's lanes: whichever gather the tables have, chosen per vector
 * (one kernel variant for all; see decode_avx512_context.c). */
enum { LOOKUP_ANY = 5 };
/* Small alphabets by the bucket tables (decode_avx512_vbmi.c, decode_avx512_context_vbmi.c). */
enum { LOOKUP_BUCKET = 6 };

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

/* Symbols (< 256) of four vectors a, b, c, d as 64 bytes in that order: two
 * packs and a dword permute, 4 uops on Intel's port 5 where four vpmovdb
 * take 8. The packs interleave 128-bit lanes: lane j of the result holds
 * dword j of a, b, c and d. */
static inline __attribute__((always_inline)) __m512i symbol_bytes4(__m512i a, __m512i b, __m512i c, __m512i d)
{
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_epi32(order, _mm512_packus_epi16(_mm512_packus_epi32(a, b), _mm512_packus_epi32(c, d)));
}

/* The symbols of 2 or 4 vectors from pos on: bytes written together. */
static inline __attribute__((always_inline)) void store_symbols(rans_kernel_ctx *k, uint64_t pos, const __m512i *s,
                                                                uint32_t nv)
{
    uint8_t *dst = k->out->dst + (pos - k->out->first);
    const __m512i add = _mm512_set1_epi8((char)k->out->add);
    if (nv == 4) {
        _mm512_storeu_si512(dst, _mm512_add_epi8(symbol_bytes4(s[0], s[1], s[2], s[3]), add));
    } else {
        __m512i b = symbol_bytes4(s[0], s[1], s[0], s[1]);
        _mm256_storeu_si256((__m256i *)dst, _mm512_castsi512_si256(_mm512_add_epi8(b, add)));
    }
}

/* Alphabets of at most 16 symbols, without a gather: the symbol owning a
 * slot is found by a 4-ary search over the cumulative frequencies held in a
 * register (cum of absent symbols is 2^P, above every slot), and freq and
 * cum come from in-register permutes. */
typedef struct small_table {
    __m512i cum, freq, c4, c8, c12;
} small_table;

static inline small_table small_table_make(const wqc_rans_dtable *d)
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

/* Alphabets of at most 16 symbols by byte permutes (VBMI): the slot's top 7
 * bits pick a bucket of 2^(P-7) slots; two-register permutes of the bucket
 * tables (wqc_rans_buckets) give the symbol owning its first slot and the
 * offsets of the up to 3 symbol starts inside it, counted by subtraction
 * where they lie at or below the slot; a dense bucket's slot takes its
 * symbol from the slot table. 2 to 5 permutes on Intel's port 5 where the
 * search takes 9, and no gather. A table's registers: */
typedef struct bucket_table {
    __m512i first[2], start[3][2], slots[2];
    __m512i fc;             /* freq | cum << 16 of symbols 0..15 */
    uint32_t dense;
} bucket_table;

/* The tables of a context's rounds in one group: the search's or the buckets'. */
typedef union context_tables {
    const small_table *search;
    const bucket_table *bucket;
} context_tables;

/* Order-0 kernels' (none). */
static const context_tables NO_TABLES = {.search = NULL};

/* shift: the precision in every lane, for the variable shift (one uop on
 * Intel's port 0, where a shift by an xmm count also takes port 5);
 * bucket_shift, low_mask, starts: the bucket tables' geometry; bt: the
 * order-0 table's. */
typedef struct kernel_consts {
    small_table t;
    bucket_table bt;
    __m512i shift;
    __m512i mask, low16, state_low;
    __m512i bucket_shift, low_mask;
    uint32_t starts;
    const wqc_rans_dtable *d;
} kernel_consts;

#ifdef __AVX512VBMI__
static inline bucket_table bucket_table_make(const wqc_rans_buckets *b)
{
    bucket_table t;
    t.fc = _mm512_loadu_si512(b->fc);
    t.first[0] = _mm512_loadu_si512(b->first);
    t.first[1] = _mm512_loadu_si512(b->first + 64);
    for (int k = 0; k < 3; k++) {
        t.start[k][0] = _mm512_loadu_si512(b->start[k]);
        t.start[k][1] = _mm512_loadu_si512(b->start[k] + 64);
    }
    t.slots[0] = _mm512_loadu_si512(b->slots);
    t.slots[1] = _mm512_loadu_si512(b->slots + 64);
    t.dense = b->dense;
    return t;
}

static inline __attribute__((always_inline)) __m512i bucket_symbol(const kernel_consts *c, const bucket_table *t,
                                                                   __m512i slot)
{
    /* The byte permutes index with byte 0 of each lane and keep it alone. */
    const __mmask64 lane_bytes = 0x1111111111111111ull;
    __m512i b = _mm512_srlv_epi32(slot, c->bucket_shift), low = _mm512_and_si512(slot, c->low_mask);
    __m512i e = _mm512_maskz_permutex2var_epi8(lane_bytes, t->first[0], b, t->first[1]), s = e;
    for (uint32_t k = 0; k < 3 && k < c->starts; k++) {
        /* offset - 1 - low < 0 where the start lies at or below the slot. */
        __m512i o = _mm512_maskz_permutex2var_epi8(lane_bytes, t->start[k][0], b, t->start[k][1]);
        s = _mm512_sub_epi32(s, _mm512_srai_epi32(_mm512_sub_epi32(o, low), 31));
    }
    if (t->dense) {
        /* e = 0x80 | place in a dense bucket (no starts: s = e): slot place + low. */
        __m512i d = _mm512_maskz_permutex2var_epi8(lane_bytes, t->slots[0], _mm512_add_epi32(e, low), t->slots[1]);
        s = _mm512_mask_blend_epi8(_mm512_movepi8_mask(e), s, d);
    }
    return s;
}
#endif

/* A kernel's constants for d (the bucket geometry always); `search`:
 * nonzero, with the search table of d's order-0 table, or LOOKUP_BUCKET
 * (VBMI builds), with its bucket table instead (0: neither, context
 * kernels make one a table). */
static inline __attribute__((always_inline)) kernel_consts kernel_consts_of(const wqc_rans_dtable *d, int search)
{
    const __m512i zero = _mm512_setzero_si512();
    const small_table none = {zero, zero, zero, zero, zero};
    kernel_consts c = {.t = search && search != LOOKUP_BUCKET ? small_table_make(d) : none,
                       .shift = _mm512_set1_epi32((int)d->precision),
                       .mask = _mm512_set1_epi32((int)((1u << d->precision) - 1)),
                       .low16 = _mm512_set1_epi32(0xffff),
                       .state_low = _mm512_set1_epi32(WQC_RANS_STATE_LOW),
                       .bucket_shift = _mm512_set1_epi32(d->precision - RANS_BUCKET_BITS),
                       .low_mask = _mm512_set1_epi32((int)((1u << (d->precision - RANS_BUCKET_BITS)) - 1)),
                       .starts = d->bucket_starts,
                       .d = d};
#ifdef __AVX512VBMI__
    if (search == LOOKUP_BUCKET) c.bt = bucket_table_make(d->buckets);
#endif
    return c;
}

/* One vector's step by bucket table t (VBMI builds only). */
static inline __attribute__((always_inline)) __m512i advance_bucket(const kernel_consts *c, const bucket_table *t,
                                                                    __m512i *x)
{
#ifdef __AVX512VBMI__
    __m512i slot = _mm512_and_si512(*x, c->mask);
    __m512i s = bucket_symbol(c, t, slot);
    __m512i e = _mm512_permutexvar_epi32(s, t->fc);
    __m512i b = _mm512_sub_epi32(slot, _mm512_srli_epi32(e, 16));
    *x = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_and_si512(e, c->low16), _mm512_srlv_epi32(*x, c->shift)), b);
    return s;
#else
    (void)c, (void)t, (void)x;
    __builtin_unreachable();
#endif
}

/* One vector's step with a small table t (no gather). */
static inline __attribute__((always_inline)) __m512i advance_small(const kernel_consts *c, const small_table *t,
                                                                   __m512i *x)
{
    __m512i slot = _mm512_and_si512(*x, c->mask);
    __m512i s = small_symbol(t, slot);
    __m512i f = _mm512_permutexvar_epi32(s, t->freq);
    __m512i b = _mm512_sub_epi32(slot, _mm512_permutexvar_epi32(s, t->cum));
    *x = _mm512_add_epi32(_mm512_mullo_epi32(f, _mm512_srlv_epi32(*x, c->shift)), b);
    return s;
}


/* Small alphabets by the search (permutes and compares: port 5 on Intel
 * cores, where 512-bit ops issue on two ports), by one gather of the
 * packed entry (load ports), or both in turn (the two kinds of ports busy
 * at once), for order-0 tables (context 0) or a context's rounds in one
 * group (1): LOOKUP_SMALL, LOOKUP_PACKED (order-0 only) or LOOKUP_MIXED.
 * Per CPU vendor; WQC_AVX512_SMALL=search|gather|mixed chooses instead,
 * for benchmarks and tests (gather: the search in context rounds). */
int wqc_avx512_small_lookup(int context);

/* The lookup of an order-0 table. */
static inline int order0_lookup(const wqc_rans_dtable *d)
{
    if (d->alphabet <= WQC_RANS_SEARCHED_ALPHABET) return d->packed ? wqc_avx512_small_lookup(0) : LOOKUP_SMALL;
    return d->packed8 ? LOOKUP_PACKED8 : LOOKUP_GATHERS;
}

/* How a context's uniform rounds find symbols: 0 (gathers, large
 * alphabets), LOOKUP_SMALL (search tables) or LOOKUP_MIXED. */
static inline int context_small_lookup(const wqc_rans_dtable *d)
{
    if (d->alphabet > 16) return 0;
    return d->packed ? wqc_avx512_small_lookup(1) : LOOKUP_SMALL;
}

/* Vector i's lookup under `lookup` (mixed: odd vectors gather). */
static inline __attribute__((always_inline)) int vector_lookup(int lookup, int i)
{
    return lookup == LOOKUP_MIXED ? (i & 1 ? LOOKUP_PACKED : LOOKUP_SMALL) : lookup;
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
    *x = _mm512_add_epi32(_mm512_mullo_epi32(f, _mm512_srlv_epi32(*x, c->shift)), b);
    return s;
}

/* One vector's decoding step before renormalisation: returns the symbols. */
static inline __attribute__((always_inline)) __m512i advance(const kernel_consts *c, __m512i *x, int small)
{
    if (small == LOOKUP_SMALL) return advance_small(c, &c->t, x);
    if (small == LOOKUP_BUCKET) return advance_bucket(c, &c->bt, x);
    return gathered_step(c, x, _mm512_and_si512(*x, c->mask), small);
}

/* Lanes below 2^16 take the next words, in lane order. */
static inline __attribute__((always_inline)) void renormalise(const kernel_consts *c, __m512i *x,
                                                              const uint8_t **w)
{
    __mmask16 m = _mm512_cmplt_epu32_mask(*x, c->state_low);
#ifdef WQC_RENORM_VBMI2
    /* An experiment for Intel's port 5 (build with CMAKE_C_FLAGS="-DWQC_RENORM_VBMI2
     * -mavx512vbmi2"): the lanes' words expanded straight from memory into the
     * low halves (vpexpandw, mask bits spread to even words) instead of a
     * widening load and vpexpandd. Zen 4: order-0 decode 4.05-4.14 against
     * 4.69-5.01 G symbols/s, context 1.93-2.68 against 2.70-2.91 (slower);
     * not yet measured on a Xeon (.devdata/dev28.sh). */
    __m512i words = _mm512_maskz_expandloadu_epi16(_pdep_u32(m, 0x55555555u), *w);
#else
    __m512i words = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)*w));
    words = _mm512_maskz_expand_epi32(m, words);
#endif
    *x = _mm512_mask_or_epi32(*x, m, _mm512_slli_epi32(*x, 16), words);
    *w += 2 * (size_t)__builtin_popcount(m);
}

/* Context-modelled streams: a table per parameter group. */

/* One vector's step with a table per lane, by gathers: `base` holds each
 * lane's first slot (its table times 2^P); lanes: the gather the
 * context's tables take (LOOKUP_PACKED, _PACKED8 or _GATHERS), or
 * LOOKUP_ANY to ask the tables per vector. */
static inline __attribute__((always_inline)) __m512i advance_lanes(const kernel_consts *c, __m512i *x, __m512i base,
                                                                   int lanes)
{
    __m512i idx = _mm512_add_epi32(_mm512_and_si512(*x, c->mask), base);
    if (lanes != LOOKUP_ANY) return gathered_step(c, x, idx, lanes);
    if (c->d->packed) return gathered_step(c, x, idx, LOOKUP_PACKED);
    return c->d->packed8 ? gathered_step(c, x, idx, LOOKUP_PACKED8) : gathered_step(c, x, idx, LOOKUP_GATHERS);
}

/* Each lane's first slot under column shifts: its bin is the group's
 * (bin) moved by its column's shift (16 of them at shift), clamped. */
static inline __attribute__((always_inline)) __m512i shifted_bases(const kernel_consts *c, uint32_t bin,
                                                                   const int8_t *shift)
{
    if (c->d->shift_base) return _mm512_loadu_si512(rans_shift_bases(c->d, bin, shift));
    __m512i b = _mm512_add_epi32(_mm512_set1_epi32((int)bin), _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)shift)));
    b = _mm512_min_epi32(_mm512_max_epi32(b, _mm512_setzero_si512()), _mm512_set1_epi32((int)c->d->context->nbins - 1));
    /* Up to 32 bins (16 symbols at R = 2): two registers' permute, not a gather. */
    if (c->d->context->nbins <= 32)
        return _mm512_permutex2var_epi32(_mm512_loadu_si512(c->d->bin_base), b, _mm512_loadu_si512(c->d->bin_base + 16));
    return _mm512_i32gather_epi32(b, c->d->bin_base, 4);
}

/* Small-alphabet search tables of every table of the context. */
static inline void context_small_tables(const wqc_rans_dtable *d, small_table *out)
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
                                                                     context_tables tables, int small, int lanes,
                                                                     uint64_t pos, __m512i *x)
{
    uint32_t t;
    if (rans_context_uniform(&k->context, pos, V, &t)) {
        if (small == LOOKUP_BUCKET) return advance_bucket(c, &tables.bucket[t], x);
        if (small) return advance_small(c, &tables.search[t], x);
        return advance_lanes(c, x, _mm512_set1_epi32((int)(t << c->d->precision)), lanes);
    }
    uint32_t bin;
    const int8_t *shift;
    if (c->d->context->col_shift && rans_context_shift_span(&k->context, pos, V, &bin, &shift))
        return advance_lanes(c, x, shifted_bases(c, bin, shift), lanes);
    uint32_t lane_table[V];
    rans_context_lanes(&k->context, pos, V, lane_table);
    return advance_lanes(c, x, _mm512_sllv_epi32(_mm512_loadu_si512(lane_table), _mm512_set1_epi32(c->d->precision)),
                         lanes);
}

/* NK chunks of 32 lanes each, states in registers: 2 NK independent
 * vectors per round instead of two. With a context, each chunk takes one
 * table per round while its lanes lie in one group. */
static inline __attribute__((always_inline)) size_t multi_rounds(rans_kernel_ctx *const *k, int nk,
                                                                 wqc_rans_form form, int small, int context,
                                                                 int lanes, context_tables tables)
{
    const wqc_rans_dtable *d = k[0]->d;
    const int order0 = !context && (small == LOOKUP_SMALL || small == LOOKUP_MIXED || small == LOOKUP_BUCKET);
    const kernel_consts c = kernel_consts_of(d, order0 ? small : 0);
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
                for (int i = 0; i < nk; i++) s[i][v] = advance(&c, &x[i][v], vector_lookup(small, i + v));
        } else {
            for (int i = 0; i < nk; i++) {
                uint32_t t, bin;
                const int8_t *shift;
                if (d->context->col_shift && rans_context_shift_span(&k[i]->context, pos[i], 2 * V, &bin, &shift)) {
                    /* Column shifts, both vectors in one row: one span check. */
                    s[i][0] = advance_lanes(&c, &x[i][0], shifted_bases(&c, bin, shift), lanes);
                    s[i][1] = advance_lanes(&c, &x[i][1], shifted_bases(&c, bin, shift + V), lanes);
                } else if (small == LOOKUP_BUCKET && rans_context_uniform(&k[i]->context, pos[i], 2 * V, &t)) {
                    s[i][0] = advance_bucket(&c, &tables.bucket[t], &x[i][0]);
                    s[i][1] = advance_bucket(&c, &tables.bucket[t], &x[i][1]);
                } else if (small && small != LOOKUP_BUCKET && rans_context_uniform(&k[i]->context, pos[i], 2 * V, &t)) {
                    s[i][0] = advance_small(&c, &tables.search[t], &x[i][0]);
                    s[i][1] = small == LOOKUP_MIXED
                                  ? advance_lanes(&c, &x[i][1], _mm512_set1_epi32((int)(t << d->precision)), lanes)
                                  : advance_small(&c, &tables.search[t], &x[i][1]);
                } else {
                    s[i][0] = advance_context(k[i], &c, tables, small, lanes, pos[i], &x[i][0]);
                    s[i][1] = advance_context(k[i], &c, tables, small, lanes, pos[i] + V, &x[i][1]);
                }
            }
        }
        for (int v = 0; v < 2; v++)
            for (int i = 0; i < nk; i++) renormalise(&c, &x[i][v], &w[i]);
        if (form == WQC_FORM_SYMBOLS) {
            /* Two chunks' four vectors packed at once, a half each. */
            for (int i = 0; i < nk; i += 2) {
                __m512i b = symbol_bytes4(s[i][0], s[i][1], s[i + 1][0], s[i + 1][1]);
                __m512i add = _mm512_mask_blend_epi64(0xf0, _mm512_set1_epi8((char)k[i]->out->add),
                                                      _mm512_set1_epi8((char)k[i + 1]->out->add));
                b = _mm512_add_epi8(b, add);
                _mm256_storeu_si256((__m256i *)(k[i]->out->dst + (pos[i] - k[i]->out->first)), _mm512_castsi512_si256(b));
                _mm256_storeu_si256((__m256i *)(k[i + 1]->out->dst + (pos[i + 1] - k[i + 1]->out->first)),
                                    _mm512_extracti64x4_epi64(b, 1));
            }
        } else {
            for (int i = 0; i < nk; i++) {
                store(k[i], form, pos[i], s[i][0]);
                store(k[i], form, pos[i] + V, s[i][1]);
            }
        }
        for (int i = 0; i < nk; i++) pos[i] += 2 * V;
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
                                                                   int lanes, context_tables tables)
{
    return nk == 4 ? multi_rounds(k, 4, form, small, context, lanes, tables)
                   : multi_rounds(k, 2, form, small, context, lanes, tables);
}

/* The multi kernels take 2 or 4 chunks of 32 lanes. */
static inline int multi_fits(rans_kernel_ctx *const *k, int nk)
{
    if (nk != 2 && nk != 4) return 0;
    for (int i = 0; i < nk; i++)
        if (k[i]->lanes != 32) return 0;
    return 1;
}

/* The kernel variants: the small-alphabet lookup (0: none) and the lanes'
 * gather. Only split frames' symbols (byte alphabets, one form) take the
 * packed8 gather as a constant; the rest choose it per vector: every
 * variant is another copy of the context kernels' large inlined loops,
 * which the sanitizer builds compile for minutes. */
#define BY_LOOKUPS(call, small, packed8, form, ...)                                                           \
    (small == LOOKUP_MIXED ? call(__VA_ARGS__, form, LOOKUP_MIXED, LOOKUP_ANY, tables)                        \
     : small               ? call(__VA_ARGS__, form, LOOKUP_SMALL, LOOKUP_ANY, tables)                        \
     : form == WQC_FORM_SYMBOLS && packed8 ? call(__VA_ARGS__, form, 0, LOOKUP_PACKED8, tables)               \
                                           : call(__VA_ARGS__, form, 0, LOOKUP_ANY, tables))

#endif
