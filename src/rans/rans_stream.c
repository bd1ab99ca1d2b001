/* Whole-tensor coding: one table, independent chunks coded on threads. */
#include <stdlib.h>
#include <string.h>

#include "../common/threads.h"
#include "wqc/entropy.h"
#include "decode_kernel.h"
#include "wqc/rans.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void wqc_rans_params_default(wqc_rans_params *p)
{
    p->precision = WQC_PRECISION_DEFAULT;
    p->lanes = WQC_RANS_LANES_DEFAULT_CODEC;
    p->chunk = WQC_RANS_CHUNK_DEFAULT_CODEC;
    p->threads = 1;
}

uint32_t wqc_rans_lanes_auto(uint64_t n, uint32_t alphabet)
{
    if (n < WQC_RANS_TINY_TENSOR) return 1;
    if (alphabet > WQC_RANS_SEARCHED_ALPHABET) return WQC_RANS_LANES_GATHERED;
    return n < WQC_RANS_SMALL_TENSOR ? WQC_RANS_LANES_SMALL : WQC_RANS_LANES_DEFAULT_CODEC;
}

wqc_status wqc_rans_params_check(const wqc_rans_params *p, wqc_error *err)
{
    if (p->precision < WQC_PRECISION_MIN || p->precision > WQC_PRECISION_MAX)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "precision must be %d..%d, got %d",
                        WQC_PRECISION_MIN, WQC_PRECISION_MAX, p->precision);
    if (!wqc_rans_lanes_valid(p->lanes))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "lanes must be 1, 2, 4 or a multiple of 8 up to %d, got %u",
                        WQC_RANS_LANES_MAX, p->lanes);
    if (p->chunk < WQC_RANS_CHUNK_MIN || p->chunk > WQC_RANS_CHUNK_MAX)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "chunk must be %u..%u symbols, got %u",
                        WQC_RANS_CHUNK_MIN, WQC_RANS_CHUNK_MAX, p->chunk);
    return WQC_OK;
}

uint64_t wqc_rans_chunk_count(uint64_t n, uint32_t chunk) { return (n + chunk - 1) / chunk; }

void wqc_rans_coded_free(wqc_rans_coded *c)
{
    free(c->chunk_bytes);
    free(c->offset);
    free(c->payload);
    free(c->ctx.tables);
    free(c->ctx.group_table);
    free(c->ctx.col_shift);
    free(c->ctx.bin_table);
    c->chunk_bytes = NULL;
    c->offset = NULL;
    c->payload = NULL;
    c->ctx.tables = NULL;
    c->ctx.group_table = NULL;
    c->ctx.col_shift = NULL;
    c->ctx.bin_table = NULL;
    c->ctx.ntables = 0;
}

static uint64_t chunk_len(const wqc_rans_coded *c, uint64_t i)
{
    uint64_t start = i * c->chunk;
    return c->n - start < c->chunk ? c->n - start : c->chunk;
}

wqc_status wqc_rans_coded_index(wqc_rans_coded *c, wqc_error *err)
{
    free(c->offset);
    c->offset = malloc((c->nchunks + 1) * sizeof *c->offset);
    if (!c->offset) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    uint64_t at = 0;
    for (uint64_t i = 0; i < c->nchunks; i++) {
        c->offset[i] = at;
        at += c->chunk_bytes[i];
    }
    c->offset[c->nchunks] = at;
    if (at != c->payload_len)
        return wqc_fail(err, WQC_ERR_FORMAT, "chunk sizes add up to %llu bytes, payload has %llu",
                        (unsigned long long)at, (unsigned long long)c->payload_len);
    return WQC_OK;
}

/* Appends len bytes to c->payload (capacity *cap), growing it by half. */
static int append_payload(wqc_rans_coded *c, uint64_t *cap, const uint8_t *src, size_t len)
{
    if (c->payload_len + len > *cap) {
        uint64_t want = *cap + *cap / 2;
        if (want < c->payload_len + len) want = c->payload_len + len;
        uint8_t *grown = realloc(c->payload, (size_t)want);
        if (!grown) return 0;
        c->payload = grown;
        *cap = want;
    }
    memcpy(c->payload + c->payload_len, src, len);
    c->payload_len += len;
    return 1;
}

