/* SDClip: symmetric per-row quantizer clipped at k standard deviations. */
#include <math.h>

#include "methods.h"
#include "wqc/dtype.h"

wqc_status wqc_quantize_sdclip(const float *w, const wqc_quant_params *p, const char *name, wqc_quantized *q,
                               uint64_t r0, uint64_t r1, wqc_error *err)
{
    const int m = (1 << (p->bits - 1)) - 1; /* levels on each side of zero */
    const float fm = (float)m;
    for (uint64_t r = r0; r < r1; r++) {
        const float *row = w + (r - r0) * q->cols;
        uint8_t *sym = q->symbols + r * q->cols;
        uint64_t n = q->cols;
        double sum = 0.0;
        int finite = 1;
        for (uint64_t i = 0; i < n; i++) {
            sum += row[i];
            finite &= isfinite(row[i]) != 0;
        }
        if (!finite) return wqc_quant_nonfinite(row, n, r * q->cols, name, err);
        double mean = n ? sum / (double)n : 0.0, ss = 0.0;
        for (uint64_t i = 0; i < n; i++) ss += ((double)row[i] - mean) * ((double)row[i] - mean);
        double sd = n ? sqrt(ss / (double)n) : 0.0;
        /* To 8 significant bits, like affine's grid ends (the clip moves by at most 2^-9). */
        float step = (float)(p->k * sd / m);
        if (!p->exact_ends && isfinite(wqc_bf16_round(step))) step = wqc_bf16_round(step);
        if (sd == 0.0 || step == 0.0f) {
            /* Constant row: exact through the offset alone. */
            q->scale[r] = 0.0f;
            q->offset[r] = n ? row[0] : 0.0f;
            for (uint64_t i = 0; i < n; i++) sym[i] = (uint8_t)m;
            continue;
        }
        q->scale[r] = step;
        q->offset[r] = -(fm * step);
        for (uint64_t i = 0; i < n; i++) {
            float x = row[i] / step;
            x = x < -fm ? -fm : x > fm ? fm : x;
            sym[i] = (uint8_t)((int)floorf(x + 0.5f) + m);
        }
    }
    return WQC_OK;
}
