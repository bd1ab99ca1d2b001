// Frames uploaded to GPU memory, and the chunk statuses read back (wqc/cuda.h).
#include <stdlib.h>
#include <string.h>

#include "frame.cuh"
extern "C" {
#include "../container/split_streams.h"
}

extern "C" wqc_status wqc_cuda_error(wqc_error *err, int cuda_error, const char *what)
{
    return wqc_fail(err, WQC_ERR_IO, "CUDA: %s: %s", what, cudaGetErrorString((cudaError_t)cuda_error));
}

static const char *const part_name[PARTS] = {"payload", "chunk offsets", "table",     "scales",
                                             "offsets", "group tables",  "exceptions", "status"};

wqc_status frame_host_make(const wqc_frame *f, frame_host *h, wqc_error *err)
{
    memset(h, 0, sizeof *h);
    const wqc_rans_coded *c = &f->coded;
    const int context = c->ctx.ntables > 1;
    /* Split frames' contexts are row or tile tables: a group a row, or a
     * group a tile's row segment. */
    const int row_tables = context && wqc_encoding_split(f->encoding);
    const uint64_t per_row = row_tables && c->ctx.group_len ? (c->ctx.cols + c->ctx.group_len - 1) / c->ctx.group_len : 0;
    if ((f->encoding != WQC_ENC_RANS && !wqc_encoding_split(f->encoding)) || (c->lanes > 32 && c->lanes != 64) ||
        (context && !row_tables && (!f->quantized || c->ctx.ngroups != f->q.ngroups)) ||
        (row_tables && (!per_row || c->ctx.ngroups != c->ctx.rows * per_row || c->ctx.cols >= (1ull << 31) ||
                        c->ctx.rows >= (1ull << 31))))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': the GPU decoder takes rANS with up to 32 lanes or 64",
                        f->name);
    /* A chunk's nibbles and signs start on whole bytes. */
    if (f->encoding == WQC_ENC_SPLIT_E8M3 && c->nchunks > 1 && c->chunk % 8)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': the GPU decoder takes split-e8m3 chunks of 8k values", f->name);

    wqc_cuda_frame *g = &h->g;
    g->n = c->n, g->nchunks = c->nchunks, g->lanes = c->lanes, g->chunk = c->chunk, g->precision = c->table.precision;
    g->split = wqc_encoding_split(f->encoding) ? (uint32_t)wqc_dtype_size(f->dtype) : 0;
    g->e8m3 = f->encoding == WQC_ENC_SPLIT_E8M3;
    g->split_base = f->split_base;
    g->dtype = f->dtype;
    for (uint64_t k = 0; k < c->nchunks; k++)
        if (c->offset[k + 1] - c->offset[k] > g->max_chunk_bytes) g->max_chunk_bytes = (uint32_t)(c->offset[k + 1] - c->offset[k]);
    const int quantized = f->quantized && f->q.scale && f->q.offset;
    g->ngroups = quantized ? f->q.ngroups : row_tables ? c->ctx.ngroups : 1;
    if (row_tables) {
        g->rows = c->ctx.rows, g->cols = c->ctx.cols, g->group_len = c->ctx.group_len;
        g->aligned = (g->lanes == 32 || g->lanes == 64) && g->chunk % 32 == 0 && g->cols % 32 == 0 && g->group_len % 32 == 0;
    } else if (g->split) {
        /* One row: no groups, and every round of 32 lies in it when the
         * chunks and the count are whole rounds. */
        g->rows = 1, g->cols = g->group_len = g->n ? g->n : 1;
        g->aligned = (g->lanes == 32 || g->lanes == 64) && g->chunk % 32 == 0 && g->n % 32 == 0;
    } else {
        g->cols = f->q.cols ? f->q.cols : 1, g->rows = g->n / g->cols;
        g->group_len = f->q.group_len && g->ngroups > 1 ? f->q.group_len : g->cols;
        g->tile = f->gemv_tile;
        g->aligned = !g->tile && (g->lanes == 32 || g->lanes == 64) && g->chunk % 32 == 0 && g->cols % 32 == 0 && g->group_len % 32 == 0;
        if (g->cols >= (1ull << 31) || g->rows >= (1ull << 31) || g->ngroups >= (1ull << 32))
            return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': the GPU decoder takes up to 2^31 rows and columns", f->name);
    }
    h->one = 1.0f, h->zero = 0.0f;
    h->scale = quantized ? f->q.scale : &h->one;
    h->offset_g = quantized ? f->q.offset : &h->zero;
    if (row_tables) {
        /* The group walk reads a scale and offset a row; joins ignore them. */
        h->no_scales = (float *)calloc((size_t)g->ngroups, sizeof(float));
        if (!h->no_scales) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        h->scale = h->offset_g = h->no_scales;
    }
    h->group_table = context ? c->ctx.group_table : NULL;
    if (context && c->ctx.col_shift) {
        /* One part: the groups' bins, the column shifts, the bins' tables. */
        const size_t ng = (size_t)c->ctx.ngroups, nc = (size_t)c->ctx.cols;
        if (!(h->maps = (uint8_t *)malloc(ng + nc + c->ctx.nbins))) {
            frame_host_free(h);
            return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        }
        memcpy(h->maps, c->ctx.group_table, ng);
        memcpy(h->maps + ng, c->ctx.col_shift, nc);
        memcpy(h->maps + ng + nc, c->ctx.bin_table, c->ctx.nbins);
        h->group_table = h->maps;
        g->nbins = c->ctx.nbins;
        g->aligned = 0; /* the general kernel tracks each lane's column */
    }
    h->offset = c->offset;
    h->payload = c->payload, h->payload_len = c->payload_len;
    const unsigned nrest = g->split ? split_rest_count(f) : 0;
    int joined = 0;
    uint64_t rests = 0;
    for (unsigned k = 0; k < nrest; k++) {
        joined |= f->rest_coding[k] != WQC_ENC_RAW;
        h->rest_at[k] = c->payload_len + rests;
        rests += split_rest_bytes(f, k);
    }
    if (g->e8m3) {
        /* The exceptions, read where they lie (always raw), packed for the patch kernel. */
        wqc_e8m3_exceptions x;
        wqc_status st = wqc_e8m3_exceptions_decode(split_rest_stored(f, 2), (size_t)f->rest_len[2], f->nelem, &x, err);
        if (st != WQC_OK) {
            frame_host_free(h);
            return wqc_fail_context(err, st, "tensor '%s'", f->name);
        }
        h->exceptions = (uint64_t *)malloc(x.count ? x.count * sizeof *h->exceptions : 1);
        for (size_t k = 0; h->exceptions && k < x.count; k++) h->exceptions[k] = x.index[k] << 16 | x.bits[k];
        g->nexceptions = x.count;
        wqc_e8m3_exceptions_free(&x);
        if (!h->exceptions) {
            frame_host_free(h);
            return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        }
    }
    if (nrest && !joined) h->payload = f->payload, h->payload_len = f->payload_len; /* the rests follow, raw */
    if (joined) {
        split_rest r;
        wqc_status st = split_rest_open(f, &r, err);
        h->payload_len = c->payload_len + rests;
        if (st == WQC_OK && !(h->joined = (uint8_t *)malloc((size_t)h->payload_len)))
            st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        if (st == WQC_OK) {
            memcpy(h->joined, c->payload, (size_t)c->payload_len);
            for (unsigned k = 0; k < nrest; k++) memcpy(h->joined + h->rest_at[k], r.stream[k], (size_t)split_rest_bytes(f, k));
        }
        split_rest_close(&r);
        if (st != WQC_OK) {
            frame_host_free(h);
            return st;
        }
        h->payload = h->joined;
    }
    wqc_rans_dtable d;
    wqc_status st = context ? wqc_rans_dtable_init_context(&d, &c->ctx, err) : wqc_rans_dtable_init(&d, &c->table, err);
    if (st != WQC_OK) {
        frame_host_free(h);
        return st;
    }
    g->ntables = context ? c->ctx.ntables : 1;
    g->alphabet = d.alphabet;
    const size_t slots = (size_t)g->ntables << d.precision;
    if (!(h->table = (uint2 *)malloc(slots * sizeof *h->table))) {
        wqc_rans_dtable_free(&d);
        frame_host_free(h);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    /* The dtable's entry is freq | (slot - cum) << 16; the GPU's keeps freq
     * whole and the symbol beside the bias, for one 8-byte load. */
    for (size_t s = 0; s < slots; s++)
        h->table[s] = make_uint2(d.entry[s] & 0xffffu, d.entry[s] >> 16 | (uint32_t)d.symbol[s] << 16);
    wqc_rans_dtable_free(&d);
    return WQC_OK;
}

