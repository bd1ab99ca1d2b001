/* Lossless floats: split and merge are inverse for every bit pattern, every
 * merge ISA writes the scalar reference's bytes (BF16's split-e8m3 layout
 * too, from any first value), and split frames go through the container
 * and come back bit-exact (whole, streamed, with the source layout), with
 * damage refused. */
#include <math.h>
#include <stdlib.h>

#include "test_common.h"
#include "../../src/lossless/gguf_peaks.h"

/* Values of a dtype: Gaussian-like with every special pattern mixed in
 * (zeros of both signs, subnormals, infinities, NaNs with payloads). */
static uint8_t *values(wqc_dtype dtype, size_t n, uint64_t seed)
{
    size_t size = wqc_dtype_size(dtype);
    uint8_t *b = malloc(n * size + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rand(&seed);
        float x = (float)((int64_t)(r % 2000001) - 1000000) * 2e-8f * (float)(1 + (r >> 40) % 7);
        uint32_t bits;
        memcpy(&bits, &x, 4);
        if (i % 97 == 5) bits = (uint32_t)(r >> 16); /* any pattern at all */
        if (size == 4) memcpy(b + 4 * i, &bits, 4);
        else {
            uint16_t h = dtype == WQC_DTYPE_BF16 ? (uint16_t)(bits >> 16) : wqc_f32_to_f16(x);
            if (i % 97 == 5) h = (uint16_t)(r >> 20);
            memcpy(b + 2 * i, &h, 2);
        }
    }
    return b;
}

static void test_lossless_split_merge_every_isa(void **state)
{
    (void)state;
    static const wqc_dtype dtypes[] = {WQC_DTYPE_F32, WQC_DTYPE_F16, WQC_DTYPE_BF16};
    static const size_t lengths[] = {0, 1, 7, 15, 16, 31, 32, 33, 100, 4099};
    for (size_t d = 0; d < 3; d++)
        for (size_t l = 0; l < sizeof lengths / sizeof *lengths; l++) {
            size_t n = lengths[l], size = wqc_dtype_size(dtypes[d]);
            uint8_t *v = values(dtypes[d], n, n + d), *sym = malloc(n + 1), *mem = malloc(3 * n + 1);
            uint8_t *rest[3] = {mem, mem + n, mem + 2 * n}, *out = malloc(n * size + 1);
            wqc_float_split(dtypes[d], v, n, sym, rest);
            for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
                wqc_error err;
                if (!wqc_isa_available((wqc_isa)isa)) {
                    assert_fails_with(wqc_float_merge(dtypes[d], sym, (const uint8_t *const *)rest, n, out, (wqc_isa)isa, &err),
                                      WQC_ERR_UNSUPPORTED, err, "merge");
                    continue;
                }
                memset(out, 0xa5, n * size + 1);
                assert_int_equal(wqc_float_merge(dtypes[d], sym, (const uint8_t *const *)rest, n, out, (wqc_isa)isa, &err), WQC_OK);
                if (n) assert_memory_equal(out, v, n * size);
                assert_int_equal(out[n * size], 0xa5); /* nothing past the end */
            }
            free(v);
            free(sym);
            free(mem);
            free(out);
        }
    /* Every 16-bit pattern of both half types. */
    uint8_t *all = malloc(2 << 16), *sym = malloc(1 << 16), *r0 = malloc(1 << 16), *back = malloc(2 << 16);
    for (uint32_t i = 0; i < 1u << 16; i++) all[2 * i] = (uint8_t)i, all[2 * i + 1] = (uint8_t)(i >> 8);
    for (int d = 1; d < 3; d++) {
        uint8_t *rest[1] = {r0};
        wqc_float_split(dtypes[d], all, 1u << 16, sym, rest);
        assert_int_equal(wqc_float_merge(dtypes[d], sym, (const uint8_t *const *)rest, 1u << 16, back, wqc_isa_active(), NULL), WQC_OK);
        assert_memory_equal(back, all, 2 << 16);
    }
    uint8_t *rest[1] = {r0};
    assert_int_equal(wqc_float_merge(WQC_DTYPE_I16, sym, (const uint8_t *const *)rest, 4, back, WQC_ISA_SCALAR, NULL),
                     WQC_ERR_INVALID_ARG);
    /* 8-bit floats: every byte is its own symbol, on every ISA. */
    static const wqc_dtype f8[3] = {WQC_DTYPE_F8_E4M3, WQC_DTYPE_F8_E5M2, WQC_DTYPE_F8_E8M0};
    for (int d = 0; d < 3; d++) {
        assert_true(wqc_split_dtype(f8[d]) && wqc_split_rest_count(f8[d]) == 0);
        wqc_float_split(f8[d], all, 1u << 16, sym, rest);
        assert_memory_equal(sym, all, 1u << 16);
        for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
            if (!wqc_isa_available((wqc_isa)isa)) continue;
            memset(back, 0, 1u << 16);
            assert_int_equal(wqc_float_merge(f8[d], sym, (const uint8_t *const *)rest, 1u << 16, back, (wqc_isa)isa, NULL), WQC_OK);
            assert_memory_equal(back, all, 1u << 16);
        }
    }
    assert_true(wqc_split_dtype(WQC_DTYPE_U8) && wqc_split_dtype(WQC_DTYPE_I8));
    assert_false(wqc_split_dtype(WQC_DTYPE_I16) || wqc_split_dtype(WQC_DTYPE_I32));
    free(all);
    free(sym);
    free(r0);
    free(back);
}

