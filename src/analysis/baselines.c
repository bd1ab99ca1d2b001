/* General-purpose compressors on the symbol stream: the figures a user would
 * get without an entropy coder of their own. */
#include <brotli/encode.h>
#include <lzma.h>
#include <stdlib.h>
#include <zstd.h>

#include "../common/byte_codec.h"
#include "wqc/analysis.h"
#include "wqc/entropy.h"

static wqc_status zstd_size(const uint8_t *src, size_t n, int level, void *dst, size_t cap,
                            int64_t *out, wqc_error *err)
{
    size_t got = ZSTD_compress(dst, cap, src, n, level);
    if (ZSTD_isError(got)) return wqc_fail(err, WQC_ERR_IO, "zstd: %s", ZSTD_getErrorName(got));
    *out = (int64_t)got;
    return WQC_OK;
}

static wqc_status brotli_size(const uint8_t *src, size_t n, int quality, void *dst, size_t cap,
                              int64_t *out, wqc_error *err)
{
    size_t got = cap;
    if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, n, src, &got,
                               dst))
        return wqc_fail(err, WQC_ERR_IO, "brotli: compression failed");
    *out = (int64_t)got;
    return WQC_OK;
}

/* xz -9e: LZMA2 at preset 9, extreme, in an .xz container (what `xz` writes,
 * with its dictionary sized to the input as `xz` sizes it). */
static wqc_status xz_size(const uint8_t *src, size_t n, int64_t *out, wqc_error *err)
{
    size_t cap = lzma_stream_buffer_bound(n), pos = 0;
    uint8_t *dst = malloc(cap ? cap : 1);
    if (!dst) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    lzma_options_lzma opt;
    lzma_lzma_preset(&opt, 9 | LZMA_PRESET_EXTREME);
    opt.dict_size = wqc_lzma_dict(n);
    lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
    lzma_ret r = lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC64, NULL, src, n, dst, &pos, cap);
    free(dst);
    if (r != LZMA_OK) return wqc_fail(err, WQC_ERR_IO, "xz: compression failed (%d)", (int)r);
    *out = (int64_t)pos;
    return WQC_OK;
}

/* Two symbols per byte, the first in the low nibble. */
static void pack_nibbles(const uint8_t *sym, size_t n, uint8_t *out)
{
    for (size_t i = 0; i + 1 < n; i += 2) out[i / 2] = (uint8_t)(sym[i] | (sym[i + 1] << 4));
    if (n & 1) out[n / 2] = sym[n - 1];
}

wqc_status wqc_baselines_measure(const uint8_t *sym, size_t n, int bits, int zstd_level,
                                 int brotli_quality, wqc_baseline_sizes *out, wqc_error *err)
{
    out->zstd_bytes = out->zstd_nibble_bytes = out->brotli_bytes = out->brotli_nibble_bytes = out->xz_bytes = -1;
    size_t zcap = ZSTD_compressBound(n), bcap = BrotliEncoderMaxCompressedSize(n);
    size_t cap = zcap > bcap ? zcap : bcap;
    if (bcap == 0 && n > 0) return wqc_fail(err, WQC_ERR_LIMIT, "brotli: input too large");
    uint8_t *dst = malloc(cap ? cap : 1);
    uint8_t *packed = bits <= 4 ? malloc(n / 2 + 1) : NULL;
    wqc_status st = WQC_OK;
    if (!dst || (bits <= 4 && !packed)) {
        st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        goto done;
    }
    st = zstd_size(sym, n, zstd_level, dst, cap, &out->zstd_bytes, err);
    if (st == WQC_OK) st = brotli_size(sym, n, brotli_quality, dst, cap, &out->brotli_bytes, err);
    if (st == WQC_OK) st = xz_size(sym, n, &out->xz_bytes, err);
    if (st == WQC_OK && packed) {
        size_t pn = (n + 1) / 2;
        pack_nibbles(sym, n, packed);
        st = zstd_size(packed, pn, zstd_level, dst, cap, &out->zstd_nibble_bytes, err);
        if (st == WQC_OK)
            st = brotli_size(packed, pn, brotli_quality, dst, cap, &out->brotli_nibble_bytes, err);
    }
done:
    free(dst);
    free(packed);
    return st;
}

int64_t wqc_zstd_bytes(const void *src, size_t n, int level)
{
    size_t cap = ZSTD_compressBound(n);
    void *dst = malloc(cap ? cap : 1);
    int64_t got = -1;
    if (dst && zstd_size(src, n, level, dst, cap, &got, NULL) != WQC_OK) got = -1;
    free(dst);
    return got;
}

double wqc_field_entropy_bits(const uint8_t *s, size_t n, unsigned shift, unsigned mask)
{
    uint64_t counts[256] = {0};
    for (size_t i = 0; i < n; i++) counts[(s[i] >> shift) & mask]++;
    return wqc_entropy_bits(counts, 256);
}

double wqc_stream_rans_bytes(const uint8_t *s, uint64_t n, uint32_t alphabet, int precision, double *entropy)
{
    uint64_t counts[256] = {0};
    uint32_t freq[256];
    wqc_histogram(s, (size_t)n, counts);
    *entropy = wqc_entropy_bits(counts, alphabet);
    wqc_order0_estimate e;
    if (n == 0 || wqc_order0_estimate_counts(counts, alphabet, n, precision, freq, &e, NULL) != WQC_OK)
        return (double)n;
    return e.bytes;
}
