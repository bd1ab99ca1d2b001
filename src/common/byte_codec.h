/* Internal: general-purpose compression of byte payloads (zstd, brotli,
 * LZMA2), for kept tensors, symbols where dictionary matches win, and the
 * names record; and the cheap probe that says when they may win. */
#ifndef WQC_CONTAINER_BYTE_CODEC_H
#define WQC_CONTAINER_BYTE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/container.h"

/* Compresses src[0..n) with zstd (level 1..22), brotli (quality 0..11,
 * largest window) or LZMA2 (preset 0..9; level 10 is 9 extreme, as xz -9e)
 * into a new buffer *out of *out_len bytes (free it). */
wqc_status wqc_byte_compress(wqc_encoding codec, int level, const uint8_t *src, size_t n, uint8_t **out,
                             size_t *out_len, wqc_error *err);
/* Decompresses exactly raw_len bytes into dst; WQC_ERR_FORMAT when the stream
 * is damaged or holds another size. */
wqc_status wqc_byte_decompress(wqc_encoding codec, const uint8_t *src, size_t n, uint8_t *dst, size_t raw_len,
                               wqc_error *err);

/* The levels of the general-purpose peers users compare with: zstd -19,
 * brotli -q 11, xz -9e. */
#define WQC_GP_ZSTD_LEVEL 19
#define WQC_GP_BROTLI_QUALITY 11
#define WQC_GP_LZMA_LEVEL 10

/* The smallest of the three peers' codings of src that is shorter than
 * *best_len: *codec, *out (free it) and *best_len updated; *out NULL when
 * none is. sizes (may be NULL) gets each peer's bytes (zstd, brotli, LZMA). */
wqc_status wqc_byte_compress_best(const uint8_t *src, size_t n, wqc_encoding *codec, uint8_t **out, size_t *best_len,
                                  size_t sizes[3], wqc_error *err);

/* Signs of structure general-purpose coders exploit and an order-0 coder
 * does not, measured on WQC_PROBE_BYTES of a stream (all of a shorter one,
 * else slices spread from its start to its end):
 *   repeats      the share of positions inside long repeats (k-grams of at
 *                least 48 bits of order-0 information seen earlier);
 *   order1_gain  1 - H(X | previous byte) / H(X), both bias-corrected;
 *                only for streams of 1-byte elements (in wider ones the
 *                previous byte is mostly the same value's other byte). */
#define WQC_PROBE_BYTES (256u << 10)
typedef struct wqc_byte_structure {
    double repeats, order1_gain;
} wqc_byte_structure;
void wqc_byte_probe(const uint8_t *src, size_t n, size_t element_size, wqc_byte_structure *out);
/* Whether the peers are worth running on a stream with this structure. */
int wqc_byte_structured(const wqc_byte_structure *s);

#endif
