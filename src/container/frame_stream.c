/* Streaming a frame's output: a window of chunks at a time, so that decoding
 * a tensor needs a buffer of the window, not of the tensor, and the buffer
 * (reused) is paid for in page faults once. */
#include <stdlib.h>
#include <string.h>

#include "../common/big_buffer.h"
#include "../quant/group_cursor.h"
#include "../rans/decode_kernel.h"
#include "split_streams.h"
#include "wqc/container.h"
#include "wqc/dtype.h"

/* SPLIT frames: a window of the symbols' chunks at a time, merged with the
 * rest streams into the float bytes. */
static wqc_status stream_split(const wqc_frame *f, int threads, size_t window, wqc_sink_fn sink, void *ctx,
                               wqc_error *err)
{
    const wqc_rans_coded *c = &f->coded;
    if (c->nchunks == 0) return WQC_OK;
    size_t size = wqc_dtype_size(f->dtype);
    uint64_t per = window / ((uint64_t)c->chunk * size), least = 2 * (uint64_t)wqc_rans_threads(threads);
    if (per < least) per = least;
    if (per > c->nchunks) per = c->nchunks;
    uint64_t cap = per * c->chunk < c->n ? per * c->chunk : c->n;
    /* 1-byte values are their own symbols: decoded straight into out. */
    uint8_t *out = wqc_big_alloc((size_t)cap * size), *sym = size == 1 ? out : wqc_big_alloc((size_t)cap);
    split_rest r = {0};
    wqc_rans_dtable d = {0};
    wqc_status st = sym && out ? split_rest_open(f, &r, err) : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    if (st == WQC_OK) st = wqc_rans_dtable_init(&d, &c->table, err);
    wqc_isa isa = wqc_isa_active();
    for (uint64_t k = 0; st == WQC_OK && k < c->nchunks; k += per) {
        uint64_t count = c->nchunks - k < per ? c->nchunks - k : per;
        uint64_t first = k * c->chunk, last = (k + count) * c->chunk < c->n ? (k + count) * c->chunk : c->n;
        wqc_rans_output o = {.form = WQC_FORM_SYMBOLS, .dst = sym, .first = first};
        st = wqc_rans_decode_range_with(&d, c, k, count, &o, threads, isa, err);
        const uint8_t *rest[WQC_SPLIT_REST_MAX];
        for (unsigned j = 0; j < wqc_split_rest_count(f->dtype); j++) rest[j] = r.stream[j] + first;
        if (st == WQC_OK && size > 1) st = wqc_float_merge(f->dtype, sym, rest, (size_t)(last - first), out, isa, err);
        if (st == WQC_OK) st = sink(ctx, out, (size_t)((last - first) * size), err);
    }
    wqc_rans_dtable_free(&d);
    split_rest_close(&r);
    if (sym != out) free(sym);
    free(out);
    return st;
}

static wqc_status stream_bytes(const wqc_frame *f, int threads, size_t window, wqc_sink_fn sink, void *ctx,
                               wqc_error *err)
{
    if (f->encoding == WQC_ENC_SPLIT) return stream_split(f, threads, window ? window : WQC_STREAM_WINDOW_DEFAULT, sink, ctx, err);
    if (f->encoding == WQC_ENC_RAW && f->payload_len == f->raw_len)
        return f->raw_len ? sink(ctx, f->payload, (size_t)f->raw_len, err) : WQC_OK;
    uint8_t *buf = malloc(f->raw_len ? (size_t)f->raw_len : 1);
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = wqc_frame_decode_raw(f, buf, err);
    if (st == WQC_OK && f->raw_len) st = sink(ctx, buf, (size_t)f->raw_len, err);
    free(buf);
    return st;
}

/* Row-major rANS frames: windows of whole chunks decoded straight into the
 * output form by the kernels. */
static wqc_status stream_rans(const wqc_frame *f, wqc_rans_form form, uint8_t add, int threads, size_t window,
                              wqc_sink_fn sink, void *ctx, wqc_error *err)
{
    const wqc_rans_coded *c = &f->coded;
    if (c->nchunks == 0) return WQC_OK;
    uint64_t esize = wqc_rans_output_bytes(form, 1), chunk_out = (uint64_t)c->chunk * esize;
    /* Every thread gets at least two chunks of a window. */
    uint64_t per = window / chunk_out, least = 2 * (uint64_t)wqc_rans_threads(threads);
    if (per < least) per = least;
    if (per > c->nchunks) per = c->nchunks;
    uint64_t cap = per * chunk_out;
    if (cap > c->n * esize) cap = c->n * esize;
    uint8_t *buf = wqc_big_alloc((size_t)cap);
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_rans_dtable d = {0};
    wqc_status st = c->ctx.ntables ? wqc_rans_dtable_init_context(&d, &c->ctx, err)
                                   : wqc_rans_dtable_init(&d, &c->table, err);
    wqc_isa isa = wqc_isa_active();
    for (uint64_t k = 0; st == WQC_OK && k < c->nchunks; k += per) {
        uint64_t count = c->nchunks - k < per ? c->nchunks - k : per;
        uint64_t first = k * c->chunk, last = (k + count) * c->chunk;
        if (last > c->n) last = c->n;
        wqc_rans_output o = {.form = form, .dst = buf, .groups = &f->q, .first = first, .add = add};
        st = wqc_rans_decode_range_with(&d, c, k, count, &o, threads, isa, err);
        if (st == WQC_OK) st = sink(ctx, buf, (size_t)((last - first) * esize), err);
    }
    wqc_rans_dtable_free(&d);
    free(buf);
    return st;
}

