/* Fused decode + GEMV: the gemv layout round-trips, and wqc_gemv_run on every
 * ISA equals dequantize-then-multiply in double precision within a bound
 * derived from float32 rounding, and gives the same bits as the scalar path. */
#include <math.h>
#include <stdlib.h>

#include "test_common.h"

typedef struct matrix {
    wqc_quantized q;
    float *x;
} matrix;

static matrix make(uint64_t rows, uint64_t cols, uint32_t alphabet, int per_row, uint64_t seed)
{
    matrix m = {0};
    uint64_t n = rows * cols;
    m.q = (wqc_quantized){.rows = rows, .cols = cols, .alphabet = alphabet, .bits = 8};
    m.q.ngroups = per_row ? rows : 1;
    m.q.group_len = per_row ? cols : n;
    m.q.symbols = malloc(n + 1);
    m.q.scale = malloc(m.q.ngroups * sizeof(float));
    m.q.offset = malloc(m.q.ngroups * sizeof(float));
    m.x = malloc(cols * sizeof(float) + 4);
    /* Roughly Gaussian symbols around the middle, as quantized weights are. */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t a = test_rand(&seed) % alphabet, b = test_rand(&seed) % alphabet;
        m.q.symbols[i] = (uint8_t)((a + b) / 2);
    }
    for (uint64_t g = 0; g < m.q.ngroups; g++) {
        m.q.scale[g] = (float)(test_rand(&seed) % 1000 + 1) * 1.7e-5f;
        m.q.offset[g] = -(float)(test_rand(&seed) % 1000) * 1.3e-4f;
    }
    for (uint64_t j = 0; j < cols; j++) m.x[j] = (float)((int64_t)(test_rand(&seed) % 20001) - 10000) * 1e-4f;
    return m;
}

static void drop(matrix *m)
{
    free(m->q.symbols);
    free(m->q.scale);
    free(m->q.offset);
    free(m->x);
}

/* |fused - exact| bound per row: the cols fused multiply-adds of the
 * accumulator (gamma_cols), the float rounding of each dequantized weight
 * in the reference (2u per weight), and the final rounding of y (u). */
static void check_against_double(const matrix *m, const float *y)
{
    const wqc_quantized *q = &m->q;
    const double u = 0x1p-24, gamma = q->cols * u / (1 - q->cols * u);
    float *w = malloc(q->rows * q->cols * sizeof(float) + 4);
    wqc_dequantize(q, w);
    for (uint64_t r = 0; r < q->rows; r++) {
        uint64_t g = q->ngroups == 1 ? 0 : r;
        double scale = fabs((double)q->scale[g]), offset = fabs((double)q->offset[g]);
        double exact = 0, qx = 0, wx = 0;
        for (uint64_t j = 0; j < q->cols; j++) {
            double x = m->x[j], s = q->symbols[r * q->cols + j];
            exact += (double)w[r * q->cols + j] * x;
            qx += s * fabs(x);
            wx += fabs(x) * (offset + scale * s);
        }
        double tol = scale * gamma * qx + 2 * u * wx + u * fabs(exact) + 1e-30;
        if (fabs((double)y[r] - exact) > tol)
            fail_msg("%llux%llu row %llu: fused %.9g, exact %.9g, bound %.3g", (unsigned long long)q->rows,
                     (unsigned long long)q->cols, (unsigned long long)r, (double)y[r], exact, tol);
    }
    free(w);
}

/* Codes m in the gemv layout with its own zero-point model: a table per
 * row's zero-point bin (rows get different offsets so that bins differ). */
static void encode_context(matrix *m, const wqc_rans_params *p, wqc_rans_coded *c)
{
    wqc_quantized *q = &m->q;
    for (uint64_t g = 0; g < q->ngroups; g++) q->offset[g] = -q->scale[g] * (float)(g * 7 % q->alphabet);
    uint32_t nbins = wqc_symbol_model_nbins(q->alphabet, 1);
    uint64_t *counts = calloc(256 * (size_t)nbins, sizeof *counts);
    wqc_symbol_model_count(q, 1, counts);
    wqc_symbol_model model;
    assert_int_equal(wqc_symbol_model_build(counts, 1, q->alphabet, p->precision, 1, &model, NULL), WQC_OK);
    wqc_rans_params gp = *p;
    gp.chunk = wqc_gemv_chunk(q->cols, p->lanes, p->chunk);
    wqc_rans_context ctx;
    assert_int_equal(wqc_symbol_model_context(&model, q, p->lanes, NULL, &ctx, NULL), WQC_OK);
    uint8_t *tiled = malloc(q->rows * q->cols + 1);
    wqc_gemv_tile(q->symbols, q->rows, q->cols, p->lanes, tiled);
    assert_int_equal(wqc_rans_encode_context(tiled, q->rows * q->cols, &ctx, &gp, c, NULL), WQC_OK);
    free(tiled);
    free(ctx.group_table);
    free(counts);
    wqc_symbol_model_free(&model);
}

