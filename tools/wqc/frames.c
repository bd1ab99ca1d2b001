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

wqc_status cli_frame_quantize(const wqc_tensor *t, const wqc_quant_params *p, wqc_frame *f, wqc_error *err)
{
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
    int lo = 255, hi = -128;
    for (uint64_t i = 0; i < t->nelem; i++) {
        int v = t->dtype == WQC_DTYPE_I8 ? (int8_t)t->data[i] : t->data[i];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (t->nelem == 0) lo = hi = 0;
    for (uint64_t i = 0; i < t->nelem; i++) {
        int v = t->dtype == WQC_DTYPE_I8 ? (int8_t)t->data[i] : t->data[i];
        f->q.symbols[i] = (uint8_t)(v - lo);
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