wqc_rans_form frame_own_form(const wqc_cuda_frame *g)
{
    return g->split == 1 ? WQC_FORM_SYMBOLS : g->dtype == WQC_DTYPE_F32 ? WQC_FORM_F32
           : g->dtype == WQC_DTYPE_F16 ? WQC_FORM_F16 : WQC_FORM_BF16;
}

void frame_host_free(frame_host *h)
{
    free(h->joined), free(h->table), free(h->exceptions), free(h->no_scales), free(h->maps);
    h->joined = NULL, h->table = NULL, h->exceptions = NULL, h->no_scales = NULL, h->maps = NULL;
}

void frame_host_sizes(const frame_host *h, uint64_t size[PARTS])
{
    const wqc_cuda_frame *g = &h->g;
    size[PART_PAYLOAD] = h->payload_len + PAYLOAD_PAD;
    size[PART_OFFSET] = (g->nchunks + 1) * sizeof(uint64_t);
    size[PART_TABLE] = ((uint64_t)g->ntables << g->precision) * sizeof(uint2);
    size[PART_SCALE] = size[PART_OFFSET_G] = g->ngroups * sizeof(float);
    size[PART_GROUP_TABLE] = h->group_table ? g->ngroups + (g->nbins ? g->cols + g->nbins : 0) : 0;
    size[PART_EXCEPTIONS] = g->nexceptions * sizeof(uint64_t);
    size[PART_STATUS] = (g->nchunks + 1) * sizeof(int);
}

