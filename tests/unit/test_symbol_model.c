/* Symbol models: zero-point bins, building by merging bins, descriptions. */
#include "test_common.h"

#include <math.h>
#include <stdlib.h>

#include "../../src/symbol_model/col_shift_field.h"
#include "../../src/symbol_model/describe.h"
#include "../../src/side/range_coder.h"

static void test_model_bins_follow_the_zero_point(void **state)
{
    (void)state;
    /* z = -offset / scale: 7.5 -> bin 7 at R = 1, 15 at R = 2. */
    assert_int_equal(wqc_symbol_model_bin(16, 1, 0.125f, -0.9375f), 7);
    assert_int_equal(wqc_symbol_model_bin(32, 2, 0.125f, -0.9375f), 15);
    assert_int_equal(wqc_symbol_model_bin(32, 2, 0.125f, -0.9374f), 14);
    assert_int_equal(wqc_symbol_model_bin(16, 1, 0.1f, 0.5f), 0);       /* below the grid */
    assert_int_equal(wqc_symbol_model_bin(16, 1, 0.1f, -100.0f), 15);   /* above it */
    assert_int_equal(wqc_symbol_model_bin(16, 1, 0.0f, -1.0f), 0);      /* constant group */
    assert_int_equal(wqc_symbol_model_bin(16, 0, 0.1f, -0.75f), 0);     /* order-0 */
    assert_int_equal(wqc_symbol_model_nbins(16, 2), 32);
    assert_int_equal(wqc_symbol_model_nbins(256, 2), 0);
    assert_int_equal(wqc_symbol_model_nbins(256, 0), 1);
}

/* Rows whose zero point lies low use low symbols, the rest high ones. */
static void make_tensor(wqc_quantized *q, uint64_t rows, uint64_t cols, uint64_t seed)
{
    memset(q, 0, sizeof *q);
    q->rows = rows, q->cols = cols, q->group_len = cols, q->ngroups = rows;
    q->alphabet = 16, q->bits = 4;
    q->symbols = malloc(rows * cols);
    q->scale = malloc(rows * sizeof(float));
    q->offset = malloc(rows * sizeof(float));
    for (uint64_t r = 0; r < rows; r++) {
        int low = r % 3 == 0;
        q->scale[r] = 0.01f;
        q->offset[r] = low ? -0.035f : -0.115f; /* z = 3.5 or 11.5 */
        for (uint64_t c = 0; c < cols; c++) {
            uint64_t x = test_rand(&seed);
            int s = (low ? 3 : 11) + (int)(x % 5) - 2 + ((x >> 8) % 16 == 0 ? (int)((x >> 12) % 5) : 0);
            q->symbols[r * cols + c] = (uint8_t)(s < 0 ? 0 : s > 15 ? 15 : s);
        }
    }
}