static void check_coded(uint64_t rows, uint64_t cols, uint32_t lanes, uint32_t alphabet, int per_row, uint32_t chunk,
                        int context)
{
    matrix m = make(rows, cols, alphabet, per_row, rows * 7919 + cols * 31 + lanes);
    wqc_error err;
    wqc_rans_params p;
    wqc_rans_params_default(&p);
    p.lanes = lanes;
    p.chunk = chunk;
    p.precision = 12;
    wqc_rans_coded c;
    if (context) encode_context(&m, &p, &c);
    else assert_int_equal(wqc_gemv_encode(&m.q, &p, &c, &err), WQC_OK);
    assert_int_equal(wqc_gemv_check(&c, &m.q, &err), WQC_OK);
    if (c.nchunks > 1) assert_int_equal(c.chunk % (lanes * cols), 0);

    /* The stream holds the tiled symbols: decoding and untiling restores them. */
    uint64_t n = rows * cols;
    uint8_t *tiled = malloc(n + 1), *back = malloc(n + 1);
    assert_int_equal(wqc_rans_decode(&c, 1, tiled, &err), WQC_OK);
    wqc_gemv_untile(tiled, rows, cols, lanes, back);
    assert_memory_equal(back, m.q.symbols, n);

    wqc_gemv *g;
    assert_int_equal(wqc_gemv_prepare(&c, &m.q, &g, &err), WQC_OK);
    float *ref = malloc(rows * sizeof(float)), *y = malloc(rows * sizeof(float));
    assert_int_equal(wqc_gemv_run(g, m.x, ref, 1, WQC_ISA_SCALAR, &err), WQC_OK);
    check_against_double(&m, ref);
    for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
        if (!wqc_isa_available((wqc_isa)isa)) continue;
        for (int threads = 1; threads <= 2; threads++) {
            memset(y, 0x7f, rows * sizeof(float));
            assert_int_equal(wqc_gemv_run(g, m.x, y, threads, (wqc_isa)isa, &err), WQC_OK);
            if (memcmp(y, ref, rows * sizeof(float)) != 0)
                fail_msg("%s (%d threads) differs from scalar: %llux%llu lanes %u", wqc_isa_name((wqc_isa)isa),
                         threads, (unsigned long long)rows, (unsigned long long)cols, lanes);
        }
    }
    wqc_gemv_free(g);
    wqc_rans_coded_free(&c);
    free(tiled);
    free(back);
    free(ref);
    free(y);
    drop(&m);
}

static void check(uint64_t rows, uint64_t cols, uint32_t lanes, uint32_t alphabet, int per_row, uint32_t chunk)
{
    check_coded(rows, cols, lanes, alphabet, per_row, chunk, 0);
}

/* Context tables chosen per row (lane): every ISA's fused product against
 * double precision and the scalar path. */
static void test_gemv_context_tables_per_row(void **state)
{
    (void)state;
    check_coded(37, 53, 16, 16, 1, 1024, 1);
    check_coded(100, 300, 32, 16, 1, 20000, 1);
    check_coded(129, 257, 64, 16, 1, 1 << 20, 1);
    check_coded(70, 90, 8, 256, 1, 1024, 1);
    check_coded(3000, 1, 32, 16, 1, 1024, 1);
}

static void test_gemv_every_isa_matches_double_precision(void **state)
{
    (void)state;
    check(1, 1, 8, 16, 1, 1024);        /* 1 x 1: a tail tile only */
    check(1, 3000, 32, 16, 0, 1024);    /* one row */
    check(3000, 1, 32, 16, 1, 1024);    /* one column, many tiles and chunks */
    check(37, 53, 16, 16, 1, 1024);     /* odd shapes, a tail tile of 5 rows */
    check(64, 128, 32, 16, 1, 4096);    /* whole tiles only */
    check(100, 300, 32, 8, 1, 20000);   /* 3-bit, chunks of two tiles */
    check(129, 257, 64, 16, 0, 1 << 20);
    check(70, 90, 8, 256, 1, 1024);     /* 8-bit: the general table */
    check(45, 1024, 16, 16, 1, 1024);   /* a tile per chunk */
}

static void test_gemv_tile_round_trip(void **state)
{
    (void)state;
    uint8_t a[7 * 5], t[7 * 5], b[7 * 5];
    for (int i = 0; i < 35; i++) a[i] = (uint8_t)i;
    wqc_gemv_tile(a, 7, 5, 4, t);
    /* Tile 0 is rows 0..3 column-major, the tail tile rows 4..6. */
    assert_int_equal(t[0], 0);
    assert_int_equal(t[1], 5);
    assert_int_equal(t[4], 1);
    assert_int_equal(t[20], 20);
    assert_int_equal(t[21], 25);
    assert_int_equal(t[23], 21);
    wqc_gemv_untile(t, 7, 5, 4, b);
    assert_memory_equal(a, b, sizeof a);
}

static void test_gemv_refuses_what_it_cannot_do(void **state)
{
    (void)state;
    wqc_error err;
    matrix m = make(8, 64, 16, 1, 9);
    wqc_rans_params p;
    wqc_rans_params_default(&p);
    wqc_quantized grouped = m.q;
    grouped.ngroups = 16;
    grouped.group_len = 32;
    wqc_rans_coded c;
    assert_fails_with(wqc_gemv_encode(&grouped, &p, &c, &err), WQC_ERR_UNSUPPORTED, err, "per-row");
    /* A stream in row-major chunks that split tiles is not in the gemv layout. */
    p.lanes = 8;
    p.chunk = 1024;
    matrix big = make(64, 100, 16, 1, 10);
    assert_int_equal(wqc_rans_encode(big.q.symbols, 6400, 16, &p, &c, &err), WQC_OK);
    wqc_gemv *g;
    assert_fails_with(wqc_gemv_prepare(&c, &big.q, &g, &err), WQC_ERR_FORMAT, err, "whole tiles");
    wqc_rans_coded_free(&c);
    assert_int_equal(wqc_gemv_chunk(100, 8, 1024), 1600);
    assert_int_equal(wqc_gemv_chunk(1u << 26, 32, 1024), 0);
    drop(&m);
    drop(&big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemv_tile_round_trip),
        cmocka_unit_test(test_gemv_every_isa_matches_double_precision),
        cmocka_unit_test(test_gemv_context_tables_per_row),
        cmocka_unit_test(test_gemv_refuses_what_it_cannot_do),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
