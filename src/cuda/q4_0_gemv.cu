// The packed 4-bit peer of the GPU product (wqc/cuda.h): y = W x from Q4_0
// blocks (wqc/q4_0.h) as they lie in a GGUF file or the CPU's baseline, 18
// bytes per 32 weights. One warp a row; four threads a block, each taking
// four bytes (eight weights: q[4k..4k+3] in the low nibbles, q[16+4k..] in
// the high), so that a warp reads eight consecutive blocks (144 bytes) a
// step. x is F32 (read through the L1 cache, as the fused product does).
#include <cuda_fp16.h>

#include "frame.cuh"

template <int B>
__global__ void __launch_bounds__(256) q4_0_kernel(const uint8_t *w, uint64_t rows, uint32_t cols, const float *x, float *y)
{
    const uint32_t l = threadIdx.x % 32, k = l % 4, nblk = cols / 32;
    const uint64_t warps = (uint64_t)gridDim.x * (blockDim.x / 32);
    for (uint64_t row = ((uint64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; row < rows; row += warps) {
        const uint8_t *r = w + row * nblk * sizeof(wqc_q4_0_block);
        float acc[B];
#pragma unroll
        for (int b = 0; b < B; b++) acc[b] = 0.0f;
#pragma unroll 4
        for (uint32_t blk = l / 4; blk < nblk; blk += 8) {
            const uint8_t *bp = r + (size_t)blk * sizeof(wqc_q4_0_block);
            const float d = __half2float(__ushort_as_half(__ldg((const unsigned short *)bp)));
            const uint32_t q = __ldg((const unsigned short *)(bp + 2 + 4 * k)) |
                               (uint32_t)__ldg((const unsigned short *)(bp + 4 + 4 * k)) << 16;
            float lo[4], hi[4];
#pragma unroll
            for (int j = 0; j < 4; j++) lo[j] = (float)((int)(q >> 8 * j & 15) - 8), hi[j] = (float)((int)(q >> (8 * j + 4) & 15) - 8);
            const float *xp = x + (size_t)blk * 32 + 4 * k;
#pragma unroll
            for (int b = 0; b < B; b++) {
                const float4 a = __ldg((const float4 *)(xp + (size_t)b * cols));
                const float4 c = __ldg((const float4 *)(xp + (size_t)b * cols + 16));
                float s = lo[0] * a.x + lo[1] * a.y + lo[2] * a.z + lo[3] * a.w;
                s += hi[0] * c.x + hi[1] * c.y + hi[2] * c.z + hi[3] * c.w;
                acc[b] += d * s;
            }
        }
#pragma unroll
        for (int b = 0; b < B; b++) {
            float v = acc[b];
            for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
            if (l == 0) y[(size_t)b * rows + row] = v;
        }
    }
}

template <int B>
static cudaError_t launch_q4_0(const uint8_t *w, uint64_t rows, uint32_t cols, const float *x, float *y)
{
    int device = 0, sms = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (e != cudaSuccess) return e;
    const uint64_t blocks = (rows + 7) / 8, most = (uint64_t)sms * 8;
    q4_0_kernel<B><<<(unsigned)(blocks < most ? blocks : most), 256>>>(w, rows, cols, x, y);
    return cudaGetLastError();
}

extern "C" wqc_status wqc_cuda_q4_0_gemv(const wqc_q4_0_block *dev_w, uint64_t rows, uint64_t cols, const float *dev_x,
                                         uint32_t batch, float *dev_y, wqc_error *err)
{
    if (cols % WQC_Q4_0_BLOCK || cols >= (1ull << 31))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "Q4_0 product: %llu columns (a multiple of 32 below 2^31)", (unsigned long long)cols);
    const uint8_t *w = (const uint8_t *)dev_w;
    cudaError_t e = cudaSuccess;
    for (uint32_t b = 0; e == cudaSuccess && b < batch;) {
        const uint32_t take = batch_step(batch - b);
        const float *x = dev_x + (size_t)b * cols;
        float *y = dev_y + (size_t)b * rows;
        const uint32_t c = (uint32_t)cols;
        e = take == 8 ? launch_q4_0<8>(w, rows, c, x, y) : take == 4 ? launch_q4_0<4>(w, rows, c, x, y)
            : take == 2 ? launch_q4_0<2>(w, rows, c, x, y) : launch_q4_0<1>(w, rows, c, x, y);
        b += take;
    }
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    return e == cudaSuccess ? WQC_OK : wqc_cuda_error(err, e, "Q4_0 product");
}
