/* Internal: the AVX-512 order-0 rounds of one chunk, for the kernels of
 * decode_avx512.c and decode_avx512_vbmi.c (the same loop, built with and
 * without VBMI's byte permutes). */
#ifndef WQC_RANS_DECODE_AVX512_ORDER0_H
#define WQC_RANS_DECODE_AVX512_ORDER0_H

#include "decode_avx512_step.h"

/* nv_fixed > 0: the lanes are exactly nv_fixed vectors, kept in registers
 * across rounds; 0: any multiple of 16 lanes, states in memory. */
static inline __attribute__((always_inline)) size_t rounds(rans_kernel_ctx *k, wqc_rans_form form, int small,
                                                           uint32_t nv_fixed)
{
    const wqc_rans_dtable *d = k->d;
    const kernel_consts c = kernel_consts_of(d, small == LOOKUP_BUCKET ? LOOKUP_BUCKET : 1);
    const uint8_t *w = k->w;
    uint64_t pos = k->pos;
    size_t r = 0;
    const size_t need = 2 * (size_t)k->lanes;
    if (nv_fixed) {
        __m512i x[4], s[4];
        for (uint32_t v = 0; v < nv_fixed; v++) x[v] = _mm512_loadu_si512(k->state + V * v);
        for (; r < k->rounds && (size_t)(k->end - w) >= need; r++) {
            for (uint32_t v = 0; v < nv_fixed; v++) s[v] = advance(&c, &x[v], vector_lookup(small, (int)v));
            for (uint32_t v = 0; v < nv_fixed; v++) renormalise(&c, &x[v], &w);
            if (form == WQC_FORM_SYMBOLS && nv_fixed > 1) store_symbols(k, pos, s, nv_fixed);
            else
                for (uint32_t v = 0; v < nv_fixed; v++) store(k, form, pos + V * v, s[v]);
            pos += V * nv_fixed;
        }
        for (uint32_t v = 0; v < nv_fixed; v++) _mm512_storeu_si512(k->state + V * v, x[v]);
    } else {
        const uint32_t nv = k->lanes / V;
        for (; r < k->rounds && (size_t)(k->end - w) >= need; r++) {
            for (uint32_t v = 0; v < nv; v++) {
                __m512i x = _mm512_loadu_si512(k->state + V * v);
                __m512i s = advance(&c, &x, vector_lookup(small, (int)v));
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

#endif
