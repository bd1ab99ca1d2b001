/* One .wqc file of a model encoder's tensors: its records in the order the
 * format wants them (metadata, source layout, names, shared models), the
 * frames, then the statistics record and the index. */
#include <stdlib.h>
#include <string.h>

#include "wqc/model_encode.h"
#include "wqc/quantized_st.h"

struct wqc_model_file {
    wqc_writer *w;
    wqc_tensor_stats *stats;     /* the statistics record: entry k is for tensor stats_index[k] of the file */
    size_t *stats_index;
    size_t nstats;
    size_t ntensors;
};

/* The input's layout, so that decode gives its file back byte for byte;
 * none where it cannot be had. */
static wqc_status write_source(const wqc_model *m, size_t n, wqc_writer *w, wqc_error *err)
{
    uint64_t header_len, len;
    const uint8_t *bytes = wqc_model_bytes(m, &len);
    size_t *order = calloc(n + 1, sizeof *order);
    wqc_status st = WQC_OK;
    if (order && wqc_model_layout(m, &header_len, order, NULL) == WQC_OK) {
        wqc_source s = {wqc_model_format_of(m) == WQC_FORMAT_NPY ? WQC_SOURCE_NPY : WQC_SOURCE_SAFETENSORS,
                        bytes, header_len, order, n, NULL, 0};
        st = wqc_writer_source(w, &s, err);
    }
    free(order);
    return st;
}

static wqc_status write_records(const wqc_model_encoder *e, const wqc_model_file_options *o, wqc_writer *w,
                                wqc_error *err)
{
    const wqc_model *m = wqc_model_encoder_model(e);
    size_t n = wqc_model_encoder_count(e), nmeta, nshared;
    size_t count = wqc_model_metadata_count(m);
    wqc_kv *meta = wqc_qst_source_metadata(count ? wqc_model_metadata(m, 0) : NULL, count, &nmeta);
    if (!meta) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = WQC_OK;
    if (nmeta) st = wqc_writer_metadata(w, meta, nmeta, err);
    free(meta);
    if (st == WQC_OK && !o->shard && wqc_model_encoder_reproduces_source(e)) st = write_source(m, n, w, err);
    /* A shard's tensors are known only as it fills: its names go before its index. */
    if (st == WQC_OK && n && !o->shard) st = wqc_writer_names(w, wqc_model_encoder_names(e), n, err);
    const wqc_symbol_model *shared = wqc_model_encoder_shared(e, &nshared);
    if (st == WQC_OK && nshared) st = wqc_writer_shared_models(w, shared, nshared, err);
    return st;
}

wqc_status wqc_model_file_open(const wqc_model_encoder *e, const wqc_model_file_options *o, wqc_sink_fn sink,
                               void *ctx, wqc_model_file **out, wqc_error *err)
{
    *out = NULL;
    size_t n = wqc_model_encoder_count(e);
    wqc_model_file *f = calloc(1, sizeof *f);
    if (f) {
        f->stats = calloc(n + 1, sizeof *f->stats);
        f->stats_index = calloc(n + 1, sizeof *f->stats_index);
    }
    if (!f || !f->stats || !f->stats_index) {
        wqc_model_file_abort(f);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    wqc_status st = wqc_writer_open(sink, ctx, o->key_len ? o->key : NULL, o->key_len, &f->w, err);
    if (st == WQC_OK) st = write_records(e, o, f->w, err);
    if (st != WQC_OK) {
        wqc_model_file_abort(f);
        return st;
    }
    *out = f;
    return WQC_OK;
}

wqc_status wqc_model_file_add(wqc_model_file *f, const wqc_coded_tensor *c, wqc_error *err)
{
    wqc_status st = wqc_writer_add(f->w, &c->frame, err);
    if (st == WQC_OK && c->has_stats) {
        f->stats[f->nstats] = c->stats;
        f->stats_index[f->nstats++] = f->ntensors;
    }
    f->ntensors++;
    return st;
}

uint64_t wqc_model_file_offset(const wqc_model_file *f) { return wqc_writer_offset(f->w); }

wqc_status wqc_model_file_finish(wqc_model_file *f, uint64_t *bytes, wqc_error *err)
{
    wqc_status st = WQC_OK;
    if (f->nstats) st = wqc_writer_stats(f->w, f->stats_index, f->stats, f->nstats, err);
    if (st == WQC_OK) st = wqc_writer_finish(f->w, err);
    if (bytes) *bytes = wqc_writer_offset(f->w);
    wqc_model_file_abort(f);
    return st;
}

void wqc_model_file_abort(wqc_model_file *f)
{
    if (!f) return;
    wqc_writer_free(f->w);
    free(f->stats);
    free(f->stats_index);
    free(f);
}

static wqc_status add_coded(void *file, size_t i, const wqc_coded_tensor *c, wqc_error *err)
{
    (void)i;
    return wqc_model_file_add(file, c, err);
}

wqc_status wqc_model_encode(wqc_model *m, const wqc_model_encode_options *o, const wqc_model_file_options *fo,
                            wqc_sink_fn sink, void *ctx, wqc_error *err)
{
    wqc_model_encoder *e;
    wqc_model_file *file = NULL;
    wqc_status st = wqc_model_encoder_open(m, o, &e, err);
    if (st != WQC_OK) return st;
    st = wqc_model_file_open(e, fo, sink, ctx, &file, err);
    if (st == WQC_OK) st = wqc_model_encoder_each(e, add_coded, file, err);
    if (st == WQC_OK) st = wqc_model_file_finish(file, NULL, err);
    else wqc_model_file_abort(file);
    wqc_model_encoder_free(e);
    return st;
}