static void test_model_build_merges_bins_by_their_statistics(void **state)
{
    (void)state;
    wqc_quantized q;
    make_tensor(&q, 300, 256, 1);
    uint32_t nbins = wqc_symbol_model_nbins(16, 1);
    uint64_t *counts = calloc(256 * (size_t)nbins, sizeof *counts);
    wqc_symbol_model_count(&q, 1, counts);
    wqc_symbol_model m, o0;
    wqc_error err;
    assert_int_equal(wqc_symbol_model_build(counts, 1, 16, 12, 0, &m, &err), WQC_OK);
    assert_int_equal(m.ntables, 2);
    assert_int_equal(m.bin_table[3], 0);
    assert_int_equal(m.bin_table[11], 1);
    /* Order-0 on the same data costs more than the tables save. */
    uint64_t all[256] = {0};
    wqc_symbol_model_count(&q, 0, all);
    assert_int_equal(wqc_symbol_model_build(all, 0, 16, 12, 0, &o0, &err), WQC_OK);
    assert_int_equal(o0.ntables, 1);
    double ctx_bytes = wqc_symbol_model_cost_bits(&m, counts) / 8 + (double)wqc_symbol_model_bytes(&m);
    double o0_bytes = wqc_symbol_model_cost_bits(&o0, all) / 8 + (double)wqc_symbol_model_bytes(&o0);
    assert_true(ctx_bytes < 0.8 * o0_bytes);
    /* The context picks each row's table from its zero point. */
    wqc_rans_context ctx;
    assert_int_equal(wqc_symbol_model_context(&m, &q, 0, NULL, &ctx, &err), WQC_OK);
    for (uint64_t r = 0; r < q.rows; r++) assert_int_equal(ctx.group_table[r], r % 3 == 0 ? 0 : 1);
    /* Coded with it, the payload is within 1% of the estimate. */
    wqc_rans_params p = {12, 8, 1u << 20, 1};
    wqc_rans_coded c;
    assert_int_equal(wqc_rans_encode_context(q.symbols, q.rows * q.cols, &ctx, &p, &c, &err), WQC_OK);
    assert_in_range(c.payload_len, (uint64_t)(wqc_symbol_model_cost_bits(&m, counts) / 8),
                    (uint64_t)(wqc_symbol_model_cost_bits(&m, counts) / 8 * 1.01) + 40);
    uint8_t *back = malloc(q.rows * q.cols);
    assert_int_equal(wqc_rans_decode(&c, 1, back, &err), WQC_OK);
    assert_memory_equal(back, q.symbols, q.rows * q.cols);
    free(back);
    wqc_rans_coded_free(&c);
    free(ctx.group_table);
    /* A covering model gives every symbol a frequency. */
    wqc_symbol_model cov;
    assert_int_equal(wqc_symbol_model_build(counts, 1, 16, 12, 1, &cov, &err), WQC_OK);
    for (uint32_t t = 0; t < cov.ntables; t++)
        for (int s = 0; s < 16; s++) assert_true(cov.tables[t].freq[s] > 0);
    assert_true(isinf(wqc_symbol_model_cost_bits(&m, (uint64_t[256 * 16]){[256 * 3 + 15] = 1})));
    wqc_symbol_model_free(&cov);
    wqc_symbol_model_free(&m);
    wqc_symbol_model_free(&o0);
    free(counts);
    free(q.symbols), free(q.scale), free(q.offset);
}

static void roundtrip(const wqc_symbol_model *m)
{
    wqc_bytes b = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &b);
    wqc_symbol_model_write(&e, m);
    wqc_rc_enc_finish(&e);
    assert_int_equal(b.len, wqc_symbol_model_bytes(m));
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, b.data, b.len);
    wqc_symbol_model back;
    wqc_error err;
    assert_int_equal(wqc_symbol_model_read(&d, m->alphabet, m->precision, &back, &err), WQC_OK);
    assert_int_equal(back.resolution, m->resolution);
    assert_int_equal(back.nbins, m->nbins);
    assert_int_equal(back.ntables, m->ntables);
    assert_memory_equal(back.bin_table, m->bin_table, m->nbins);
    for (uint32_t t = 0; t < m->ntables; t++)
        assert_memory_equal(back.tables[t].freq, m->tables[t].freq, sizeof m->tables[t].freq);
    /* Cut to half, it is refused (the decoder reads zeros past the end). */
    if (b.len >= 24) {
        wqc_rc_dec_init(&d, b.data, b.len / 2);
        wqc_symbol_model cut;
        wqc_status st = wqc_symbol_model_read(&d, m->alphabet, m->precision, &cut, &err);
        if (st == WQC_OK) wqc_symbol_model_free(&cut);
        assert_int_equal(st, WQC_ERR_FORMAT);
    }
    wqc_symbol_model_free(&back);
    wqc_bytes_free(&b);
}

static void test_model_descriptions_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 9;
    for (uint32_t res = 0; res <= 4; res++) {
        for (uint32_t alphabet = 2; alphabet <= 64; alphabet *= 2) {
            uint32_t nbins = wqc_symbol_model_nbins(alphabet, res);
            if (!nbins) continue;
            uint64_t *counts = calloc(256 * (size_t)nbins, sizeof *counts);
            for (uint32_t b = 0; b < nbins; b++)
                for (uint32_t s = 0; s < alphabet; s++)
                    counts[256 * b + s] = test_rand(&seed) % 4 ? (test_rand(&seed) % 1000) * (1 + b % 5 * s) : 0;
            wqc_symbol_model m;
            assert_int_equal(wqc_symbol_model_build(counts, res, alphabet, 12, (int)(res & 1), &m, NULL), WQC_OK);
            roundtrip(&m);
            wqc_symbol_model_free(&m);
            free(counts);
        }
    }
}

