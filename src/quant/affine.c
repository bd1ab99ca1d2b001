/* Asymmetric min/max quantizer: scale = (max - min) / (2^b - 1), offset = min,
 * with min and max first rounded to bfloat16. */
#include <math.h>
#include <string.h>

#include "../common/lanes.h"
#include "methods.h"
#include "wqc/dtype.h"

/* The first element of w[0..n) that equals zero (there is one). */
static float first_zero(const float *w, uint64_t n)
{
    uint64_t i = 0;
    while (i + 1 < n && w[i] != 0.0f) i++;
    return w[i];
}

/* The smallest and largest of w[0..n) as a loop in order finds them
 * (`lo = w < lo ? w : lo`, so of equal zeros the first one's sign), four
 * lanes at a time; 0 where one is not finite. */
static int group_extremes(const float *w, uint64_t n, float *lo_out, float *hi_out)
{
    const lane_quad inf = {INFINITY, INFINITY, INFINITY, INFINITY};
    lane_quad lo[2] = {inf, inf}, hi[2] = {-inf, -inf};
    lane_quad_mask bad = {0};
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int h = 0; h < 2; h++) {
            lane_quad v = lane_load(w + i + 4 * h);
            lo[h] = lane_pick(v < lo[h], v, lo[h]);
            hi[h] = lane_pick(v > hi[h], v, hi[h]);
            bad |= (v != v) | (v == inf) | (v == -inf);
        }
    float l = INFINITY, u = -INFINITY;
    int finite = 1;
    for (int k = 0; k < 8; k++) {
        l = lo[k / 4][k % 4] < l ? lo[k / 4][k % 4] : l;
        u = hi[k / 4][k % 4] > u ? hi[k / 4][k % 4] : u;
        finite &= bad[k % 4] == 0;
    }
    for (; i < n; i++) {
        l = w[i] < l ? w[i] : l;
        u = w[i] > u ? w[i] : u;
        finite &= isfinite(w[i]) != 0;
    }
    if (finite && l == 0.0f) l = first_zero(w, n);
    if (finite && u == 0.0f) u = first_zero(w, n);
    *lo_out = l;
    *hi_out = u;
    return finite;
}

/* Quantizes the n weights of one group, all sharing one scale and offset. */
static wqc_status quantize_group(const float *w, uint64_t n, uint64_t base, float maxq, int exact,
                                 const char *name, uint8_t *sym, float *scale_out,
                                 float *offset_out, wqc_error *err)
{
    float lo, hi;
    if (!group_extremes(w, n, &lo, &hi)) return wqc_quant_nonfinite(w, n, base, name, err);
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
    /* x >= 0 after the clamp, so truncation is floor. */
    const lane_quad zero = {0}, top = {maxq, maxq, maxq, maxq};
    uint64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        lane_quad x = (lane_load(w + i) - lo) / scale;
        x = lane_pick(x < zero, zero, x);
        x = lane_pick(x > top, top, x);
        lane_byte_quad b = __builtin_convertvector(__builtin_convertvector(x + 0.5f, lane_quad_mask), lane_byte_quad);
        memcpy(sym + i, &b, sizeof b);
    }
    for (; i < n; i++) {
        float x = (w[i] - lo) / scale;
        x = x < 0.0f ? 0.0f : x > maxq ? maxq : x;
        sym[i] = (uint8_t)(x + 0.5f);
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
