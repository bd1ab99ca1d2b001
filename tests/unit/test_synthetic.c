#include <math.h>
#include <stdlib.h>

#include "test_common.h"

static void test_synthetic_spec_parsing(void **state)
{
    (void)state;
    wqc_synthetic_spec s;
    assert_int_equal(wqc_synthetic_parse("gaussian:4x8", &s, NULL), WQC_OK);
    assert_true(s.kind == WQC_SYNTH_GAUSSIAN && s.rows == 4 && s.cols == 8 && s.sigma == 0.02 && s.seed == 1);
    assert_int_equal(wqc_synthetic_parse("laplace:3x5:sigma=0.5:seed=9", &s, NULL), WQC_OK);
    assert_true(s.kind == WQC_SYNTH_LAPLACE && s.sigma == 0.5 && s.seed == 9);
    const char *bad[] = {"gauss:4x4", "gaussian", "gaussian:4", "gaussian:0x4", "gaussian:4x4:sigma=-1",
                         "gaussian:4x4:foo=1", "gaussian:4x4junk", "gaussian:99999999x99999999", "gaussian:x4"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wqc_error err;
        wqc_error_clear(&err);
        assert_int_equal(wqc_synthetic_parse(bad[i], &s, &err), WQC_ERR_INVALID_ARG);
        assert_non_null(strstr(err.msg, bad[i]));
    }
}

static void test_synthetic_is_seeded_and_has_the_requested_sigma(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        wqc_synthetic_spec s = {(wqc_synthetic_kind)kind, 301, 333, 0.02, 5};
        float *a, *b, *c;
        assert_int_equal(wqc_synthetic_generate(&s, &a, NULL), WQC_OK);
        assert_int_equal(wqc_synthetic_generate(&s, &b, NULL), WQC_OK);
        s.seed = 6;
        assert_int_equal(wqc_synthetic_generate(&s, &c, NULL), WQC_OK);
        size_t n = 301 * 333;
        assert_memory_equal(a, b, n * sizeof *a);
        assert_memory_not_equal(a, c, n * sizeof *a);
        double sum = 0, ss = 0;
        for (size_t i = 0; i < n; i++) sum += a[i], ss += (double)a[i] * a[i];
        double mean = sum / n, sd = sqrt(ss / n - mean * mean);
        assert_true(fabs(mean) < 0.001);
        assert_true(fabs(sd - 0.02) < 0.0005);
        free(a), free(b), free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_spec_parsing),
        cmocka_unit_test(test_synthetic_is_seeded_and_has_the_requested_sigma),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