static void test_model_refuses_malformed_descriptions(void **state)
{
    (void)state;
    /* Resolution 200 for 16 symbols needs 3200 bins. */
    wqc_bytes b = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &b);
    wqc_rc_uint u;
    memset(&u, 0, sizeof u);
    wqc_rc_encode_uint(&e, &u, 200);
    wqc_rc_enc_finish(&e);
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, b.data, b.len);
    wqc_symbol_model m;
    wqc_error err;
    assert_fails_with(wqc_symbol_model_read(&d, 16, 12, &m, &err), WQC_ERR_FORMAT, err, "resolution");
    wqc_bytes_free(&b);
}

/* Counts per bin, with and without column shifts, on 1 and 3 threads and
 * for alphabets counted in sub-counts (16) or straight (256), against the
 * definition: element (r, c) counted in bin clamp(bin(group) + shift[c]). */
static void test_model_counts_match_the_definition(void **state)
{
    (void)state;
    enum { ROWS = 700, COLS = 301, GROUP = 64 }; /* 3 threads of 2^16 elements and more */
    const uint64_t per_row = (COLS + GROUP - 1) / GROUP;
    uint8_t *sym = malloc(ROWS * COLS);
    float *scale = malloc(ROWS * per_row * sizeof *scale), *offset = malloc(ROWS * per_row * sizeof *offset);
    int8_t shift[COLS];
    assert_true(sym && scale && offset);
    uint64_t seed = 5;
    for (uint64_t g = 0; g < ROWS * per_row; g++) {
        scale[g] = 0.01f;
        offset[g] = -0.01f * (float)(test_rand(&seed) % 20); /* zero points 0 .. 19 */
    }
    for (int c = 0; c < COLS; c++) shift[c] = (int8_t)((int)(test_rand(&seed) % 9) - 4);
    for (int alphabet = 16; alphabet <= 256; alphabet += 240) {
        for (int i = 0; i < ROWS * COLS; i++) sym[i] = (uint8_t)(test_rand(&seed) % (uint64_t)alphabet);
        wqc_quantized q = {.symbols = sym, .scale = scale, .offset = offset, .rows = ROWS, .cols = COLS,
                           .group_len = GROUP, .ngroups = ROWS * per_row, .alphabet = (uint32_t)alphabet, .bits = 8};
        uint32_t res = wqc_symbol_model_fit((uint32_t)alphabet, 2), nbins = wqc_symbol_model_nbins((uint32_t)alphabet, res);
        uint64_t *want = calloc(256 * (size_t)nbins, sizeof *want), *got = calloc(256 * (size_t)nbins, sizeof *got);
        assert_true(want && got && nbins > 1);
        for (int shifted = 0; shifted < 2; shifted++) {
            memset(want, 0, 256 * (size_t)nbins * sizeof *want);
            for (uint64_t r = 0; r < ROWS; r++)
                for (uint64_t c = 0; c < COLS; c++) {
                    uint64_t g = r * per_row + c / GROUP;
                    int m = (int)wqc_symbol_model_bin(nbins, res, scale[g], offset[g]) + (shifted ? shift[c] : 0);
                    m = m < 0 ? 0 : m >= (int)nbins ? (int)nbins - 1 : m;
                    want[256 * (size_t)m + sym[r * COLS + c]]++;
                }
            for (int threads = 1; threads <= 3; threads += 2) {
                memset(got, 0, 256 * (size_t)nbins * sizeof *got);
                wqc_symbol_model_count_shifted(&q, res, shifted ? shift : NULL, threads, got);
                assert_memory_equal(got, want, 256 * (size_t)nbins * sizeof *got);
            }
        }
        free(want);
        free(got);
    }
    free(sym);
    free(scale);
    free(offset);
}