/* Trained-like BF16 values: Gaussian, no zeros (exponents within a window). */
static uint8_t *trained_bf16(size_t n, uint64_t seed)
{
    uint8_t *b = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        double u = 0;
        for (int k = 0; k < 4; k++) u += (double)(test_rand(&seed) >> 11) / 9007199254740992.0 - 0.5;
        float x = (float)(0.02 * (u + (u >= 0 ? 1e-3 : -1e-3)));
        uint32_t bits;
        memcpy(&bits, &x, 4);
        uint16_t h = (uint16_t)(bits >> 16);
        memcpy(b + 2 * i, &h, 2);
    }
    return b;
}

/* split-e8m3: every pattern whose exponent lies in the window (zeros and
 * subnormals at base 0, infinities and NaNs at the top base) comes back
 * from every ISA, merged from any first value; the window is refused past
 * 32 exponents. */
static void test_lossless_e8m3_every_isa(void **state)
{
    (void)state;
    static const unsigned bases[] = {0, 1, 100, 119, WQC_E8M3_BASE_MAX};
    const size_t n = 32u << 8; /* 32 exponents x 256 patterns of sign and mantissa */
    uint8_t *v = malloc(2 * n), *sym = malloc(n), *nib = malloc(n / 2), *sig = malloc(n / 8), *out = malloc(2 * n + 2);
    uint64_t seed = 7;
    for (size_t b = 0; b < sizeof bases / sizeof *bases; b++) {
        for (size_t i = 0; i < n; i++) {
            unsigned e = bases[b] + (unsigned)(i >> 8), pat = (unsigned)(i & 255);
            uint16_t h = (uint16_t)((pat >> 7) << 15 | e << 7 | (pat & 127));
            memcpy(v + 2 * i, &h, 2);
        }
        /* Shuffled, so that neighbours differ. */
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)(test_rand(&seed) % (i + 1));
            uint16_t a, c;
            memcpy(&a, v + 2 * i, 2), memcpy(&c, v + 2 * j, 2);
            memcpy(v + 2 * i, &c, 2), memcpy(v + 2 * j, &a, 2);
        }
        unsigned base = 999;
        assert_int_equal(wqc_e8m3_window(v, n, &base), 0);
        assert_int_equal(base, bases[b]);
        wqc_e8m3_split(v, n, base, sym, nib, sig);
        static const uint64_t firsts[] = {0, 1, 5, 8, 13, 64, 1000};
        for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
            wqc_error err;
            if (!wqc_isa_available((wqc_isa)isa)) {
                assert_fails_with(wqc_e8m3_merge(sym, nib, sig, NULL, 0, n, base, out, (wqc_isa)isa, &err), WQC_ERR_UNSUPPORTED, err,
                                  "merge");
                continue;
            }
            for (size_t f = 0; f < sizeof firsts / sizeof *firsts; f++)
                for (size_t len = 0; len < 80; len += 7) {
                    size_t first = (size_t)firsts[f], m = len == 77 ? n - first : len;
                    memset(out, 0xa5, 2 * m + 2);
                    assert_int_equal(wqc_e8m3_merge(sym + first, nib, sig, NULL, first, m, base, out, (wqc_isa)isa, &err), WQC_OK);
                    if (m) assert_memory_equal(out, v + 2 * first, 2 * m);
                    assert_int_equal(out[2 * m], 0xa5); /* nothing past the end */
                }
        }
    }
    assert_int_equal(wqc_e8m3_merge(sym, nib, sig, NULL, 0, 8, WQC_E8M3_BASE_MAX + 1, out, WQC_ISA_SCALAR, NULL), WQC_ERR_INVALID_ARG);
    /* 33 exponents, or a zero among trained values, leave one out. */
    uint16_t two[2] = {(uint16_t)(100 << 7), (uint16_t)(132 << 7)};
    unsigned base;
    assert_int_equal(wqc_e8m3_window(two, 2, &base), 1);
    two[1] = (uint16_t)(131 << 7);
    assert_true(wqc_e8m3_window(two, 2, &base) == 0 && base == 100);
    two[1] = 0x8000;
    assert_int_equal(wqc_e8m3_window(two, 2, &base), 1);
    assert_int_equal(wqc_e8m3_rest_bytes(0, 7), 4);
    assert_int_equal(wqc_e8m3_rest_bytes(1, 7), 1);
    assert_int_equal(wqc_e8m3_rest_bytes(1, 9), 2);
    free(v), free(sym), free(nib), free(sig), free(out);
}

