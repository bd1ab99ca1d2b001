// rANS chunks decoded on the GPU: one warp a chunk, one thread a lane
// (wqc/cuda.h). The stream layout and the arithmetic are the scalar
// decoder's (src/rans/rans_decode.c), so the outputs match it bit for bit.
// Aligned frames take the segment loop of aligned.cuh; others the general
// kernel below, which tracks lanes, rows and groups every round.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "aligned.cuh"
#include "wqc/dtype.h"

/* Split (lossless) frames: each symbol byte joined with its rest bytes into
 * the tensor's own 16- or 32-bit value (docs/FORMAT.md, "split"); BF16's
 * split-e8m3 from its symbol plus 8 base (`add`), nibble and sign bit. */
enum { FORM_JOIN16 = 16, FORM_JOIN32 = 32, FORM_JOIN_E8M3 = 17 };

/* Element k of the output from its symbol s. Dequantized values are finite
 * (the reader refuses other scales), where the hardware's
 * round-to-nearest-even conversions are the CPU's bit for bit; multiply and
 * add are rounded separately, as on the CPU (no FMA). */
template <int FORM>
__device__ inline void store_value(void *out, uint64_t k, uint32_t s, float scale, float offset, const uint8_t *const *rest,
                                   uint32_t add)
{
    if (FORM == WQC_FORM_SYMBOLS) {
        ((uint8_t *)out)[k] = (uint8_t)s;
        return;
    }
    if (FORM == FORM_JOIN16) {
        const uint32_t r = __ldg(&rest[0][k]);
        ((uint16_t *)out)[k] = (uint16_t)((r & 0x80) << 8 | s << 7 | (r & 0x7f));
        return;
    }
    if (FORM == FORM_JOIN_E8M3) {
        const uint32_t nib = __ldg(&rest[0][k >> 1]) >> ((k & 1) << 2) & 15, sign = __ldg(&rest[1][k >> 3]) >> (k & 7) & 1;
        ((uint16_t *)out)[k] = (uint16_t)(sign << 15 | (s + add) << 4 | nib);
        return;
    }
    if (FORM == FORM_JOIN32) {
        const uint32_t r = __ldg(&rest[0][k]);
        ((uint32_t *)out)[k] = (r & 0x80) << 24 | s << 23 | (r & 0x7f) << 16 | (uint32_t)__ldg(&rest[1][k]) << 8 | __ldg(&rest[2][k]);
        return;
    }
    const float v = __fadd_rn(offset, __fmul_rn(scale, (float)s));
    if (FORM == WQC_FORM_F32) ((float *)out)[k] = v;
    else if (FORM == WQC_FORM_F16) ((uint16_t *)out)[k] = __half_as_ushort(__float2half_rn(v));
    else ((uint16_t *)out)[k] = __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

/* Blocks per SM each form's decoder is compiled for: registers are 64 K /
 * (32 x WARPS x this) a thread. Measured on an H200 (4096 x 14336, chunks
 * of 4096): with 4 (32 registers) the joins spill and lossless BF16 wrote
 * 585 GB/s, with 3 713 and with 2 (no spills, 48 registers) 759; decode to
 * F16 is fastest with 4 (1095 GB/s against 1080 and 987), symbols with 3.
 * -DDECODE_MIN_BLOCKS=N sets one count for all, -DDECODE_DEQUANT_BLOCKS=N
 * the dequantizing forms' (benchmarks). */
#ifndef DECODE_DEQUANT_BLOCKS
#define DECODE_DEQUANT_BLOCKS 4
#endif
template <int FORM>
__host__ __device__ constexpr int decode_min_blocks()
{
#ifdef DECODE_MIN_BLOCKS
    return DECODE_MIN_BLOCKS;
#else
    return FORM == FORM_JOIN16 || FORM == FORM_JOIN32 || FORM == FORM_JOIN_E8M3 ? 2
           : FORM == WQC_FORM_SYMBOLS                                         ? 3
                                                                              : DECODE_DEQUANT_BLOCKS;
#endif
}

/* Whether a form's values need their parameter group (the dequantizing ones). */
template <int FORM>
__host__ __device__ constexpr bool dequantizes()
{
    return FORM == WQC_FORM_F32 || FORM == WQC_FORM_F16 || FORM == WQC_FORM_BF16;
}

/* The bits of symbol s's value in a group (dequantizing forms): what
 * store_value writes. */
template <int FORM>
__device__ inline uint32_t value_bits(uint32_t s, float scale, float offset)
{
    const float v = __fadd_rn(offset, __fmul_rn(scale, (float)s));
    if (FORM == WQC_FORM_F32) return __float_as_uint(v);
    if (FORM == WQC_FORM_F16) return __half_as_ushort(__float2half_rn(v));
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

/* The aligned loop's sink for the decoder: each symbol, or its value, to
 * its place in the output. Symbols of an order-0 frame need no groups: the
 * chunk is one segment. SMALL (dequantizing forms, alphabets of at most 32
 * symbols): lane s holds the value of symbol s in the segment's group, and
 * a symbol's value is a shuffle from its lane instead of a conversion, a
 * product, a sum and a rounding. */
template <int FORM, bool SMALL>
struct StoreSink {
    static constexpr bool LOW5 = SMALL && dequantizes<FORM>();
    void *out;
    /* The lane's first output and rest bytes in the chunk (split-e8m3: the
     * bytes of its nibble and sign, which it finds at shifts nib_shift and
     * sign_shift: rounds start on whole bytes of both). */
    uint8_t *lane_out;
    const uint8_t *rest[3];
    uint32_t add, lane_value, nib_shift, sign_shift;
    GroupWalk walk;
    bool groups;

    __device__ void start(const wqc_cuda_frame &g, uint64_t first)
    {
        const uint32_t size = FORM == WQC_FORM_SYMBOLS ? 1 : FORM == WQC_FORM_F32 || FORM == FORM_JOIN32 ? 4 : 2;
        const uint32_t l = threadIdx.x % 32;
        lane_out = (uint8_t *)out + (first + l) * size;
        /* split-e8m3 chunks start on a whole byte of signs (frame_host_make). */
        for (int k = 0; k < 3; k++)
            rest[k] = !g.rest[k] ? NULL : FORM != FORM_JOIN_E8M3 ? g.rest[k] + first + l
                                    : k == 0 ? g.rest[0] + first / 2 + l / 2 : g.rest[1] + first / 8 + l / 8;
        nib_shift = 4 * (l & 1), sign_shift = l & 7;
        add = 8u * g.split_base;
        groups = dequantizes<FORM>() || g.ntables > 1;
        walk.table = 0;
        if (groups) walk.start(g, first);
    }
    __device__ uint32_t segment(const wqc_cuda_frame &g, uint32_t left)
    {
        if (!groups) return left;
        const uint32_t len = walk.segment(g, left);
        if (SMALL) lane_value = value_bits<FORM>(threadIdx.x % 32, walk.scale, walk.offset);
        return len;
    }
    /* The lane's symbol s of the round at chunk index i. */
    __device__ void put(int i, uint32_t s)
    {
        if (FORM == WQC_FORM_SYMBOLS) {
            lane_out[i] = (uint8_t)s;
        } else if (FORM == FORM_JOIN16) {
            const uint32_t r = __ldg(&rest[0][i]);
            ((uint16_t *)lane_out)[i] = (uint16_t)((r & 0x80) << 8 | s << 7 | (r & 0x7f));
        } else if (FORM == FORM_JOIN_E8M3) {
            const uint32_t nib = __ldg(&rest[0][i >> 1]) >> nib_shift & 15, sign = __ldg(&rest[1][i >> 3]) >> sign_shift & 1;
            ((uint16_t *)lane_out)[i] = (uint16_t)(sign << 15 | (s + add) << 4 | nib);
        } else if (FORM == FORM_JOIN32) {
            const uint32_t r = __ldg(&rest[0][i]);
            ((uint32_t *)lane_out)[i] =
                (r & 0x80) << 24 | s << 23 | (r & 0x7f) << 16 | (uint32_t)__ldg(&rest[1][i]) << 8 | __ldg(&rest[2][i]);
        } else {
            const uint32_t v = SMALL ? __shfl_sync(FULL_MASK, lane_value, s) : value_bits<FORM>(s, walk.scale, walk.offset);
            if (FORM == WQC_FORM_F32) ((uint32_t *)lane_out)[i] = v;
            else ((uint16_t *)lane_out)[i] = (uint16_t)v;
        }
    }
    __device__ void end_segment(uint32_t len)
    {
        if (groups) walk.advance(len);
    }
    __device__ void finish() {}
};

template <int FORM, bool SHARED, bool TWO, bool SMALL, bool T32 = false>
__global__ void __launch_bounds__(32 * WARPS, decode_min_blocks<FORM>()) decode_aligned_kernel(const wqc_cuda_frame g, void *out, uint32_t stride)
{
    StoreSink<FORM, SMALL> sink;
    sink.out = out;
    /* The status block's last int: the chunks handed out after the first round. */
    aligned_chunks<SHARED, TWO, T32>(g, sink, stride, (unsigned *)&g.status[g.nchunks]);
}

/* Where symbol k of a gemv-layout tensor goes (docs/FORMAT.md, "Symbol
 * order"): tiles of `tile` rows, the last one `rows mod tile` high, each
 * ordered column by column. Its row in *row. */
__device__ inline uint64_t tiled_index(const wqc_cuda_frame &g, uint64_t k, uint64_t *row)
{
    const uint64_t per_tile = (uint64_t)g.tile * g.cols, t = k / per_tile, m = k - t * per_tile;
    const uint64_t height = min((uint64_t)g.tile, g.rows - t * g.tile);
    *row = t * g.tile + m % height;
    return *row * g.cols + m / height;
}

/* The general kernel: up to 32 lanes, or 64 (two halves a round, as in
 * decode_aligned), any chunk length, group layout and symbol order. One
 * warp a chunk; lanes past `lanes`, and past the chunk's end in its last
 * round, sit out. */
template <int FORM, bool SHARED>
__global__ void __launch_bounds__(32 * WARPS, decode_min_blocks<FORM>()) decode_general_kernel(const wqc_cuda_frame g, void *out, uint32_t stride)
{
    extern __shared__ uint2 smem[];
    const uint2 *table = SHARED ? shared_table(g, smem) : g.table;
    const uint64_t c = (uint64_t)blockIdx.x * WARPS + threadIdx.x / 32;
    const uint32_t l = threadIdx.x % 32;
    if (c >= g.nchunks) return;
    const uint32_t len = (uint32_t)(g.offset[c + 1] - g.offset[c]);
    const uint8_t *in = g.payload + g.offset[c];
    if (SHARED) {
        uint8_t *mine = (uint8_t *)(smem + ((size_t)g.ntables << g.precision)) + (size_t)(threadIdx.x / 32) * stride;
        copy_stream(mine, in, len, l);
        in = mine;
    }
    const uint64_t first = c * g.chunk, n = g.n - first < g.chunk ? g.n - first : g.chunk;
    const uint32_t mask = (1u << g.precision) - 1, precision = g.precision;
    const bool two = g.lanes == 64;
    const uint32_t lanes = two ? 32 : g.lanes; /* symbols a step takes */
    const bool lane = l < lanes;
    uint32_t x = 0, y = STATE_LOW;
    int bad = len < 4u * g.lanes;
    if (!bad && lane) x = read_state(in, l);
    if (!bad && two) y = read_state(in, 32 + l);
    if (__any_sync(FULL_MASK, lane && (x < STATE_LOW || y < STATE_LOW))) bad = E_STATE;
    if (bad) {
        if (l == 0) g.status[c] = bad;
        return;
    }
    /* The row and column of this lane's element, advanced by `lanes` a round
     * (no division per element), where its group matters: for the scales or
     * a context's tables. 32-bit, as the upload refuses larger matrices. */
    const bool track = (dequantizes<FORM>() || g.ntables > 1) && !g.tile;
    uint32_t row = 0, col = 0;
    const uint32_t cols = (uint32_t)g.cols, group_len = (uint32_t)g.group_len;
    if (track) {
        uint64_t pos = first + l;
        row = (uint32_t)(pos / g.cols), col = (uint32_t)(pos - (uint64_t)row * g.cols);
    }
    const uint32_t per_row = (cols + group_len - 1) / group_len;
    uint64_t held = ~0ull;
    float scale = 0.0f, offset = 0.0f;
    uint32_t w = 4u * g.lanes;
    const uint32_t below = (1u << l) - 1;
    const uint32_t n32 = (uint32_t)n; /* a chunk holds at most 2^30 symbols */
    for (uint32_t i = 0; i < n32; i += lanes) {
        const uint32_t k = i + l;
        const bool active = lane && k < n32;
        bool need = false;
        if (active) {
            /* The gemv layout has per-tensor or per-row groups. */
            uint64_t at = first + k, grp = 0, r;
            if (g.tile) at = tiled_index(g, at, &r), grp = g.ngroups == 1 ? 0 : r;
            else if (g.ngroups > 1) grp = (uint64_t)row * per_row + col / group_len;
            /* Per-row scales change every cols / lanes rounds: kept in registers. */
            if (dequantizes<FORM>() && grp != held) held = grp, scale = __ldg(&g.scale[grp]), offset = __ldg(&g.offset_g[grp]);
            const uint2 e = table[(g.col_shift ? shifted_table_offset(g, grp, col) : table_offset(g, grp)) + (x & mask)];
            x = e.x * (x >> precision) + (e.y & 0xffffu);
            store_value<FORM>(out, at, e.y >> 16, scale, offset, g.rest, 8u * g.split_base);
            need = x < STATE_LOW;
        }
        if (track) {
            col += lanes;
            while (col >= cols) col -= cols, row++;
        }
        const uint32_t needs = __ballot_sync(FULL_MASK, need);
        if (need) {
            uint32_t at = w + 2u * __popc(needs & below);
            /* Past the end: the stream is short; read nothing, report at the end. */
            if (at + 2 <= len) x = (x << 16) | in[at] | (uint32_t)in[at + 1] << 8;
            else bad = E_SHORT;
        }
        w += 2u * __popc(needs);
        if (two) {
            const uint32_t t = x;
            x = y, y = t;
        }
    }
    if (__any_sync(FULL_MASK, bad)) bad = E_SHORT;
    else if (w != len) bad = E_LEFT;
    else if (lane && (x != STATE_LOW || y != STATE_LOW)) bad = E_FINAL;
    bad = __reduce_max_sync(FULL_MASK, (unsigned)bad);
    if (l == 0) g.status[c] = bad;
}

/* Aligned frames: 32 or 64 lanes; every form but symbols takes packed
 * tables where they fit (measured on an H100, 4096 x 14336 4-bit: decode to
 * F16 1109-1144 GB/s against 1038-1055 unpacked; symbols were faster
 * unpacked, 630-635 G/s against 603-616). */
template <int FORM, bool SMALL>
static cudaError_t launch_aligned(const wqc_cuda_frame *g, void *out, cudaStream_t stream, uint64_t blocks, uint32_t stride)
{
    const bool two = g->lanes == 64;
    cudaError_t e = cudaMemsetAsync(g->status + g->nchunks, 0, sizeof(int), stream);
    if (e != cudaSuccess) return e;
    if constexpr (FORM != WQC_FORM_SYMBOLS) {
        const size_t packed = block_shared_bytes(g, true);
        if (packs_table(g) && packed <= SHARED_MAX)
            return two ? launch_persistent(decode_aligned_kernel<FORM, true, true, SMALL, true>, packed, blocks, stream, *g, out, stride)
                       : launch_persistent(decode_aligned_kernel<FORM, true, false, SMALL, true>, packed, blocks, stream, *g, out, stride);
    }
    const size_t shared = block_shared_bytes(g);
    const bool fits = shared <= SHARED_MAX;
    if (two)
        return fits ? launch_persistent(decode_aligned_kernel<FORM, true, true, SMALL>, shared, blocks, stream, *g, out, stride)
                    : launch_persistent(decode_aligned_kernel<FORM, false, true, SMALL>, 0, blocks, stream, *g, out, 0u);
    return fits ? launch_persistent(decode_aligned_kernel<FORM, true, false, SMALL>, shared, blocks, stream, *g, out, stride)
                : launch_persistent(decode_aligned_kernel<FORM, false, false, SMALL>, 0, blocks, stream, *g, out, 0u);
}

template <int FORM>
static cudaError_t launch(const wqc_cuda_frame *g, void *out, cudaStream_t stream)
{
    const uint64_t blocks = (g->nchunks + WARPS - 1) / WARPS;
    const uint32_t stride = stream_stride(g);
    const size_t shared = block_shared_bytes(g);
    const bool fits = shared <= SHARED_MAX;
    cudaError_t e = cudaSuccess;
    if (g->aligned) {
        if constexpr (dequantizes<FORM>())
            if (g->alphabet <= 32) return launch_aligned<FORM, true>(g, out, stream, blocks, stride);
        return launch_aligned<FORM, false>(g, out, stream, blocks, stride);
    }
    if (fits) {
        e = allow_shared(decode_general_kernel<FORM, true>);
        if (e == cudaSuccess) decode_general_kernel<FORM, true><<<(unsigned)blocks, 32 * WARPS, shared, stream>>>(*g, out, stride);
    } else {
        decode_general_kernel<FORM, false><<<(unsigned)blocks, 32 * WARPS, 0, stream>>>(*g, out, 0);
    }
    return e == cudaSuccess ? cudaGetLastError() : e;
}

/* split-e8m3's exceptions put back after the join: bits 4..14 of each. */
__global__ void patch_exceptions_kernel(const uint64_t *x, uint64_t n, uint16_t *out)
{
    const uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const uint64_t e = x[i];
    uint16_t *v = out + (e >> 16);
    *v = (uint16_t)((*v & 0x800fu) | (uint32_t)(e & 0x7ffu) << 4);
}

extern "C" wqc_status wqc_cuda_decode_async(const wqc_cuda_frame *g, wqc_rans_form form, void *dev_out, void *stream,
                                            wqc_error *err)
{
    cudaStream_t s = (cudaStream_t)stream;
    cudaError_t e;
    if (g->split) {
        /* A lossless tensor decodes to its own values only. */
        if (form != frame_own_form(g))
            return wqc_fail(err, WQC_ERR_UNSUPPORTED, "a lossless tensor decodes on the GPU to its own dtype only");
        if (g->nchunks == 0) return WQC_OK;
        e = g->split == 1 ? launch<WQC_FORM_SYMBOLS>(g, dev_out, s)
            : g->e8m3 ? launch<FORM_JOIN_E8M3>(g, dev_out, s)
            : g->split == 2 ? launch<FORM_JOIN16>(g, dev_out, s) : launch<FORM_JOIN32>(g, dev_out, s);
        if (e == cudaSuccess && g->nexceptions) {
            patch_exceptions_kernel<<<(unsigned)((g->nexceptions + 255) / 256), 256, 0, s>>>(g->exceptions, g->nexceptions,
                                                                                      (uint16_t *)dev_out);
            e = cudaGetLastError();
        }
        return e == cudaSuccess ? WQC_OK : wqc_cuda_error(err, e, "decode");
    }
    if (g->nchunks == 0) return WQC_OK;
    switch (form) {
    case WQC_FORM_SYMBOLS: e = launch<WQC_FORM_SYMBOLS>(g, dev_out, s); break;
    case WQC_FORM_F32: e = launch<WQC_FORM_F32>(g, dev_out, s); break;
    case WQC_FORM_F16: e = launch<WQC_FORM_F16>(g, dev_out, s); break;
    case WQC_FORM_BF16: e = launch<WQC_FORM_BF16>(g, dev_out, s); break;
    default: return wqc_fail(err, WQC_ERR_UNSUPPORTED, "the GPU decoder writes symbols, F32, F16 or BF16");
    }
    return e == cudaSuccess ? WQC_OK : wqc_cuda_error(err, e, "decode");
}

extern "C" wqc_status wqc_cuda_decode(const wqc_cuda_frame *g, wqc_rans_form form, void *dev_out, wqc_error *err)
{
    wqc_status st = wqc_cuda_decode_async(g, form, dev_out, NULL, err);
    if (st != WQC_OK) return st;
    cudaError_t e = cudaDeviceSynchronize();
    if (e != cudaSuccess) return wqc_cuda_error(err, e, "decode");
    return wqc_cuda_frame_check(g, err);
}
