/* A model quantized into the quantized safetensors of docs/FORMAT.md (what
 * `wqc quantize` writes): a first pass quantizes every planned tensor and
 * keeps its scales (and its symbols while they fit), then the file is
 * written, symbols that were dropped quantized again. */
#include <stdlib.h>
#include <string.h>

#include "../common/ordered_batches.h"
#include "../rans/decode_kernel.h"
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

typedef struct quantize_pass {
    wqc_model *m;
    const wqc_plan *plan;
    wqc_frame *frames;
    uint64_t cached;
    const wqc_qst_layout *l;
    wqc_sink_fn sink;
    void *ctx;
    wqc_quantize_progress_fn progress;
    void *progress_ctx;
    size_t *scales_of;  /* wqc_model_block_scales: never quantized */
} quantize_pass;

static const wqc_quant_params *quantizer(const quantize_pass *q, size_t i)
{
    return wqc_plan_model_quantizer(q->plan, q->m, q->scales_of, i);
}

/* First pass: every planned tensor quantized. */
static uint64_t first_bytes(void *ctx, size_t i)
{
    quantize_pass *q = ctx;
    const wqc_tensor *t = wqc_model_tensor(q->m, i);
    const wqc_quant_params *p = quantizer(q, i);
    return p ? wqc_frame_quantize_bytes(t, p) : 0;
}

static wqc_status first_make(void *ctx, size_t i, int threads, void *slot, wqc_error *err)
{
    quantize_pass *q = ctx;
    const wqc_tensor *t = wqc_model_tensor(q->m, i);
    const wqc_quant_params *p = quantizer(q, i);
    if (!p) {
        wqc_frame_raw(slot, t);
        return WQC_OK;
    }
    return wqc_frame_quantize(q->m, i, p, threads, slot, NULL, err);
}

/* Kept: its scales always, its symbols while they fit CACHE_MAX. */
static wqc_status first_use(void *ctx, size_t i, void *slot, wqc_error *err)
{
    (void)err;
    quantize_pass *q = ctx;
    const wqc_tensor *t = wqc_model_tensor(q->m, i);
    wqc_frame *f = slot;
    q->frames[i] = *f;
    memset(f, 0, sizeof *f);
    if (q->frames[i].quantized && q->cached + t->nelem <= CACHE_MAX) {
        q->cached += t->nelem;
    } else if (q->frames[i].quantized) {
        free(q->frames[i].q.symbols);
        q->frames[i].q.symbols = NULL;
    }
    if (q->progress) q->progress(q->progress_ctx, t, quantizer(q, i), 1);
    return WQC_OK;
}

static void first_release(void *ctx, size_t i, void *slot)
{
    (void)ctx, (void)i;
    wqc_frame_release(slot);
}

/* Second pass, per tensor t of the layout: its bytes, or the symbols of a
 * frame whose symbols were dropped after the first pass, quantized again. */
static int quantized_again(const quantize_pass *q, size_t t)
{
    const wqc_tensor *x = &q->l->tensors[t];
    return !x->data && x->nbytes != 0;
}

static uint64_t second_bytes(void *ctx, size_t t)
{
    quantize_pass *q = ctx;
    return quantized_again(q, t) ? first_bytes(ctx, q->l->frame_of[t]) : 0;
}

static wqc_status second_make(void *ctx, size_t t, int threads, void *slot, wqc_error *err)
{
    quantize_pass *q = ctx;
    if (!quantized_again(q, t)) return WQC_OK;
    size_t i = q->l->frame_of[t];
    wqc_frame *again = slot;
    wqc_status st = wqc_frame_quantize(q->m, i, quantizer(q, i), threads, again, NULL, err);
    if (st == WQC_OK && !same_quantizer(again, &q->frames[i]))
        st = wqc_fail(err, WQC_ERR_IO, "tensor '%s' changed while being read (quantized differently the second time)",
                      q->l->tensors[t].name);
    return st;
}

static wqc_status second_use(void *ctx, size_t t, void *slot, wqc_error *err)
{
    quantize_pass *q = ctx;
    const wqc_tensor *x = &q->l->tensors[t];
    size_t i = q->l->frame_of[t];
    wqc_status st = WQC_OK;
    if (quantized_again(q, t)) {
        st = q->sink(q->ctx, ((wqc_frame *)slot)->q.symbols, (size_t)x->nbytes, err);
    } else {
        if (x->nbytes) st = q->sink(q->ctx, x->data, (size_t)x->nbytes, err);
        if (!q->frames[i].quantized) wqc_model_release(q->m, i);
    }
    if (st == WQC_OK && q->progress && (t + 1 == q->l->n || q->l->frame_of[t + 1] != i))
        q->progress(q->progress_ctx, wqc_model_tensor(q->m, i), NULL, 2);
    return st;
}

wqc_status wqc_model_quantize(wqc_model *m, const wqc_plan *plan, int threads, wqc_sink_fn sink, void *ctx,
                              wqc_quantize_progress_fn progress, void *progress_ctx, wqc_error *err)
{
    size_t count = wqc_model_count(m), nmeta = wqc_model_metadata_count(m);
    wqc_frame *frames = calloc(count + 1, sizeof *frames);
    wqc_kv *meta = calloc(nmeta + 1, sizeof *meta);
    size_t *scales_of = malloc((count + 1) * sizeof *scales_of);
    wqc_qst_layout l = {0};
    quantize_pass q = {m, plan, frames, 0, &l, sink, ctx, progress, progress_ctx, scales_of};
    static const wqc_batch_ops first = {sizeof(wqc_frame), first_bytes, first_make, first_use, first_release};
    static const wqc_batch_ops second = {sizeof(wqc_frame), second_bytes, second_make, second_use, first_release};
    threads = wqc_rans_threads(threads);
    wqc_status st = frames && meta && scales_of ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    if (st == WQC_OK) st = wqc_model_block_scales(m, scales_of, NULL, err);
    if (st == WQC_OK) st = wqc_ordered_batches(count, threads, WQC_BATCH_BYTES_PER_THREAD, &first, &q, err);
    for (size_t i = 0; meta && i < nmeta; i++) meta[i] = *wqc_model_metadata(m, i);
    if (st == WQC_OK) st = wqc_qst_layout_make(frames, count, meta, nmeta, &l, err);
    if (st == WQC_OK) st = wqc_safetensors_write_header(sink, ctx, l.tensors, l.n, l.kv, l.nkv, err);
    if (st == WQC_OK) st = wqc_ordered_batches(l.n, threads, WQC_BATCH_BYTES_PER_THREAD, &second, &q, err);
    wqc_qst_layout_free(&l);
    free(meta);
    free(scales_of);
    for (size_t i = 0; frames && i < count; i++) wqc_frame_release(&frames[i]);
    free(frames);
    return st;
}
