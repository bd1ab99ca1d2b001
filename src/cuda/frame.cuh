// A frame in GPU memory, shared by the decoder and the product kernels
// (src/cuda/); not part of the public API (wqc/cuda.h).
#ifndef WQC_CUDA_FRAME_CUH
#define WQC_CUDA_FRAME_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "frame.h"

#define STATE_LOW (1u << 16)

/* Warps per block: the block shares one copy of the decoding table in
 * shared memory, loaded once for all its chunks. */
#define WARPS 16

/* Shared memory a block may take for the table and its warps' streams;
 * past it, both are read from global memory. */
#define SHARED_MAX (160 * 1024)

enum { E_OK = 0, E_STATE = 1, E_SHORT = 2, E_LEFT = 3, E_FINAL = 4 };

/* A warp's shared-memory stream slot, 16-byte aligned: the chunk's bytes and
 * room for the word-wise copy (up to 3 bytes past the end) and the clamped
 * reads of a damaged stream. */
static inline uint32_t stream_stride(const wqc_cuda_frame *g) { return (g->max_chunk_bytes + 4 + 15) / 16 * 16; }

/* Packed decoding entries (4 bytes instead of 8: half the shared-memory
 * wavefronts of a round's random lookups) hold freq - 1, the symbol and
 * slot - cum in 12, 8 and 12 bits: precisions up to 12. */
static inline bool packs_table(const wqc_cuda_frame *g) { return g->precision <= 12; }

/* Bytes of a block's tables in shared memory, packed (T32) or not. */
__host__ __device__ inline size_t table_shared_bytes(const wqc_cuda_frame *g, bool t32)
{
    return ((size_t)(t32 ? 4 : 8) * g->ntables << g->precision);
}

static inline size_t block_shared_bytes(const wqc_cuda_frame *g, bool t32 = false)
{
    return table_shared_bytes(g, t32) + (size_t)WARPS * stream_stride(g);
}

/* Lets kernel take up to SHARED_MAX bytes of dynamic shared memory. The
 * limit is the function's, shared by every host thread: always the same
 * value, never a launch's own size, or a thread setting a smaller one
 * between another's setting and launch fails that launch ("too many
 * resources requested", as the loader's threads did). */
template <typename... P>
static cudaError_t allow_shared(void (*kernel)(P...))
{
    return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SHARED_MAX);
}

/* Launches kernel on a persistent grid of blocks of 32 x WARPS threads: as
 * many as stay resident at once (at most `blocks`), each taking chunks in
 * turn and loading its tables once; `shared` bytes of dynamic shared memory. */
template <typename... P, typename... A>
static cudaError_t launch_persistent(void (*kernel)(P...), size_t shared, uint64_t blocks, cudaStream_t stream, A... args)
{
    int per_sm = 0, device = 0, sms = 0;
    cudaError_t e = shared ? allow_shared(kernel) : cudaSuccess;
    if (e == cudaSuccess) e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, 32 * WARPS, shared);
    if (e == cudaSuccess) e = cudaGetDevice(&device);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (e != cudaSuccess) return e;
    const uint64_t resident = (uint64_t)(per_sm > 0 ? per_sm : 1) * (uint64_t)(sms > 0 ? sms : 1);
    kernel<<<(unsigned)(blocks < resident ? blocks : resident), 32 * WARPS, shared, stream>>>(args...);
    return cudaGetLastError();
}

/* The products take vectors 8, 4, 2 or 1 at a time (a kernel each): how
 * many of `left` the next launch takes. */
static inline uint32_t batch_step(uint32_t left) { return left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1; }

/* Where table t starts (t < ntables). */
__device__ inline uint32_t table_offset(const wqc_cuda_frame &g, uint64_t grp)
{
    return g.ntables > 1 ? (uint32_t)g.group_table[grp] << g.precision : 0;
}

/* Where the table of the element in column col of group grp starts, in a
 * frame with column shifts: its group's bin moved by the column's shift. */
__device__ inline uint32_t shifted_table_offset(const wqc_cuda_frame &g, uint64_t grp, uint32_t col)
{
    const int b = min(max((int)g.group_table[grp] + (int)g.col_shift[col], 0), (int)g.nbins - 1);
    return (uint32_t)g.bin_table[b] << g.precision;
}

/* Loads the decoding tables into shared memory (all threads of the block)
 * and returns where they are; T32: packed, freq - 1 | symbol << 12 |
 * (slot - cum) << 20 (packs_table). */
template <bool T32 = false>
__device__ inline const uint2 *shared_table(const wqc_cuda_frame &g, uint2 *smem)
{
    const uint32_t slots = g.ntables << g.precision;
    for (uint32_t i = threadIdx.x; i < slots; i += blockDim.x) {
        const uint2 e = g.table[i];
        if (T32) ((uint32_t *)smem)[i] = (e.x - 1) | (e.y >> 16) << 12 | (e.y & 0xffffu) << 20;
        else smem[i] = e;
    }
    __syncthreads();
    return smem;
}

/* Copies a chunk's stream of len bytes at in (any alignment) into dst
 * (16-byte aligned) with the warp, four bytes a lane: two aligned words
 * funnel-shifted into one (the payload is padded for the second). */
__device__ inline void copy_stream(uint8_t *dst, const uint8_t *in, uint32_t len, uint32_t l)
{
    const uint32_t shift = 8u * (uint32_t)((uintptr_t)in & 3);
    const uint32_t *src = (const uint32_t *)((uintptr_t)in & ~(uintptr_t)3);
    uint32_t *out = (uint32_t *)dst;
    /* Unrolled, so that several loads are in flight before the first store. */
#pragma unroll 4
    for (uint32_t i = l; 4 * i < len; i += 32) out[i] = __funnelshift_r(__ldg(&src[i]), __ldg(&src[i + 1]), shift);
    __syncwarp();
}

__device__ inline uint32_t read_state(const uint8_t *in, uint32_t l)
{
    return in[4 * l] | in[4 * l + 1] << 8 | in[4 * l + 2] << 16 | (uint32_t)in[4 * l + 3] << 24;
}

#endif
