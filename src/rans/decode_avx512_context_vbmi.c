/* AVX-512 context kernels for alphabets of at most 16 symbols: a round in
 * one group takes its table's bucket tables (byte permutes: built with
 * VBMI, chosen at run time), one chunk or several. */
#include "decode_avx512_context.h"
#include "decode_avx512_vbmi.h"

/* Every table's registers, made once (see context_rounds). */
static void context_bucket_tables(const wqc_rans_dtable *d, bucket_table *out)
{
    for (uint32_t t = 0; t < d->ntables; t++) out[t] = bucket_table_make(&d->buckets[t]);
}

static inline __attribute__((always_inline)) size_t context_bucket(rans_kernel_ctx *k, context_tables tables,
                                                                   wqc_rans_form form, int small)
{
    return context_rounds(k, form, small, LOOKUP_ANY, 2, tables);
}

size_t wqc_rans_kernel_context_avx512_bucket(rans_kernel_ctx *k)
{
    if (k->lanes != 32) return 0;
    bucket_table bucket[WQC_RANS_TABLES_MAX];
    context_bucket_tables(k->d, bucket);
    const context_tables tables = {.bucket = bucket};
    const wqc_rans_form form = k->out->form;
    BY_FORM(context_bucket, k, tables);
}

static inline __attribute__((always_inline)) size_t multi_context_bucket(rans_kernel_ctx *const *k, int nk,
                                                                         context_tables tables, wqc_rans_form form,
                                                                         int small)
{
    return multi_by_count(k, nk, form, small, 1, LOOKUP_ANY, tables);
}

size_t wqc_rans_kernel_context_multi_avx512_bucket(rans_kernel_ctx *const *k, int nk)
{
    if (!multi_fits(k, nk)) return 0;
    bucket_table bucket[WQC_RANS_TABLES_MAX];
    context_bucket_tables(k[0]->d, bucket);
    const context_tables tables = {.bucket = bucket};
    const wqc_rans_form form = k[0]->out->form;
    BY_FORM(multi_context_bucket, k, nk, tables);
}
