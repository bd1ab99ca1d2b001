/* AVX-512 context kernel: each element's table from its parameter group
 * (one chunk; decode_avx512_context_multi.c decodes several at once). */
#include "decode_avx512_context.h"

size_t wqc_rans_kernel_context_avx512(rans_kernel_ctx *k)
{
    if (k->lanes % V) return 0;
    int small = context_small_lookup(k->d);
    small_table search[WQC_RANS_TABLES_MAX];
    if (small) context_small_tables(k->d, search);
    const context_tables tables = {.search = search};
#define BY_TABLE(form) BY_LOOKUPS(context_by_lanes, small, k->d->packed8, form, k)
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
