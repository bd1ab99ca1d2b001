// rANS chunks decoded on the GPU: one warp a chunk, one thread a lane
// (wqc/cuda.h). The stream layout and the arithmetic are the scalar
// decoder's (src/rans/rans_decode.c), so the outputs match it bit for bit.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/cuda.h"
#include "wqc/dtype.h"

#define STATE_LOW (1u << 16)

struct wqc_cuda_frame {
    uint64_t n, nchunks, cols, group_len, ngroups;
    uint32_t lanes, chunk, precision;
    uint32_t max_chunk_bytes;   // the longest chunk's stream
    uint8_t *payload;       // device
    uint64_t *offset;       // device, nchunks + 1
    uint32_t *entry;        // device, 2^P: freq | (slot - cum) << 16
    uint8_t *symbol;        // device, 2^P
    float *scale, *offset_g; // device, ngroups
    int *status;            // device, per chunk: 0 ok, else an error code
    uint64_t bytes;
};

enum { E_OK = 0, E_STATE = 1, E_SHORT = 2, E_LEFT = 3, E_FINAL = 4 };

/* Warps per block: the block shares one copy of the decoding table in
 * shared memory, loaded once for all its chunks. */
#define WARPS 16

/* Shared memory of a block: the table (entry[2^P], symbol[2^P]), then, per
 * warp, its chunk's stream (`stride` bytes each), so that the word reads of
 * the renormalisation, on the decoder's critical path, hit shared memory. */
template <int FORM, bool SHARED>
__global__ void __launch_bounds__(32 * WARPS, 4) decode_chunks(const wqc_cuda_frame g, void *out, uint32_t stride)
{
    extern __shared__ uint32_t table[];
    const uint32_t *entry = g.entry;
    const uint8_t *symbol = g.symbol;
    const uint32_t slots = 1u << g.precision;
    if (SHARED) {
        for (uint32_t i = threadIdx.x; i < slots; i += blockDim.x) table[i] = g.entry[i];
        uint8_t *sym = (uint8_t *)(table + slots);
        for (uint32_t i = threadIdx.x; i < slots; i += blockDim.x) sym[i] = g.symbol[i];
        __syncthreads();
        entry = table;
        symbol = sym;
    }
    const uint64_t c = (uint64_t)blockIdx.x * WARPS + threadIdx.x / 32;
    const uint32_t l = threadIdx.x % 32;
    if (c >= g.nchunks) return;
    const uint64_t len = g.offset[c + 1] - g.offset[c];
    const uint8_t *in = g.payload + g.offset[c];
    if (SHARED) {
        uint8_t *mine = (uint8_t *)(table + slots) + slots + (size_t)(threadIdx.x / 32) * stride;
        for (uint64_t i = l; i < len; i += 32) mine[i] = in[i];
        __syncwarp();
        in = mine;
    }
    const uint64_t first = c * g.chunk, n = g.n - first < g.chunk ? g.n - first : g.chunk;
    const uint32_t lanes = g.lanes, mask = (1u << g.precision) - 1, precision = g.precision;
    const bool lane = l < lanes;
    uint32_t x = 0;
    int bad = len < 4ull * lanes;
    if (!bad && lane) x = in[4 * l] | in[4 * l + 1] << 8 | in[4 * l + 2] << 16 | (uint32_t)in[4 * l + 3] << 24;
    if (__any_sync(0xffffffffu, lane && x < STATE_LOW)) bad = E_STATE;
    if (bad) {
        if (l == 0) g.status[c] = bad;
        return;
    }
    /* The row and column of this lane's element, advanced by `lanes` a round
     * (no division per element). */
    /* 32-bit: the upload refuses larger matrices. */
    uint32_t row = 0, col = 0;
    const uint32_t cols = (uint32_t)g.cols, group_len = (uint32_t)g.group_len;
    if (FORM != WQC_FORM_SYMBOLS) {
        uint64_t pos = first + l;
        row = (uint32_t)(pos / g.cols), col = (uint32_t)(pos - (uint64_t)row * g.cols);
    }
    const uint32_t per_row = (cols + group_len - 1) / group_len;
    /* The chunk's part of the output. */
    uint8_t *const out8 = (uint8_t *)out + first;
    uint16_t *const out16 = (uint16_t *)out + first;
    float *const out32 = (float *)out + first;
    uint32_t held = ~0u;
    float scale = 0.0f, offset = 0.0f;
    const bool by_row = g.group_len == g.cols;
    uint32_t w = 4u * lanes;
    const uint32_t below = (1u << l) - 1, len32 = (uint32_t)len;
    const uint32_t n32 = (uint32_t)n; /* a chunk holds at most 2^30 symbols */
    for (uint32_t i = 0; i < n32; i += lanes) {
        const uint32_t k = i + l;
        const bool active = lane && k < n32;
        bool need = false;
        if (active) {
            uint32_t slot = x & mask, e = entry[slot];
            x = (e & 0xffff) * (x >> precision) + (e >> 16);
            uint32_t s = symbol[slot];
            if (FORM == WQC_FORM_SYMBOLS) {
                out8[k] = (uint8_t)s;
            } else {
                /* Per-row scales change every cols / lanes rounds: kept in registers. */
                uint32_t grp = g.ngroups == 1 ? 0 : by_row ? row : row * per_row + col / group_len;
                if (grp != held) held = grp, scale = __ldg(&g.scale[grp]), offset = __ldg(&g.offset_g[grp]);
                float v = __fadd_rn(offset, __fmul_rn(scale, (float)s));
                /* Dequantized values are finite (the reader refuses other
                 * scales), where the hardware's round-to-nearest-even
                 * conversions are the CPU's bit for bit. */
                if (FORM == WQC_FORM_F32) out32[k] = v;
                else if (FORM == WQC_FORM_F16) out16[k] = __half_as_ushort(__float2half_rn(v));
                else out16[k] = __bfloat16_as_ushort(__float2bfloat16_rn(v));
            }
            need = x < STATE_LOW;
        }
        if (FORM != WQC_FORM_SYMBOLS) {
            col += lanes;
            while (col >= cols) col -= cols, row++;
        }
        const uint32_t needs = __ballot_sync(0xffffffffu, need);
        if (need) {
            uint32_t at = w + 2u * __popc(needs & below);
            /* Past the end: the stream is short; read nothing, report at the end. */
            if (at + 2 <= len32) x = (x << 16) | in[at] | (uint32_t)in[at + 1] << 8;
            else bad = E_SHORT;
        }
        w += 2u * __popc(needs);
    }
    if (__any_sync(0xffffffffu, bad)) bad = E_SHORT;
    else if (w != len32) bad = E_LEFT;
    else if (lane && x != STATE_LOW) bad = E_FINAL;
    bad = __reduce_max_sync(0xffffffffu, (unsigned)bad);
    if (l == 0) g.status[c] = bad;
}