/* Codes every chunk of sym with c's table or context (c->table, lanes,
 * chunk and n set) on p->threads threads and packs the streams. Chunks are
 * coded a batch at a time, one per thread, into per-thread buffers of the
 * chunk bound, and appended in order: memory is the payload plus a bound
 * per thread, never a bound for the whole tensor. */
static wqc_status encode_chunks(const uint8_t *sym, const wqc_rans_params *p, wqc_rans_coded *c, wqc_error *err)
{
    c->nchunks = wqc_rans_chunk_count(c->n, c->chunk);
    int threads = p->threads > 1 && c->nchunks > 1 ? p->threads : 1;
    if ((uint64_t)threads > c->nchunks) threads = (int)c->nchunks;
    size_t slot = wqc_rans_chunk_bound(c->n < c->chunk ? (size_t)c->n : c->chunk, c->lanes);
    uint8_t *scratch = malloc((size_t)threads * slot);
    c->chunk_bytes = calloc(c->nchunks + 1, sizeof *c->chunk_bytes);
    /* First guess: 5 bits per symbol, grown when needed. */
    uint64_t cap = c->n / 8 * 5 + 4 * (uint64_t)c->lanes * c->nchunks + 64;
    c->payload = malloc((size_t)cap);
    if (!scratch || !c->chunk_bytes || !c->payload) {
        free(scratch);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory coding %llu symbols", (unsigned long long)c->n);
    }
    int failed = 0;
    for (uint64_t b = 0; b < c->nchunks && !failed; b += (uint64_t)threads) {
        int batch = c->nchunks - b < (uint64_t)threads ? (int)(c->nchunks - b) : threads;
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(batch) reduction(| : failed) if (batch > 1)
#endif
        for (int k = 0; k < batch; k++) {
            uint64_t i = b + (uint64_t)k;
            size_t len = 0, n = (size_t)chunk_len(c, i);
            const uint8_t *at = sym + i * c->chunk;
            uint8_t *out = scratch + (size_t)k * slot;
            wqc_status st = c->ctx.ntables
                                ? wqc_rans_encode_chunk_context(&c->ctx, c->lanes, at, i * c->chunk, n, out, slot, &len, NULL)
                                : wqc_rans_encode_chunk(&c->table, c->lanes, at, n, out, slot, &len, NULL);
            if (st != WQC_OK) failed = 1;
            c->chunk_bytes[i] = (uint32_t)len;
        }
        for (int k = 0; k < batch && !failed; k++)
            if (!append_payload(c, &cap, scratch + (size_t)k * slot, c->chunk_bytes[b + (uint64_t)k])) {
                free(scratch);
                return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            }
    }
    free(scratch);
    if (failed) return wqc_fail(err, WQC_ERR_RANGE, "a symbol is not in its frequency table");
    return wqc_rans_coded_index(c, err);
}

wqc_status wqc_rans_encode(const uint8_t *sym, uint64_t n, uint32_t alphabet,
                           const wqc_rans_params *p, wqc_rans_coded *c, wqc_error *err)
{
    memset(c, 0, sizeof *c);
    wqc_status st = wqc_rans_params_check(p, err);
    if (st != WQC_OK) return st;
    if (alphabet < 1 || alphabet > 256)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "alphabet must be 1..256, got %u", alphabet);
    uint64_t counts[256] = {0};
    wqc_histogram(sym, (size_t)n, counts);
    for (uint32_t s = alphabet; s < 256; s++)
        if (counts[s])
            return wqc_fail(err, WQC_ERR_RANGE, "symbol %u is outside the alphabet of %u", s, alphabet);
    uint32_t freq[256];
    st = wqc_freq_normalize(counts, alphabet, p->precision, freq, err);
    if (st == WQC_OK && n == 0) {
        /* An empty tensor still carries a valid table: all mass on symbol 0. */
        freq[0] = 1u << p->precision;
    }
    wqc_rans_table t;
    if (st == WQC_OK) st = wqc_rans_table_init(&t, freq, alphabet, p->precision, err);
    return st == WQC_OK ? wqc_rans_encode_table(sym, n, &t, p, c, err) : st;
}

