// Frames uploaded to GPU memory, and the chunk statuses read back (wqc/cuda.h).
#include <stdlib.h>
#include <string.h>

#include "frame.cuh"

extern "C" wqc_status wqc_cuda_error(wqc_error *err, int cuda_error, const char *what)
{
    return wqc_fail(err, WQC_ERR_IO, "CUDA: %s: %s", what, cudaGetErrorString((cudaError_t)cuda_error));
}

/* cudaMalloc of bytes + pad, then the host bytes copied in. */
template <typename T>
static cudaError_t upload(T **dev, const void *host, size_t bytes, size_t pad, uint64_t *total)
{
    cudaError_t e = cudaMalloc((void **)dev, bytes + pad ? bytes + pad : 1);
    if (e == cudaSuccess && pad) e = cudaMemset((uint8_t *)*dev + bytes, 0, pad);
    if (e == cudaSuccess && bytes) e = cudaMemcpy(*dev, host, bytes, cudaMemcpyHostToDevice);
    *total += bytes;
    return e;
}

extern "C" wqc_status wqc_cuda_frame_upload(const wqc_frame *f, wqc_cuda_frame **out, wqc_error *err)
{
    *out = NULL;
    const wqc_rans_coded *c = &f->coded;
    const int context = c->ctx.ntables > 1;
    if ((f->encoding != WQC_ENC_RANS && f->encoding != WQC_ENC_SPLIT) || c->lanes > 32 ||
        (context && (!f->quantized || c->ctx.ngroups != f->q.ngroups)))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': the GPU decoder takes rANS with at most 32 lanes", f->name);
    wqc_rans_dtable d;
    wqc_status st = context ? wqc_rans_dtable_init_context(&d, &c->ctx, err) : wqc_rans_dtable_init(&d, &c->table, err);
    if (st != WQC_OK) return st;
    wqc_cuda_frame *g = (wqc_cuda_frame *)calloc(1, sizeof *g);
    g->ntables = context ? c->ctx.ntables : 1;
    size_t slots = (size_t)g->ntables << d.precision;
    uint2 *table = (uint2 *)malloc(slots * sizeof *table);
    if (!g || !table) {
        free(g), free(table);
        wqc_rans_dtable_free(&d);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    /* The dtable's entry is freq | (slot - cum) << 16; the GPU's keeps freq
     * whole and the symbol beside the bias, for one 8-byte load. */
    for (size_t s = 0; s < slots; s++)
        table[s] = make_uint2(d.entry[s] & 0xffffu, d.entry[s] >> 16 | (uint32_t)d.symbol[s] << 16);
    g->n = c->n, g->nchunks = c->nchunks, g->lanes = c->lanes, g->chunk = c->chunk, g->precision = c->table.precision;
    for (uint64_t k = 0; k < c->nchunks; k++)
        if (c->offset[k + 1] - c->offset[k] > g->max_chunk_bytes) g->max_chunk_bytes = (uint32_t)(c->offset[k + 1] - c->offset[k]);
    g->cols = f->q.cols ? f->q.cols : 1, g->rows = g->n / g->cols;
    g->group_len = f->q.group_len ? f->q.group_len : g->cols;
    int quantized = f->quantized && f->q.scale && f->q.offset;
    g->ngroups = quantized ? f->q.ngroups : 1;
    if (g->ngroups == 1) g->group_len = g->cols;
    g->tile = f->gemv_tile;
    g->aligned = !g->tile && g->lanes == 32 && g->chunk % 32 == 0 && g->cols % 32 == 0 && g->group_len % 32 == 0;
    if (g->cols >= (1ull << 31) || g->rows >= (1ull << 31) || g->ngroups >= (1ull << 32)) {
        free(g), free(table);
        wqc_rans_dtable_free(&d);
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': the GPU decoder takes up to 2^31 rows and columns", f->name);
    }
    float one = 1.0f, zero = 0.0f;
    cudaError_t e = upload(&g->payload, c->payload, (size_t)c->payload_len, PAYLOAD_PAD, &g->bytes);
    if (e == cudaSuccess) e = upload(&g->offset, c->offset, (size_t)(c->nchunks + 1) * sizeof(uint64_t), 0, &g->bytes);
    if (e == cudaSuccess) e = upload(&g->table, table, slots * sizeof *table, 0, &g->bytes);
    if (e == cudaSuccess) e = upload(&g->scale, quantized ? f->q.scale : &one, (size_t)g->ngroups * sizeof(float), 0, &g->bytes);
    if (e == cudaSuccess) e = upload(&g->offset_g, quantized ? f->q.offset : &zero, (size_t)g->ngroups * sizeof(float), 0, &g->bytes);
    if (e == cudaSuccess && context) e = upload(&g->group_table, c->ctx.group_table, (size_t)g->ngroups, 0, &g->bytes);
    if (e == cudaSuccess) e = cudaMalloc((void **)&g->status, (size_t)(g->nchunks + 1) * sizeof(int));
    free(table);
    wqc_rans_dtable_free(&d);
    if (e != cudaSuccess) {
        wqc_cuda_frame_free(g);
        return wqc_cuda_error(err, e, "upload");
    }
    *out = g;
    return WQC_OK;
}

extern "C" void wqc_cuda_frame_free(wqc_cuda_frame *g)
{
    if (!g) return;
    cudaFree(g->payload), cudaFree(g->offset), cudaFree(g->table), cudaFree(g->group_table);
    cudaFree(g->scale), cudaFree(g->offset_g), cudaFree(g->status), cudaFree(g->x_scratch);
    free(g);
}

extern "C" uint64_t wqc_cuda_frame_bytes(const wqc_cuda_frame *g) { return g->bytes; }

extern "C" int wqc_cuda_frame_aligned(const wqc_cuda_frame *g) { return g->aligned; }

extern "C" void wqc_cuda_frame_shape(const wqc_cuda_frame *g, uint64_t *rows, uint64_t *cols)
{
    *rows = g->rows, *cols = g->cols;
}

extern "C" wqc_status wqc_cuda_frame_check(const wqc_cuda_frame *g, wqc_error *err)
{
    if (g->nchunks == 0) return WQC_OK;
    int *status = (int *)malloc((size_t)g->nchunks * sizeof(int));
    if (!status) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    cudaError_t e = cudaMemcpy(status, g->status, (size_t)g->nchunks * sizeof(int), cudaMemcpyDeviceToHost);
    wqc_status st = e == cudaSuccess ? WQC_OK : wqc_cuda_error(err, e, "status");
    static const char *const why[] = {"", "a lane starts in an invalid state", "the stream ends early",
                                      "bytes are left after the last symbol", "a lane does not end in the initial state"};
    for (uint64_t c = 0; st == WQC_OK && c < g->nchunks; c++)
        if (status[c])
            st = wqc_fail(err, WQC_ERR_FORMAT, "rANS chunk %llu: %s", (unsigned long long)c,
                          why[status[c] >= 1 && status[c] <= 4 ? status[c] : 0]);
    free(status);
    return st;
}
