#include <math.h>
#include <stdlib.h>

#include "test_common.h"
#include "wqc/stats.h"

static wqc_quant_params params(wqc_quant_method m, int bits, wqc_granularity g, uint32_t group)
{
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    p.method = m;
    p.bits = bits;
    p.granularity = g;
    p.group_size = group;
    return p;
}

static void test_affine_tensor_hand_values(void **state)
{
    (void)state;
    /* min -1, max 2, 2 bits: scale 1, levels -1, 0, 1, 2. */
    const float w[6] = {-1.0f, 2.0f, 0.49f, 0.5f, 1.2f, -0.6f};
    wqc_quant_params p = params(WQC_QUANT_AFFINE, 2, WQC_GRAN_TENSOR, 0);
    wqc_quantized q;
    assert_int_equal(wqc_quantize(w, 2, 3, &p, "t", &q, NULL), WQC_OK);
    const uint8_t want[6] = {0, 3, 1, 2, 2, 0}; /* 1.49 -> 1, 1.5 -> 2 (half up), 0.4 -> 0 */
    assert_memory_equal(q.symbols, want, 6);
    assert_int_equal(q.ngroups, 1);
    assert_true(q.scale[0] == 1.0f && q.offset[0] == -1.0f);
    assert_int_equal(q.alphabet, 4);
    float back[6];
    wqc_dequantize(&q, back);
    assert_true(back[2] == 0.0f && back[3] == 1.0f);
    wqc_quantized_free(&q);
}

/* Per-row and per-group symbols equal the documented formula evaluated here. */
static void test_affine_row_and_group_match_formula(void **state)
{
    (void)state;
    enum { R = 5, C = 37 };
    float w[R * C];
    uint64_t s = 7;
    for (int i = 0; i < R * C; i++) w[i] = (float)((double)(test_rand(&s) >> 11) * 0x1p-53 - 0.3);
    for (int gi = 0; gi < 2; gi++) {
        uint32_t g = gi == 0 ? C : 8; /* row, then groups of 8 with a short last group */
        wqc_quant_params p = params(WQC_QUANT_AFFINE, 3, gi == 0 ? WQC_GRAN_ROW : WQC_GRAN_GROUP, g);
        wqc_quantized q;
        assert_int_equal(wqc_quantize(w, R, C, &p, "t", &q, NULL), WQC_OK);
        uint64_t per_row = (C + g - 1) / g;
        assert_int_equal(q.ngroups, R * per_row);
        for (int r = 0; r < R; r++) {
            for (int c0 = 0; c0 < C; c0 += (int)g) {
                int c1 = c0 + (int)g < C ? c0 + (int)g : C;
                float lo = INFINITY, hi = -INFINITY;
                for (int c = c0; c < c1; c++) {
                    lo = fminf(lo, w[r * C + c]);
                    hi = fmaxf(hi, w[r * C + c]);
                }
                /* The ends to bfloat16 first (unless that makes the group constant). */
                if (wqc_bf16_round(hi) > wqc_bf16_round(lo)) lo = wqc_bf16_round(lo), hi = wqc_bf16_round(hi);
                float scale = (float)(((double)hi - lo) / 7.0);
                uint64_t gidx = (uint64_t)r * per_row + (uint64_t)c0 / g;
                assert_true(q.scale[gidx] == scale && q.offset[gidx] == lo);
                for (int c = c0; c < c1; c++) {
                    float x = fminf(fmaxf((w[r * C + c] - lo) / scale, 0.0f), 7.0f);
                    assert_int_equal(q.symbols[r * C + c], (int)floorf(x + 0.5f));
                }
            }
        }
        /* Each group's extremes map to symbols 0 and 7, up to the rounding of the ends
         * (at most 2^-9 of their magnitude, below 1): the error stays within half a step and that. */
        wqc_quant_error e;
        wqc_quant_measure(w, &q, &e);
        assert_true(e.max_abs <= 0.5 * 1.0 / 7.0 + 0x1p-9 + 1e-6);
        wqc_quantized_free(&q);
    }
}

/* A group whose lowest value is zero takes the sign of its first zero as
 * its offset, as a loop in order finds it (the extremes are found in lanes). */