wqc_status wqc_rans_encode_table(const uint8_t *sym, uint64_t n, const wqc_rans_table *t, const wqc_rans_params *p,
                                 wqc_rans_coded *c, wqc_error *err)
{
    memset(c, 0, sizeof *c);
    wqc_status st = wqc_rans_params_check(p, err);
    if (st != WQC_OK) return st;
    c->table = *t;
    c->lanes = p->lanes;
    c->chunk = p->chunk;
    c->n = n;
    st = encode_chunks(sym, p, c, err);
    if (st != WQC_OK) wqc_rans_coded_free(c);
    return st;
}

wqc_status wqc_rans_encode_context(const uint8_t *sym, uint64_t n, const wqc_rans_context *ctx,
                                   const wqc_rans_params *p, wqc_rans_coded *c, wqc_error *err)
{
    memset(c, 0, sizeof *c);
    wqc_status st = wqc_rans_params_check(p, err);
    if (st == WQC_OK) st = wqc_rans_context_check(ctx, err);
    if (st != WQC_OK) return st;
    if (ctx->rows * ctx->cols != n)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "context of a %llux%llu matrix for %llu symbols",
                        (unsigned long long)ctx->rows, (unsigned long long)ctx->cols, (unsigned long long)n);
    c->ctx = *ctx;
    c->ctx.tables = malloc(ctx->ntables * sizeof *ctx->tables);
    c->ctx.group_table = malloc(ctx->ngroups ? (size_t)ctx->ngroups : 1);
    c->ctx.col_shift = ctx->col_shift ? malloc(ctx->cols ? (size_t)ctx->cols : 1) : NULL;
    c->ctx.bin_table = ctx->col_shift ? malloc(ctx->nbins) : NULL;
    if (!c->ctx.tables || !c->ctx.group_table || (ctx->col_shift && (!c->ctx.col_shift || !c->ctx.bin_table))) {
        wqc_rans_coded_free(c);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    memcpy(c->ctx.tables, ctx->tables, ctx->ntables * sizeof *ctx->tables);
    memcpy(c->ctx.group_table, ctx->group_table, (size_t)ctx->ngroups);
    if (ctx->col_shift) {
        memcpy(c->ctx.col_shift, ctx->col_shift, (size_t)ctx->cols);
        memcpy(c->ctx.bin_table, ctx->bin_table, ctx->nbins);
    }
    c->table = ctx->tables[0];
    c->lanes = p->lanes;
    c->chunk = p->chunk;
    c->n = n;
    st = encode_chunks(sym, p, c, err);
    if (st != WQC_OK) wqc_rans_coded_free(c);
    return st;
}

int wqc_rans_threads(int threads)
{
#ifdef _OPENMP
    return threads > 0 ? threads : omp_get_num_procs();
#else
    (void)threads;
    return 1;
#endif
}

wqc_status wqc_rans_decode_to(const wqc_rans_coded *c, const wqc_rans_output *out, int threads,
                              wqc_isa isa, wqc_error *err)
{
    if (!wqc_isa_available(isa))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "no %s decoder on this CPU or build", wqc_isa_name(isa));
    wqc_rans_dtable d = {0};
    wqc_status st = c->ctx.ntables ? wqc_rans_dtable_init_context(&d, &c->ctx, err)
                                   : wqc_rans_dtable_init(&d, &c->table, err);
    if (st == WQC_OK) st = wqc_rans_decode_with(&d, c, out, threads, isa, err);
    wqc_rans_dtable_free(&d);
    return st;
}

wqc_status wqc_rans_decode_with(const wqc_rans_dtable *d, const wqc_rans_coded *c, const wqc_rans_output *out,
                                int threads, wqc_isa isa, wqc_error *err)
{
    return wqc_rans_decode_range_with(d, c, 0, c->nchunks, out, threads, isa, err);
}

