/* AVX-512 kernels for alphabets of at most 16 symbols by the bucket tables
 * (byte permutes: built with VBMI, chosen at run time): order-0 and a
 * context's rounds in one group, one chunk or several. */
#include "decode_avx512_context.h"
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
    return multi_by_count(k, nk, form, small, 0, LOOKUP_ANY, NO_TABLES);
}

size_t wqc_rans_kernel_multi_avx512_bucket(rans_kernel_ctx *const *k, int nk)
{
    if (!multi_fits(k, nk)) return 0;
    const wqc_rans_form form = k[0]->out->form;
    BY_FORM(multi_bucket, k, nk);
}

/* Every table's registers, made once (see context_rounds). */
static void context_bucket_tables(const wqc_rans_dtable *d, bucket_table *out)
{
    for (uint32_t t = 0; t < d->ntables; t++) out[t] = bucket_table_make(&d->buckets[t]);
}

static inline __attribute__((always_inline)) size_t context_bucket(rans_kernel_ctx *k, context_tables tables,
                                                                   wqc_rans_form form, int small)
{
    return context_by_lanes(k, form, small, LOOKUP_ANY, tables);
}

size_t wqc_rans_kernel_context_avx512_bucket(rans_kernel_ctx *k)
{
    if (k->lanes % V) return 0;
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