/* split-e8m3 exceptions: zeros, subnormals, outliers and NaNs among
 * trained values come back from every ISA and any first value; damaged
 * exception streams are refused. */
static void test_lossless_e8m3_exceptions(void **state)
{
    (void)state;
    const size_t n = 5000;
    uint8_t *v = trained_bf16(n, 21), *sym = malloc(n), *nib = malloc(n / 2 + 1), *sig = malloc(n / 8 + 1);
    uint16_t *out = malloc(2 * n);
    static const uint16_t odd[] = {0x0000, 0x8000, 0x0001, 0x807f, 0x4480, 0xc300, 0x7f80, 0x7fc1, 0x3f80};
    static const size_t at[] = {0, 1, 7, 8, 9, 999, 1000, 2047, 4999}; /* the last 5 around tasks' edges */
    for (size_t k = 0; k < sizeof at / sizeof *at; k++) memcpy(v + 2 * at[k], &odd[k], 2);
    unsigned base;
    /* Zeros, subnormals, the infinity and the NaN are out; 1.0, -128 and
     * 1024 fit a window with the 0.02-sized values. */
    assert_int_equal(wqc_e8m3_window(v, n, &base), 6);
    wqc_e8m3_split(v, n, base, sym, nib, sig);
    uint8_t *x = NULL;
    size_t xlen = 0;
    assert_int_equal(wqc_e8m3_exceptions_encode(v, n, base, &x, &xlen, NULL), WQC_OK);
    wqc_e8m3_exceptions e;
    assert_int_equal(wqc_e8m3_exceptions_decode(x, xlen, n, &e, NULL), WQC_OK);
    assert_int_equal(e.count, 6);
    assert_int_equal(e.index[0], 0);
    assert_int_equal(e.index[5], 2047);
    for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
        if (!wqc_isa_available((wqc_isa)isa)) continue;
        static const size_t firsts[] = {0, 1, 8, 999, 1000, 2040};
        for (size_t f = 0; f < sizeof firsts / sizeof *firsts; f++) {
            size_t first = firsts[f], m = f % 2 ? 1100 : n - first;
            assert_int_equal(wqc_e8m3_merge(sym + first, nib, sig, &e, first, m, base, out, (wqc_isa)isa, NULL), WQC_OK);
            assert_memory_equal(out, v + 2 * first, 2 * m);
        }
    }
    wqc_e8m3_exceptions_free(&e);
    /* Damage: each refused with a format error, nothing left allocated. */
    wqc_error err;
    assert_fails_with(wqc_e8m3_exceptions_decode(x, xlen - 1, n, &e, &err), WQC_ERR_FORMAT, err, "exception");
    assert_fails_with(wqc_e8m3_exceptions_decode(x, xlen, 2047, &e, &err), WQC_ERR_FORMAT, err, "exception 5");
    uint8_t longer[64];
    memcpy(longer, x, xlen);
    longer[xlen] = 0;
    assert_fails_with(wqc_e8m3_exceptions_decode(longer, xlen + 1, n, &e, &err), WQC_ERR_FORMAT, err, "left over");
    longer[0] = 100;
    assert_fails_with(wqc_e8m3_exceptions_decode(longer, xlen, n, &e, &err), WQC_ERR_FORMAT, err, "count");
    static const uint8_t big_bits[] = {1, 0, 0x00, 0x08}; /* 0x800: past 11 bits */
    assert_fails_with(wqc_e8m3_exceptions_decode(big_bits, sizeof big_bits, n, &e, &err), WQC_ERR_FORMAT, err, "exception 0");
    free(x), free(v), free(sym), free(nib), free(sig), free(out);
}

