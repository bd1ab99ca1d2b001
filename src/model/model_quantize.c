/* A model quantized into the quantized safetensors of docs/FORMAT.md (what
 * `wqc quantize` writes): a first pass quantizes every planned tensor and
 * keeps its scales (and its symbols while they fit), then the file is
 * written, symbols that were dropped quantized again. */
#include <stdlib.h>
#include <string.h>

#include "wqc/model_encode.h"
#include "wqc/quantized_st.h"

/* Symbols kept from the first pass, at most this many bytes. */
#define CACHE_MAX (64u << 20)

/* The second pass must reproduce the first exactly. */
static int same_quantizer(const wqc_frame *a, const wqc_frame *b)
{
    return a->q.alphabet == b->q.alphabet && a->q.ngroups == b->q.ngroups && a->quant.step == b->quant.step &&
           memcmp(a->q.scale, b->q.scale, a->q.ngroups * sizeof(float)) == 0 &&
           memcmp(a->q.offset, b->q.offset, a->q.ngroups * sizeof(float)) == 0;
}

/* Writes tensor t of the layout: its bytes, or the symbols of a frame whose
 * symbols were dropped after the first pass, quantized again. */
static wqc_status write_tensor(const wqc_plan *plan, const wqc_model *m, const wqc_qst_layout *l, size_t t,
                               const wqc_frame *frames, wqc_sink_fn sink, void *ctx, wqc_error *err)
{
    const wqc_tensor *x = &l->tensors[t];
    size_t i = l->frame_of[t];
    if (x->data || x->nbytes == 0) {
        wqc_status st = x->nbytes ? sink(ctx, x->data, (size_t)x->nbytes, err) : WQC_OK;
        if (!frames[i].quantized) wqc_model_release(m, i);
        return st;
    }
    wqc_frame again;
    wqc_status st = wqc_frame_quantize(m, i, wqc_plan_quantizer(plan, wqc_model_tensor(m, i)), &again, NULL, err);
    if (st == WQC_OK && !same_quantizer(&again, &frames[i]))
        st = wqc_fail(err, WQC_ERR_IO, "tensor '%s' changed while being read (quantized differently the second time)",
                      x->name);
    if (st == WQC_OK) st = sink(ctx, again.q.symbols, (size_t)x->nbytes, err);
    wqc_frame_release(&again);
    return st;
}

wqc_status wqc_model_quantize(wqc_model *m, const wqc_plan *plan, wqc_sink_fn sink, void *ctx,
                              wqc_quantize_progress_fn progress, void *progress_ctx, wqc_error *err)
{
    size_t count = wqc_model_count(m), n = 0, nmeta = wqc_model_metadata_count(m);
    wqc_frame *frames = calloc(count + 1, sizeof *frames);
    wqc_kv *meta = calloc(nmeta + 1, sizeof *meta);
    wqc_qst_layout l = {0};
    uint64_t cached = 0;
    wqc_status st = frames && meta ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (; st == WQC_OK && n < count; n++) {
        const wqc_tensor *t = wqc_model_tensor(m, n);
        const wqc_quant_params *p = wqc_plan_quantizer(plan, t);
        if (!p) {
            wqc_frame_raw(&frames[n], t);
        } else if ((st = wqc_frame_quantize(m, n, p, &frames[n], NULL, err)) != WQC_OK) {
            n++;
            break;
        } else if (cached + t->nelem <= CACHE_MAX) {
            cached += t->nelem;
        } else {
            free(frames[n].q.symbols);
            frames[n].q.symbols = NULL;
        }
        if (progress) progress(progress_ctx, t, p, 1);
    }
    for (size_t i = 0; meta && i < nmeta; i++) meta[i] = *wqc_model_metadata(m, i);
    if (st == WQC_OK) st = wqc_qst_layout_make(frames, n, meta, nmeta, &l, err);
    if (st == WQC_OK) st = wqc_safetensors_write_header(sink, ctx, l.tensors, l.n, l.kv, l.nkv, err);
    for (size_t t = 0; st == WQC_OK && t < l.n; t++) {
        st = write_tensor(plan, m, &l, t, frames, sink, ctx, err);
        size_t i = l.frame_of[t];
        if (progress && (t + 1 == l.n || l.frame_of[t + 1] != i)) progress(progress_ctx, wqc_model_tensor(m, i), NULL, 2);
    }
    wqc_qst_layout_free(&l);
    free(meta);
    for (size_t i = 0; i < n; i++) wqc_frame_release(&frames[i]);
    free(frames);
    return st;
}