void frame_host_place(frame_host *h, uint8_t *const base[PARTS])
{
    wqc_cuda_frame *g = &h->g;
    g->payload = base[PART_PAYLOAD];
    g->offset = (uint64_t *)base[PART_OFFSET];
    g->table = (uint2 *)base[PART_TABLE];
    g->scale = (float *)base[PART_SCALE], g->offset_g = (float *)base[PART_OFFSET_G];
    g->group_table = h->group_table ? base[PART_GROUP_TABLE] : NULL;
    g->col_shift = g->nbins ? (const int8_t *)g->group_table + g->ngroups : NULL;
    g->bin_table = g->nbins ? g->group_table + g->ngroups + g->cols : NULL;
    g->exceptions = g->nexceptions ? (uint64_t *)base[PART_EXCEPTIONS] : NULL;
    g->status = (int *)base[PART_STATUS];
    /* The kernels read rest streams 0 and 1 of split-e8m3 (it has no exceptions here). */
    const unsigned nrest = !g->split ? 0 : g->e8m3 ? 2 : wqc_split_rest_count(g->dtype);
    for (unsigned k = 0; k < 3; k++) g->rest[k] = k < nrest ? g->payload + h->rest_at[k] : NULL;
}

const void *frame_host_part(const frame_host *h, int k)
{
    switch (k) {
    case PART_PAYLOAD: return h->payload;
    case PART_OFFSET: return h->offset;
    case PART_TABLE: return h->table;
    case PART_SCALE: return h->scale;
    case PART_OFFSET_G: return h->offset_g;
    case PART_GROUP_TABLE: return h->group_table;
    case PART_EXCEPTIONS: return h->exceptions;
    default: return NULL;
    }
}

