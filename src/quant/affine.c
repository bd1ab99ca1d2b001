/* Asymmetric min/max quantizer: scale = (max - min) / (2^b - 1), offset = min,
 * with min and max first rounded to bfloat16. */
#include <math.h>

#include "methods.h"
#include "wqc/dtype.h"

/* Quantizes the n weights of one group, all sharing one scale and offset. */
static wqc_status quantize_group(const float *w, uint64_t n, uint64_t base, float maxq, int exact,
                                 const char *name, uint8_t *sym, float *scale_out,
                                 float *offset_out, wqc_error *err)
{
    float lo = INFINITY, hi = -INFINITY;
    int finite = 1;
    for (uint64_t i = 0; i < n; i++) {
        lo = w[i] < lo ? w[i] : lo;
        hi = w[i] > hi ? w[i] : hi;
        finite &= isfinite(w[i]) != 0;
    }
    if (!finite) return wqc_quant_nonfinite(w, n, base, name, err);
    if (n == 0) lo = hi = 0.0f;
    /* The grid's ends to 8 significant bits: they cost a third of the bits
     * to store, and the grid moves by at most 1/256 of its range (SQNR
     * changes in the fourth decimal). A group that rounding would make
     * constant keeps its exact ends. */
    float lo8 = wqc_bf16_round(lo), hi8 = wqc_bf16_round(hi);
    if (!exact && hi8 > lo8 && isfinite(lo8) && isfinite(hi8)) lo = lo8, hi = hi8;
    float scale = (float)(((double)hi - (double)lo) / maxq);
    *scale_out = scale;
    *offset_out = lo;
    if (scale == 0.0f) {
        for (uint64_t i = 0; i < n; i++) sym[i] = 0;
        return WQC_OK;
    }
    for (uint64_t i = 0; i < n; i++) {
        float x = (w[i] - lo) / scale;
        x = x < 0.0f ? 0.0f : x > maxq ? maxq : x;
        sym[i] = (uint8_t)(x + 0.5f); /* x >= 0, so truncation is floor */
    }
    return WQC_OK;
}

wqc_status wqc_quantize_affine(const float *w, const wqc_quant_params *p, const char *name, wqc_quantized *q,
                               uint64_t r0, uint64_t r1, wqc_error *err)
{
    float maxq = (float)((1u << p->bits) - 1);
    if (p->granularity == WQC_GRAN_TENSOR)
        return quantize_group(w, q->rows * q->cols, 0, maxq, p->exact_ends, name, q->symbols, &q->scale[0],
                              &q->offset[0], err);
    uint64_t groups_per_row = q->group_len ? (q->cols + q->group_len - 1) / q->group_len : 0, g = r0 * groups_per_row;
    for (uint64_t r = r0; r < r1; r++) {
        for (uint64_t c = 0; c < q->cols; c += q->group_len, g++) {
            uint64_t len = q->cols - c < q->group_len ? q->cols - c : q->group_len;
            uint64_t at = r * q->cols + c;
            wqc_status st = quantize_group(w + (at - r0 * q->cols), len, at, maxq, p->exact_ends, name,
                                           q->symbols + at, &q->scale[g], &q->offset[g], err);
            if (st != WQC_OK) return st;
        }
    }
    return WQC_OK;
}
