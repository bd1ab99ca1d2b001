/* The binary16 GEMV reference: every ISA within float rounding of a
 * double-precision product of the same F16 weights, odd column counts
 * included (the SIMD tails). */
#include <math.h>
#include <stdlib.h>

#include "test_common.h"

static void check(uint64_t rows, uint64_t cols, uint64_t seed)
{
    uint16_t *w = malloc(rows * cols * sizeof *w + 2);
    float *x = malloc(cols * sizeof *x + 4), *y = malloc(rows * sizeof *y + 4);
    for (uint64_t i = 0; i < rows * cols; i++)
        w[i] = wqc_f32_to_f16((float)((int64_t)(test_rand(&seed) % 2001) - 1000) * 3e-5f);
    for (uint64_t j = 0; j < cols; j++) x[j] = (float)((int64_t)(test_rand(&seed) % 2001) - 1000) * 1e-3f;
    const double u = 0x1p-24;
    for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
        if (!wqc_isa_available((wqc_isa)isa)) continue;
        wqc_f16_gemv((wqc_isa)isa, w, rows, cols, x, y, 2);
        for (uint64_t r = 0; r < rows; r++) {
            double exact = 0, mag = 0;
            for (uint64_t j = 0; j < cols; j++) {
                double t = (double)wqc_f16_to_f32(w[r * cols + j]) * x[j];
                exact += t;
                mag += fabs(t);
            }
            if (fabs(y[r] - exact) > (double)(cols + 4) * u * mag + 1e-30)
                fail_msg("%s %llux%llu row %llu: %.9g vs %.9g", wqc_isa_name((wqc_isa)isa), (unsigned long long)rows,
                         (unsigned long long)cols, (unsigned long long)r, (double)y[r], exact);
        }
    }
    free(w), free(x), free(y);
}

static void test_f16_gemv_every_isa_matches_double_precision(void **state)
{
    (void)state;
    check(1, 1, 1);
    check(3, 7, 2);
    check(17, 33, 3);
    check(40, 4096, 4);
    check(33, 1061, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_gemv_every_isa_matches_double_precision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
