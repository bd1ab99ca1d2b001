#include "byte_codec.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <stdlib.h>
#include <zstd.h>

wqc_status wqc_byte_compress(wqc_encoding codec, int level, const uint8_t *src, size_t n, uint8_t **out,
                             size_t *out_len, wqc_error *err)
{
    *out = NULL;
    size_t cap = codec == WQC_ENC_ZSTD ? ZSTD_compressBound(n) : BrotliEncoderMaxCompressedSize(n);
    if (cap == 0) cap = n + 1024;
    uint8_t *buf = malloc(cap);
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory compressing %zu bytes", n);
    if (codec == WQC_ENC_ZSTD) {
        size_t got = ZSTD_compress(buf, cap, src, n, level);
        if (ZSTD_isError(got)) {
            free(buf);
            return wqc_fail(err, WQC_ERR_IO, "zstd: %s", ZSTD_getErrorName(got));
        }
        *out_len = got;
    } else {
        /* The window need not exceed the input (smaller windows decode with less memory). */
        int window = BROTLI_MIN_WINDOW_BITS;
        while (window < BROTLI_MAX_WINDOW_BITS && ((size_t)1 << window) < n + 16) window++;
        size_t got = cap;
        if (!BrotliEncoderCompress(level, window, BROTLI_MODE_GENERIC, n, src, &got, buf)) {
            free(buf);
            return wqc_fail(err, WQC_ERR_IO, "brotli: compression failed");
        }
        *out_len = got;
    }
    *out = buf;
    return WQC_OK;
}

wqc_status wqc_byte_decompress(wqc_encoding codec, const uint8_t *src, size_t n, uint8_t *dst, size_t raw_len,
                               wqc_error *err)
{
    if (codec == WQC_ENC_ZSTD) {
        unsigned long long size = ZSTD_getFrameContentSize(src, n);
        if (size != raw_len) return wqc_fail(err, WQC_ERR_FORMAT, "zstd frame size does not match the tensor");
        size_t got = ZSTD_decompress(dst, raw_len, src, n);
        if (ZSTD_isError(got) || got != raw_len)
            return wqc_fail(err, WQC_ERR_FORMAT, "zstd: %s", ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short frame");
        return WQC_OK;
    }
    BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    if (!s) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    size_t in_left = n, out_left = raw_len;
    const uint8_t *in = src;
    uint8_t *o = dst;
    BrotliDecoderResult r = BrotliDecoderDecompressStream(s, &in_left, &in, &out_left, &o, NULL);
    /* Exactly raw_len bytes, the whole stream, nothing after it. */
    int ok = r == BROTLI_DECODER_RESULT_SUCCESS && out_left == 0 && in_left == 0;
    if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) ok = 0;
    BrotliDecoderDestroyInstance(s);
    return ok ? WQC_OK : wqc_fail(err, WQC_ERR_FORMAT, "brotli stream is damaged or does not hold the tensor");
}