wqc_status wqc_rans_decode_chunks(const wqc_rans_coded *c, uint64_t first_chunk, uint64_t count,
                                  const wqc_rans_output *out, int threads, wqc_isa isa, wqc_error *err)
{
    if (first_chunk > c->nchunks || count > c->nchunks - first_chunk)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "chunks %llu..%llu of %llu", (unsigned long long)first_chunk,
                        (unsigned long long)(first_chunk + count), (unsigned long long)c->nchunks);
    if (!wqc_isa_available(isa))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "no %s decoder on this CPU or build", wqc_isa_name(isa));
    wqc_rans_dtable d = {0};
    wqc_status st = c->ctx.ntables ? wqc_rans_dtable_init_context(&d, &c->ctx, err)
                                   : wqc_rans_dtable_init(&d, &c->table, err);
    if (st == WQC_OK) st = wqc_rans_decode_range_with(&d, c, first_chunk, count, out, threads, isa, err);
    wqc_rans_dtable_free(&d);
    return st;
}

wqc_status wqc_rans_decode_range_with(const wqc_rans_dtable *d, const wqc_rans_coded *c, uint64_t first_chunk,
                                      uint64_t count, const wqc_rans_output *out, int threads, wqc_isa isa,
                                      wqc_error *err)
{
    int nthreads = wqc_rans_threads(threads);
    if (out->form == WQC_FORM_NIBBLES && c->chunk % 2) nthreads = 1;
    if ((uint64_t)nthreads > count) nthreads = count ? (int)count : 1;
    /* The fused products of a small model's matrices stay on one thread. */
    uint64_t symbols = count * c->chunk < c->n - first_chunk * c->chunk ? count * c->chunk : c->n - first_chunk * c->chunk;
    nthreads = wqc_threads_for_work(nthreads, symbols);
    /* Several chunks per task when there are enough to keep every thread
     * busy: the AVX-512 kernel then has more independent work in flight. */
    uint64_t per_task = 1, most = rans_multi_most(out->form, d->alphabet);
    while (per_task < most && count >= 2 * per_task * (uint64_t)nthreads) per_task *= 2;
    uint64_t tasks = (count + per_task - 1) / per_task, end = first_chunk + count;
    /* The first failing chunk (lowest index) is reported. */
    uint64_t bad = end;
    wqc_error first;
    wqc_error_clear(&first);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (nthreads > 1)
#endif
    for (uint64_t t = 0; t < tasks; t++) {
        uint64_t i0 = first_chunk + t * per_task;
        int nk = (int)(end - i0 < per_task ? end - i0 : per_task);
        const uint8_t *in[RANS_MULTI_MAX];
        size_t len[RANS_MULTI_MAX], n[RANS_MULTI_MAX];
        uint64_t pos[RANS_MULTI_MAX];
        wqc_status s[RANS_MULTI_MAX];
        wqc_error e[RANS_MULTI_MAX];
        for (int k = 0; k < nk; k++) {
            uint64_t i = i0 + (uint64_t)k;
            in[k] = c->payload + c->offset[i];
            len[k] = c->chunk_bytes[i];
            pos[k] = i * c->chunk;
            n[k] = (size_t)chunk_len(c, i);
        }
        if (wqc_rans_decode_chunks_to(d, c->lanes, nk, in, len, out, pos, n, isa, s, e) == WQC_OK) continue;
        for (int k = 0; k < nk; k++) {
            if (s[k] == WQC_OK) continue;
#ifdef _OPENMP
#pragma omp critical(wqc_rans_decode_error)
#endif
            if (i0 + (uint64_t)k < bad) {
                bad = i0 + (uint64_t)k;
                first = e[k];
            }
        }
    }
    if (bad < end)
        return wqc_fail(err, first.status, "chunk %llu: %s", (unsigned long long)bad, first.msg);
    return WQC_OK;
}

wqc_status wqc_rans_decode(const wqc_rans_coded *c, int threads, uint8_t *sym, wqc_error *err)
{
    wqc_rans_output out = {.form = WQC_FORM_SYMBOLS, .dst = sym};
    return wqc_rans_decode_to(c, &out, threads > 0 ? threads : 1, wqc_isa_active(), err);
}