/* A split frame of t with classes of rows (tile 0) or of tile x tile
 * tiles, where the classes are kept, with column shifts over them or not
 * (shifts: 1 or 0; -1 either): every ISA's context decoder gives the scalar
 * symbols, and the container gives t back whole and streamed. */
static void check_classes(const wqc_tensor *t, uint32_t tile, int shifts)
{
    wqc_encode_options o;
    wqc_encode_options_default(&o);
    o.rans.chunk = 8192;
    wqc_frame f;
    void *scratch = NULL;
    wqc_error err;
    size_t n = (size_t)t->nelem;
    assert_int_equal(wqc_frame_lossless(t, &o, 3, &f, &scratch, &err), WQC_OK);
    /* FP8 rows: split with row tables, or a peer where brotli's context
     * modelling finds the rows too; either way back bit-exact below. */
    assert_true(t->dtype == WQC_DTYPE_F8_E4M3 || wqc_encoding_split(f.encoding));
    if (wqc_encoding_split(f.encoding)) {
        uint64_t rows = t->shape[0], cols = t->shape[1];
        assert_true(f.coded.ctx.ntables >= 2);
        assert_int_equal(f.table_tile, tile);
        assert_int_equal(f.coded.ctx.ngroups, tile ? rows * ((cols + tile - 1) / tile) : rows);
        if (shifts >= 0) assert_int_equal(f.coded.ctx.col_shift != NULL, shifts);
        uint8_t *ref = malloc(n), *sym = malloc(n);
        wqc_rans_output out = {.form = WQC_FORM_SYMBOLS, .dst = ref};
        assert_int_equal(wqc_rans_decode_to(&f.coded, &out, 1, WQC_ISA_SCALAR, &err), WQC_OK);
        for (int isa = 1; isa < WQC_ISA_COUNT; isa++) {
            if (!wqc_isa_available((wqc_isa)isa)) continue;
            out.dst = sym;
            assert_int_equal(wqc_rans_decode_to(&f.coded, &out, 2, (wqc_isa)isa, &err), WQC_OK);
            assert_memory_equal(sym, ref, n);
        }
        free(ref), free(sym);
    }
    /* Through the container: whole and streamed on 3 threads. */
    wqc_memory_out s = {0};
    wqc_writer *w;
    assert_int_equal(wqc_writer_open(wqc_memory_sink, &s, NULL, 0, &w, &err), WQC_OK);
    assert_int_equal(wqc_writer_add(w, &f, &err), WQC_OK);
    assert_int_equal(wqc_writer_finish(w, &err), WQC_OK);
    wqc_writer_free(w);
    wqc_reader *r;
    assert_int_equal(wqc_reader_open(s.data, s.len, 0, NULL, 0, &r, &err), WQC_OK);
    const wqc_frame *g;
    assert_int_equal(wqc_reader_frame(r, 0, &g, &err), WQC_OK);
    assert_int_equal(g->coded.ctx.ntables, wqc_encoding_split(f.encoding) ? f.coded.ctx.ntables : 0);
    assert_int_equal(g->table_tile, f.table_tile);
    assert_int_equal(g->coded.ctx.ngroups, f.coded.ctx.ngroups);
    assert_int_equal(g->coded.ctx.col_shift != NULL, f.coded.ctx.col_shift != NULL);
    if (g->coded.ctx.col_shift) assert_memory_equal(g->coded.ctx.col_shift, f.coded.ctx.col_shift, (size_t)t->shape[1]);
    uint8_t *back = malloc(t->nbytes);
    assert_int_equal(wqc_frame_decode_raw(g, back, &err), WQC_OK);
    assert_memory_equal(back, t->data, t->nbytes);
    wqc_memory_out streamed = {0};
    assert_int_equal(wqc_frame_stream(g, WQC_FORM_SYMBOLS, 3, 8192, wqc_memory_sink, &streamed, &err), WQC_OK);
    assert_int_equal(streamed.len, t->nbytes);
    assert_memory_equal(streamed.data, t->data, t->nbytes);
    free(streamed.data), free(back);
    wqc_reader_free(r);
    free(s.data);
    wqc_encoded_free(&f);
    free(scratch);
}

/* BF16 values (split-e8m3's symbols) and FP8 values whose rows differ in
 * scale take a table per class of rows, and come back bit-exact however
 * it is coded. */
