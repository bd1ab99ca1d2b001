/* Internal: the AVX-512 context rounds of one chunk, for the kernels of
 * decode_avx512_context.c and decode_avx512_vbmi.c (built with and without
 * VBMI's byte permutes). */
#ifndef WQC_RANS_DECODE_AVX512_CONTEXT_H
#define WQC_RANS_DECODE_AVX512_CONTEXT_H

#include "decode_avx512_step.h"

/* nv vectors of lanes (1, 2 or 4) kept in registers; a round whose lanes all
 * lie in one group takes one table for all of them. `tables`: the search
 * or bucket tables (small alphabets), made once by the entry point: an array in every
 * inlined copy would grow its stack frame by 20 KiB a copy (megabytes under
 * AddressSanitizer, which keeps them apart). */
static inline __attribute__((always_inline)) size_t context_rounds(rans_kernel_ctx *k, wqc_rans_form form, int small,
                                                                   int lanes, uint32_t nv, context_tables tables)
{
    const wqc_rans_dtable *d = k->d;
    const kernel_consts c = kernel_consts_of(d, 0);
    const uint8_t *w = k->w;
    uint64_t pos = k->pos;
    size_t r = 0;
    const size_t need = 2 * (size_t)k->lanes;
    __m512i x[4], s[4];
    for (uint32_t v = 0; v < nv; v++) x[v] = _mm512_loadu_si512(k->state + V * v);
    for (; r < k->rounds && (size_t)(k->end - w) >= need; r++) {
        uint32_t t, bin;
        const int8_t *shift;
        if (d->context->col_shift && rans_context_shift_span(&k->context, pos, k->lanes, &bin, &shift)) {
            /* Column shifts, the round in one row: one span check. */
            for (uint32_t v = 0; v < nv; v++) s[v] = advance_lanes(&c, &x[v], shifted_bases(&c, bin, shift + V * v), lanes);
        } else if (rans_context_uniform(&k->context, pos, k->lanes, &t)) {
            if (small == LOOKUP_BUCKET) {
                for (uint32_t v = 0; v < nv; v++) s[v] = advance_bucket(&c, &tables.bucket[t], &x[v]);
            } else if (small) {
                const small_table *tab = &tables.search[t];
                const __m512i base = _mm512_set1_epi32((int)(t << d->precision));
                for (uint32_t v = 0; v < nv; v++)
                    s[v] = vector_lookup(small, (int)v) == LOOKUP_PACKED ? advance_lanes(&c, &x[v], base, lanes)
                                                                         : advance_small(&c, tab, &x[v]);
            } else {
                __m512i base = _mm512_set1_epi32((int)(t << d->precision));
                for (uint32_t v = 0; v < nv; v++) s[v] = advance_lanes(&c, &x[v], base, lanes);
            }
        } else {
            for (uint32_t v = 0; v < nv; v++) s[v] = advance_context(k, &c, tables, small, lanes, pos + V * v, &x[v]);
        }
        for (uint32_t v = 0; v < nv; v++) renormalise(&c, &x[v], &w);
        if (form == WQC_FORM_SYMBOLS && nv > 1) store_symbols(k, pos, s, nv);
        else
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
                                                                       int small, int lanes, context_tables tables)
{
    const wqc_rans_dtable *d = k->d;
    const kernel_consts c = kernel_consts_of(d, 0);
    const uint8_t *w = k->w;
    uint64_t pos = k->pos;
    size_t r = 0;
    const size_t need = 2 * (size_t)k->lanes;
    for (; r < k->rounds && (size_t)(k->end - w) >= need; r++) {
        for (uint32_t v = 0; v < k->lanes / V; v++) {
            __m512i x = _mm512_loadu_si512(k->state + V * v);
            __m512i sv = advance_context(k, &c, tables, small, lanes, pos, &x);
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

static inline __attribute__((always_inline)) size_t context_by_lanes(rans_kernel_ctx *k, wqc_rans_form form,
                                                                     int small, int lanes, context_tables tables)
{
    switch (k->lanes) {
    case 16: return context_rounds(k, form, small, lanes, 1, tables);
    case 32: return context_rounds(k, form, small, lanes, 2, tables);
    case 64: return context_rounds(k, form, small, lanes, 4, tables);
    default: return context_rounds_any(k, form, small, lanes, tables);
    }
}

#endif