extern "C" wqc_status wqc_cuda_frame_upload(const wqc_frame *f, wqc_cuda_frame **out, wqc_error *err)
{
    *out = NULL;
    frame_host h;
    wqc_status st = frame_host_make(f, &h, err);
    if (st != WQC_OK) return st;
    wqc_cuda_frame *g = (wqc_cuda_frame *)malloc(sizeof *g);
    if (!g) {
        frame_host_free(&h);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    uint64_t size[PARTS];
    uint8_t *base[PARTS] = {0};
    frame_host_sizes(&h, size);
    cudaError_t e = cudaSuccess;
    int k = 0;
    for (; e == cudaSuccess && k < PARTS; k++) {
        if (!size[k]) continue;
        e = cudaMalloc((void **)&base[k], (size_t)size[k]);
        const void *host = frame_host_part(&h, k);
        const size_t len = k == PART_PAYLOAD ? (size_t)h.payload_len : (size_t)size[k];
        if (e == cudaSuccess && host && len) e = cudaMemcpy(base[k], host, len, cudaMemcpyHostToDevice);
        if (e == cudaSuccess && k == PART_PAYLOAD) e = cudaMemset(base[k] + len, 0, PAYLOAD_PAD);
        if (k != PART_STATUS) h.g.bytes += len;
    }
    frame_host_place(&h, base);
    *g = h.g;
    frame_host_free(&h);
    if (e != cudaSuccess) {
        wqc_cuda_frame_free(g);
        return wqc_fail(err, WQC_ERR_IO, "CUDA: upload of the %s: %s", part_name[k - 1], cudaGetErrorString(e));
    }
    *out = g;
    return WQC_OK;
}

extern "C" void wqc_cuda_frame_free(wqc_cuda_frame *g)
{
    if (!g) return;
    cudaFree(g->payload), cudaFree(g->offset), cudaFree(g->table), cudaFree(g->group_table), cudaFree(g->exceptions);
    cudaFree(g->scale), cudaFree(g->offset_g), cudaFree(g->status), cudaFree(g->x_scratch);
    free(g);
}

extern "C" uint64_t wqc_cuda_frame_bytes(const wqc_cuda_frame *g) { return g->bytes; }

extern "C" int wqc_cuda_frame_aligned(const wqc_cuda_frame *g) { return g->aligned; }

extern "C" void wqc_cuda_frame_shape(const wqc_cuda_frame *g, uint64_t *rows, uint64_t *cols)
{
    *rows = g->rows, *cols = g->cols;
}

wqc_status frame_status_check(const wqc_cuda_frame *g, const int *status, wqc_error *err)
{
    static const char *const why[] = {"", "a lane starts in an invalid state", "the stream ends early",
                                      "bytes are left after the last symbol", "a lane does not end in the initial state"};
    for (uint64_t c = 0; c < g->nchunks; c++)
        if (status[c])
            return wqc_fail(err, WQC_ERR_FORMAT, "rANS chunk %llu: %s", (unsigned long long)c,
                            why[status[c] >= 1 && status[c] <= 4 ? status[c] : 0]);
    return WQC_OK;
}

extern "C" wqc_status wqc_cuda_frame_check(const wqc_cuda_frame *g, wqc_error *err)
{
    if (g->nchunks == 0) return WQC_OK;
    int *status = (int *)malloc((size_t)g->nchunks * sizeof(int));
    if (!status) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    cudaError_t e = cudaMemcpy(status, g->status, (size_t)g->nchunks * sizeof(int), cudaMemcpyDeviceToHost);
    wqc_status st = e == cudaSuccess ? frame_status_check(g, status, err) : wqc_cuda_error(err, e, "status");
    free(status);
    return st;
}
