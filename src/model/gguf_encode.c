/* A GGUF file into a .wqc: every tensor stored bit-exactly (quantized
 * blocks split into code and field streams, floats as lossless encode does),
 * and the file's header, metadata and padding kept in the SOURCE record, so
 * that decoding gives the GGUF file back byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "../common/ordered_batches.h"
#include "../rans/decode_kernel.h"
#include "wqc/gguf.h"
#include "wqc/model_encode.h"

static int by_offset(const void *a, const void *b)
{
    const wqc_gguf_tensor *x = *(const wqc_gguf_tensor *const *)a, *y = *(const wqc_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int all_zero(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* The SOURCE record of the file: tensors by position, the zero gaps. */
static wqc_status layout(const wqc_gguf *g, const uint8_t *buf, size_t len, size_t *order, uint64_t *gap, uint64_t *tail,
                         uint64_t *header_len, wqc_error *err)
{
    const wqc_gguf_tensor **v = malloc((g->ntensors ? g->ntensors : 1) * sizeof *v);
    if (!v) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->ntensors; i++) v[i] = &g->tensors[i];
    qsort(v, g->ntensors, sizeof *v, by_offset);
    *header_len = g->ntensors ? g->data_offset : len;
    uint64_t at = *header_len;
    wqc_status st = WQC_OK;
    for (size_t k = 0; k < g->ntensors && st == WQC_OK; k++) {
        order[k] = (size_t)(v[k] - g->tensors);
        uint64_t start = g->data_offset + v[k]->offset;
        gap[k] = start - at;
        if (!all_zero(buf + at, gap[k]) || gap[k] > (1u << 20))
            st = wqc_fail(err, WQC_ERR_UNSUPPORTED, "bytes before tensor '%s' are not zero padding", v[k]->name);
        at = start + v[k]->nbytes;
    }
    *tail = len - at;
    if (st == WQC_OK && (!all_zero(buf + at, *tail) || *tail > (1u << 20)))
        st = wqc_fail(err, WQC_ERR_UNSUPPORTED, "the file ends with %llu bytes that are not zero padding", (unsigned long long)*tail);
    free(v);
    return st;
}

typedef struct gguf_pass {
    const wqc_gguf *g;
    const wqc_model_encode_options *o;
    wqc_writer *w;
    wqc_gguf_encoded_fn done;
    void *done_ctx;
} gguf_pass;

typedef struct gguf_coded {
    wqc_frame f;
    void *scratch;
} gguf_coded;

/* About the tensor's bytes for the code and field streams, twice. */
static uint64_t pass_bytes(void *ctx, size_t i) { return 2 * ((gguf_pass *)ctx)->g->tensors[i].nbytes; }

static wqc_status pass_make(void *ctx, size_t i, int threads, void *slot, wqc_error *err)
{
    gguf_pass *p = ctx;
    gguf_coded *c = slot;
    wqc_model_encode_options o = *p->o;
    o.coding.rans.threads = threads;
    return wqc_gguf_frame(&p->g->tensors[i], &o, &c->f, &c->scratch, err);
}

static wqc_status pass_use(void *ctx, size_t i, void *slot, wqc_error *err)
{
    gguf_pass *p = ctx;
    gguf_coded *c = slot;
    wqc_status st = wqc_writer_add(p->w, &c->f, err);
    if (st == WQC_OK && p->done) p->done(p->done_ctx, &p->g->tensors[i], &c->f);
    return st;
}

static void pass_release(void *ctx, size_t i, void *slot)
{
    (void)ctx, (void)i;
    gguf_coded *c = slot;
    wqc_encoded_free(&c->f);
    free(c->scratch);
}

wqc_status wqc_gguf_encode(const wqc_gguf *g, const uint8_t *buf, size_t len, const wqc_model_encode_options *o,
                           const wqc_model_file_options *fo, wqc_sink_fn sink, void *ctx, wqc_gguf_encoded_fn done,
                           void *done_ctx, uint64_t *written, wqc_error *err)
{
    size_t n = g->ntensors, *order = calloc(n + 1, sizeof *order);
    uint64_t *gap = calloc(n + 1, sizeof *gap), tail = 0, header_len = 0;
    const char **names = calloc(n + 1, sizeof *names);
    wqc_status st = order && gap && names ? layout(g, buf, len, order, gap, &tail, &header_len, err)
                                          : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && names; i++) names[i] = g->tensors[i].name;
    wqc_writer *w = NULL;
    wqc_source src = {WQC_SOURCE_GGUF, buf, header_len, order, n, gap, tail};
    wqc_model_encode_options with_shared = *o;
    wqc_symbol_model *models = NULL;
    size_t nmodels = 0;
    if (st == WQC_OK) st = wqc_gguf_shared_models(g, o->coding.rans.precision, &models, &nmodels, err);
    with_shared.coding.shared = models, with_shared.coding.nshared = nmodels;
    if (st == WQC_OK) st = wqc_writer_open(sink, ctx, fo->key_len ? fo->key : NULL, fo->key_len, &w, err);
    if (st == WQC_OK) st = wqc_writer_source(w, &src, err);
    if (st == WQC_OK && nmodels) st = wqc_writer_shared_models(w, models, nmodels, err);
    if (st == WQC_OK && n) st = wqc_writer_names(w, names, n, err);
    gguf_pass pass = {g, &with_shared, w, done, done_ctx};
    static const wqc_batch_ops ops = {sizeof(gguf_coded), pass_bytes, pass_make, pass_use, pass_release};
    if (st == WQC_OK) st = wqc_ordered_batches(n, wqc_rans_threads(o->coding.rans.threads), WQC_BATCH_BYTES_PER_THREAD, &ops, &pass, err);
    if (st == WQC_OK) st = wqc_writer_finish(w, err);
    if (written) *written = w ? wqc_writer_offset(w) : 0;
    wqc_writer_free(w);
    for (size_t i = 0; i < nmodels; i++) wqc_symbol_model_free(&models[i]);
    free(models);
    free(order);
    free(gap);
    free(names);
    return st;
}

wqc_status wqc_gguf_frame(const wqc_gguf_tensor *t, const wqc_model_encode_options *o, wqc_frame *f, void **scratch,
                          wqc_error *err)
{
    wqc_encode_options coding = wqc_model_coding(o);
    return wqc_frame_gguf(t, &coding, o->kept_zstd_level, f, scratch, err);
}
