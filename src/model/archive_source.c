/* An archive decoded back into the file it was made from: the source
 * header, each tensor's bytes in the source's order, GGUF's zero padding. */
#include <stdlib.h>
#include <string.h>

#include "../rans/decode_kernel.h"
#include "wqc/archive.h"

int wqc_archive_reproduces_source(wqc_archive *a)
{
    if (wqc_archive_files(a) != 1 || !wqc_reader_source(wqc_archive_reader(a))) return 0;
    for (size_t i = 0; i < wqc_archive_count(a); i++) {
        const wqc_frame *f;
        if (wqc_archive_describe(a, i, &f, NULL) != WQC_OK) return 0;
        if (f->quantized && f->quant.method != WQC_QUANT_GIVEN) return 0;
    }
    return 1;
}

typedef struct counted {
    wqc_sink_fn sink;
    void *ctx;
    uint64_t written;
} counted;

static wqc_status counted_sink(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    counted *c = ctx;
    c->written += len;
    return c->sink(c->ctx, buf, len, err);
}

static wqc_status zeros(counted *c, uint64_t n, wqc_error *err)
{
    static const uint8_t zero[4096];
    wqc_status st = WQC_OK;
    while (st == WQC_OK && n) {
        size_t m = n < sizeof zero ? (size_t)n : sizeof zero;
        st = counted_sink(c, zero, m, err);
        n -= m;
    }
    return st;
}

static uint64_t frame_output(const wqc_frame *f) { return f->quantized ? f->nelem : f->raw_len; }

/* Tensors k..k+count-1 of the source order, decoded at once: frames taken
 * in order, written in order. A frame not taken ends the batch before it,
 * and its error is returned once those before it are written. */
static wqc_status write_batch(wqc_archive *a, const wqc_isa *isa, const wqc_frame_source *from, size_t k, size_t count,
                              wqc_frame_batch *b, counted *c, wqc_error *err)
{
    const wqc_source *src = wqc_reader_source(wqc_archive_reader(a));
    wqc_frame_job *jobs = calloc(count, sizeof *jobs);
    if (!jobs) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status taking = WQC_OK;
    size_t taken = 0;
    for (; taken < count; taken++) {
        wqc_frame_job *j = &jobs[taken];
        taking = wqc_frame_source_get_kept(a, from, src->order[k + taken], &j->f, &j->check, err);
        j->in = a;
        j->index = src->order[k + taken];
        if (taking != WQC_OK) break;
        j->form = WQC_FORM_SYMBOLS;
        j->isa = isa;
        j->len = frame_output(j->f);
    }
    wqc_status st = wqc_frame_batch_decode(b, jobs, taken, from->threads, err);
    for (size_t j = 0; j < taken; j++) {
        if (st == WQC_OK && src->gap) st = zeros(c, src->gap[k + j], err);
        if (st == WQC_OK && jobs[j].status != WQC_OK) {
            st = jobs[j].status;
            if (err) *err = jobs[j].err;
        }
        if (st == WQC_OK) st = counted_sink(c, jobs[j].out, (size_t)jobs[j].len, err);
        wqc_frame_source_done_kept(a, from, src->order[k + j], jobs[j].f);
    }
    free(jobs);
    return st == WQC_OK ? taking : st;
}

/* How many tensors from position k of the source order to decode at once:
 * up to 2 x threads, within the output budget; 1 when one tensor is over
 * a thread's share (streamed, its chunks on every thread). *bytes: their output. */
static size_t batch_count(wqc_archive *a, const wqc_frame_source *from, size_t k, uint64_t *bytes)
{
    const wqc_source *src = wqc_reader_source(wqc_archive_reader(a));
    *bytes = 0;
    if (from->threads < 2) return 1;
    size_t n = 0;
    while (k + n < src->n && wqc_frame_batch_admits(from->threads, n, *bytes, 0)) {
        const wqc_frame *f;
        if (wqc_archive_describe(a, src->order[k + n], &f, NULL) != WQC_OK) break;
        uint64_t b = frame_output(f);
        if (!wqc_frame_batch_admits(from->threads, n, *bytes, b)) break;
        *bytes += b;
        n++;
    }
    return n ? n : 1;
}

static wqc_status write_source(wqc_archive *a, const wqc_isa *isa, wqc_archive_checker *checker, int threads,
                               wqc_sink_fn sink, void *ctx, wqc_error *err)
{
    const wqc_source *order = wqc_archive_files(a) == 1 ? wqc_reader_source(wqc_archive_reader(a)) : NULL;
    if (order) wqc_archive_describe_ahead(a, order->order, order->n, threads);
    if (!wqc_archive_reproduces_source(a))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "the file does not hold its source exactly (quantized tensors, or no layout)");
    const wqc_source *src = wqc_reader_source(wqc_archive_reader(a));
    counted c = {sink, ctx, 0};
    wqc_frame_source from;
    wqc_frame_source_start(a, checker, wqc_rans_threads(threads), &from);
    wqc_status st = counted_sink(&c, src->header, (size_t)src->header_len, err);
    /* The buffer for the largest batch, made once. */
    uint64_t most = 0, bytes;
    for (size_t k = 0, count; k < src->n; k += count)
        if ((count = batch_count(a, &from, k, &bytes)) > 1 && bytes > most) most = bytes;
    wqc_frame_batch batch = {0};
    if (most) st = wqc_frame_batch_reserve(&batch, most, err);
    for (size_t k = 0, count; st == WQC_OK && k < src->n; k += count) {
        count = batch_count(a, &from, k, &bytes);
        if (count > 1) {
            st = write_batch(a, isa, &from, k, count, &batch, &c, err);
            continue;
        }
        size_t i = src->order[k];
        if (src->gap) st = zeros(&c, src->gap[k], err);
        const wqc_frame *f;
        if (st == WQC_OK) st = wqc_frame_source_get(a, &from, i, &f, err);
        if (st != WQC_OK) break;
        uint64_t before = c.written, want = frame_output(f);
        if (isa && !f->quantized) {
            uint8_t *buf = malloc(want ? (size_t)want : 1);
            st = buf ? wqc_frame_decode_raw_with(f, *isa, buf, err) : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            if (st == WQC_OK) st = counted_sink(&c, buf, (size_t)want, err);
            free(buf);
        } else {
            st = wqc_frame_stream(f, WQC_FORM_SYMBOLS, threads, 0, counted_sink, &c, err);
        }
        if (st == WQC_OK && c.written - before != want)
            st = wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s' decoded to %llu bytes, %llu expected", f->name,
                          (unsigned long long)(c.written - before), (unsigned long long)want);
        wqc_frame_source_done(a, &from, i, f);
    }
    wqc_frame_batch_free(&batch);
    wqc_frame_source_end(&from);
    if (st == WQC_OK) st = zeros(&c, src->tail, err);
    return st;
}

wqc_status wqc_archive_write_source(wqc_archive *a, const wqc_isa *isa, int threads, wqc_sink_fn sink, void *ctx,
                                    wqc_error *err)
{
    return write_source(a, isa, NULL, threads, sink, ctx, err);
}

wqc_status wqc_archive_write_source_checked_by(wqc_archive *a, wqc_archive_checker *c, int threads, wqc_sink_fn sink,
                                               void *ctx, wqc_error *err)
{
    return write_source(a, NULL, c, threads, sink, ctx, err);
}
