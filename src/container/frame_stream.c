/* Streaming a frame's output: a few chunks at a time, so that decoding a
 * tensor needs buffers of a task a thread, not of the tensor, and the
 * buffers (reused) are paid for in page faults once. */
#include <stdlib.h>
#include <string.h>

#include "../common/async_sink.h"
#include "../common/big_buffer.h"
#include "../common/ordered_tasks.h"
#include "../common/trace.h"
#include "../quant/group_cursor.h"
#include "../rans/decode_kernel.h"
#include "split_streams.h"
#include "wqc/container.h"
#include "wqc/dtype.h"

/* A stream of rANS chunks decoded a task (a few whole chunks) at a time on
 * the threads, each into a buffer of its own, and given to the sink in order
 * as each is ready (wqc_ordered_tasks): no barrier between windows, and the
 * merge of split frames on the threads too. */
typedef struct chunk_stream {
    const wqc_frame *f;
    const wqc_rans_dtable *d;
    wqc_rans_form form;      /* of the symbols' decode */
    uint8_t add;
    uint64_t per;            /* chunks a task */
    uint8_t **sym, **out;    /* each worker's buffers: symbols (or the output form), split values */
    const split_rest *rest;  /* split frames, else NULL */
    size_t size;             /* bytes an element of the sink's output */
    wqc_isa isa;
    wqc_sink_fn sink;
    void *ctx;
    /* A writer thread and its pool of buffers (else NULL): a task takes the
     * buffer it hands over (sym or out: `emitted`) from it. */
    wqc_async_sink *async;
    uint8_t **emitted;
} chunk_stream;

/* Elements first..last of task t. */
static void task_range(const chunk_stream *s, size_t t, uint64_t *first, uint64_t *last)
{
    const wqc_rans_coded *c = &s->f->coded;
    *first = (uint64_t)t * s->per * c->chunk;
    *last = *first + s->per * c->chunk < c->n ? *first + s->per * c->chunk : c->n;
}

static wqc_status chunk_decode(const chunk_stream *s, size_t t, int w, wqc_error *err)
{
    const wqc_rans_coded *c = &s->f->coded;
    uint64_t k = (uint64_t)t * s->per, count = c->nchunks - k < s->per ? c->nchunks - k : s->per, first, last;
    task_range(s, t, &first, &last);
    wqc_rans_output o = {.form = s->form, .dst = s->sym[w], .groups = &s->f->q, .first = first, .add = s->add};
    wqc_status st = wqc_rans_decode_range_with(s->d, c, k, count, &o, 1, s->isa, err);
    if (st != WQC_OK || !s->out) return st;
    if (s->f->encoding == WQC_ENC_SPLIT_E8M3)
        return wqc_e8m3_merge(s->sym[w], s->rest->stream[0], s->rest->stream[1], &s->rest->exceptions, first,
                              (size_t)(last - first), s->f->split_base, s->out[w], s->isa, err);
    const uint8_t *rest[WQC_SPLIT_REST_MAX];
    for (unsigned j = 0; j < wqc_split_rest_count(s->f->dtype); j++) rest[j] = s->rest->stream[j] + first;
    return wqc_float_merge(s->f->dtype, s->sym[w], rest, (size_t)(last - first), s->out[w], s->isa, err);
}

static wqc_status chunk_work(void *ctx, size_t t, int w, wqc_error *err)
{
    const chunk_stream *s = ctx;
    if (s->async) s->emitted[w] = wqc_async_sink_take(s->async);
    wqc_status st = chunk_decode(s, t, w, err);
    if (st != WQC_OK && s->async) {
        wqc_async_sink_give(s->async, s->emitted[w]);
        s->emitted[w] = NULL;
    }
    return st;
}

static wqc_status chunk_emit(void *ctx, size_t t, int w, wqc_error *err)
{
    const chunk_stream *s = ctx;
    uint64_t first, last;
    task_range(s, t, &first, &last);
    const size_t len = (size_t)((last - first) * s->size);
    if (!s->async) return s->sink(s->ctx, s->out ? s->out[w] : s->sym[w], len, err);
    uint8_t *buf = s->emitted[w];
    s->emitted[w] = NULL;
    return wqc_async_sink_put(s->async, buf, len, err);
}

