/* Internal: the segment checks of a record (the K record, docs/FORMAT.md)
 * computed on the GPU over the record's body where it was copied, so that
 * the loader's threads only read and copy (segment_hash.cu). */
#ifndef WQC_CUDA_SEGMENT_HASH_H
#define WQC_CUDA_SEGMENT_HASH_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* XXH3's default secret (XXH3_generateSecret_fromSeed with seed 0), as 24
 * little-endian words: segment j's secret adds seed + j to the even words
 * and subtracts it from the odd ones, as XXH3_64bits_withSeed does. */
typedef struct segment_secret {
    uint64_t w[24];
} segment_secret;

/* Segments shorter than this are hashed by XXH3's short-input paths, which
 * the GPU does not implement: their out[] is 0, and the host checks them. */
#define SEGMENT_GPU_MIN 241

/* out[j] = XXH3-64(segment j of body[0..len), seed + j) for j < nseg, the
 * segments 2^log bytes (the last shorter); body 8-byte aligned, in GPU
 * memory, as out. Launched on stream. */
wqc_status segment_hash_async(const uint8_t *body, uint64_t len, unsigned log, uint64_t seed, uint64_t nseg,
                              const segment_secret *secret, uint64_t *out, cudaStream_t stream, wqc_error *err);

#ifdef __cplusplus
}
#endif

#endif
