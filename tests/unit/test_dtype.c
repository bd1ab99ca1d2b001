#include <math.h>

#include "test_common.h"

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void test_f16_known_values(void **state)
{
    (void)state;
    assert_true(wqc_f16_to_f32(0x3c00) == 1.0f);
    assert_true(wqc_f16_to_f32(0xc000) == -2.0f);
    assert_true(wqc_f16_to_f32(0x7bff) == 65504.0f);       /* largest finite */
    assert_true(wqc_f16_to_f32(0x0400) == 0x1p-14f);       /* smallest normal */
    assert_true(wqc_f16_to_f32(0x0001) == 0x1p-24f);       /* smallest subnormal */
    assert_true(wqc_f16_to_f32(0x03ff) == 1023 * 0x1p-24f); /* largest subnormal */
    assert_true(wqc_f16_to_f32(0x8001) == -0x1p-24f);
    assert_int_equal(bits_of(wqc_f16_to_f32(0x8000)), 0x80000000u); /* -0 */
    assert_true(isinf(wqc_f16_to_f32(0x7c00)) && wqc_f16_to_f32(0x7c00) > 0);
    assert_true(isinf(wqc_f16_to_f32(0xfc00)) && wqc_f16_to_f32(0xfc00) < 0);
    assert_true(isnan(wqc_f16_to_f32(0x7e00)));
    /* NaN payload is kept in the top mantissa bits. */
    assert_int_equal(bits_of(wqc_f16_to_f32(0x7c01)), 0x7f802000u);
    assert_true(wqc_f16_to_f32(0x3555) == 0x1.554p-2f);    /* ~1/3 */
}

/* Every binary16 value against an independent formula: (-1)^s 2^(e-15) (1 + m/1024). */
static void test_f16_exhaustive(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
        float got = wqc_f16_to_f32((uint16_t)h);
        if (e == 31) {
            assert_true(m ? isnan(got) : isinf(got));
            continue;
        }
        double mag = e ? ldexp(1.0 + m / 1024.0, e - 15) : ldexp(m, -24);
        float want = (float)(s ? -mag : mag);
        if (bits_of(got) != bits_of(want)) fail_msg("f16 0x%04x: got %a want %a", h, got, want);
    }
}

/* The bulk conversions (written to vectorise) against the scalar ones, for
 * every 16-bit pattern, NaN payloads included. */
static void test_bulk_half_conversions_match_the_scalar_ones(void **state)
{
    (void)state;
    static unsigned char raw[2 * 65536];
    static float out[65536];
    for (uint32_t h = 0; h < 65536; h++) raw[2 * h] = (unsigned char)h, raw[2 * h + 1] = (unsigned char)(h >> 8);
    assert_int_equal(wqc_convert_to_f32(WQC_DTYPE_F16, raw, 65536, out), WQC_OK);
    for (uint32_t h = 0; h < 65536; h++)
        if (bits_of(out[h]) != bits_of(wqc_f16_to_f32((uint16_t)h))) fail_msg("f16 0x%04x differs in bulk", h);
    assert_int_equal(wqc_convert_to_f32(WQC_DTYPE_BF16, raw, 65536, out), WQC_OK);
    for (uint32_t h = 0; h < 65536; h++)
        if (bits_of(out[h]) != bits_of(wqc_bf16_to_f32((uint16_t)h))) fail_msg("bf16 0x%04x differs in bulk", h);
}

static void test_bf16_known_values(void **state)
{
    (void)state;
    assert_true(wqc_bf16_to_f32(0x3f80) == 1.0f);
    assert_true(wqc_bf16_to_f32(0xc040) == -3.0f);
    assert_true(wqc_bf16_to_f32(0x0001) == 0x1p-133f); /* smallest subnormal */
    assert_true(wqc_bf16_to_f32(0x7f7f) == 0x1.fep127f);
    assert_true(isinf(wqc_bf16_to_f32(0xff80)) && wqc_bf16_to_f32(0xff80) < 0);
    assert_true(isnan(wqc_bf16_to_f32(0x7fc0)));
    for (uint32_t b = 0; b < 65536; b++)
        assert_int_equal(bits_of(wqc_bf16_to_f32((uint16_t)b)), b << 16);
}

static void test_convert_integer_and_half_buffers(void **state)
{
    (void)state;
    const unsigned char i8[] = {0x80, 0xff, 0x00, 0x7f};
    const unsigned char half[] = {0x00, 0x3c, 0x00, 0xc0}; /* 1.0, -2.0 little-endian */
    float out[4];
    assert_int_equal(wqc_convert_to_f32(WQC_DTYPE_I8, i8, 4, out), WQC_OK);
    assert_true(out[0] == -128.0f && out[1] == -1.0f && out[2] == 0.0f && out[3] == 127.0f);
    assert_int_equal(wqc_convert_to_f32(WQC_DTYPE_U8, i8, 4, out), WQC_OK);
    assert_true(out[0] == 128.0f && out[1] == 255.0f);
    assert_int_equal(wqc_convert_to_f32(WQC_DTYPE_F16, half, 2, out), WQC_OK);
    assert_true(out[0] == 1.0f && out[1] == -2.0f);
    assert_int_equal(wqc_convert_to_f32(WQC_DTYPE_I64, i8, 0, out), WQC_ERR_UNSUPPORTED);
}

static void test_dtype_names_round_trip(void **state)
{
    (void)state;
    for (int d = 0; d < WQC_DTYPE_COUNT; d++) {
        wqc_dtype back;
        assert_int_equal(wqc_dtype_from_name(wqc_dtype_name((wqc_dtype)d), &back), WQC_OK);
        assert_int_equal(back, d);
        assert_true(wqc_dtype_size((wqc_dtype)d) >= 1);
    }
    wqc_dtype x;
    assert_int_equal(wqc_dtype_from_name("F128", &x), WQC_ERR_UNSUPPORTED);
    assert_int_equal(wqc_dtype_size(WQC_DTYPE_BF16), 2);
    assert_int_equal(wqc_dtype_size(WQC_DTYPE_I64), 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_known_values),
        cmocka_unit_test(test_f16_exhaustive),
        cmocka_unit_test(test_bf16_known_values),
        cmocka_unit_test(test_bulk_half_conversions_match_the_scalar_ones),
        cmocka_unit_test(test_convert_integer_and_half_buffers),
        cmocka_unit_test(test_dtype_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