static void test_lossless_row_tables(void **state)
{
    (void)state;
    const size_t rows = 256, cols = 512, n = rows * cols;
    uint8_t *v = trained_bf16(n, 31), *f8 = malloc(n);
    uint64_t seed = 9;
    for (size_t r = 0; r < rows; r++) {
        unsigned up = (unsigned)(test_rand(&seed) % 3) * 2; /* rows 1, 4 or 16 x larger, at random */
        for (size_t c = 0; c < cols; c++) {
            uint16_t h;
            memcpy(&h, v + 2 * (r * cols + c), 2);
            h = (uint16_t)(h + (up << 7));
            memcpy(v + 2 * (r * cols + c), &h, 2);
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, v + 2 * i, 2);
        f8[i] = wqc_e4m3_encode(wqc_bf16_to_f32(h) * 64.0);
    }
    static const wqc_dtype dtypes[2] = {WQC_DTYPE_BF16, WQC_DTYPE_F8_E4M3};
    for (int d = 0; d < 2; d++) {
        wqc_tensor t = {"rows", dtypes[d], 2, {rows, cols}, n, d ? f8 : v, n * wqc_dtype_size(dtypes[d])};
        check_classes(&t, 0, -1);
    }
    free(v), free(f8);
}

/* BF16 and F16 matrices whose columns (input channels) and rows differ in
 * scale: column shifts over ordered classes of rows (COLUMNS beside ROWS). */
static void test_lossless_column_shifts(void **state)
{
    (void)state;
    const size_t rows = 300, cols = 700, n = rows * cols;
    uint8_t *v = trained_bf16(n, 77), *h16 = malloc(2 * n);
    uint64_t seed = 13;
    unsigned *col_up = malloc(cols * sizeof *col_up);
    for (size_t c = 0; c < cols; c++) col_up[c] = (unsigned)(test_rand(&seed) % 3) * 2; /* 1, 4 or 16 x larger */
    for (size_t r = 0; r < rows; r++) {
        unsigned row_up = (unsigned)(test_rand(&seed) % 2);
        for (size_t c = 0; c < cols; c++) {
            uint16_t h;
            memcpy(&h, v + 2 * (r * cols + c), 2);
            h = (uint16_t)(h + ((col_up[c] + row_up) << 7));
            memcpy(v + 2 * (r * cols + c), &h, 2);
            uint16_t half = wqc_f32_to_f16(wqc_bf16_to_f32(h));
            memcpy(h16 + 2 * (r * cols + c), &half, 2);
        }
    }
    wqc_tensor t = {"columns", WQC_DTYPE_BF16, 2, {rows, cols}, n, v, 2 * n};
    check_classes(&t, 0, 1);
    wqc_tensor half = {"columns", WQC_DTYPE_F16, 2, {rows, cols}, n, h16, 2 * n};
    check_classes(&half, 0, 1);
    free(v), free(h16), free(col_up);
}

/* FP8 values scaled per 128 x 128 block, as FP8 checkpoints are, where the
 * blocks' value distributions differ (a block of small weights fills the
 * FP8 range less): a table per class of tiles (TILES), the last tiles of
 * a row and of a column narrower. */
static void test_lossless_tile_tables(void **state)
{
    (void)state;
    const size_t rows = 400, cols = 600, n = rows * cols;
    uint8_t *v = trained_bf16(n, 41), *f8 = malloc(n);
    double spread[4][5];
    uint64_t seed = 5;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 5; j++) spread[i][j] = (double)(1u << (test_rand(&seed) % 3 * 2)); /* 1, 4 or 16 */
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, v + 2 * i, 2);
        double x = wqc_bf16_to_f32(h) * 64.0, s = spread[i / cols / 128][i % cols / 128];
        f8[i] = wqc_e4m3_encode(x / s);
    }
    wqc_tensor t = {"tiles", WQC_DTYPE_F8_E4M3, 2, {rows, cols}, n, f8, n};
    check_classes(&t, 128, 0);
    free(v), free(f8);
}

/* Rows that repeat a third of the row above, at the same columns (a head's
 * rows of unseen tokens): the general-purpose peers are tried, and one of
 * them is smaller than the split coding. */
static void test_lossless_row_repeats_try_the_peers(void **state)
{
    (void)state;
    const size_t rows = 256, cols = 192, n = rows * cols;
    uint8_t *v = trained_bf16(n, 11);
    uint64_t seed = 3;
    for (size_t i = cols; i < n; i++)
        if (test_rand(&seed) % 3 == 0) memcpy(v + 2 * i, v + 2 * (i - cols), 2);
    wqc_tensor t = {"head", WQC_DTYPE_BF16, 2, {rows, cols}, n, v, 2 * n};
    wqc_encode_options o;
    wqc_encode_options_default(&o);
    wqc_frame f;
    void *scratch = NULL;
    assert_int_equal(wqc_frame_lossless(&t, &o, 19, &f, &scratch, NULL), WQC_OK);
    assert_false(wqc_encoding_split(f.encoding));
    assert_true(f.encoding == WQC_ENC_LZMA || f.encoding == WQC_ENC_BROTLI || f.encoding == WQC_ENC_ZSTD);
    wqc_encoded_free(&f);
    free(scratch);
    free(v);
}

