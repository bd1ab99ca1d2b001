/* wqc/digest.h - content digests of tensors and models, and routing keys.
 *
 * A tensor's digest is BLAKE2b-256 (libsodium) of a canonical form: its
 * name, dtype and shape, then for a quantized tensor the symbol width,
 * alphabet, group layout, scales and offsets, then its bytes (the symbols, or
 * the tensor's own little-endian C-order bytes). The same tensor gets the
 * same digest whether it is read from a .wqc, from `wqc quantize`'s output
 * or from what `wqc decode` wrote. A model's digest covers its tensors'
 * digests in name order, so it does not depend on the container, the tensor
 * order or the sharding. docs/FORMAT.md ("Digests") gives the bytes. */
#ifndef WQC_DIGEST_H
#define WQC_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/container.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WQC_DIGEST_BYTES 32

/* A tensor with its own bytes (t->data, t->nbytes). */
wqc_status wqc_digest_tensor(const wqc_tensor *t, uint8_t out[WQC_DIGEST_BYTES], wqc_error *err);
/* A quantized tensor whose symbols are in memory (q->symbols). dtype is the
 * original dtype. */
wqc_status wqc_digest_quantized(const char *name, wqc_dtype dtype, int ndim, const uint64_t *shape,
                                const wqc_quantized *q, uint8_t out[WQC_DIGEST_BYTES], wqc_error *err);
/* A frame read from a .wqc (wqc_reader_frame): decoded a window at a time
 * with `threads` threads. Given integers count as plain I8/U8 tensors, as
 * decode writes them. */
wqc_status wqc_digest_frame(const wqc_frame *f, int threads, uint8_t out[WQC_DIGEST_BYTES], wqc_error *err);

/* The model digest of n tensors: names[i] and digests[i] (any order; names
 * must be distinct). */
wqc_status wqc_digest_model(const char *const *names, const uint8_t (*digests)[WQC_DIGEST_BYTES], size_t n,
                            uint8_t out[WQC_DIGEST_BYTES], wqc_error *err);

/* Lowercase hex (65 bytes with the terminating zero); parsing takes either
 * case and returns 0 unless s is exactly 64 hex digits. */
void wqc_digest_hex(const uint8_t d[WQC_DIGEST_BYTES], char hex[2 * WQC_DIGEST_BYTES + 1]);
int wqc_digest_parse(const char *s, uint8_t out[WQC_DIGEST_BYTES]);

/* The place, 0..n-1, of a model digest among n places (n >= 1): jump
 * consistent hashing (Lamping and Veach, 2014) of the digest's first 8 bytes
 * read little-endian. When n grows to n + 1, only about 1/(n + 1) of the
 * digests move, all of them to the new place. */
uint32_t wqc_route(const uint8_t d[WQC_DIGEST_BYTES], uint32_t n);

#ifdef __cplusplus
}
#endif
#endif
