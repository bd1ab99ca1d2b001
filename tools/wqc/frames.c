#include "frames.h"

#include <stdlib.h>
#include <string.h>

void cli_matrix_view(const wqc_tensor *t, uint64_t *rows, uint64_t *cols)
{
    *rows = t->ndim >= 2 ? t->shape[0] : 1;
    *cols = 1;
    for (int d = t->ndim >= 2 ? 1 : 0; d < t->ndim; d++) *cols *= t->shape[d];
    if (t->nelem == 0) *rows = *cols = 0;
}

void cli_frame_raw(wqc_frame *f, const wqc_tensor *t)
{
    wqc_frame_init(f, t);
    f->encoding = WQC_ENC_RAW;
    f->payload = t->data;
    f->payload_len = f->raw_len = t->nbytes;
}

wqc_status cli_frame_quantize(const wqc_model *m, size_t i, const wqc_quant_params *p, wqc_frame *f, wqc_error *err)
{
    const wqc_tensor *t = wqc_model_tensor(m, i);
    wqc_frame_init(f, t);
    f->encoding = WQC_ENC_RANS;
    f->quantized = 1;
    f->quant = *p;
    f->raw_len = t->nelem;
    uint64_t rows, cols;
    cli_matrix_view(t, &rows, &cols);
    float *w;
    wqc_status st = wqc_tensor_to_f32(t, &w, err);
    if (st != WQC_OK) return st;
    /* The input's pages are not needed once the floats are converted. */
    wqc_model_release(m, i);
    st = wqc_quantize(w, rows, cols, p, t->name, &f->q, err);
    free(w);
    if (st == WQC_OK) f->quant.bits = f->q.bits;
    return st;
}

wqc_status cli_frame_given(const wqc_tensor *t, wqc_frame *f, wqc_error *err)
{
    wqc_frame_init(f, t);
    f->encoding = WQC_ENC_RANS;
    f->quantized = 1;
    f->raw_len = t->nelem;
    f->quant.method = WQC_QUANT_GIVEN;
    f->quant.granularity = WQC_GRAN_TENSOR;
    cli_matrix_view(t, &f->q.rows, &f->q.cols);
    f->q.ngroups = 1;
    f->q.group_len = f->q.cols;
    f->q.symbols = malloc(t->nelem ? (size_t)t->nelem : 1);
    f->q.scale = malloc(sizeof(float));
    f->q.offset = malloc(sizeof(float));
    if (!f->q.symbols || !f->q.scale || !f->q.offset) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    /* Separate loops per dtype, through local pointers, so that the
     * compiler vectorises them. */
    int lo = 0, hi = 0;
    uint8_t *sym = f->q.symbols;
    if (t->dtype == WQC_DTYPE_I8) {
        const int8_t *v = (const int8_t *)t->data;
        int8_t mn = INT8_MAX, mx = INT8_MIN;
        for (uint64_t i = 0; i < t->nelem; i++) {
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        if (t->nelem) lo = mn, hi = mx;
        for (uint64_t i = 0; i < t->nelem; i++) sym[i] = (uint8_t)(v[i] - mn);
    } else {
        const uint8_t *v = t->data;
        uint8_t mn = UINT8_MAX, mx = 0;
        for (uint64_t i = 0; i < t->nelem; i++) {
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        if (t->nelem) lo = mn, hi = mx;
        for (uint64_t i = 0; i < t->nelem; i++) sym[i] = (uint8_t)(v[i] - mn);
    }
    f->q.alphabet = (uint32_t)(hi - lo + 1);
    f->q.bits = 1;
    while ((1u << f->q.bits) < f->q.alphabet) f->q.bits++;
    f->quant.bits = f->q.bits;
    f->q.scale[0] = 1.0f;
    f->q.offset[0] = (float)lo;
    return WQC_OK;
}

void cli_frame_release(wqc_frame *f) { wqc_quantized_free(&f->q); }