/* Column shifts: R times the mean of (symbol - z) over a column's rows, and
 * their COLUMNS field round trip; damaged fields are refused. */
static void test_model_column_shifts(void **state)
{
    (void)state;
    enum { ROWS = 6, COLS = 5 };
    float scale[ROWS], offset[ROWS];
    uint8_t sym[ROWS * COLS];
    for (int r = 0; r < ROWS; r++) {
        scale[r] = 0.5f, offset[r] = -0.5f * (7.0f + 0.25f * (float)r); /* z = 7 .. 8.25 */
        for (int c = 0; c < COLS; c++) sym[r * COLS + c] = (uint8_t)(7 + r / 4 + (c == 1 ? 3 : c == 3 ? -2 : 0));
    }
    scale[5] = 0.0f; /* a constant row: no zero point, left out of the means */
    wqc_quantized q = {.symbols = sym, .scale = scale, .offset = offset, .rows = ROWS, .cols = COLS,
                       .group_len = COLS, .ngroups = ROWS, .alphabet = 16, .bits = 4};
    int8_t shift[COLS];
    /* Rows 0..4: mean z = 7.5, mean symbol 7.2 (+ the column's): 2 x -0.3 -> -1 (column 0) */
    wqc_symbol_model_col_shifts(&q, 2, 1, shift);
    static const int8_t want[COLS] = {-1, 5, -1, -5, -1};
    assert_memory_equal(shift, want, COLS);
    /* Counts: rows 0 and 1 are in bin 14 at R = 2 (z = 7, 7.25); column 1 moves them to 19. */
    uint64_t *counts = calloc(256 * 32, sizeof *counts);
    wqc_symbol_model_count_shifted(&q, 2, shift, 1, counts);
    assert_int_equal(counts[256 * 19 + 10], 2);
    assert_int_equal(counts[256 * 9 + 5], 2); /* column 3: bin 14 - 5 */
    free(counts);

    int8_t many[300];
    for (int c = 0; c < 300; c++) many[c] = (int8_t)(c % 7 == 0 ? (c % 2 ? 127 : -127) : c % 3 == 0 ? c % 5 - 2 : 0);
    wqc_bytes b = {0};
    wqc_col_shifts_write(many, 300, &b);
    assert_int_equal(b.len, wqc_col_shifts_bytes(many, 300));
    int8_t *back;
    wqc_error err;
    assert_int_equal(wqc_col_shifts_read(b.data, b.len, 300, &back, &err), WQC_OK);
    assert_memory_equal(back, many, 300);
    free(back);
    assert_int_equal(wqc_col_shifts_read(b.data, b.len / 2, 300, &back, &err), WQC_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "COLUMNS"));
    assert_int_equal(wqc_col_shifts_read(b.data, b.len, 0, &back, &err), WQC_ERR_FORMAT);
    assert_int_equal(wqc_col_shifts_read(b.data, b.len, WQC_COL_SHIFT_COLS_MAX + 1, &back, &err), WQC_ERR_FORMAT);
    wqc_bytes_free(&b);
    /* A magnitude of 128 (no writer makes it). */
    wqc_bytes big = {0};
    wqc_rc_enc e;
    wqc_rc_bit nz = {0}, sign = {0};
    wqc_rc_uint mag = {0};
    wqc_rc_enc_init(&e, &big);
    wqc_rc_encode(&e, &nz, 1);
    wqc_rc_encode(&e, &sign, 0);
    wqc_rc_encode_uint(&e, &mag, 127);
    wqc_rc_enc_finish(&e);
    assert_int_equal(wqc_col_shifts_read(big.data, big.len, 1, &back, &err), WQC_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "beyond 127"));
    wqc_bytes_free(&big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_bins_follow_the_zero_point),
        cmocka_unit_test(test_model_build_merges_bins_by_their_statistics),
        cmocka_unit_test(test_model_descriptions_roundtrip),
        cmocka_unit_test(test_model_refuses_malformed_descriptions),
        cmocka_unit_test(test_model_column_shifts),
        cmocka_unit_test(test_model_counts_match_the_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
