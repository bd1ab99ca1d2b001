/* The Q4_0 baseline: quantization error within one step (half a step, but a
 * full one on the side opposite the largest weight, where q clamps at 15
 * as in llama.cpp; plus the F16 rounding of d), and every ISA's
 * GEMV (F32 x and Q8 x) within float rounding of a double-precision product
 * of the same quantized values. */
#include <math.h>
#include <stdlib.h>

#include "test_common.h"

static double weight(const wqc_q4_0_block *b, int j)
{
    int q = j < 16 ? b->qs[j] & 15 : b->qs[j - 16] >> 4;
    return (double)wqc_f16_to_f32(b->d) * (q - 8);
}

static void check(uint64_t rows, uint64_t cols, uint64_t seed)
{
    uint64_t nb = cols / 32;
    float *w = malloc(rows * cols * sizeof(float)), *x = malloc(cols * sizeof(float));
    float *y = malloc(rows * sizeof(float));
    wqc_q4_0_block *q = malloc(rows * nb * sizeof *q + 1);
    wqc_q8_block *x8 = malloc(nb * sizeof *x8 + 1);
    for (uint64_t i = 0; i < rows * cols; i++) w[i] = (float)((int64_t)(test_rand(&seed) % 2001) - 1000) * 3e-5f;
    for (uint64_t j = 0; j < cols; j++) x[j] = (float)((int64_t)(test_rand(&seed) % 2001) - 1000) * 1e-3f;
    wqc_error err;
    assert_int_equal(wqc_q4_0_quantize(w, rows, cols, q, &err), WQC_OK);
    wqc_q8_quantize(x, cols, x8);
    for (uint64_t b = 0; b < rows * nb; b++)
        for (int j = 0; j < 32; j++) {
            double d = fabs((double)wqc_f16_to_f32(q[b].d));
            if (fabs(weight(&q[b], j) - w[b * 32 + j]) > d * 1.01 + 1e-12)
                fail_msg("block %llu element %d: %g quantized to %g", (unsigned long long)b, j, w[b * 32 + j],
                         weight(&q[b], j));
        }
    const double u = 0x1p-24, bound = (cols + 2 * nb + 4) * u;
    for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
        if (!wqc_isa_available((wqc_isa)isa)) continue;
        for (int with_q8 = 0; with_q8 < 2; with_q8++) {
            if (with_q8) wqc_q4_0_gemv_q8((wqc_isa)isa, q, rows, cols, x8, y, 2);
            else wqc_q4_0_gemv_f32((wqc_isa)isa, q, rows, cols, x, y, 2);
            for (uint64_t r = 0; r < rows; r++) {
                double exact = 0, mag = 0;
                for (uint64_t j = 0; j < cols; j++) {
                    double xv = with_q8 ? (double)x8[j / 32].d * x8[j / 32].qs[j % 32] : x[j];
                    double t = weight(&q[r * nb + j / 32], (int)(j % 32)) * xv;
                    exact += t;
                    mag += fabs(t);
                }
                if (fabs(y[r] - exact) > bound * mag + 1e-30)
                    fail_msg("%s %s %llux%llu row %llu: %.9g vs %.9g", wqc_isa_name((wqc_isa)isa),
                             with_q8 ? "q8" : "f32", (unsigned long long)rows, (unsigned long long)cols,
                             (unsigned long long)r, (double)y[r], exact);
            }
        }
    }
    free(w), free(x), free(y), free(q), free(x8);
}

static void test_q4_0_every_isa_matches_double_precision(void **state)
{
    (void)state;
    check(1, 32, 1);
    check(3, 64, 2);
    check(17, 96, 3);      /* odd block count: the AVX-512 Q8 tail */
    check(40, 4096, 4);
    check(33, 1056, 5);
}

static void test_q4_0_refuses_partial_blocks(void **state)
{
    (void)state;
    wqc_error err;
    float w[40] = {0};
    wqc_q4_0_block b[2];
    assert_fails_with(wqc_q4_0_quantize(w, 1, 40, b, &err), WQC_ERR_INVALID_ARG, err, "multiple of 32");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q4_0_every_isa_matches_double_precision),
        cmocka_unit_test(test_q4_0_refuses_partial_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
