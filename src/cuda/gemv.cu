// y = W x straight from an aligned frame (wqc/cuda.h): the aligned decoding
// loop with a sink that multiplies each symbol into per-lane sums instead of
// storing it. A segment lies in one parameter group, so, as on the CPU
// (wqc/gemv.h), a lane sums q * x and x over it and applies the group's
// scale and offset once: scale * sum(q x) + offset * sum(x). At a row's end
// the warp adds its lanes and one atomic add per vector puts the row's part
// into y (a row may span chunks). Several vectors are read interleaved
// (x[col][B], transposed first), so that a lane loads a column's B values
// with one or two vector loads.
#include "aligned.cuh"

template <int B>
struct ProductSink {
    static constexpr bool LOW5 = false;
    const float *x;     // B vectors interleaved: x[col * B + b]
    float *y;           // B vectors of rows
    uint64_t rows;
    GroupWalk walk;
    uint32_t done;      // chunk symbols before the segment
    uint32_t col_base;  // chunk index i is column col_base + i (mod 2^32) in the segment
    bool pending;       // row sums not yet added to y
    float sum_qx[B], sum_x[B], row_sum[B];

    __device__ void start(const wqc_cuda_frame &g, uint64_t first)
    {
        walk.start(g, first);
        done = 0;
        pending = false;
        for (int b = 0; b < B; b++) row_sum[b] = 0.0f;
    }
    __device__ uint32_t segment(const wqc_cuda_frame &g, uint32_t left)
    {
        for (int b = 0; b < B; b++) sum_qx[b] = sum_x[b] = 0.0f;
        col_base = walk.col - done;
        return walk.segment(g, left);
    }
    /* The lane's symbol s of the round at chunk index i. */
    __device__ void put(int i, uint32_t s)
    {
        const float q = (float)s;
        const float *xs = x + (size_t)(col_base + (uint32_t)i + threadIdx.x % 32) * B;
        float v[B];
        if constexpr (B == 1) {
            v[0] = __ldg(xs);
        } else if constexpr (B == 2) {
            const float2 a = __ldg((const float2 *)xs);
            v[0] = a.x, v[1] = a.y;
        } else {
#pragma unroll
            for (int b = 0; b < B; b += 4) {
                const float4 a = __ldg((const float4 *)xs + b / 4);
                v[b] = a.x, v[b + 1] = a.y, v[b + 2] = a.z, v[b + 3] = a.w;
            }
        }
#pragma unroll
        for (int b = 0; b < B; b++) {
            sum_qx[b] = __fmaf_rn(q, v[b], sum_qx[b]);
            sum_x[b] = __fadd_rn(sum_x[b], v[b]);
        }
    }
    __device__ void end_segment(uint32_t len)
    {
#pragma unroll
        for (int b = 0; b < B; b++)
            row_sum[b] = __fmaf_rn(walk.scale, sum_qx[b], __fmaf_rn(walk.offset, sum_x[b], row_sum[b]));
        pending = true;
        done += len;
        const uint64_t row = walk.row;
        if (walk.advance(len)) flush(row);
    }
    __device__ void flush(uint64_t row)
    {
#pragma unroll
        for (int b = 0; b < B; b++) {
            float v = row_sum[b];
            for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(FULL_MASK, v, o);
            if (threadIdx.x % 32 == 0) atomicAdd(&y[(size_t)b * rows + row], v);
            row_sum[b] = 0.0f;
        }
        pending = false;
    }
    __device__ void finish()
    {
        if (pending) flush(walk.row);
    }
};

/* One vector's sums fit 40 registers (three blocks a multiprocessor), more need 64. */
template <int B, bool SHARED, bool TWO>
__global__ void __launch_bounds__(32 * WARPS, B == 1 ? 3 : 2) product_kernel(const wqc_cuda_frame g, const float *x, float *y, uint32_t stride)
{
    ProductSink<B> sink;
    sink.x = x, sink.y = y, sink.rows = g.rows;
    aligned_chunks<SHARED, TWO>(g, sink, stride);
}

__global__ void interleave(const float *x, uint32_t batch, uint32_t cols, float *out)
{
    for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < batch * cols; i += gridDim.x * blockDim.x)
        out[(i % cols) * batch + i / cols] = x[i];
}

template <int B>
static cudaError_t launch_product(const wqc_cuda_frame *g, const float *x, float *y, float *scratch)
{
    if (B > 1) {
        interleave<<<256, 256>>>(x, B, (uint32_t)g->cols, scratch);
        x = scratch;
    }
    const uint64_t blocks = (g->nchunks + WARPS - 1) / WARPS;
    const size_t shared = block_shared_bytes(g);
    const bool fits = shared <= SHARED_MAX;
    if (g->lanes == 64)
        return fits ? launch_persistent(product_kernel<B, true, true>, shared, blocks, 0, *g, x, y, stream_stride(g))
                    : launch_persistent(product_kernel<B, false, true>, 0, blocks, 0, *g, x, y, 0u);
    return fits ? launch_persistent(product_kernel<B, true, false>, shared, blocks, 0, *g, x, y, stream_stride(g))
                : launch_persistent(product_kernel<B, false, false>, 0, blocks, 0, *g, x, y, 0u);
}

extern "C" wqc_status wqc_cuda_gemv(const wqc_cuda_frame *g, const float *dev_x, uint32_t batch, float *dev_y, wqc_error *err)
{
    if (g->split) return wqc_fail(err, WQC_ERR_UNSUPPORTED, "the GPU product takes quantized matrices, not lossless tensors");
    if (!g->aligned)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED,
                        "the GPU product takes 32 or 64 lanes and chunks, rows and groups of whole multiples of 32 weights");
    cudaError_t e = cudaMemset(dev_y, 0, (size_t)batch * g->rows * sizeof(float));
    /* Kept with the frame: an allocation per product would cost more than the product. */
    wqc_cuda_frame *mut = (wqc_cuda_frame *)g;
    if (e == cudaSuccess && batch > 1 && !g->x_scratch) e = cudaMalloc((void **)&mut->x_scratch, (size_t)8 * g->cols * sizeof(float));
    float *scratch = g->x_scratch;
    /* Batches of 8, 4, 2 and 1 vectors: one decode each. */
    for (uint32_t b = 0; e == cudaSuccess && b < batch;) {
        const uint32_t take = batch_step(batch - b);
        const float *x = dev_x + (size_t)b * g->cols;
        float *y = dev_y + (size_t)b * g->rows;
        e = take == 8 ? launch_product<8>(g, x, y, scratch) : take == 4 ? launch_product<4>(g, x, y, scratch)
            : take == 2 ? launch_product<2>(g, x, y, scratch) : launch_product<1>(g, x, y, scratch);
        b += take;
    }
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e != cudaSuccess) return wqc_cuda_error(err, e, "product");
    return g->nchunks ? wqc_cuda_frame_check(g, err) : WQC_OK;
}
