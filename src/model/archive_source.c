/* An archive decoded back into the file it was made from: the source
 * header, each tensor's bytes in the source's order, GGUF's zero padding. */
#include <stdlib.h>
#include <string.h>

#include "../common/big_buffer.h"
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

/* Tensors decoded at once hold at most this much output a thread. */
#define BATCH_BYTES_PER_THREAD (32u << 20)

static uint64_t frame_output(const wqc_frame *f) { return f->quantized ? f->nelem : f->raw_len; }

/* Tensor f whole into buf (want bytes): one ISA's decoders (bench, tests)
 * or the active ones. */
static wqc_status decode_whole(const wqc_frame *f, const wqc_isa *isa, int threads, uint8_t *buf, uint64_t want,
                               wqc_error *err)
{
    if (isa && !f->quantized) return wqc_frame_decode_raw_with(f, *isa, buf, err);
    return wqc_frame_decode_into(f, WQC_FORM_SYMBOLS, threads, buf, want, err);
}

/* The batches' outputs, one after another in one buffer reused by every
 * batch: its pages (huge where the system allows) are faulted in once. */
typedef struct batch_buffer {
    uint8_t *data;
    uint64_t cap;
} batch_buffer;

static int batch_buffer_fit(batch_buffer *b, uint64_t need)
{
    if (need <= b->cap) return 1;
    free(b->data);
    b->data = wqc_big_alloc((size_t)need);
    b->cap = b->data ? need : 0;
    return b->data != NULL;
}

/* Tensors k..k+count-1 of the source order: frames taken in order, decoded
 * at once (each on one thread) into buffers, written in order. A frame not
 * taken ends the batch before it, and its error is returned once those
 * before it are written. */
static wqc_status write_batch(wqc_archive *a, const wqc_isa *isa, const wqc_frame_source *from, size_t k, size_t count,
                              batch_buffer *out, counted *c, wqc_error *err)
{
    const wqc_source *src = wqc_reader_source(wqc_archive_reader(a));
    const wqc_frame **f = calloc(count, sizeof *f);
    uint8_t **buf = calloc(count, sizeof *buf);
    wqc_status *status = calloc(count, sizeof *status);
    wqc_error *errs = calloc(count, sizeof *errs);
    wqc_status st = f && buf && status && errs ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    size_t taken = 0;
    uint64_t total = 0;
    for (; st == WQC_OK && taken < count; taken++) {
        st = wqc_frame_source_get_kept(a, from, src->order[k + taken], &f[taken], err);
        if (st != WQC_OK) break;
        total += frame_output(f[taken]);
    }
    wqc_status taking = st;
    if (taken && !batch_buffer_fit(out, total)) {
        taking = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        for (size_t j = 0; j < taken; j++) wqc_frame_source_done_kept(a, from, src->order[k + j], f[j]);
        taken = 0;
    }
    for (size_t j = 0, at = 0; j < taken; at += (size_t)frame_output(f[j]), j++) buf[j] = out->data + at;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(from->threads) if (taken > 1)
#endif
    for (size_t j = 0; j < taken; j++) {
        wqc_error_clear(&errs[j]);
        status[j] = decode_whole(f[j], isa, 1, buf[j], frame_output(f[j]), &errs[j]);
    }
    st = WQC_OK;
    for (size_t j = 0; j < taken; j++) {
        if (st == WQC_OK && src->gap) st = zeros(c, src->gap[k + j], err);
        if (st == WQC_OK && status[j] != WQC_OK) {
            st = status[j];
            if (err) *err = errs[j];
        }
        if (st == WQC_OK) st = counted_sink(c, buf[j], (size_t)frame_output(f[j]), err);
        wqc_frame_source_done_kept(a, from, src->order[k + j], f[j]);
    }
    if (st == WQC_OK) st = taking;
    free(f);
    free(buf);
    free(status);
    free(errs);
    return st;
}

/* How many tensors from position k of the source order to decode at once:
 * up to 2 x threads, within the output budget; 1 when one tensor is over
 * a thread's share (streamed, its chunks on every thread). */
static size_t batch_count(wqc_archive *a, const wqc_frame_source *from, size_t k)
{
    const wqc_source *src = wqc_reader_source(wqc_archive_reader(a));
    if (from->threads < 2) return 1;
    uint64_t budget = (uint64_t)BATCH_BYTES_PER_THREAD * (uint64_t)from->threads, used = 0;
    size_t n = 0;
    while (k + n < src->n && n < 2 * (size_t)from->threads) {
        const wqc_frame *f;
        if (wqc_archive_describe(a, src->order[k + n], &f, NULL) != WQC_OK) break;
        uint64_t b = frame_output(f);
        if (b > BATCH_BYTES_PER_THREAD || used + b > budget) break;
        used += b;
        n++;
    }
    return n ? n : 1;
}

static wqc_status write_source(wqc_archive *a, const wqc_isa *isa, wqc_archive_checker *checker, int threads,
                               wqc_sink_fn sink, void *ctx, wqc_error *err)
{
    if (!wqc_archive_reproduces_source(a))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "the file does not hold its source exactly (quantized tensors, or no layout)");
    const wqc_source *src = wqc_reader_source(wqc_archive_reader(a));
    counted c = {sink, ctx, 0};
    wqc_frame_source from;
    wqc_frame_source_start(a, checker, wqc_rans_threads(threads), &from);
    wqc_status st = counted_sink(&c, src->header, (size_t)src->header_len, err);
    /* The buffer for the largest batch, made once. */
    uint64_t most = 0;
    for (size_t k = 0, count; k < src->n; k += count) {
        count = batch_count(a, &from, k);
        uint64_t total = 0;
        const wqc_frame *f;
        for (size_t j = 0; count > 1 && j < count; j++)
            if (wqc_archive_describe(a, src->order[k + j], &f, NULL) == WQC_OK) total += frame_output(f);
        if (total > most) most = total;
    }
    batch_buffer batch = {0};
    if (most && !batch_buffer_fit(&batch, most)) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t k = 0, count; st == WQC_OK && k < src->n; k += count) {
        count = batch_count(a, &from, k);
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
            st = buf ? decode_whole(f, isa, threads, buf, want, err) : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
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
    free(batch.data);
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
