/* An archive decoded back into the file it was made from: the source
 * header, each tensor's bytes in the source's order, GGUF's zero padding. */
#include <stdlib.h>
#include <string.h>

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

static wqc_status write_source(wqc_archive *a, const wqc_isa *isa, wqc_archive_checker *checker, int threads,
                               wqc_sink_fn sink, void *ctx, wqc_error *err)
{
    if (!wqc_archive_reproduces_source(a))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "the file does not hold its source exactly (quantized tensors, or no layout)");
    const wqc_source *src = wqc_reader_source(wqc_archive_reader(a));
    counted c = {sink, ctx, 0};
    wqc_frame_source from;
    wqc_frame_source_start(a, checker, threads, &from);
    wqc_status st = counted_sink(&c, src->header, (size_t)src->header_len, err);
    for (size_t k = 0; st == WQC_OK && k < src->n; k++) {
        size_t i = src->order[k];
        if (src->gap) st = zeros(&c, src->gap[k], err);
        const wqc_frame *f;
        if (st == WQC_OK) st = wqc_frame_source_get(a, &from, i, &f, err);
        if (st != WQC_OK) break;
        uint64_t before = c.written, want = f->quantized ? f->nelem : f->raw_len;
        if (isa && !f->quantized) {
            /* One ISA's decoders, whole tensor at a time (bench, tests). */
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
