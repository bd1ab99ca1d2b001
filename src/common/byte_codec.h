/* Internal: general-purpose compression of byte payloads (zstd, brotli,
 * LZMA2), for kept tensors, symbols where dictionary matches win, and the
 * names record (when they may win: entropy/byte_probe.h). */
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

/* An LZMA2 dictionary for n bytes: the smallest power of two >= max(4 KiB,
 * n), at most 64 MiB (xz -9's). The stored streams' decoder derives it from
 * the decoded size, so they carry no header; `xz` sizes its dictionary to
 * the input alike, which the same bytes out show (and a 64 MiB dictionary
 * for a small tensor costs most of the time in setting up its tables). */
uint32_t wqc_lzma_dict(size_t n);

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

#endif
