/* The split codings of a float tensor and the choice against the
 * passthrough codings (wqc_frame_lossless in wqc/encode.h). */
#include <stdlib.h>
#include <string.h>

#include "../common/byte_codec.h"
#include "../common/bytes.h"
#include "../entropy/byte_probe.h"
#include "class_shifts.h"
#include "row_tables.h"
#include "shared_table.h"
#include "wqc/encode.h"
#include "wqc/entropy.h"
#include "wqc/fp8.h"
#include "wqc/lossless.h"

/* Below this many values a table and lane states cost more than SPLIT saves. */
#define SPLIT_MIN 256
#define SAMPLE (256u << 10)
/* Past the float coder's size, the whole tensor is tried with zstd only
 * when the split coding saves less than this fraction. */
#define SPLIT_GOOD 0.9
#define SPLIT_FLOATS_SAVING 0.03
/* The peers are tried on a float tensor whose symbol bytes (the exponents)
 * the previous value predicts this well: an STFT basis in BF16 (0.22 of
 * the entropy) is half the size under LZMA, smooth conv kernels (0.12) and
 * trained matrices (below 0.05) are smaller split. */
#define SPLIT_ORDER1_WORTH 0.15
#define SPLIT_REPEATS_WORTH 0.02
/* Values equal to the one a row above: 0.1-0.2% in trained matrices (the
 * chance of two BF16 values meeting), 4% in a byte-level LM's head, whose
 * rows of unseen tokens were pushed alike and which LZMA codes 7% smaller
 * at a match distance of one row, a structure the symbol probe does not see. */
#define SPLIT_ROW_REPEATS_WORTH 0.02

static double row_repeats(const wqc_tensor *t)
{
    size_t size = wqc_dtype_size(t->dtype), n = (size_t)t->nelem;
    if (t->ndim < 2 || t->shape[0] < 2 || n == 0) return 0;
    size_t cols = n / (size_t)t->shape[0], same = 0;
    const uint8_t *p = t->data;
    if (size == 2)
        for (size_t i = cols; i < n; i++) same += (p[2 * i] == p[2 * (i - cols)]) & (p[2 * i + 1] == p[2 * (i - cols) + 1]);
    else
        for (size_t i = cols; i < n; i++) same += memcmp(p + size * i, p + size * (i - cols), size) == 0;
    return (double)same / (double)(n - cols);
}

/* A quick look: does zstd -1 save 3% on the stream's first 256 KiB? */
static int compressible(const uint8_t *stream, size_t n)
{
    size_t m = n < SAMPLE ? n : SAMPLE, len = 0;
    uint8_t *out = NULL;
    int yes = wqc_byte_compress(WQC_ENC_ZSTD, 1, stream, m, &out, &len, NULL) == WQC_OK && len < m - m / 32;
    free(out);
    return yes;
}

/* Whether a BF16 tensor takes the split-e8m3 layout (base in *base): the
 * estimate, order-0 entropy and tables, says the joint symbol, 5 rest bits
 * and its exceptions (about 4 bytes each) cost less than the exponent and 8. */
static int e8m3_pays(const wqc_tensor *t, unsigned *base)
{
    size_t n = (size_t)t->nelem;
    if (t->dtype != WQC_DTYPE_BF16) return 0;
    /* One pass: counts of e8 << 3 | m7 >> 4, whence both layouts' symbols. */
    uint64_t exponents[256] = {0}, joint[256] = {0}, e8m3[2048] = {0};
    const uint8_t *p = t->data;
    for (size_t i = 0; i < n; i++) e8m3[wqc_le16(p + 2 * i) >> 4 & 0x7ff]++;
    for (unsigned v = 0; v < 2048; v++) exponents[v >> 3] += e8m3[v];
    uint64_t outside = wqc_e8m3_window_counts(exponents, base);
    if (outside > n / 16) return 0;
    for (unsigned v = 0; v < 2048; v++) joint[wqc_e8m3_symbol(v << 4, *base)] += e8m3[v];
    double cost[2];
    const uint64_t *h[2] = {exponents, joint};
    for (int k = 0; k < 2; k++) {
        unsigned used = 0;
        for (int c = 0; c < 256; c++) used += h[k][c] != 0;
        /* A table entry takes about 2 bytes. */
        cost[k] = wqc_entropy_bits(h[k], 256) * (double)n / 8 + 2.0 * used;
    }
    return cost[1] + 5.0 * (double)n / 8 + 4.0 * (double)outside < cost[0] + (double)n;
}

/* Codes t as SPLIT, or with e8m3 as SPLIT_E8M3 (base), into f (payload in
 * *buf: the symbols' rANS chunks, then the rest streams). *symbols gets the
 * probe of the symbol stream. */