static void test_affine_low_end_keeps_the_first_zeros_sign(void **state)
{
    (void)state;
    enum { C = 19 };
    float w[2 * C];
    for (int c = 0; c < C; c++) w[c] = w[C + c] = 0.25f + (float)c / 64.0f;
    w[6] = -0.0f, w[9] = 0.0f;       /* row 0: -0 first, in a later lane */
    w[C + 3] = 0.0f, w[C + 17] = -0.0f; /* row 1: +0 first, in the tail */
    wqc_quant_params p = params(WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0);
    wqc_quantized q;
    assert_int_equal(wqc_quantize(w, 2, C, &p, "z", &q, NULL), WQC_OK);
    assert_true(q.offset[0] == 0.0f && signbit(q.offset[0]));
    assert_true(q.offset[1] == 0.0f && !signbit(q.offset[1]));
    wqc_quantized_free(&q);
}

static void test_constant_rows_round_trip_exactly(void **state)
{
    (void)state;
    const float w[8] = {0.3f, 0.3f, 0.3f, 0.3f, -2.5f, -2.5f, -2.5f, -2.5f};
    wqc_quant_params ps[3] = {params(WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0),
                              params(WQC_QUANT_AFFINE, 1, WQC_GRAN_GROUP, 3),
                              params(WQC_QUANT_SDCLIP, 6, WQC_GRAN_ROW, 0)};
    for (int i = 0; i < 3; i++) {
        wqc_quantized q;
        assert_int_equal(wqc_quantize(w, 2, 4, &ps[i], "c", &q, NULL), WQC_OK);
        float back[8];
        wqc_dequantize(&q, back);
        assert_memory_equal(back, w, sizeof w);
        wqc_quant_error e;
        wqc_quant_measure(w, &q, &e);
        assert_true(e.mse == 0.0 && e.max_abs == 0.0 && isinf(e.sqnr_db));
        wqc_quantized_free(&q);
    }
}

static void test_sdclip_hand_values(void **state)
{
    (void)state;
    /* Row {-2, -0.75, 0.75, 2}: mean 0, std sqrt(2.28125). k = 1.5/std makes
     * c = 1.5; 3 bits: M = 3, step 0.5 (a bfloat16 already); -2 -> -4 -> -3,
     * -0.75 -> -1.5 -> -1 (half up), 0.75 -> 1.5 -> 2, 2 -> 3. */
    const float w[4] = {-2.0f, -0.75f, 0.75f, 2.0f};
    wqc_quant_params p = params(WQC_QUANT_SDCLIP, 3, WQC_GRAN_ROW, 0);
    p.k = 1.5 / sqrt(2.28125);
    wqc_quantized q;
    assert_int_equal(wqc_quantize(w, 1, 4, &p, "s", &q, NULL), WQC_OK);
    assert_int_equal(q.alphabet, 7);
    const uint8_t want[4] = {0, 2, 5, 6};
    assert_memory_equal(q.symbols, want, 4);
    assert_true(q.scale[0] == 0.5f);
    float back[4];
    wqc_dequantize(&q, back);
    assert_true(back[0] == -1.5f && back[1] == -0.5f && back[2] == 1.0f && back[3] == 1.5f);
    wqc_quantized_free(&q);
    /* Clipping: an outlier beyond k std lands on the end symbol. */
    const float o[4] = {0.0f, 0.0f, 0.0f, 100.0f};
    p.k = 0.5;
    assert_int_equal(wqc_quantize(o, 1, 4, &p, "s", &q, NULL), WQC_OK);
    assert_int_equal(q.symbols[3], 6);
    assert_int_equal(q.symbols[0], 3);
    wqc_quantized_free(&q);
    p.bits = 1;
    assert_int_equal(wqc_quantize(o, 1, 4, &p, "s", &q, NULL), WQC_ERR_INVALID_ARG);
}

