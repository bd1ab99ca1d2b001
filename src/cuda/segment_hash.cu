// XXH3-64 of a record's segments on the GPU (segment_hash.h): one warp a
// segment. XXH3 over more than 240 bytes (xxHash's spec, "hashLong"): eight
// 64-bit accumulators take 64-byte stripes, 16 stripes a 1024-byte block,
// each block ending with a scramble; then the last partial block, the
// input's last 64 bytes, and a merge. Within a block the accumulators only
// add (mod 2^64), so the warp takes four stripes at once (lane = stripe
// 4k + lane / 8, accumulator lane % 8) and sums them; blocks follow each
// other. The host's libxxhash is the reference (tests/cuda/test_cuda_load.c).
#include "segment_hash.h"
#include "wqc/cuda.h"

#define P32_1 0x9E3779B1ull
#define P32_2 0x85EBCA77ull
#define P32_3 0xC2B2AE3Dull
#define P64_1 0x9E3779B185EBCA87ull
#define P64_2 0xC2B2AE3D27D4EB4Full
#define P64_3 0x165667B19E3779F9ull
#define P64_4 0x85EBCA77C2B2AE63ull
#define P64_5 0x27D4EB2F165667C5ull
#define FULL 0xffffffffu

/* 64-bit words as CUDA's intrinsics take them (uint64_t is unsigned long here). */
typedef unsigned long long u64;

/* Secret bytes [8 w + b, 8 w + b + 8) of a secret held as words. */
__device__ inline u64 secret_at(const u64 *s, unsigned w, unsigned b)
{
    return b ? s[w] >> (8 * b) | s[w + 1] << (64 - 8 * b) : s[w];
}

/* acc[a ^ 1] += v and acc[a] += key's halves multiplied: lane a's share. */
__device__ inline u64 stripe_share(u64 v, u64 key)
{
    return __shfl_xor_sync(FULL, v, 1) + (u64)(uint32_t)key * (key >> 32);
}

__device__ inline u64 load_unaligned(const uint8_t *p)
{
    u64 v = 0;
    for (int k = 7; k >= 0; k--) v = v << 8 | p[k];
    return v;
}

__global__ void segment_hash_kernel(const uint8_t *body, u64 len, unsigned log, u64 seed0, u64 nseg,
                                    segment_secret base, u64 *out)
{
    const u64 j = (u64)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (j >= nseg) return;
    const unsigned l = threadIdx.x % 32, a = l % 8, q = l / 8;
    const u64 start = j << log, size = 1ull << log, n = len - start < size ? len - start : size;
    if (n < SEGMENT_GPU_MIN) {
        if (l == 0) out[j] = 0;
        return;
    }
    const u64 seed = seed0 + j;
    u64 s[24];
#pragma unroll
    for (int i = 0; i < 24; i++) s[i] = i % 2 ? base.w[i] - seed : base.w[i] + seed;
    const u64 init[8] = {P32_3, P64_1, P64_2, P64_3, P64_4, P32_2, P64_5, P32_1};
    u64 acc = init[a];
    /* This lane's secret words: stripe 4k + q's (secret byte 8 x stripe on,
     * word a of it) and the scramble's (byte 128 on). */
    u64 key[4];
#pragma unroll
    for (unsigned k = 0; k < 4; k++) key[k] = s[4 * k + q + a];
    const u64 scramble = s[16 + a];
    const u64 *in = (const u64 *)(body + start);
    const u64 blocks = (n - 1) / 1024;
#pragma unroll 2
    for (u64 b = 0; b < blocks; b++) {
        u64 part = 0;
#pragma unroll
        for (unsigned k = 0; k < 4; k++) {
            const u64 v = __ldg(&in[b * 128 + (4 * k + q) * 8 + a]);
            part += stripe_share(v, v ^ key[k]);
        }
        part += __shfl_xor_sync(FULL, part, 8);
        part += __shfl_xor_sync(FULL, part, 16);
        acc += part;
        acc ^= acc >> 47;
        acc ^= scramble;
        acc *= P32_1;
    }
    const unsigned stripes = (unsigned)(((n - 1) - 1024 * blocks) / 64);
    u64 part = 0;
#pragma unroll
    for (unsigned k = 0; k < 4; k++) {
        const unsigned stripe = 4 * k + q;
        const u64 v = stripe < stripes ? __ldg(&in[blocks * 128 + stripe * 8 + a]) : 0;
        const u64 share = stripe_share(v, v ^ key[k]);
        if (stripe < stripes) part += share;
    }
    part += __shfl_xor_sync(FULL, part, 8);
    part += __shfl_xor_sync(FULL, part, 16);
    acc += part;
    /* The last 64 bytes, with the secret from byte 192 - 64 - 7 = 121. */
    const u64 v = load_unaligned(body + start + n - 64 + 8 * a);
    acc += stripe_share(v, v ^ secret_at(s, 15 + a, 1));
    /* Merge: pairs of accumulators with the secret from byte 11. */
    const u64 other = __shfl_xor_sync(FULL, acc, 1);
    u64 term = 0;
    if (a % 2 == 0) {
        const unsigned i = a / 2;
        const u64 x = acc ^ secret_at(s, 1 + 2 * i, 3), y = other ^ secret_at(s, 2 + 2 * i, 3);
        term = x * y ^ __umul64hi(x, y);
    }
    term += __shfl_xor_sync(FULL, term, 2);
    term += __shfl_xor_sync(FULL, term, 4);
    if (l == 0) {
        u64 h = n * P64_1 + term;
        h ^= h >> 37;
        h *= 0x165667919E3779F9ull;
        out[j] = h ^ (h >> 32);
    }
}

extern "C" wqc_status segment_hash_async(const uint8_t *body, uint64_t len, unsigned log, uint64_t seed, uint64_t nseg,
                                         const segment_secret *secret, uint64_t *out, cudaStream_t stream, wqc_error *err)
{
    if (nseg == 0) return WQC_OK;
    const unsigned warps = 4;
    segment_hash_kernel<<<(unsigned)((nseg + warps - 1) / warps), 32 * warps, 0, stream>>>(body, len, log, seed, nseg,
                                                                                          *secret, (u64 *)out);
    cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? WQC_OK : wqc_cuda_error(err, e, "segment checks");
}