/* Every other quantized frame (brotli or zstd symbols, the gemv layout):
 * the symbols whole, then the output form a window at a time. */
static wqc_status stream_symbols(const wqc_frame *f, wqc_rans_form form, uint8_t add, int threads, size_t window,
                                 wqc_sink_fn sink, void *ctx, wqc_error *err)
{
    uint8_t *sym = malloc(f->nelem ? (size_t)f->nelem : 1);
    if (!sym) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = wqc_frame_decode_symbols(f, threads, sym, err);
    if (st == WQC_OK && form == WQC_FORM_SYMBOLS) {
        for (uint64_t i = 0; add && i < f->nelem; i++) sym[i] = (uint8_t)(sym[i] + add);
        if (f->nelem) st = sink(ctx, sym, (size_t)f->nelem, err);
        free(sym);
        return st;
    }
    uint64_t esize = wqc_rans_output_bytes(form, 1), per = window / esize;
    if (per > f->nelem) per = f->nelem;
    uint8_t *buf = st == WQC_OK ? malloc(per ? (size_t)(per * esize) : 1) : NULL;
    if (st == WQC_OK && !buf) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    rans_group_cursor g;
    if (st == WQC_OK) rans_group_seek(&g, &f->q, 0);
    for (uint64_t first = 0; st == WQC_OK && first < f->nelem; first += per) {
        uint64_t n = f->nelem - first < per ? f->nelem - first : per;
        for (uint64_t i = 0; i < n; i++) {
            rans_group_reach(&g, first + i);
            float v = rans_dequant(&g, sym[first + i]);
            if (form == WQC_FORM_F32) memcpy(buf + 4 * i, &v, 4);
            else {
                uint16_t h = form == WQC_FORM_F16 ? wqc_f32_to_f16(v) : wqc_f32_to_bf16(v);
                memcpy(buf + 2 * i, &h, 2);
            }
        }
        st = sink(ctx, buf, (size_t)(n * esize), err);
    }
    free(buf);
    free(sym);
    return st;
}

wqc_status wqc_frame_stream(const wqc_frame *f, wqc_rans_form form, int threads, size_t window, wqc_sink_fn sink,
                            void *ctx, wqc_error *err)
{
    if (!f->quantized) return stream_bytes(f, threads, window, sink, ctx, err);
    if (form != WQC_FORM_SYMBOLS && form != WQC_FORM_F32 && form != WQC_FORM_F16 && form != WQC_FORM_BF16)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s': a stream gives symbols, F32, F16 or BF16", f->name);
    if (window == 0) window = WQC_STREAM_WINDOW_DEFAULT;
    /* Given integers come back as themselves: symbol + offset (mod 256 is
     * the I8/U8 byte, as the offset is the tensor's minimum). */
    uint8_t add = 0;
    if (form == WQC_FORM_SYMBOLS && f->quant.method == WQC_QUANT_GIVEN) add = (uint8_t)(int)f->q.offset[0];
    if (f->encoding == WQC_ENC_RANS && !f->gemv_tile)
        return stream_rans(f, form, add, threads, window, sink, ctx, err);
    return stream_symbols(f, form, add, threads, window, sink, ctx, err);
}

wqc_status wqc_frame_decode_into(const wqc_frame *f, wqc_rans_form form, int threads, void *dst, uint64_t len,
                                 wqc_error *err)
{
    wqc_buffer_out o = {dst, (uint8_t *)dst + len};
    wqc_status st = wqc_frame_stream(f, form, threads, 0, wqc_buffer_sink, &o, err);
    if (st != WQC_OK) return st;
    if (o.at != o.end)
        return wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s' decoded to %llu bytes, %llu expected", f->name,
                        (unsigned long long)(o.at - (uint8_t *)dst), (unsigned long long)len);
    return WQC_OK;
}
