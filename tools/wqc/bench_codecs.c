/* The codecs `wqc bench` races: wqc's rANS (each ISA, each output form),
 * packed 4-bit, htscodecs' rANS 4x16 (when built with it), zstd and brotli. */
#include <brotli/decode.h>
#include <brotli/encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#ifdef WQC_HAVE_HTSCODECS
#include <htscodecs/rANS_static4x16.h>
#endif

#include "bench_codecs.h"
#include "cli.h"

/* The families each bench races: on quantized symbols, and on whole files (--lossless). */
static const char *const symbol_families[] = {"wqc", "packed", "htscodecs", "zstd", "brotli", NULL};
static const char *const lossless_families[] = {"wqc", "zstd", "brotli", "xz", NULL};

int bench_codec_selected(const char *select, const char *family)
{
    if (!select) return 1;
    size_t len = strlen(family);
    for (const char *p = select; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, family, n) == 0) return 1;
        p += n + (comma != NULL);
    }
    return 0;
}

int bench_codecs_valid(const char *select, int lossless)
{
    if (!select) return 1;
    const char *const *families = lossless ? lossless_families : symbol_families;
    const char *expected = lossless ? "wqc, zstd, brotli, xz" : "wqc, packed, htscodecs, zstd, brotli";
    if (!*select) {
        cli_error("--codecs: an empty list (expected some of %s)", expected);
        return 0;
    }
    for (const char *p = select; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int known = 0;
        for (size_t i = 0; families[i]; i++)
            if (strlen(families[i]) == n && strncmp(p, families[i], n) == 0) known = 1;
        if (!known) {
            cli_error("--codecs: unknown codec family '%.*s'%s (expected %s)", (int)n, p, lossless ? " for --lossless" : "",
                      expected);
            return 0;
        }
        p += n + (comma != NULL);
    }
    return 1;
}

