/* Whether a decoded tensor is what encode makes of an original: stored
 * exactly, the same symbols, or the original re-quantized with the frame's
 * recorded quantizer giving the same symbols, scales and offsets. */
#include <stdlib.h>
#include <string.h>

#include "wqc/model_encode.h"

static const char *given_match(const wqc_frame *f, const uint8_t *decoded, const wqc_tensor *orig)
{
    if (orig->dtype != f->dtype) return "a different dtype";
    for (uint64_t i = 0; i < f->nelem; i++) {
        int v = orig->dtype == WQC_DTYPE_I8 ? (int8_t)orig->data[i] : orig->data[i];
        if (v != (int)f->q.offset[0] + decoded[i]) return "different values";
    }
    return NULL;
}

/* The original re-quantized with the recorded quantizer: the same symbols
 * and the same scale and offset bits. */
static const char *requantized_match(const wqc_frame *f, const uint8_t *decoded, const float *w, wqc_error *err,
                                     wqc_status *st)
{
    uint64_t rows, cols;
    wqc_tensor t = {f->name, f->dtype, f->ndim, {0}, f->nelem, NULL, 0};
    memcpy(t.shape, f->shape, sizeof t.shape);
    wqc_tensor_matrix(&t, &rows, &cols);
    wqc_quantized q;
    *st = wqc_quantize(w, rows, cols, &f->quant, f->name, &q, err);
    if (*st != WQC_OK) return NULL;
    const char *why = NULL;
    if (q.ngroups != f->q.ngroups || memcmp(q.scale, f->q.scale, q.ngroups * sizeof(float)) ||
        memcmp(q.offset, f->q.offset, q.ngroups * sizeof(float)))
        why = "other scales or offsets";
    else if (memcmp(q.symbols, decoded, (size_t)f->nelem) != 0)
        why = "other symbols";
    wqc_quantized_free(&q);
    return why;
}

wqc_status wqc_frame_match_source(const wqc_frame *f, const uint8_t *decoded, const wqc_tensor *orig,
                                  wqc_source_match *out, wqc_error *err)
{
    memset(out, 0, sizeof *out);
    out->sqnr_db = out->max_abs = 0.0;
    if (orig->nelem != f->nelem || orig->ndim != f->ndim || memcmp(orig->shape, f->shape, sizeof f->shape)) {
        out->why = "another shape";
        return WQC_OK;
    }
    if (!f->quantized) {
        out->why = orig->dtype != f->dtype || memcmp(orig->data, decoded, (size_t)f->raw_len) ? "other bytes" : NULL;
        out->exact = out->why == NULL;
        return WQC_OK;
    }
    if (f->quant.method == WQC_QUANT_GIVEN || orig->dtype == WQC_DTYPE_U8) {
        /* Given integers, or a quantize output: the symbols themselves. */
        out->why = f->quant.method == WQC_QUANT_GIVEN ? given_match(f, decoded, orig)
                   : memcmp(orig->data, decoded, (size_t)f->nelem) ? "other symbols" : NULL;
        out->exact = out->why == NULL;
        return WQC_OK;
    }
    float *w;
    if (wqc_tensor_to_f32(orig, &w, NULL) != WQC_OK) {
        out->why = "an original that is not a float tensor";
        return WQC_OK;
    }
    wqc_status st = WQC_OK;
    out->why = requantized_match(f, decoded, w, err, &st);
    if (st == WQC_OK) {
        wqc_quantized q = f->q;
        q.symbols = (uint8_t *)decoded;
        wqc_quant_error e;
        wqc_quant_measure(w, &q, &e);
        out->sqnr_db = e.sqnr_db;
        out->max_abs = e.max_abs;
        out->quantized = 1;
        out->exact = out->why == NULL;
    }
    free(w);
    return st;
}
