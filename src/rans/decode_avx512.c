/* AVX-512 order-0 kernel: one table for every lane. */
#include <stdlib.h>
#include <string.h>

#include "decode_avx512_step.h"

/* Read once from the environment (see decode_avx512_step.h). */
int wqc_avx512_small_lookup(void)
{
    static int choice = -1;
    int c = __atomic_load_n(&choice, __ATOMIC_RELAXED);
    if (c < 0) {
        const char *e = getenv("WQC_AVX512_SMALL");
        c = e && strcmp(e, "gather") == 0  ? LOOKUP_PACKED
            : e && strcmp(e, "mixed") == 0 ? LOOKUP_MIXED
                                           : LOOKUP_SMALL;
        __atomic_store_n(&choice, c, __ATOMIC_RELAXED);
    }
    return c;
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
            for (uint32_t v = 0; v < nv_fixed; v++) s[v] = advance(&c, &x[v], vector_lookup(small, (int)v));
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

size_t wqc_rans_kernel_avx512(rans_kernel_ctx *k)
{
    const int lookup = order0_lookup(k->d);
#define BY_LOOKUP(form)                                                                                       \
    (lookup == LOOKUP_SMALL     ? by_lanes(k, form, LOOKUP_SMALL)                                            \
     : lookup == LOOKUP_MIXED   ? by_lanes(k, form, LOOKUP_MIXED)                                            \
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