static void test_grid_offsets_and_range_error(void **state)
{
    (void)state;
    const float w[5] = {-0.3f, 0.0f, 0.26f, 0.5f, -0.05f};
    wqc_quant_params p = params(WQC_QUANT_GRID, 0, WQC_GRAN_TENSOR, 0);
    p.step = 0.1;
    wqc_quantized q;
    assert_int_equal(wqc_quantize(w, 1, 5, &p, "g", &q, NULL), WQC_OK);
    /* round(w/0.1) = -3, 0, 3, 5, 0 (half up: -0.5 -> 0); minus min -3. */
    const uint8_t want[5] = {0, 3, 6, 8, 3};
    assert_memory_equal(q.symbols, want, 5);
    assert_int_equal(q.alphabet, 9);
    assert_int_equal(q.bits, 4);
    assert_true(fabsf(q.offset[0] + 0.3f) < 1e-7f);
    wqc_quantized_free(&q);
    wqc_error err;
    p.step = 0.001; /* 801 levels */
    assert_fails_with(wqc_quantize(w, 1, 5, &p, "big", &q, &err), WQC_ERR_RANGE, err, "more than 8 bits");
    p.step = 0.0;
    assert_int_equal(wqc_quantize(w, 1, 5, &p, "g", &q, NULL), WQC_ERR_INVALID_ARG);
}

static void test_nonfinite_weights_name_the_tensor(void **state)
{
    (void)state;
    float w[6] = {1, 2, 3, 4, 5, 6};
    w[4] = NAN;
    wqc_error err;
    wqc_quantized q;
    wqc_quant_params ps[3] = {params(WQC_QUANT_AFFINE, 4, WQC_GRAN_TENSOR, 0),
                              params(WQC_QUANT_SDCLIP, 4, WQC_GRAN_ROW, 0),
                              params(WQC_QUANT_GRID, 0, WQC_GRAN_TENSOR, 0)};
    ps[2].step = 1.0;
    for (int i = 0; i < 3; i++)
        assert_fails_with(wqc_quantize(w, 2, 3, &ps[i], "layer.7.w", &q, &err), WQC_ERR_NONFINITE,
                          err, "'layer.7.w': NaN at element 4");
    w[4] = -INFINITY;
    assert_fails_with(wqc_quantize(w, 2, 3, &ps[0], "x", &q, &err), WQC_ERR_NONFINITE, err, "infinity");
}

/* Blocks of rows (wqc_quantize_rows, the blocks in a shuffled order) give
 * wqc_quantize's symbols, scales and offsets; the streamed statistics (blocks
 * in order) give the whole-tensor ones, bit for bit; a NaN names the same
 * element. */
static void test_rows_in_blocks_equal_the_whole(void **state)
{
    (void)state;
    enum { R = 23, C = 70, PER = 4 };
    float *w = malloc(R * C * sizeof *w);
    uint32_t x = 12345;
    for (int i = 0; i < R * C; i++) {
        x = x * 1664525u + 1013904223u;
        w[i] = ((float)(x >> 8) / 16777216.0f - 0.5f) * (1.0f + (float)(i / C) * 0.3f);
    }
    wqc_quant_params ps[3] = {params(WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0),
                              params(WQC_QUANT_AFFINE, 3, WQC_GRAN_GROUP, 16),
                              params(WQC_QUANT_SDCLIP, 4, WQC_GRAN_ROW, 0)};
    const int order[6] = {3, 0, 5, 2, 4, 1}; /* blocks of PER rows */
    for (int k = 0; k < 3; k++) {
        assert_true(wqc_quantize_by_rows(&ps[k]));
        wqc_quantized whole, blocks;
        assert_int_equal(wqc_quantize(w, R, C, &ps[k], "t", &whole, NULL), WQC_OK);
        assert_int_equal(wqc_quantized_alloc(R, C, &ps[k], "t", &blocks, NULL), WQC_OK);
        for (int b = 0; b < 6; b++) {
            int r0 = order[b] * PER, r1 = r0 + PER < R ? r0 + PER : R;
            assert_int_equal(wqc_quantize_rows(w + r0 * C, (uint64_t)r0, (uint64_t)r1, &ps[k], "t", &blocks, NULL),
                             WQC_OK);
        }
        assert_memory_equal(whole.symbols, blocks.symbols, R * C);
        assert_memory_equal(whole.scale, blocks.scale, whole.ngroups * sizeof(float));
        assert_memory_equal(whole.offset, blocks.offset, whole.ngroups * sizeof(float));
        wqc_tensor_stats a, b;
        wqc_stats_floats(w, R * C, &a);
        wqc_stats_quantization(w, &whole, &a);
        wqc_stats_stream s = {0};
        for (int r0 = 0; r0 < R; r0 += PER) {
            int r1 = r0 + PER < R ? r0 + PER : R;
            wqc_stats_stream_first(&s, w + r0 * C, (size_t)(r1 - r0) * C);
            wqc_stats_stream_quantized(&s, w + r0 * C, &blocks, (uint64_t)r0, (uint64_t)r1);
        }
        for (int r0 = 0; r0 < R; r0 += PER)
            wqc_stats_stream_second(&s, w + r0 * C, (size_t)((r0 + PER < R ? PER : R - r0) * C));
        wqc_stats_stream_end(&s, &b);
        const double fa[7] = {a.mean, a.std, a.min, a.max, a.kurtosis, a.sqnr_db, (double)a.clipped};
        const double fb[7] = {b.mean, b.std, b.min, b.max, b.kurtosis, b.sqnr_db, (double)b.clipped};
        assert_memory_equal(fa, fb, sizeof fa); /* bit for bit */
        assert_true(a.count == b.count && a.quantized == b.quantized && b.quantized);
        wqc_quantized_free(&whole);
        wqc_quantized_free(&blocks);
    }
    w[9 * C + 5] = NAN;
    wqc_quantized q;
    wqc_error err;
    assert_int_equal(wqc_quantized_alloc(R, C, &ps[0], "t", &q, NULL), WQC_OK);
    assert_fails_with(wqc_quantize_rows(w + 8 * C, 8, 12, &ps[0], "t", &q, &err), WQC_ERR_NONFINITE, err,
                      "NaN at element 635");
    wqc_quantized_free(&q);
    free(w);
}

