/* AVX-512 order-0 kernels for alphabets of at most 16 symbols by the
 * bucket tables (byte permutes: built with VBMI, chosen at run time). */
#include "decode_avx512_order0.h"

#define BY_FORM(call, ...)                                                                                    \
    switch (form) {                                                                                           \
    case WQC_FORM_SYMBOLS: return call(__VA_ARGS__, WQC_FORM_SYMBOLS, LOOKUP_BUCKET);                          \
    case WQC_FORM_NIBBLES: return call(__VA_ARGS__, WQC_FORM_NIBBLES, LOOKUP_BUCKET);                          \
    case WQC_FORM_F32: return call(__VA_ARGS__, WQC_FORM_F32, LOOKUP_BUCKET);                                  \
    case WQC_FORM_F16: return call(__VA_ARGS__, WQC_FORM_F16, LOOKUP_BUCKET);                                  \
    case WQC_FORM_BF16: return call(__VA_ARGS__, WQC_FORM_BF16, LOOKUP_BUCKET);                                \
    case WQC_FORM_DOT: return call(__VA_ARGS__, WQC_FORM_DOT, LOOKUP_BUCKET);                                  \
    }                                                                                                         \
    return 0

size_t wqc_rans_kernel_avx512_bucket(rans_kernel_ctx *k)
{
    const wqc_rans_form form = k->out->form;
    BY_FORM(by_lanes, k);
}

static inline __attribute__((always_inline)) size_t multi_bucket(rans_kernel_ctx *const *k, int nk,
                                                                 wqc_rans_form form, int small)
{
    return multi_by_count(k, nk, form, small, 0, LOOKUP_ANY, NULL);
}

size_t wqc_rans_kernel_multi_avx512_bucket(rans_kernel_ctx *const *k, int nk)
{
    if (!multi_fits(k, nk)) return 0;
    const wqc_rans_form form = k[0]->out->form;
    BY_FORM(multi_bucket, k, nk);
}
