/* Packed 4-bit: every ISA against the definitions (unpack = the symbols,
 * dequantize = wqc_dequantize), for odd lengths and groups that start on odd
 * elements. */
#include <stdlib.h>

#include "test_common.h"

static void check(uint64_t rows, uint64_t cols, uint64_t group_len, uint64_t seed)
{
    uint64_t n = rows * cols;
    wqc_quantized q = {.rows = rows, .cols = cols, .group_len = group_len, .bits = 4, .alphabet = 16};
    q.ngroups = group_len == n ? 1 : rows * ((cols + group_len - 1) / group_len);
    q.symbols = malloc(n + 1);
    q.scale = malloc(q.ngroups * sizeof(float));
    q.offset = malloc(q.ngroups * sizeof(float));
    for (uint64_t i = 0; i < n; i++) q.symbols[i] = (uint8_t)(test_rand(&seed) % 16);
    for (uint64_t g = 0; g < q.ngroups; g++) {
        q.scale[g] = (float)(test_rand(&seed) % 1000 + 1) * 3.1e-5f;
        q.offset[g] = -(float)(test_rand(&seed) % 1000) * 2.3e-4f;
    }
    float *want = malloc(n * sizeof(float) + 4), *got = malloc(n * sizeof(float) + 4);
    wqc_dequantize(&q, want);
    uint8_t *packed = malloc(n / 2 + 1), *sym = malloc(n + 1);
    wqc_packed4_pack(q.symbols, n, packed);
    if (n & 1) assert_int_equal(packed[n / 2] >> 4, 0);
    for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
        if (!wqc_isa_available((wqc_isa)isa)) continue;
        memset(sym, 0xee, n + 1);
        wqc_packed4_unpack((wqc_isa)isa, packed, n, sym);
        if (memcmp(sym, q.symbols, n) != 0 || sym[n] != 0xee)
            fail_msg("%s unpack differs, %llux%llu", wqc_isa_name((wqc_isa)isa), (unsigned long long)rows,
                     (unsigned long long)cols);
        wqc_packed4_dequantize((wqc_isa)isa, packed, n, &q, got);
        if (n && memcmp(got, want, n * sizeof(float)) != 0)
            fail_msg("%s dequantize differs, %llux%llu G=%llu", wqc_isa_name((wqc_isa)isa),
                     (unsigned long long)rows, (unsigned long long)cols, (unsigned long long)group_len);
    }
    free(want), free(got), free(packed), free(sym);
    free(q.symbols), free(q.scale), free(q.offset);
}

static void test_packed_every_isa_matches_the_definition(void **state)
{
    (void)state;
    check(1, 1, 1, 1);
    check(1, 127, 127, 2);
    check(64, 64, 64 * 64, 3);      /* one group */
    check(33, 97, 97, 4);           /* per row, odd: groups start on odd elements */
    check(17, 100, 32, 5);          /* G = 32 with a short last group per row */
    check(5, 1000, 1000, 6);
    for (uint64_t c = 1; c < 300; c += 7) check(3, c, c, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packed_every_isa_matches_the_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