/* A file of lossless tensors, read back lazily and sequentially. */
static void test_lossless_frames_in_the_container(void **state)
{
    (void)state;
    enum { N = 7 };
    static const wqc_dtype dtypes[N] = {WQC_DTYPE_F32,  WQC_DTYPE_F16,  WQC_DTYPE_BF16, WQC_DTYPE_F32,
                                        WQC_DTYPE_BF16, WQC_DTYPE_BF16, WQC_DTYPE_BF16};
    static const uint64_t rows[N] = {1000, 64, 1000, 1000, 3, 999, 1000}; /* past WQC_FLOATS_MAX but the 2nd and 5th */
    const char *names[N] = {"f32", "f16", "bf16", "f32_from_bf16", "tiny", "bf16_trained", "bf16_zeros"};
    uint8_t *data[N];
    wqc_frame frames[N];
    void *scratch[N];
    wqc_encode_options o;
    wqc_encode_options_default(&o);
    o.rans.chunk = 4096; /* several chunks, for the streamed windows */
    wqc_memory_out s = {0};
    wqc_writer *w;
    wqc_error err;
    assert_int_equal(wqc_writer_open(wqc_memory_sink, &s, NULL, 0, &w, &err), WQC_OK);
    for (int i = 0; i < N; i++) {
        uint64_t n = rows[i] * 70;
        data[i] = i >= 5 ? trained_bf16((size_t)n, (uint64_t)i) : values(dtypes[i], (size_t)n, (uint64_t)i);
        if (i == 6) /* zeros here and there: exceptions, across the streamed tasks' edges */
            for (uint64_t k = 0; k < n; k += 997) data[i][2 * k] = data[i][2 * k + 1] = 0;
        if (i == 3) /* F32 widened from BF16: its two low bytes are zero, zstd takes them */
            for (uint64_t k = 0; k < n; k++) data[i][4 * k] = data[i][4 * k + 1] = 0;
        wqc_tensor t = {names[i], dtypes[i], 2, {rows[i], 70}, n, data[i], n * wqc_dtype_size(dtypes[i])};
        assert_int_equal(wqc_frame_lossless(&t, &o, 3, &frames[i], &scratch[i], &err), WQC_OK);
        assert_int_equal(wqc_writer_add(w, &frames[i], &err), WQC_OK);
    }
    assert_int_equal(frames[0].encoding, WQC_ENC_SPLIT);
    assert_int_equal(frames[2].encoding, WQC_ENC_SPLIT);
    assert_int_equal(frames[3].encoding, WQC_ENC_SPLIT);
    assert_int_equal(frames[3].rest_coding[2], WQC_ENC_ZSTD);
    assert_true(frames[3].rest_len[2] < 1000);
    assert_int_not_equal(frames[4].encoding, WQC_ENC_SPLIT); /* 210 values: the float coder */
    /* Trained-like BF16 takes the exponent and 3 mantissa bits as its
     * symbol; the specials of "bf16" leave the window. */
    assert_int_equal(frames[5].encoding, WQC_ENC_SPLIT_E8M3);
    assert_int_equal(frames[5].rest_len[0], 999 * 35);
    assert_int_equal(frames[5].rest_len[1], (999 * 70 + 7) / 8);
    assert_int_equal(frames[5].rest_len[2], 1); /* no exceptions: the count */
    assert_int_equal(frames[6].encoding, WQC_ENC_SPLIT_E8M3);
    assert_true(frames[6].rest_len[2] > 3 * 70);
    assert_int_equal(wqc_writer_finish(w, &err), WQC_OK);
    wqc_writer_free(w);
    for (int lazy = 0; lazy < 2; lazy++) {
        wqc_reader *r;
        assert_int_equal(wqc_reader_open(s.data, s.len, lazy, NULL, 0, &r, &err), WQC_OK);
        for (int i = 0; i < N; i++) {
            const wqc_frame *f;
            assert_int_equal(wqc_reader_frame(r, (size_t)i, &f, &err), WQC_OK);
            uint8_t *back = malloc(f->raw_len + 1);
            assert_int_equal(wqc_frame_decode_raw(f, back, &err), WQC_OK);
            assert_memory_equal(back, data[i], f->raw_len);
            wqc_memory_out streamed = {0};
            assert_int_equal(wqc_frame_stream(f, WQC_FORM_SYMBOLS, 2, 4096, wqc_memory_sink, &streamed, &err), WQC_OK);
            assert_int_equal(streamed.len, f->raw_len);
            assert_memory_equal(streamed.data, data[i], f->raw_len);
            free(streamed.data);
            free(back);
        }
        wqc_reader_free(r);
    }
    /* Any flipped byte of the big tensor's record is caught before its values are used. */
    size_t at = s.len / 3;
    s.data[at] ^= 0x10;
    wqc_reader *r;
    wqc_status st = wqc_reader_open(s.data, s.len, 0, NULL, 0, &r, &err);
    assert_true(st == WQC_ERR_CHECKSUM || st == WQC_ERR_FORMAT);
    /* A split-e8m3 base whose symbols could overflow the exponent is refused. */
    wqc_memory_out bad = {0};
    frames[5].split_base = WQC_E8M3_BASE_MAX + 1;
    assert_int_equal(wqc_writer_open(wqc_memory_sink, &bad, NULL, 0, &w, &err), WQC_OK);
    assert_int_equal(wqc_writer_add(w, &frames[5], &err), WQC_OK);
    assert_int_equal(wqc_writer_finish(w, &err), WQC_OK);
    wqc_writer_free(w);
    assert_fails_with(wqc_reader_open(bad.data, bad.len, 0, NULL, 0, &r, &err), WQC_ERR_FORMAT, err, "base");
    free(bad.data);
    for (int i = 0; i < N; i++) {
        wqc_encoded_free(&frames[i]);
        free(scratch[i]);
        free(data[i]);
    }
    free(s.data);
}

