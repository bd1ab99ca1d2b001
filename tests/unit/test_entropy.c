#include <math.h>
#include <stdlib.h>

#include "test_common.h"

static void test_histogram_matches_naive_count(void **state)
{
    (void)state;
    for (size_t n = 0; n < 40; n += 7) {
        uint8_t sym[40];
        uint64_t s = n + 1, got[256] = {0}, want[256] = {0};
        for (size_t i = 0; i < n; i++) want[sym[i] = (uint8_t)(test_rand(&s) % 5 * 50)]++;
        wqc_histogram(sym, n, got);
        assert_memory_equal(got, want, sizeof got);
    }
}

static void test_entropy_of_known_distributions(void **state)
{
    (void)state;
    uint64_t c[256] = {0};
    assert_true(wqc_entropy_bits(c, 256) == 0.0);
    c[3] = 1000;
    assert_true(wqc_entropy_bits(c, 256) == 0.0);
    for (int i = 0; i < 16; i++) c[i] = 5;
    assert_true(fabs(wqc_entropy_bits(c, 16) - 4.0) < 1e-12);
    uint64_t d[3] = {2, 1, 1}; /* 1.5 bits */
    assert_true(fabs(wqc_entropy_bits(d, 3) - 1.5) < 1e-12);
}

static double objective(const uint64_t *c, const uint32_t *f, size_t a)
{
    double s = 0;
    for (size_t i = 0; i < a; i++)
        if (c[i]) s += (double)c[i] * log((double)f[i]);
    return s;
}

/* Best objective over every composition of `total` into a parts >= 1 (brute force). */
static double brute_best(const uint64_t *c, size_t a, uint32_t total, uint32_t *f, size_t i)
{
    if (i == a - 1) {
        f[i] = total;
        return objective(c, f, a);
    }
    double best = -INFINITY;
    for (uint32_t v = 1; v + (a - 1 - i) <= total; v++) {
        f[i] = v;
        double o = brute_best(c, a, total - v, f, i + 1);
        best = o > best ? o : best;
    }
    return best;
}

static void test_freq_normalize_is_optimal_on_small_cases(void **state)
{
    (void)state;
    uint64_t s = 99;
    for (int trial = 0; trial < 300; trial++) {
        uint64_t c[5];
        for (int i = 0; i < 5; i++) c[i] = 1 + test_rand(&s) % (trial % 3 == 0 ? 1000 : 20);
        if (trial % 5 == 0) c[0] = 100000; /* heavy skew forces small symbols to 1 */
        uint32_t total = 5 + (uint32_t)(test_rand(&s) % 20), f[5], tmp[5];
        assert_int_equal(wqc_freq_normalize_total(c, 5, total, f, NULL), WQC_OK);
        uint32_t sum = 0;
        for (int i = 0; i < 5; i++) {
            assert_true(f[i] >= 1);
            sum += f[i];
        }
        assert_int_equal(sum, total);
        double best = brute_best(c, 5, total, tmp, 0);
        if (objective(c, f, 5) < best - 1e-9 * fabs(best))
            fail_msg("trial %d: objective %.12f < brute force %.12f", trial, objective(c, f, 5), best);
    }
}