template <int FORM>
static cudaError_t launch(const wqc_cuda_frame *g, void *out)
{
    dim3 grid((unsigned)((g->nchunks + WARPS - 1) / WARPS)), block(32 * WARPS);
    uint32_t stride = (g->max_chunk_bytes + 15) / 16 * 16;
    size_t shared = ((size_t)5 << g->precision) + (size_t)WARPS * stride;
    /* Up to 160 KiB a block (the table and the streams); longer chunks
     * decode from global memory. */
    if (shared <= 160 * 1024) {
        cudaError_t e = cudaFuncSetAttribute(decode_chunks<FORM, true>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shared);
        if (e != cudaSuccess) return e;
        decode_chunks<FORM, true><<<grid, block, shared>>>(*g, out, stride);
    } else {
        decode_chunks<FORM, false><<<grid, block>>>(*g, out, 0);
    }
    return cudaGetLastError();
}

static wqc_status cuda_fail(wqc_error *err, cudaError_t e, const char *what)
{
    return wqc_fail(err, WQC_ERR_IO, "CUDA: %s: %s", what, cudaGetErrorString(e));
}

template <typename T>
static cudaError_t upload(T **dev, const void *host, size_t bytes, uint64_t *total)
{
    cudaError_t e = cudaMalloc((void **)dev, bytes ? bytes : 1);
    if (e == cudaSuccess && bytes) e = cudaMemcpy(*dev, host, bytes, cudaMemcpyHostToDevice);
    *total += bytes;
    return e;
}

