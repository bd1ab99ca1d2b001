/* AVX-512 context kernel decoding 2 or 4 chunks at once: a file of its own
 * so that the two large context kernels compile side by side. */
#include "decode_avx512_step.h"

static inline __attribute__((always_inline)) size_t multi_context(rans_kernel_ctx *const *k, int nk, wqc_rans_form form,
                                                                  int small, int lanes, context_tables tables)
{
    return multi_by_count(k, nk, form, small, 1, lanes, tables);
}

size_t wqc_rans_kernel_context_multi_avx512(rans_kernel_ctx *const *k, int nk)
{
    if (!multi_fits(k, nk)) return 0;
    small_table search[WQC_RANS_TABLES_MAX];
    if (k[0]->d->alphabet <= 16) context_small_tables(k[0]->d, search);
    const context_tables tables = {.search = search};
    /* Small alphabets by the search tables (or those and gathers in turn), others by gathers. */
    const int small = context_small_lookup(k[0]->d);
#define BY_FORM(form) BY_LOOKUPS(multi_context, small, k[0]->d->packed8, form, k, nk)
    switch (k[0]->out->form) {
    case WQC_FORM_SYMBOLS: return BY_FORM(WQC_FORM_SYMBOLS);
    case WQC_FORM_NIBBLES: return BY_FORM(WQC_FORM_NIBBLES);
    case WQC_FORM_F32: return BY_FORM(WQC_FORM_F32);
    case WQC_FORM_F16: return BY_FORM(WQC_FORM_F16);
    case WQC_FORM_BF16: return BY_FORM(WQC_FORM_BF16);
    case WQC_FORM_DOT: return BY_FORM(WQC_FORM_DOT);
    }
#undef BY_FORM
    return 0;
}
