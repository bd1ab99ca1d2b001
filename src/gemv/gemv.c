/* y = W x for a matrix coded in the gemv layout: the decoders' DOT form
 * accumulates q * x[col] per row, then each row's scale and offset are
 * applied once. */
#include <stdlib.h>
#include <string.h>

#include "../rans/decode_kernel.h"
#include "wqc/gemv.h"

struct wqc_gemv {
    const wqc_rans_coded *c;
    const wqc_quantized *q;
    wqc_rans_dtable d;
};

wqc_status wqc_gemv_prepare(const wqc_rans_coded *c, const wqc_quantized *q, wqc_gemv **out, wqc_error *err)
{
    *out = NULL;
    wqc_status st = wqc_gemv_check(c, q, err);
    if (st != WQC_OK) return st;
    wqc_gemv *g = calloc(1, sizeof *g);
    if (!g) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    g->c = c;
    g->q = q;
    st = c->ctx.ntables ? wqc_rans_dtable_init_context(&g->d, &c->ctx, err) : wqc_rans_dtable_init(&g->d, &c->table, err);
    if (st != WQC_OK) {
        free(g);
        return st;
    }
    *out = g;
    return WQC_OK;
}

void wqc_gemv_free(wqc_gemv *g)
{
    if (!g) return;
    wqc_rans_dtable_free(&g->d);
    free(g);
}

wqc_status wqc_gemv_run(const wqc_gemv *g, const float *x, float *y, int threads, wqc_isa isa, wqc_error *err)
{
    const wqc_quantized *q = g->q;
    if (!wqc_isa_available(isa))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "no %s decoder on this CPU or build", wqc_isa_name(isa));
    memset(y, 0, (size_t)q->rows * sizeof *y);
    wqc_rans_output out = {.form = WQC_FORM_DOT, .dst = y, .x = x, .rows = q->rows, .cols = q->cols};
    wqc_status st = wqc_rans_decode_with(&g->d, g->c, &out, threads, isa, err);
    if (st != WQC_OK) return st;
    /* w = offset + scale * q, so row r of W x is scale_r * sum(q x) + offset_r * sum(x). */
    double sum_x = 0.0;
    for (uint64_t j = 0; j < q->cols; j++) sum_x += x[j];
    for (uint64_t r = 0; r < q->rows; r++) {
        uint64_t gi = q->ngroups == 1 ? 0 : r;
        y[r] = (float)((double)q->scale[gi] * y[r] + (double)q->offset[gi] * sum_x);
    }
    return WQC_OK;
}