/* The source layout: written before the tensors, read back in both modes,
 * and refused unless it lists every tensor once. */
static void test_lossless_source_record(void **state)
{
    (void)state;
    for (int bad = 0; bad < 3; bad++) {
        wqc_memory_out s = {0};
        wqc_writer *w;
        wqc_error err;
        const char header[] = "{\"a\":{...}}      ";
        size_t order_ok[2] = {1, 0}, order_dup[2] = {1, 1}, order_short[1] = {0};
        wqc_source src = {WQC_SOURCE_SAFETENSORS, (const uint8_t *)header, sizeof header - 1,
                          bad == 1 ? order_dup : bad == 2 ? order_short : order_ok, bad == 2 ? 1 : 2, NULL, 0};
        assert_int_equal(wqc_writer_open(wqc_memory_sink, &s, NULL, 0, &w, &err), WQC_OK);
        assert_int_equal(wqc_writer_source(w, &src, &err), WQC_OK);
        uint8_t raw[2][8] = {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 9, 9, 9, 9, 9, 9, 9}};
        for (int i = 0; i < 2; i++) {
            wqc_tensor t = {i ? "b" : "a", WQC_DTYPE_U8, 1, {8}, 8, raw[i], 8};
            wqc_frame f;
            wqc_frame_init(&f, &t);
            f.encoding = WQC_ENC_RAW;
            f.payload = raw[i];
            f.payload_len = f.raw_len = 8;
            assert_int_equal(wqc_writer_add(w, &f, &err), WQC_OK);
        }
        assert_int_equal(wqc_writer_source(w, &src, &err), WQC_ERR_INVALID_ARG); /* after a tensor */
        assert_int_equal(wqc_writer_finish(w, &err), WQC_OK);
        wqc_writer_free(w);
        for (int lazy = 0; lazy < 2; lazy++) {
            wqc_reader *r = NULL;
            wqc_status st = wqc_reader_open(s.data, s.len, lazy, NULL, 0, &r, &err);
            if (bad) {
                assert_int_equal(st, WQC_ERR_FORMAT);
                assert_non_null(strstr(err.msg, "SOURCE"));
                continue;
            }
            assert_int_equal(st, WQC_OK);
            const wqc_source *got = wqc_reader_source(r);
            assert_non_null(got);
            assert_int_equal(got->format, WQC_SOURCE_SAFETENSORS);
            assert_int_equal(got->header_len, sizeof header - 1);
            assert_memory_equal(got->header, header, sizeof header - 1);
            assert_int_equal(got->n, 2);
            assert_int_equal(got->order[0], 1);
            wqc_reader_free(r);
        }
        free(s.data);
    }
}

/* GGUF block peaks: each block's first peak code (Q8_0 +-127, Q4_0 0) out of
 * the codes and back; blocks without a peak or with several; symbols out of
 * range, or giving another peak count, refused. */
