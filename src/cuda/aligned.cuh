// The decoding loop of an aligned frame (wqc_cuda_frame_aligned): 32 or 64
// lanes, and chunks, rows and parameter groups made of whole multiples of 32
// symbols, so that every round of 32 lies in one group. A chunk is walked segment by
// segment (the longest run of rounds in one group and one row), and a sink
// takes each round's symbols: the decoder writes them or their values, the
// product multiplies them into its sums. No per-round bounds or group logic.
#ifndef WQC_CUDA_ALIGNED_CUH
#define WQC_CUDA_ALIGNED_CUH

#include "frame.cuh"

#define FULL_MASK 0xffffffffu

/* The parameter group and row of a chunk's current segment, its scale,
 * offset and (context frames) table. Frames with one group are walked row
 * by row too (group_len = cols), for the product. */
struct GroupWalk {
    uint64_t row, grp;
    uint32_t col, in_group, cols, group_len, table;
    bool one;
    float scale, offset;

    __device__ void start(const wqc_cuda_frame &g, uint64_t first)
    {
        cols = (uint32_t)g.cols, group_len = (uint32_t)g.group_len, one = g.ngroups == 1;
        row = first / cols, col = (uint32_t)(first - row * cols);
        in_group = col % group_len;
        grp = one ? 0 : row * ((cols + group_len - 1) / group_len) + col / group_len;
        if (one) scale = __ldg(&g.scale[0]), offset = __ldg(&g.offset_g[0]);
    }
    /* Symbols in the segment that starts here, of `left` in the chunk. */
    __device__ uint32_t segment(const wqc_cuda_frame &g, uint32_t left)
    {
        if (!one) scale = __ldg(&g.scale[grp]), offset = __ldg(&g.offset_g[grp]);
        table = table_offset(g, grp);
        return min(min(group_len - in_group, cols - col), left);
    }
    /* Moves past a segment of len symbols; true where it ended a row. */
    __device__ bool advance(uint32_t len)
    {
        col += len, in_group = 0, grp += !one;
        if (col < cols) return false;
        col = 0, row++;
        return true;
    }
};

/* Loads from a shared-memory address (__cvta_generic_to_shared): the
 * round's lookups then cost no addition of a base. */
__device__ __forceinline__ uint32_t shared_u32(uint32_t at)
{
    uint32_t v;
    asm volatile("ld.shared.u32 %0, [%1];" : "=r"(v) : "r"(at));
    return v;
}
__device__ __forceinline__ uint32_t shared_u16(uint32_t at)
{
    uint16_t v;
    asm volatile("ld.shared.u16 %0, [%1];" : "=h"(v) : "r"(at));
    return v;
}

/* One round of 32 symbols on state x (aligned frames), symbols i..i+31 of
 * the chunk (i the same in every lane): the lane's symbol to the sink,
 * then the lanes below 2^16 take the next words in lane order. Every
 * lane reads a word (inside the slot: clamped to cap) and the ones that need
 * it keep it, so that the round has no branch. STREAM_SHARED: w and cap
 * are shared-memory addresses, else offsets into in. T32: the packed
 * table at shared address tab_at. A sink whose LOW5 is set uses only the
 * symbol's low 5 bits (a shuffle's lane): it is given without a mask. */
template <bool STREAM_SHARED, bool T32, class Sink>
__device__ __forceinline__ void aligned_round(uint32_t &x, const uint2 *tab, uint32_t tab_at, uint32_t mask,
                                              uint32_t precision, uint32_t below, const uint8_t *in, uint32_t cap,
                                              uint32_t &w, int i, Sink &sink)
{
    if (T32) {
        /* Packed (shared_table<true>): freq - 1 | symbol << 12 | (slot - cum) << 20. */
        const uint32_t e = shared_u32(tab_at + ((x & mask) << 2)), q = x >> precision;
        x = (e & 0xfffu) * q + q + (e >> 20);
        sink.put(i, Sink::LOW5 ? e >> 12 : (e >> 12) & 0xffu);
    } else {
        const uint2 e = tab[x & mask];
        x = e.x * (x >> precision) + (e.y & 0xffffu);
        sink.put(i, e.y >> 16);
    }
    const bool need = x < STATE_LOW;
    const uint32_t needs = __ballot_sync(FULL_MASK, need);
    /* Clamped: a damaged stream reads inside its slot, and the count past
     * the end reports it after the chunk. */
    const uint32_t at = min(w + 2u * __popc(needs & below), cap);
    const uint32_t word = STREAM_SHARED ? shared_u16(at) : in[at] | (uint32_t)in[at + 1] << 8;
    /* x << 16 | word where needed, else x: a byte permute whose selector
     * uses the word in every lane (so that the read stays unconditional). */
    x = __byte_perm(x, word, need ? 0x1054u : 0x3210u);
    w += 2u * __popc(needs);
}

/* Decodes chunk c of an aligned frame into sink. `in` is the chunk's stream,
 * in shared memory (STREAM_SHARED: 16-byte aligned, `cap` + 2 bytes
 * readable) or global memory (cap = len - 2). TWO: 64 lanes, else 32.
 * Returns the chunk's status. */