static wqc_status split_code(const wqc_tensor *t, const wqc_encode_options *o, int zstd_level, int e8m3, unsigned base,
                             wqc_frame *f, uint8_t **buf, wqc_byte_structure *symbols, wqc_error *err)
{
    size_t n = (size_t)t->nelem, rest_bytes[WQC_SPLIT_REST_MAX] = {0};
    unsigned nrest = e8m3 ? 3 : wqc_split_rest_count(t->dtype);
    for (unsigned k = 0; k < nrest; k++) rest_bytes[k] = !e8m3 ? n : k < 2 ? (size_t)wqc_e8m3_rest_bytes(k, n) : 0;
    uint8_t *mem = malloc(n + rest_bytes[0] + rest_bytes[1] + rest_bytes[2] + 1), *rest[WQC_SPLIT_REST_MAX] = {0};
    uint8_t *packed[WQC_SPLIT_REST_MAX] = {0}, *exceptions = NULL;
    size_t packed_len[WQC_SPLIT_REST_MAX] = {0};
    if (!mem) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory coding '%s'", t->name);
    for (unsigned k = 0; k < nrest; k++) rest[k] = (k ? rest[k - 1] + rest_bytes[k - 1] : mem + n);
    if (e8m3) {
        wqc_e8m3_split(t->data, n, base, mem, rest[0], rest[1]);
        wqc_status st = wqc_e8m3_exceptions_encode(t->data, n, base, &exceptions, &rest_bytes[2], err);
        if (st != WQC_OK) {
            free(mem);
            return st;
        }
        rest[2] = exceptions;
    } else {
        wqc_float_split(t->dtype, t->data, n, mem, rest);
    }
    f->encoding = e8m3 ? WQC_ENC_SPLIT_E8M3 : WQC_ENC_SPLIT;
    f->split_base = (uint8_t)base;
    wqc_byte_probe(mem, n, 1, symbols);
    wqc_rans_params p = o->rans;
    p.lanes = wqc_rans_lanes_for(p.lanes, n, 256);
    /* Rows (or, for FP8, tiles: block scales) of different scale take
     * tables of their own where that pays. */
    uint64_t rows = t->ndim >= 2 ? t->shape[0] : 1;
    wqc_rans_context by_row, by_tile;
    double row_saved = 0, tile_saved = 0;
    /* The bar classes must clear: the context decoders are some 10% slower
     * than order-0 on byte alphabets. FP8's symbols are the whole value,
     * which brotli's block splitting also models by region: there classes
     * that save 0.1% keep each tensor below brotli's bytes (pylm-22M FP8). */
    double keep = wqc_dtype_size(t->dtype) == 1 ? 0.001 : 0.005;
    int row_classes = rows > 1 && wqc_row_tables(mem, rows, n / rows, p.precision, keep, &by_row, &row_saved);
    int tile_classes = rows > 1 && wqc_dtype_size(t->dtype) == 1 &&
                       wqc_tile_tables(mem, rows, n / rows, WQC_FP8_BLOCK, p.precision, keep, &by_tile, &tile_saved);
    if (row_classes && tile_classes) {
        wqc_rans_context *loser = tile_saved > row_saved ? &by_row : &by_tile;
        free(loser->tables), free(loser->group_table);
        row_classes = !(tile_classes = tile_saved > row_saved);
    }
    /* Wider values' symbols (exponents) also by rows x columns, where that
     * clears the bar over the row classes. */
    wqc_rans_context by_shift;
    double shift_saved = 0;
    int shifts = rows > 1 && wqc_dtype_size(t->dtype) > 1 &&
                 wqc_class_shifts(mem, rows, n / rows, p.precision, 2 * keep, row_saved, &by_shift, &shift_saved);
    if (shifts && row_classes) {
        free(by_row.tables), free(by_row.group_table);
        row_classes = 0;
    }
    wqc_status st;
    if (row_classes || tile_classes || shifts) {
        wqc_rans_context *ctx = shifts ? &by_shift : tile_classes ? &by_tile : &by_row;
        f->shared_model = 0;
        f->table_tile = tile_classes ? WQC_FP8_BLOCK : 0;
        st = wqc_rans_encode_context(mem, n, ctx, &p, &f->coded, err);
        free(ctx->tables), free(ctx->group_table), free(ctx->col_shift), free(ctx->bin_table);
    } else {
        st = wqc_code_order0(mem, n, 256, o, &p, &f->coded, &f->shared_model, err);
    }
    uint64_t total = f->coded.payload_len;
    for (unsigned k = 0; st == WQC_OK && k < nrest; k++) {
        size_t len = rest_bytes[k];
        f->rest_coding[k] = WQC_ENC_RAW;
        f->rest_len[k] = len;
        /* zstd where the stream is not near-random (F32 made from BF16, say),
         * judged first on a sample at level 1; split-e8m3's exceptions raw. */
        if (zstd_level > 0 && !(e8m3 && k == 2) && compressible(rest[k], len) &&
            wqc_byte_compress(WQC_ENC_ZSTD, zstd_level, rest[k], len, &packed[k], &packed_len[k], NULL) == WQC_OK &&
            packed_len[k] < len - len / 100) {
            f->rest_coding[k] = WQC_ENC_ZSTD;
            f->rest_len[k] = packed_len[k];
        }
        total += f->rest_len[k];
    }
    if (st == WQC_OK && !(*buf = malloc(total ? (size_t)total : 1))) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    if (st == WQC_OK) {
        memcpy(*buf, f->coded.payload, (size_t)f->coded.payload_len);
        uint64_t at = f->coded.payload_len;
        for (unsigned k = 0; k < nrest; k++) {
            memcpy(*buf + at, f->rest_coding[k] == WQC_ENC_RAW ? rest[k] : packed[k], (size_t)f->rest_len[k]);
            at += f->rest_len[k];
        }
        /* The symbols' chunks are now the front of the payload. */
        free(f->coded.payload);
        f->coded.payload = *buf;
        f->payload = *buf;
        f->payload_len = total;
    }
    for (unsigned k = 0; k < nrest; k++) free(packed[k]);
    free(exceptions);
    free(mem);
    return st;
}

