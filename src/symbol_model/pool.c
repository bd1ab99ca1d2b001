/* Shared models: zero-point counts pooled per alphabet. */
#include <stdlib.h>

#include "wqc/symbol_model.h"

struct wqc_model_pool {
    int precision;
    uint32_t resolution;
    uint64_t *counts[257];  /* by alphabet: nbins * 256 counts, NULL until used */
};

wqc_status wqc_model_pool_create(int precision, uint32_t resolution, wqc_model_pool **out, wqc_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    (*out)->precision = precision;
    (*out)->resolution = resolution;
    return WQC_OK;
}

wqc_status wqc_model_pool_add(wqc_model_pool *p, const wqc_quantized *q, wqc_error *err)
{
    uint32_t a = q->alphabet;
    if (a < 1 || a > 256) return wqc_fail(err, WQC_ERR_INVALID_ARG, "alphabet of %u symbols", a);
    uint32_t res = wqc_symbol_model_fit(a, p->resolution), nbins = wqc_symbol_model_nbins(a, res);
    if (!p->counts[a]) {
        p->counts[a] = calloc(256 * (size_t)(nbins ? nbins : 1), sizeof(uint64_t));
        if (!p->counts[a]) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    wqc_symbol_model_count(q, res, p->counts[a]);
    return WQC_OK;
}

wqc_status wqc_model_pool_build(const wqc_model_pool *p, wqc_symbol_model **models, size_t *n, wqc_error *err)
{
    *models = calloc(257, sizeof **models);
    *n = 0;
    if (!*models) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (uint32_t a = 1; a <= 256; a++) {
        if (!p->counts[a]) continue;
        uint32_t res = wqc_symbol_model_fit(a, p->resolution);
        wqc_status st = wqc_symbol_model_build(p->counts[a], res, a, p->precision, 1, &(*models)[*n], err);
        if (st != WQC_OK) {
            for (size_t i = 0; i < *n; i++) wqc_symbol_model_free(&(*models)[i]);
            free(*models);
            *models = NULL;
            *n = 0;
            return st;
        }
        (*n)++;
    }
    return WQC_OK;
}

void wqc_model_pool_free(wqc_model_pool *p)
{
    if (!p) return;
    for (int a = 0; a <= 256; a++) free(p->counts[a]);
    free(p);
}