/* Chunks a task: the kernels' several at once (most), within about `window`
 * bytes of buffers a thread but at least min(2, most), and no more than
 * leave every thread a task. A window a thread, not over all of them: at
 * -T 16 a 4 MiB window over all gave 1 Mi-symbol chunks tasks of 2, and
 * the 4-chunk kernel decodes 10-15% faster than the 2-chunk one (VM). */
static uint64_t task_chunks(uint64_t nchunks, int threads, uint64_t chunk_bytes, size_t window, uint64_t most)
{
    uint64_t per = window / chunk_bytes, least = most < 2 ? most : 2;
    if (per < least) per = least;
    if (per > most) per = most;
    uint64_t share = (nchunks + (uint64_t)threads - 1) / (uint64_t)threads;
    if (per > share) per = share;
    return per ? per : 1;
}

/* Each worker's buffer of `bytes`, made separately: blocks of a few MiB
 * each, not one of all (a block past 2 MiB takes fresh huge pages). */
static uint8_t **worker_buffers(int workers, uint64_t bytes)
{
    uint8_t **b = calloc((size_t)workers, sizeof *b);
    for (int k = 0; b && k < workers; k++)
        if (!(b[k] = wqc_big_alloc((size_t)bytes))) {
            for (int j = 0; j < k; j++) free(b[j]);
            free(b);
            return NULL;
        }
    return b;
}

static void buffers_free(uint8_t **b, int workers)
{
    for (int k = 0; b && k < workers; k++) free(b[k]);
    free(b);
}

/* Whether streams hand their output to a writer thread: where two cores
 * are spare (`spare`), or as WQC_ASYNC_WRITE=0 or 1 says (benchmarks and
 * the tests of both paths). */
static int async_wanted(int spare)
{
    const char *v = getenv("WQC_ASYNC_WRITE");
    return v && (!strcmp(v, "0") || !strcmp(v, "1")) ? v[0] == '1' : spare;
}

/* Runs s over the frame's chunks: a task's symbols (or output form) in
 * sym_bytes, its split values (out_bytes > 0) in out_bytes. With two tasks
 * or more and two cores to spare, what a task hands over goes to the sink
 * on a writer thread (async_sink.h), from a pool of a buffer a worker and
 * one more: decode -T 1 of 128 Mi symbols to a file spent a third of its
 * time in its page-cache writes. Without a core for it the writer competes
 * with the workers (and OpenMP's spinning waits): on 2 cores, -T 2 to a
 * file went 42 -> 63-70 ms, and -T 1 of a model of twelve tensors 59 ->
 * 62-66 ms (a record checker beside: `decode` checks the next records on
 * a thread of its own, hence two cores); with every core decoding, the
 * writes follow each other already. */
static wqc_status run_chunks(chunk_stream *s, int threads, uint64_t sym_bytes, uint64_t out_bytes, wqc_error *err)
{
    const wqc_rans_coded *c = &s->f->coded;
    size_t tasks = (size_t)((c->nchunks + s->per - 1) / s->per);
    int workers = wqc_ordered_workers(tasks, threads);
    const uint64_t emitted = out_bytes ? out_bytes : sym_bytes;
    const int spare = workers + 2 <= wqc_rans_threads(0);
    s->async = tasks > 1 && async_wanted(spare) ? wqc_async_sink_open(s->sink, s->ctx, workers + 1, (size_t)emitted) : NULL;
    /* The larger first: the heap then gives both back the blocks of the last tensor's. */
    s->out = !out_bytes ? NULL : s->async ? calloc((size_t)workers, sizeof *s->out) : worker_buffers(workers, out_bytes);
    s->sym = s->async && !out_bytes ? calloc((size_t)workers, sizeof *s->sym) : worker_buffers(workers, sym_bytes);
    s->emitted = out_bytes ? s->out : s->sym;
    wqc_status st = s->sym && (s->out || !out_bytes) ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    WQC_TRACE("stream tasks", tasks);
    static const wqc_task_ops ops = {chunk_work, chunk_emit};
    if (st == WQC_OK) st = wqc_ordered_tasks(tasks, workers, &ops, s, err);
    if (s->async) {
        wqc_error e;
        wqc_status written = wqc_async_sink_close(s->async, &e);
        if (st == WQC_OK && written != WQC_OK) st = written, *err = e;
        free(s->emitted);
        if (s->emitted == s->out) s->out = NULL;
        else s->sym = NULL;
    }
    buffers_free(s->sym, workers);
    buffers_free(s->out, workers);
    return st;
}

