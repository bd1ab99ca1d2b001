/* AVX-512 order-0 kernels for alphabets of at most 16 symbols by the
 * bucket tables (byte permutes: built with VBMI, chosen at run time), one
 * chunk or several; decode_avx512_context_vbmi.c has the context's. */
#include "decode_avx512_order0.h"
#include "decode_avx512_vbmi.h"

/* 32 lanes only (the codec's default for these alphabets): every variant
 * is another copy of the inlined loops, which the sanitizer builds compile
 * for a minute. */
static inline __attribute__((always_inline)) size_t rounds32(rans_kernel_ctx *k, wqc_rans_form form, int small)
{
    return rounds(k, form, small, 2);
}

size_t wqc_rans_kernel_avx512_bucket(rans_kernel_ctx *k)
{
    if (k->lanes != 32) return 0;
    const wqc_rans_form form = k->out->form;
    BY_FORM(rounds32, k);
}

static inline __attribute__((always_inline)) size_t multi_bucket(rans_kernel_ctx *const *k, int nk,
                                                                 wqc_rans_form form, int small)
{
    return multi_by_count(k, nk, form, small, 0, LOOKUP_ANY, NO_TABLES);
}

size_t wqc_rans_kernel_multi_avx512_bucket(rans_kernel_ctx *const *k, int nk)
{
    if (!multi_fits(k, nk)) return 0;
    const wqc_rans_form form = k[0]->out->form;
    BY_FORM(multi_bucket, k, nk);
}