static void test_lossless_gguf_peaks(void **state)
{
    (void)state;
    static const uint32_t types[2] = {WQC_GGML_Q8_0, WQC_GGML_Q4_0};
    const uint64_t blocks = 300, n = 32 * blocks;
    for (int k = 0; k < 2; k++) {
        uint32_t type = types[k];
        uint8_t *codes = malloc(n), *want = malloc(n), *rest = malloc(n + WQC_GGUF_PEAK_SLACK);
        uint8_t *back = malloc(n + WQC_GGUF_PEAK_SLACK), *sym = malloc(blocks), *want_sym = malloc(blocks);
        uint64_t seed = 17 + (uint64_t)k, expect_peaks = 0, w = 0;
        for (uint64_t b = 0; b < blocks; b++) {
            uint8_t *block = codes + 32 * b;
            for (int j = 0; j < 32; j++) /* codes near the middle: never a peak */
                block[j] = type == WQC_GGML_Q8_0 ? (uint8_t)(int8_t)((int)(test_rand(&seed) % 61) - 30)
                                                 : (uint8_t)(4 + test_rand(&seed) % 9);
            uint64_t r = test_rand(&seed) % 10;
            int first = -1, negative = 0;
            if (r < 8) { /* one peak */
                first = (int)(test_rand(&seed) % 32);
                negative = type == WQC_GGML_Q8_0 && test_rand(&seed) % 2;
                block[first] = type == WQC_GGML_Q4_0 ? 0 : negative ? (uint8_t)-127 : 127;
            } else if (r == 8) { /* two: the first is taken */
                first = (int)(test_rand(&seed) % 16);
                block[first] = type == WQC_GGML_Q4_0 ? 0 : 127;
                block[first + 1 + test_rand(&seed) % 15] = type == WQC_GGML_Q4_0 ? 0 : (uint8_t)-127;
            }
            want_sym[b] = first < 0 ? WQC_GGUF_PEAK_NONE : (uint8_t)(first | negative << 5);
            expect_peaks += first >= 0;
            for (int j = 0; j < 32; j++)
                if (j != first) want[w++] = block[j];
        }
        uint64_t npeaks = wqc_gguf_peaks_take(type, codes, n, rest, sym);
        assert_int_equal(npeaks, expect_peaks);
        assert_memory_equal(rest, want, (size_t)(n - npeaks));
        assert_memory_equal(sym, want_sym, (size_t)blocks);
        wqc_error err;
        memset(rest + n - npeaks, 0xee, WQC_GGUF_PEAK_SLACK);
        assert_int_equal(wqc_gguf_peaks_put(type, sym, npeaks, rest, back, n, &err), WQC_OK);
        assert_memory_equal(back, codes, (size_t)n);
        /* In place on the encoder's side. */
        memcpy(back, codes, (size_t)n);
        assert_int_equal(wqc_gguf_peaks_take(type, back, n, back, sym), npeaks);
        assert_memory_equal(back, want, (size_t)(n - npeaks));
        /* Damage: another count, a symbol past the alphabet, a signed Q4_0 peak. */
        assert_int_equal(wqc_gguf_peaks_put(type, sym, npeaks + 1, rest, back, n, &err), WQC_ERR_FORMAT);
        assert_int_equal(wqc_gguf_peaks_put(type, sym, npeaks - 1, rest, back, n, &err), WQC_ERR_FORMAT);
        uint8_t keep = sym[7];
        sym[7] = WQC_GGUF_PEAK_ALPHABET;
        assert_int_equal(wqc_gguf_peaks_put(type, sym, npeaks, rest, back, n, &err), WQC_ERR_FORMAT);
        sym[7] = 32 | 3;
        assert_int_equal(wqc_gguf_peaks_put(type, sym, npeaks + (keep == WQC_GGUF_PEAK_NONE), rest, back, n, &err),
                         type == WQC_GGML_Q4_0 ? WQC_ERR_FORMAT : WQC_OK);
        free(codes), free(want), free(rest), free(back), free(sym), free(want_sym);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lossless_split_merge_every_isa),
        cmocka_unit_test(test_lossless_e8m3_every_isa),
        cmocka_unit_test(test_lossless_e8m3_exceptions),
        cmocka_unit_test(test_lossless_row_repeats_try_the_peers),
        cmocka_unit_test(test_lossless_row_tables),
        cmocka_unit_test(test_lossless_tile_tables),
        cmocka_unit_test(test_lossless_column_shifts),
        cmocka_unit_test(test_lossless_frames_in_the_container),
        cmocka_unit_test(test_lossless_source_record),
        cmocka_unit_test(test_lossless_gguf_peaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