template <bool STREAM_SHARED, bool TWO, class Sink, bool T32 = false>
__device__ inline int decode_aligned(const wqc_cuda_frame &g, const uint2 *table, uint64_t c, const uint8_t *in,
                                     uint32_t len, uint32_t cap, Sink &sink)
{
    const uint32_t l = threadIdx.x % 32;
    /* 64 lanes: the thread holds lanes l and 32 + l, and a round runs as two
     * halves of 32 symbols, on x and then y: the halves' renormalisations
     * read the stream in lane order, as one round's do. */
    const uint32_t lanes = TWO ? 64 : 32;
    if (len < 4u * lanes) return E_STATE;
    uint32_t x = read_state(in, l), y = TWO ? read_state(in, 32 + l) : STATE_LOW;
    if (__any_sync(FULL_MASK, x < STATE_LOW || y < STATE_LOW)) return E_STATE;
    const uint64_t first = c * g.chunk;
    const uint32_t n = (uint32_t)min(g.n - first, (uint64_t)g.chunk);
    const uint32_t precision = g.precision, mask = (1u << precision) - 1, below = (1u << l) - 1;
    /* A shared stream is read by address: w and cap become addresses. */
    const uint32_t base = STREAM_SHARED ? (uint32_t)__cvta_generic_to_shared(in) : 0;
    uint32_t w = base + 4u * lanes;
    cap += base;
    sink.start(g, first);
    for (uint32_t done = 0; done < n;) {
        const uint32_t seg = sink.segment(g, n - done);
        const uint2 *tab = T32 ? NULL : table + sink.walk.table;
        const uint32_t tab_at = T32 ? (uint32_t)__cvta_generic_to_shared(table) + 4u * sink.walk.table : 0;
        /* Signed: the unrolled rounds' stores then take constant offsets. */
        int i = (int)done;
        uint32_t r = 0;
        if (TWO) {
            /* Pairs of halves; an odd one left leaves y first for the next segment. */
#pragma unroll 2
            for (; r + 2 <= seg / 32; r += 2, i += 64) {
                aligned_round<STREAM_SHARED, T32>(x, tab, tab_at, mask, precision, below, in, cap, w, i, sink);
                aligned_round<STREAM_SHARED, T32>(y, tab, tab_at, mask, precision, below, in, cap, w, i + 32, sink);
            }
            if (r < seg / 32) {
                aligned_round<STREAM_SHARED, T32>(x, tab, tab_at, mask, precision, below, in, cap, w, i, sink);
                const uint32_t t = x;
                x = y, y = t;
            }
        } else {
#pragma unroll 4
            for (; r < seg / 32; r++, i += 32) aligned_round<STREAM_SHARED, T32>(x, tab, tab_at, mask, precision, below, in, cap, w, i, sink);
        }
        done += seg;
        sink.end_segment(seg);
    }
    sink.finish();
    w -= base;
    if (w > len) return E_SHORT;
    if (w != len) return E_LEFT;
    return __any_sync(FULL_MASK, x != STATE_LOW || y != STATE_LOW) ? E_FINAL : E_OK;
}

/* Runs decode_aligned over the chunks of a persistent grid's warps, each
 * chunk's stream copied into the warp's slot of shared memory when it fits
 * (SHARED), and records every chunk's status. A warp's first chunk is its
 * index; with `tickets` (zeroed before the launch) it then takes the next
 * chunk not taken, so that the multiprocessors that run ahead take more
 * (a chunk is 1/1.7 of a warp's work on a 4096 x 14336 matrix: handed out
 * in turn, a fifth of the multiprocessors' cycles went idle at the end),
 * else every grid-th. TWO: 64 lanes; T32 (SHARED only): the tables packed
 * in shared memory (packs_table). */
template <bool SHARED, bool TWO, bool T32 = false, class Sink>
__device__ inline void aligned_chunks(const wqc_cuda_frame &g, Sink &sink, uint32_t stride, unsigned *tickets = NULL)
{
    extern __shared__ uint2 smem[];
    const uint2 *table = SHARED ? shared_table<T32>(g, smem) : g.table;
    const uint32_t l = threadIdx.x % 32, warp = threadIdx.x / 32;
    uint8_t *slot = (uint8_t *)smem + table_shared_bytes(&g, T32) + (size_t)warp * stride;
    const uint64_t warps = (uint64_t)gridDim.x * WARPS;
    for (uint64_t c = (uint64_t)blockIdx.x * WARPS + warp; c < g.nchunks;) {
        const uint32_t len = (uint32_t)(g.offset[c + 1] - g.offset[c]);
        const uint8_t *in = g.payload + g.offset[c];
        int status;
        if (SHARED) {
            __syncwarp();
            copy_stream(slot, in, len, l);
            status = decode_aligned<true, TWO, Sink, T32>(g, table, c, slot, len, stride - 2, sink);
        } else {
            status = decode_aligned<false, TWO, Sink>(g, table, c, in, len, len - 2, sink);
        }
        if (l == 0) g.status[c] = status;
        if (tickets) {
            unsigned t = 0;
            if (l == 0) t = atomicAdd(tickets, 1u);
            c = warps + __shfl_sync(FULL_MASK, t, 0);
        } else {
            c += warps;
        }
    }
}

#endif