static void test_freq_normalize_precision_and_absent_symbols(void **state)
{
    (void)state;
    uint64_t c[256] = {0};
    c[0] = 1000000000000ull;
    c[7] = 1;
    c[255] = 3;
    uint32_t f[256];
    for (int p = WQC_PRECISION_MIN; p <= WQC_PRECISION_MAX; p++) {
        assert_int_equal(wqc_freq_normalize(c, 256, p, f, NULL), WQC_OK);
        uint64_t sum = 0;
        for (int i = 0; i < 256; i++) {
            sum += f[i];
            assert_true(c[i] ? f[i] >= 1 : f[i] == 0);
        }
        assert_int_equal(sum, 1u << p);
        assert_int_equal(f[7], 1);
    }
    assert_int_equal(wqc_freq_normalize(c, 256, 9, f, NULL), WQC_ERR_INVALID_ARG);
    assert_int_equal(wqc_freq_normalize(c, 256, 16, f, NULL), WQC_ERR_INVALID_ARG);
    /* Single symbol takes the whole table; empty input gives an empty table. */
    uint64_t one[4] = {0, 0, 9, 0};
    assert_int_equal(wqc_freq_normalize(one, 4, 12, f, NULL), WQC_OK);
    assert_int_equal(f[2], 4096);
    assert_true(wqc_cross_entropy_bits(one, f, 4, 4096) == 0.0);
    uint64_t none[4] = {0};
    assert_int_equal(wqc_freq_normalize(none, 4, 12, f, NULL), WQC_OK);
    assert_int_equal(f[0] + f[1] + f[2] + f[3], 0);
    /* More present symbols than the total can hold. */
    uint64_t many[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(wqc_freq_normalize_total(many, 8, 7, f, NULL), WQC_ERR_INVALID_ARG);
}

static void test_cross_entropy_bounds(void **state)
{
    (void)state;
    uint64_t c[4] = {512, 256, 128, 128};
    uint32_t f[4];
    assert_int_equal(wqc_freq_normalize(c, 4, 10, f, NULL), WQC_OK);
    /* Proportional counts normalise exactly: cross-entropy equals entropy. */
    assert_true(fabs(wqc_cross_entropy_bits(c, f, 4, 1024) - wqc_entropy_bits(c, 4)) < 1e-12);
    uint64_t d[4] = {1000, 3, 2, 1};
    assert_int_equal(wqc_freq_normalize(d, 4, 10, f, NULL), WQC_OK);
    assert_true(wqc_cross_entropy_bits(d, f, 4, 1024) >= wqc_entropy_bits(d, 4));
    uint32_t zero[4] = {1024, 0, 0, 0};
    assert_true(isinf(wqc_cross_entropy_bits(d, zero, 4, 1024)));
}

static void test_table_bytes_and_size_estimate(void **state)
{
    (void)state;
    uint32_t f[4] = {0, 127, 128, 32768};
    assert_int_equal(wqc_freq_table_bytes(f, 4), 1 + 1 + 1 + 2 + 3);
    /* 2^20 symbols at 2 bits in one chunk of 32 lanes: 262144 + 128 + 10 bytes. */
    assert_true(wqc_rans_size_estimate(1u << 20, 2.0, 10, 32, 1u << 20) == 262144.0 + 128 + 10);
    assert_true(wqc_rans_size_estimate((1u << 20) + 1, 2.0, 0, 32, 1u << 20) == 262144.25 + 256);
}

/* The Gaussian prediction tracks the measured entropy of Gaussian data (per
 * row and SDClip to 0.01 bits) and the SDClip closed form up to its O(step^2) term. */
static void test_gaussian_prediction_matches_gaussian_data(void **state)
{
    (void)state;
    wqc_synthetic_spec spec;
    assert_int_equal(wqc_synthetic_parse("gaussian:256x4096:seed=3", &spec, NULL), WQC_OK);
    float *w;
    assert_int_equal(wqc_synthetic_generate(&spec, &w, NULL), WQC_OK);
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    for (int m = 0; m < 3; m++) {
        if (m == 1) p.granularity = WQC_GRAN_GROUP;
        if (m == 2) {
            p.method = WQC_QUANT_SDCLIP;
            p.bits = 6;
        }
        wqc_quantized q;
        assert_int_equal(wqc_quantize(w, 256, 4096, &p, "g", &q, NULL), WQC_OK);
        uint64_t c[256] = {0};
        wqc_histogram(q.symbols, 256 * 4096, c);
        double measured = wqc_entropy_bits(c, q.alphabet);
        double predicted = wqc_gaussian_predicted_entropy(w, &q);
        /* Groups of 32 hold their own min and max, which a Gaussian fitted to
         * 32 samples does not know: the model is 0.04 bits low there. */
        double tolerance = m == 1 ? 0.05 : 0.01;
        if (fabs(measured - predicted) > tolerance)
            fail_msg("method %d: measured %.4f predicted %.4f", m, measured, predicted);
        if (m == 2) {
            double closed = wqc_sdclip_entropy_closed_form(6, p.k);
            /* High-resolution term: step^2 / (24 ln 2) with step = k / M in std units. */
            double step = p.k / 31.0, correction = step * step / (24.0 * log(2.0));
            assert_true(fabs(closed + correction - predicted) < 0.002);
        }
        wqc_quantized_free(&q);
    }
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_matches_naive_count),
        cmocka_unit_test(test_entropy_of_known_distributions),
        cmocka_unit_test(test_freq_normalize_is_optimal_on_small_cases),
        cmocka_unit_test(test_freq_normalize_precision_and_absent_symbols),
        cmocka_unit_test(test_cross_entropy_bounds),
        cmocka_unit_test(test_table_bytes_and_size_estimate),
        cmocka_unit_test(test_gaussian_prediction_matches_gaussian_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
