/* Internal: general-purpose compression of byte payloads (zstd, brotli), for
 * kept tensors, symbols where dictionary matches win, and the names record. */
#ifndef WQC_CONTAINER_BYTE_CODEC_H
#define WQC_CONTAINER_BYTE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/container.h"

/* Compresses src[0..n) with zstd (level 1..22) or brotli (quality 0..11,
 * largest window) into a new buffer *out of *out_len bytes (free it). */
wqc_status wqc_byte_compress(wqc_encoding codec, int level, const uint8_t *src, size_t n, uint8_t **out,
                             size_t *out_len, wqc_error *err);
/* Decompresses exactly raw_len bytes into dst; WQC_ERR_FORMAT when the stream
 * is damaged or holds another size. */
wqc_status wqc_byte_decompress(wqc_encoding codec, const uint8_t *src, size_t n, uint8_t *dst, size_t raw_len,
                               wqc_error *err);

#endif
