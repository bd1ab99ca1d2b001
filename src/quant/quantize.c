/* wqc_quantize(): allocation and dispatch; dequantization and error metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"

wqc_status wqc_quant_nonfinite(const float *w, uint64_t n, uint64_t base, const char *name,
                               wqc_error *err)
{
    for (uint64_t i = 0; i < n; i++) {
        if (!isfinite(w[i]))
            return wqc_fail(err, WQC_ERR_NONFINITE, "tensor '%s': %s at element %llu",
                            name ? name : "", isnan(w[i]) ? "NaN" : "infinity",
                            (unsigned long long)(base + i));
    }
    return WQC_OK;
}

wqc_status wqc_quantized_alloc(uint64_t rows, uint64_t cols, const wqc_quant_params *p, const char *name,
                               wqc_quantized *q, wqc_error *err)
{
    memset(q, 0, sizeof *q);
    wqc_status st = wqc_quant_params_check(p, err);
    if (st != WQC_OK) return st;
    if (cols != 0 && rows > UINT64_MAX / cols)
        return wqc_fail(err, WQC_ERR_LIMIT, "tensor '%s' is too large", name ? name : "");
    uint64_t n = rows * cols;
    q->rows = rows;
    q->cols = cols;
    q->bits = p->bits;
    wqc_quant_group_layout(p, rows, cols, &q->ngroups, &q->group_len);
    if (p->method == WQC_QUANT_AFFINE) q->alphabet = 1u << p->bits;
    if (p->method == WQC_QUANT_SDCLIP) q->alphabet = (1u << p->bits) - 1;
    if (n > SIZE_MAX || q->ngroups > SIZE_MAX / sizeof(float))
        return wqc_fail(err, WQC_ERR_LIMIT, "tensor '%s' is too large", name ? name : "");
    q->symbols = malloc(n ? (size_t)n : 1);
    q->scale = calloc(q->ngroups ? (size_t)q->ngroups : 1, sizeof(float));
    q->offset = calloc(q->ngroups ? (size_t)q->ngroups : 1, sizeof(float));
    if (!q->symbols || !q->scale || !q->offset) {
        wqc_quantized_free(q);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory quantizing '%s'", name ? name : "");
    }
    return WQC_OK;
}

int wqc_quantize_by_rows(const wqc_quant_params *p)
{
    return p->method == WQC_QUANT_SDCLIP || (p->method == WQC_QUANT_AFFINE && p->granularity != WQC_GRAN_TENSOR);
}

wqc_status wqc_quantize_rows(const float *w, uint64_t r0, uint64_t r1, const wqc_quant_params *p, const char *name,
                             wqc_quantized *q, wqc_error *err)
{
    if (p->method == WQC_QUANT_SDCLIP) return wqc_quantize_sdclip(w, p, name, q, r0, r1, err);
    return wqc_quantize_affine(w, p, name, q, r0, r1, err);
}

wqc_status wqc_quantize(const float *w, uint64_t rows, uint64_t cols, const wqc_quant_params *p,
                        const char *name, wqc_quantized *q, wqc_error *err)
{
    wqc_status st = wqc_quantized_alloc(rows, cols, p, name, q, err);
    if (st != WQC_OK) return st;
    switch (p->method) {
    case WQC_QUANT_AFFINE: st = wqc_quantize_affine(w, p, name, q, 0, rows, err); break;
    case WQC_QUANT_SDCLIP: st = wqc_quantize_sdclip(w, p, name, q, 0, rows, err); break;
    case WQC_QUANT_GRID: st = wqc_quantize_grid(w, p, name, q, err); break;
    case WQC_QUANT_GIVEN: break; /* rejected by wqc_quant_params_check */
    }
    if (st != WQC_OK) wqc_quantized_free(q);
    return st;
}

void wqc_quant_group_layout(const wqc_quant_params *p, uint64_t rows, uint64_t cols, uint64_t *ngroups,
                            uint64_t *group_len)
{
    *ngroups = 1;
    *group_len = cols;
    if (p->method == WQC_QUANT_SDCLIP) {
        *ngroups = rows;
    } else if (p->method == WQC_QUANT_AFFINE && p->granularity == WQC_GRAN_ROW) {
        *ngroups = cols ? rows : 0;
    } else if (p->method == WQC_QUANT_AFFINE && p->granularity == WQC_GRAN_GROUP) {
        *group_len = p->group_size;
        *ngroups = rows * (p->group_size ? (cols + p->group_size - 1) / p->group_size : 0);
    }
}

void wqc_quantized_free(wqc_quantized *q)
{
    free(q->symbols);
    free(q->scale);
    free(q->offset);
    memset(q, 0, sizeof *q);
}


void wqc_dequantize(const wqc_quantized *q, float *out)
{
    for (uint64_t r = 0; r < q->rows; r++) {
        for (uint64_t c = 0; c < q->cols; c++) {
            uint64_t g = wqc_quantized_group(q, r, c), i = r * q->cols + c;
            out[i] = q->offset[g] + q->scale[g] * (float)q->symbols[i];
        }
    }
}

void wqc_quant_measure_rows(const float *w, const wqc_quantized *q, uint64_t r0, uint64_t r1, wqc_quant_sums *sums)
{
    for (uint64_t r = r0; r < r1; r++) {
        for (uint64_t c0 = 0; c0 < q->cols; c0 += q->group_len ? q->group_len : 1) {
            uint64_t g = wqc_quantized_group(q, r, c0);
            uint64_t c1 = q->group_len && c0 + q->group_len < q->cols ? c0 + q->group_len : q->cols;
            float s = q->scale[g], o = q->offset[g];
            for (uint64_t c = c0; c < c1; c++) {
                uint64_t i = r * q->cols + c;
                double v = w[i - r0 * q->cols], d = v - (double)(o + s * (float)q->symbols[i]);
                sums->signal += v * v;
                sums->noise += d * d;
                if (fabs(d) > sums->max_abs) sums->max_abs = fabs(d);
            }
        }
    }
}

void wqc_quant_measure(const float *w, const wqc_quantized *q, wqc_quant_error *out)
{
    wqc_quant_sums sums = {0};
    wqc_quant_measure_rows(w, q, 0, q->rows, &sums);
    uint64_t n = q->rows * q->cols;
    out->mse = n ? sums.noise / (double)n : 0.0;
    out->max_abs = sums.max_abs;
    out->sqnr_db = sums.noise > 0.0 ? 10.0 * log10(sums.signal / sums.noise) : INFINITY;
}