/* Split frames: the symbols' chunks merged with the rest streams into the
 * float bytes, a task at a time (1-byte values are their own symbols). */
static wqc_status stream_split(const wqc_frame *f, int threads, size_t window, wqc_sink_fn sink, void *ctx,
                               wqc_error *err)
{
    const wqc_rans_coded *c = &f->coded;
    if (c->nchunks == 0) return WQC_OK;
    size_t size = wqc_dtype_size(f->dtype);
    int t = wqc_rans_threads(threads);
    split_rest r = {0};
    wqc_rans_dtable d = {0};
    wqc_status st = split_rest_open(f, &r, err);
    if (st == WQC_OK)
        st = c->ctx.ntables ? wqc_rans_dtable_init_context(&d, &c->ctx, err) : wqc_rans_dtable_init(&d, &c->table, err);
    chunk_stream s = {f, &d, WQC_FORM_SYMBOLS, 0, 0, NULL, NULL, &r, size, wqc_isa_active(), sink, ctx, NULL, NULL};
    if (st == WQC_OK) {
        s.per = task_chunks(c->nchunks, t, (uint64_t)c->chunk * size, window, rans_multi_most(WQC_FORM_SYMBOLS, d.alphabet));
        uint64_t most = s.per * c->chunk < c->n ? s.per * c->chunk : c->n; /* elements a task */
        st = run_chunks(&s, t, most, size == 1 ? 0 : most * size, err);
    }
    wqc_rans_dtable_free(&d);
    split_rest_close(&r);
    return st;
}

static wqc_status stream_bytes(const wqc_frame *f, int threads, size_t window, wqc_sink_fn sink, void *ctx,
                               wqc_error *err)
{
    if (wqc_encoding_split(f->encoding)) return stream_split(f, threads, window, sink, ctx, err);
    if (f->encoding == WQC_ENC_RAW && f->payload_len == f->raw_len)
        return f->raw_len ? sink(ctx, f->payload, (size_t)f->raw_len, err) : WQC_OK;
    uint8_t *buf = malloc(f->raw_len ? (size_t)f->raw_len : 1);
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = wqc_frame_decode_raw(f, buf, err);
    if (st == WQC_OK && f->raw_len) st = sink(ctx, buf, (size_t)f->raw_len, err);
    free(buf);
    return st;
}

/* Row-major rANS frames: tasks of whole chunks decoded straight into the
 * output form by the kernels. */
static wqc_status stream_rans(const wqc_frame *f, wqc_rans_form form, uint8_t add, int threads, size_t window,
                              wqc_sink_fn sink, void *ctx, wqc_error *err)
{
    const wqc_rans_coded *c = &f->coded;
    if (c->nchunks == 0) return WQC_OK;
    uint64_t esize = wqc_rans_output_bytes(form, 1), chunk_out = (uint64_t)c->chunk * esize;
    int t = wqc_rans_threads(threads);
    wqc_rans_dtable d = {0};
    wqc_status st = c->ctx.ntables ? wqc_rans_dtable_init_context(&d, &c->ctx, err)
                                   : wqc_rans_dtable_init(&d, &c->table, err);
    chunk_stream s = {f, &d, form, add, 0, NULL, NULL, NULL, (size_t)esize, wqc_isa_active(), sink, ctx, NULL, NULL};
    if (st == WQC_OK) {
        s.per = task_chunks(c->nchunks, t, chunk_out, window, rans_multi_most(form, d.alphabet));
        st = run_chunks(&s, t, s.per * c->chunk < c->n ? s.per * chunk_out : c->n * esize, 0, err);
    }
    wqc_rans_dtable_free(&d);
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
    if (window == 0) {
        /* WQC_STREAM_WINDOW: the default in bytes (benchmarks). */
        const char *env = getenv("WQC_STREAM_WINDOW");
        window = env && atoll(env) > 0 ? (size_t)atoll(env) : WQC_STREAM_WINDOW_DEFAULT;
    }
    if (!f->quantized) return stream_bytes(f, threads, window, sink, ctx, err);
    if (form != WQC_FORM_SYMBOLS && form != WQC_FORM_F32 && form != WQC_FORM_F16 && form != WQC_FORM_BF16)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s': a stream gives symbols, F32, F16 or BF16", f->name);
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
