/* AVX-512 order-0 kernel decoding 2 or 4 chunks at once. */
#include "decode_avx512_step.h"

static inline __attribute__((always_inline)) size_t multi_by_lookup(rans_kernel_ctx *const *k, int nk,
                                                                    wqc_rans_form form)
{
    switch (order0_lookup(k[0]->d)) {
    case LOOKUP_SMALL: return multi_by_count(k, nk, form, LOOKUP_SMALL, 0, LOOKUP_ANY, NO_TABLES);
    case LOOKUP_MIXED: return multi_by_count(k, nk, form, LOOKUP_MIXED, 0, LOOKUP_ANY, NO_TABLES);
    case LOOKUP_PACKED: return multi_by_count(k, nk, form, LOOKUP_PACKED, 0, LOOKUP_ANY, NO_TABLES);
    case LOOKUP_PACKED8: return multi_by_count(k, nk, form, LOOKUP_PACKED8, 0, LOOKUP_ANY, NO_TABLES);
    default: return multi_by_count(k, nk, form, LOOKUP_GATHERS, 0, LOOKUP_ANY, NO_TABLES);
    }
}

size_t wqc_rans_kernel_multi_avx512(rans_kernel_ctx *const *k, int nk)
{
    if (!multi_fits(k, nk)) return 0;
    switch (k[0]->out->form) {
    case WQC_FORM_SYMBOLS: return multi_by_lookup(k, nk, WQC_FORM_SYMBOLS);
    case WQC_FORM_NIBBLES: return multi_by_lookup(k, nk, WQC_FORM_NIBBLES);
    case WQC_FORM_F32: return multi_by_lookup(k, nk, WQC_FORM_F32);
    case WQC_FORM_F16: return multi_by_lookup(k, nk, WQC_FORM_F16);
    case WQC_FORM_BF16: return multi_by_lookup(k, nk, WQC_FORM_BF16);
    case WQC_FORM_DOT: return multi_by_lookup(k, nk, WQC_FORM_DOT);
    }
    return 0;
}
