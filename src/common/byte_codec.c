#include "byte_codec.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lzma.h>
#include <stdlib.h>
#include <zstd.h>

uint32_t wqc_lzma_dict(size_t n)
{
    uint32_t d = 4096;
    while (d < n && d < (64u << 20)) d <<= 1;
    return d;
}

static wqc_status lzma_pack(int level, const uint8_t *src, size_t n, uint8_t **out, size_t *out_len, wqc_error *err)
{
    lzma_options_lzma opt;
    if (lzma_lzma_preset(&opt, (uint32_t)(level > 9 ? 9 | LZMA_PRESET_EXTREME : level < 0 ? 0 : level)))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "LZMA: bad preset %d", level);
    opt.dict_size = wqc_lzma_dict(n);
    lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
    /* LZMA2 stores incompressible chunks as they are: n plus 3 bytes per 64 KiB, and the end mark. */
    size_t cap = n + n / 16384 + 64, pos = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory compressing %zu bytes", n);
    lzma_ret r = lzma_raw_buffer_encode(filters, NULL, src, n, buf, &pos, cap);
    if (r != LZMA_OK) {
        free(buf);
        return wqc_fail(err, r == LZMA_MEM_ERROR ? WQC_ERR_NOMEM : WQC_ERR_IO, "LZMA: compression failed (%d)", (int)r);
    }
    *out = buf;
    *out_len = pos;
    return WQC_OK;
}

static wqc_status lzma_unpack(const uint8_t *src, size_t n, uint8_t *dst, size_t raw_len, wqc_error *err)
{
    lzma_options_lzma opt;
    lzma_lzma_preset(&opt, 6);
    opt.dict_size = wqc_lzma_dict(raw_len);
    lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
    size_t in_pos = 0, out_pos = 0;
    lzma_ret r = lzma_raw_buffer_decode(filters, NULL, src, &in_pos, n, dst, &out_pos, raw_len);
    /* Exactly raw_len bytes, the whole stream, nothing after it. */
    if (r != LZMA_OK || in_pos != n || out_pos != raw_len)
        return wqc_fail(err, WQC_ERR_FORMAT, "LZMA stream is damaged or does not hold the tensor");
    return WQC_OK;
}

wqc_status wqc_byte_compress(wqc_encoding codec, int level, const uint8_t *src, size_t n, uint8_t **out,
                             size_t *out_len, wqc_error *err)
{
    *out = NULL;
    if (codec == WQC_ENC_LZMA) return lzma_pack(level, src, n, out, out_len, err);
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
    if (codec == WQC_ENC_LZMA) return lzma_unpack(src, n, dst, raw_len, err);
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

wqc_status wqc_byte_compress_best(const uint8_t *src, size_t n, wqc_encoding *codec, uint8_t **out, size_t *best_len,
                                  size_t sizes[3], wqc_error *err)
{
    static const wqc_encoding codecs[3] = {WQC_ENC_ZSTD, WQC_ENC_BROTLI, WQC_ENC_LZMA};
    static const int levels[3] = {WQC_GP_ZSTD_LEVEL, WQC_GP_BROTLI_QUALITY, WQC_GP_LZMA_LEVEL};
    *out = NULL;
    for (int i = 0; i < 3; i++) {
        uint8_t *buf;
        size_t len;
        wqc_status st = wqc_byte_compress(codecs[i], levels[i], src, n, &buf, &len, err);
        if (st != WQC_OK) {
            free(*out);
            *out = NULL;
            return st;
        }
        if (sizes) sizes[i] = len;
        if (len < *best_len) {
            free(*out);
            *out = buf, *best_len = len, *codec = codecs[i];
        } else {
            free(buf);
        }
    }
    return WQC_OK;
}