extern "C" wqc_status wqc_cuda_frame_upload(const wqc_frame *f, wqc_cuda_frame **out, wqc_error *err)
{
    *out = NULL;
    const wqc_rans_coded *c = &f->coded;
    if ((f->encoding != WQC_ENC_RANS && f->encoding != WQC_ENC_SPLIT) || f->gemv_tile || f->model.ntables > 1 ||
        c->ctx.ntables > 1 || c->lanes > 32)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED,
                        "tensor '%s': the GPU decoder takes row-layout order-0 rANS with at most 32 lanes", f->name);
    wqc_rans_dtable d;
    wqc_status st = wqc_rans_dtable_init(&d, &c->table, err);
    if (st != WQC_OK) return st;
    wqc_cuda_frame *g = (wqc_cuda_frame *)calloc(1, sizeof *g);
    if (!g) {
        wqc_rans_dtable_free(&d);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    g->n = c->n, g->nchunks = c->nchunks, g->lanes = c->lanes, g->chunk = c->chunk, g->precision = c->table.precision;
    for (uint64_t k = 0; k < c->nchunks; k++)
        if (c->offset[k + 1] - c->offset[k] > g->max_chunk_bytes) g->max_chunk_bytes = (uint32_t)(c->offset[k + 1] - c->offset[k]);
    g->cols = f->q.cols ? f->q.cols : 1, g->group_len = f->q.group_len ? f->q.group_len : g->cols;
    g->ngroups = f->q.ngroups ? f->q.ngroups : 1;
    if (g->cols >= (1ull << 31) || g->n / g->cols >= (1ull << 31) || g->ngroups >= (1ull << 32)) {
        free(g);
        wqc_rans_dtable_free(&d);
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': the GPU decoder takes up to 2^31 rows and columns", f->name);
    }
    size_t slots = (size_t)1 << g->precision;
    float one = 1.0f, zero = 0.0f;
    int quantized = f->quantized && f->q.scale && f->q.offset;
    cudaError_t e = upload(&g->payload, c->payload, (size_t)c->payload_len, &g->bytes);
    if (e == cudaSuccess) e = upload(&g->offset, c->offset, (size_t)(c->nchunks + 1) * sizeof(uint64_t), &g->bytes);
    if (e == cudaSuccess) e = upload(&g->entry, d.entry, slots * sizeof(uint32_t), &g->bytes);
    if (e == cudaSuccess) e = upload(&g->symbol, d.symbol, slots, &g->bytes);
    if (e == cudaSuccess) e = upload(&g->scale, quantized ? f->q.scale : &one, (quantized ? g->ngroups : 1) * sizeof(float), &g->bytes);
    if (e == cudaSuccess) e = upload(&g->offset_g, quantized ? f->q.offset : &zero, (quantized ? g->ngroups : 1) * sizeof(float), &g->bytes);
    if (e == cudaSuccess) e = cudaMalloc((void **)&g->status, (size_t)(g->nchunks + 1) * sizeof(int));
    if (!quantized) g->ngroups = 1;
    wqc_rans_dtable_free(&d);
    if (e != cudaSuccess) {
        wqc_cuda_frame_free(g);
        return cuda_fail(err, e, "upload");
    }
    *out = g;
    return WQC_OK;
}

extern "C" void wqc_cuda_frame_free(wqc_cuda_frame *g)
{
    if (!g) return;
    cudaFree(g->payload), cudaFree(g->offset), cudaFree(g->entry), cudaFree(g->symbol);
    cudaFree(g->scale), cudaFree(g->offset_g), cudaFree(g->status);
    free(g);
}

extern "C" uint64_t wqc_cuda_frame_bytes(const wqc_cuda_frame *g) { return g->bytes; }

extern "C" wqc_status wqc_cuda_decode(const wqc_cuda_frame *g, wqc_rans_form form, void *dev_out, wqc_error *err)
{
    if (g->nchunks == 0) return WQC_OK;
    cudaError_t e;
    switch (form) {
    case WQC_FORM_SYMBOLS: e = launch<WQC_FORM_SYMBOLS>(g, dev_out); break;
    case WQC_FORM_F32: e = launch<WQC_FORM_F32>(g, dev_out); break;
    case WQC_FORM_F16: e = launch<WQC_FORM_F16>(g, dev_out); break;
    case WQC_FORM_BF16: e = launch<WQC_FORM_BF16>(g, dev_out); break;
    default: return wqc_fail(err, WQC_ERR_UNSUPPORTED, "the GPU decoder writes symbols, F32, F16 or BF16");
    }
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e != cudaSuccess) return cuda_fail(err, e, "decode");
    int *status = (int *)malloc((size_t)g->nchunks * sizeof(int));
    if (!status) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    e = cudaMemcpy(status, g->status, (size_t)g->nchunks * sizeof(int), cudaMemcpyDeviceToHost);
    wqc_status st = e == cudaSuccess ? WQC_OK : cuda_fail(err, e, "status");
    static const char *const why[] = {"", "a lane starts in an invalid state", "the stream ends early",
                                      "bytes are left after the last symbol", "a lane does not end in the initial state"};
    for (uint64_t c = 0; st == WQC_OK && c < g->nchunks; c++)
        if (status[c]) st = wqc_fail(err, WQC_ERR_FORMAT, "rANS chunk %llu: %s", (unsigned long long)c, why[status[c] >= 1 && status[c] <= 4 ? status[c] : 0]);
    free(status);
    return st;
}