static bench_codec *add(bench_codec *codecs, size_t *n, bench_family f, const char *name)
{
    bench_codec *c = &codecs[(*n)++];
    memset(c, 0, sizeof *c);
    c->family = f;
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

size_t bench_codecs_list(const char *select, uint32_t max_alphabet, bench_codec *codecs)
{
    size_t n = 0;
    wqc_isa best = wqc_isa_best();
    char name[48];
    if (bench_codec_selected(select, "wqc")) {
        for (int i = 0; i < WQC_ISA_COUNT; i++) {
            if (!wqc_isa_available((wqc_isa)i)) continue;
            snprintf(name, sizeof name, "wqc rANS %s", wqc_isa_name((wqc_isa)i));
            add(codecs, &n, BENCH_WQC, name)->isa = (wqc_isa)i;
        }
        for (int i = 0; i < WQC_ISA_COUNT; i++) {
            if (!wqc_isa_available((wqc_isa)i)) continue;
            snprintf(name, sizeof name, "wqc rANS context %s", wqc_isa_name((wqc_isa)i));
            bench_codec *c = add(codecs, &n, BENCH_WQC, name);
            c->isa = (wqc_isa)i;
            c->context = 1;
        }
        static const struct { wqc_rans_form form; const char *label; } forms[] = {
            {WQC_FORM_NIBBLES, "nibbles"}, {WQC_FORM_F32, "F32"}, {WQC_FORM_F16, "F16"}};
        for (size_t i = 0; i < 3; i++) {
            if (forms[i].form == WQC_FORM_NIBBLES && max_alphabet > 16) continue;
            snprintf(name, sizeof name, "wqc rANS %s -> %s", wqc_isa_name(best), forms[i].label);
            bench_codec *c = add(codecs, &n, BENCH_WQC, name);
            c->isa = best;
            c->form = forms[i].form;
        }
    }
    if (bench_codec_selected(select, "packed") && max_alphabet <= 16) {
        wqc_isa isas[2] = {WQC_ISA_SCALAR, best};
        for (int f = 0; f < 2; f++) {
            for (int i = 0; i < (best == WQC_ISA_SCALAR ? 1 : 2); i++) {
                snprintf(name, sizeof name, "packed 4-bit %s %s", f ? "-> F32" : "unpack", wqc_isa_name(isas[i]));
                bench_codec *c = add(codecs, &n, BENCH_PACKED, name);
                c->isa = isas[i];
                c->form = f ? WQC_FORM_F32 : WQC_FORM_SYMBOLS;
            }
        }
    }
#ifdef WQC_HAVE_HTSCODECS
    if (bench_codec_selected(select, "htscodecs")) {
        add(codecs, &n, BENCH_HTSCODECS, "htscodecs rANS 4x16")->level = 0;
        add(codecs, &n, BENCH_HTSCODECS, "htscodecs rANS 32x16 SIMD")->level = RANS_ORDER_X32 | RANS_ORDER_SIMD_AUTO;
        add(codecs, &n, BENCH_HTSCODECS, "htscodecs rANS 32x16 SIMD PACK")->level =
            RANS_ORDER_X32 | RANS_ORDER_SIMD_AUTO | RANS_ORDER_PACK;
    }
#endif
    if (bench_codec_selected(select, "zstd")) {
        add(codecs, &n, BENCH_ZSTD, "zstd -3")->level = 3;
        add(codecs, &n, BENCH_ZSTD, "zstd -19")->level = 19;
    }
    if (bench_codec_selected(select, "brotli")) add(codecs, &n, BENCH_BROTLI, "brotli -q 11")->level = 11;
    return n;
}

void bench_blob_free(bench_blob *b)
{
    free(b->data);
    if (b->has_coded) wqc_rans_coded_free(&b->coded);
    memset(b, 0, sizeof *b);
}

uint64_t bench_blob_bytes(const bench_codec *c, const bench_blob *b)
{
    if (c->family != BENCH_WQC) return b->len;
    return b->coded.payload_len + b->side_bytes;
}

uint64_t bench_output_bytes(const bench_codec *c, uint64_t n)
{
    return wqc_rans_output_bytes(c->form, n);
}

void bench_expected(const bench_codec *c, const bench_item *it, void *dst)
{
    switch (c->form) {
    case WQC_FORM_SYMBOLS: memcpy(dst, it->q.symbols, it->n); break;
    case WQC_FORM_NIBBLES: wqc_packed4_pack(it->q.symbols, it->n, dst); break;
    case WQC_FORM_F32: wqc_dequantize(&it->q, dst); break;
    case WQC_FORM_F16: {
        float *f = malloc(it->n * sizeof *f + 1);
        if (!f) return;
        wqc_dequantize(&it->q, f);
        for (uint64_t i = 0; i < it->n; i++) ((uint16_t *)dst)[i] = wqc_f32_to_f16(f[i]);
        free(f);
        break;
    }
    case WQC_FORM_BF16: {
        float *f = malloc(it->n * sizeof *f + 1);
        if (!f) return;
        wqc_dequantize(&it->q, f);
        for (uint64_t i = 0; i < it->n; i++) ((uint16_t *)dst)[i] = wqc_f32_to_bf16(f[i]);
        free(f);
        break;
    }
    case WQC_FORM_DOT: break; /* products are timed by `wqc bench --gemv` */
    }
}

/* The item's own zero-point model, always decoded through the context path
 * (even with one table), so that the row times the context decoder. */
static int encode_context(const bench_item *it, const wqc_rans_params *p, bench_blob *out, wqc_error *err)
{
    uint32_t nbins = wqc_symbol_model_nbins(it->q.alphabet, 1), res = nbins ? 1 : 0;
    uint64_t *counts = calloc(256 * (size_t)(nbins ? nbins : 1), sizeof *counts);
    if (!counts) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory"), -1;
    wqc_symbol_model m;
    wqc_rans_context ctx = {0};
    wqc_symbol_model_count(&it->q, res, counts);
    wqc_status st = wqc_symbol_model_build(counts, res, it->q.alphabet, p->precision, 0, &m, err);
    free(counts);
    if (st == WQC_OK) st = wqc_symbol_model_context(&m, &it->q, 0, NULL, &ctx, err);
    if (st == WQC_OK) st = wqc_rans_encode_context(it->q.symbols, it->n, &ctx, p, &out->coded, err);
    if (st == WQC_OK) {
        out->has_coded = 1;
        out->side_bytes = wqc_symbol_model_bytes(&m);
        wqc_symbol_model_free(&m);
    }
    free(ctx.group_table);
    return st == WQC_OK ? 0 : -1;
}

int bench_encode(const bench_codec *c, const bench_item *it, int threads, bench_blob *out, wqc_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = (size_t)it->n;
    switch (c->family) {
    case BENCH_WQC: {
        wqc_rans_params p;
        wqc_rans_params_default(&p);
        if (c->precision) p.precision = c->precision;
        p.lanes = wqc_rans_lanes_for(c->lanes, it->n, it->q.alphabet);
        if (c->chunk) p.chunk = c->chunk;
        p.threads = threads;
        if (c->context) return encode_context(it, &p, out, err);
        if (wqc_rans_encode(it->q.symbols, it->n, it->q.alphabet, &p, &out->coded, err) != WQC_OK) return -1;
        out->has_coded = 1;
        out->side_bytes = wqc_freq_table_bytes(out->coded.table.freq, out->coded.table.alphabet);
        return 0;
    }
    case BENCH_PACKED:
        out->data = malloc(n / 2 + 1);
        if (!out->data) break;
        wqc_packed4_pack(it->q.symbols, n, out->data);
        out->len = (n + 1) / 2;
        return 0;
    case BENCH_HTSCODECS: {
#ifdef WQC_HAVE_HTSCODECS
        unsigned int len = rans_compress_bound_4x16((unsigned)n, c->level);
        out->data = malloc(len);
        if (!out->data) break;
        if (!rans_compress_to_4x16(it->q.symbols, (unsigned)n, out->data, &len, c->level)) {
            wqc_fail(err, WQC_ERR_IO, "htscodecs: rans_compress_to_4x16 failed");
            return -1;
        }
        out->len = len;
        return 0;
#else
        break;
#endif
    }
    case BENCH_ZSTD: {
        size_t cap = ZSTD_compressBound(n);
        out->data = malloc(cap);
        if (!out->data) break;
        size_t len = ZSTD_compress(out->data, cap, it->q.symbols, n, c->level);
        if (ZSTD_isError(len)) {
            wqc_fail(err, WQC_ERR_IO, "zstd: %s", ZSTD_getErrorName(len));
            return -1;
        }
        out->len = len;
        return 0;
    }
    case BENCH_BROTLI: {
        size_t len = BrotliEncoderMaxCompressedSize(n);
        out->data = malloc(len ? len : 16);
        if (!out->data) break;
        if (!len) len = 16;
        if (!BrotliEncoderCompress(c->level, BROTLI_MAX_WINDOW_BITS, BROTLI_MODE_GENERIC, n, it->q.symbols,
                                   &len, out->data)) {
            wqc_fail(err, WQC_ERR_IO, "brotli: compression failed");
            return -1;
        }
        out->len = len;
        return 0;
    }
    }
    wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    return -1;
}

int bench_decode(const bench_codec *c, const bench_item *it, const bench_blob *b, int threads, void *dst,
                 wqc_error *err)
{
    size_t n = (size_t)it->n;
    switch (c->family) {
    case BENCH_WQC: {
        wqc_rans_output out = {.form = c->form, .dst = dst, .groups = &it->q};
        return wqc_rans_decode_to(&b->coded, &out, threads, c->isa, err) == WQC_OK ? 0 : -1;
    }
    case BENCH_PACKED:
        if (c->form == WQC_FORM_F32) wqc_packed4_dequantize(c->isa, b->data, n, &it->q, dst);
        else wqc_packed4_unpack(c->isa, b->data, n, dst);
        return 0;
    case BENCH_HTSCODECS: {
#ifdef WQC_HAVE_HTSCODECS
        unsigned int len = (unsigned)n;
        if (!rans_uncompress_to_4x16(b->data, (unsigned)b->len, dst, &len) || len != n) {
            wqc_fail(err, WQC_ERR_FORMAT, "htscodecs: rans_uncompress_to_4x16 failed");
            return -1;
        }
        return 0;
#else
        break;
#endif
    }
    case BENCH_ZSTD: {
        size_t got = ZSTD_decompress(dst, n, b->data, b->len);
        if (ZSTD_isError(got) || got != n) {
            wqc_fail(err, WQC_ERR_FORMAT, "zstd: decompression failed");
            return -1;
        }
        return 0;
    }
    case BENCH_BROTLI: {
        size_t got = n;
        if (BrotliDecoderDecompress(b->len, b->data, &got, dst) != BROTLI_DECODER_RESULT_SUCCESS || got != n) {
            wqc_fail(err, WQC_ERR_FORMAT, "brotli: decompression failed");
            return -1;
        }
        return 0;
    }
    }
    wqc_fail(err, WQC_ERR_UNSUPPORTED, "codec not built");
    return -1;
}