static void test_measure_known_error(void **state)
{
    (void)state;
    /* 1 bit per tensor on {0, 0.25, 1}: levels 0 and 1; errors 0, 0.25, 0. */
    const float w[3] = {0.0f, 0.25f, 1.0f};
    wqc_quant_params p = params(WQC_QUANT_AFFINE, 1, WQC_GRAN_TENSOR, 0);
    wqc_quantized q;
    assert_int_equal(wqc_quantize(w, 1, 3, &p, "m", &q, NULL), WQC_OK);
    wqc_quant_error e;
    wqc_quant_measure(w, &q, &e);
    assert_true(fabs(e.mse - 0.0625 / 3) < 1e-12);
    assert_true(fabs(e.max_abs - 0.25) < 1e-12);
    assert_true(fabs(e.sqnr_db - 10 * log10(1.0625 / 0.0625)) < 1e-9);
    wqc_quantized_free(&q);
}

static void test_params_checks_and_description(void **state)
{
    (void)state;
    wqc_quant_params p = params(WQC_QUANT_AFFINE, 9, WQC_GRAN_ROW, 0);
    assert_int_equal(wqc_quant_params_check(&p, NULL), WQC_ERR_INVALID_ARG);
    p.bits = 4;
    p.granularity = WQC_GRAN_GROUP;
    p.group_size = 0;
    assert_int_equal(wqc_quant_params_check(&p, NULL), WQC_ERR_INVALID_ARG);
    p.group_size = 32;
    char buf[64];
    assert_string_equal(wqc_quant_params_describe(&p, buf, sizeof buf), "affine 4-bit group:32");
    p.method = WQC_QUANT_SDCLIP;
    p.k = -1;
    assert_int_equal(wqc_quant_params_check(&p, NULL), WQC_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_affine_tensor_hand_values),
        cmocka_unit_test(test_affine_row_and_group_match_formula),
        cmocka_unit_test(test_affine_low_end_keeps_the_first_zeros_sign),
        cmocka_unit_test(test_constant_rows_round_trip_exactly),
        cmocka_unit_test(test_sdclip_hand_values),
        cmocka_unit_test(test_grid_offsets_and_range_error),
        cmocka_unit_test(test_nonfinite_weights_name_the_tensor),
        cmocka_unit_test(test_measure_known_error),
        cmocka_unit_test(test_rows_in_blocks_equal_the_whole),
        cmocka_unit_test(test_params_checks_and_description),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