wqc_status wqc_frame_lossless(const wqc_tensor *t, const wqc_encode_options *o, int zstd_level, wqc_frame *f,
                              void **scratch, wqc_error *err)
{
    if (!wqc_split_dtype(t->dtype) || t->nelem < SPLIT_MIN)
        return wqc_frame_passthrough(t, zstd_level, f, scratch, err);
    wqc_frame s;
    wqc_frame_init(&s, t);
    s.raw_len = t->nbytes;
    s.q.alphabet = 256;
    uint8_t *buf = NULL;
    wqc_byte_structure symbols = {0};
    unsigned base = 0;
    int e8m3 = e8m3_pays(t, &base);
    wqc_status st = split_code(t, o, zstd_level, e8m3, base, &s, &buf, &symbols, err);
    /* The passthrough codings: the float coder of small tensors, zstd of
     * tensors the split coding does not shrink much, the general-purpose
     * peers of tensors with long repeats, or neighbouring values that tell
     * each other's symbol byte (smooth rows: bases, kernels): LZ's ground.
     * A repeat of values repeats their symbols: the bytes are probed only
     * where the symbol stream repeats. 1-byte values are their own symbols,
     * judged by the probe's general rule. */
    int lz = wqc_dtype_size(t->dtype) == 1 ? wqc_byte_structured(&symbols) : symbols.order1_gain >= SPLIT_ORDER1_WORTH;
    if (!lz && wqc_dtype_size(t->dtype) > 1) lz = row_repeats(t) >= SPLIT_ROW_REPEATS_WORTH;
    if (!lz && symbols.repeats >= SPLIT_REPEATS_WORTH) {
        /* Repeated symbols may be repeated exponents of different values:
         * the bytes themselves must repeat. */
        wqc_byte_structure bytes;
        wqc_byte_probe(t->data, (size_t)t->nbytes, wqc_dtype_size(t->dtype), &bytes);
        lz = bytes.repeats >= SPLIT_REPEATS_WORTH;
    }
    int others = st != WQC_OK || t->nelem <= WQC_FLOATS_MAX || (double)s.payload_len > SPLIT_GOOD * (double)t->nbytes || lz;
    if (others) {
        /* The peers where the symbols showed LZ's ground, else not at all:
         * the symbol stream has told what a probe of the bytes would. */
        st = wqc_frame_keep(t, zstd_level, lz ? WQC_PEERS_ALWAYS : WQC_PEERS_NEVER, f, scratch, err);
        /* The order-0 table's description costs tens of bytes: counted as 64;
         * a table the file shares costs its 2-byte reference. The float
         * coder decodes some 50 times slower than the split coding: it must
         * save SPLIT_FLOATS_SAVING to be taken. */
        double keep = f->encoding == WQC_ENC_FLOATS ? 1.0 - SPLIT_FLOATS_SAVING : 1.0;
        uint64_t table = s.shared_model ? 2 : 64;
        if (st != WQC_OK || !buf || (double)(s.payload_len + table) * keep >= (double)f->payload_len) {
            s.coded.payload = NULL; /* buf */
            wqc_rans_coded_free(&s.coded);
            free(buf);
            return st;
        }
        free(*scratch);
    }
    *scratch = buf;
    *f = s;
    return WQC_OK;
}
