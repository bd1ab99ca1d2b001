/* Fixed-step grid quantizer: q = round(w / D), shifted to start at 0. */
#include <math.h>

#include "methods.h"

wqc_status wqc_quantize_grid(const float *w, const wqc_quant_params *p, const char *name,
                             wqc_quantized *q, wqc_error *err)
{
    const float step = (float)p->step;
    uint64_t n = q->rows * q->cols;
    float lo = INFINITY, hi = -INFINITY;
    int finite = 1;
    for (uint64_t i = 0; i < n; i++) {
        float x = floorf(w[i] / step + 0.5f);
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        finite &= isfinite(w[i]) != 0;
    }
    if (!finite) return wqc_quant_nonfinite(w, n, 0, name, err);
    if (n == 0) lo = hi = 0.0f;
    /* Both bounds are integers held exactly in double. */
    double range = (double)hi - (double)lo + 1.0;
    if (!isfinite(range) || range > 256.0)
        return wqc_fail(err, WQC_ERR_RANGE,
                        "tensor '%s': grid step %g gives %.0f levels; symbols need more than 8 "
                        "bits (use a larger --step)",
                        name ? name : "", p->step, range);
    for (uint64_t i = 0; i < n; i++) q->symbols[i] = (uint8_t)(floorf(w[i] / step + 0.5f) - lo);
    q->scale[0] = step;
    q->offset[0] = lo * step;
    q->alphabet = (uint32_t)range;
    int bits = 1;
    while ((1u << bits) < q->alphabet) bits++;
    q->bits = bits;
    return WQC_OK;
}
