/* The side-information coders: adaptive range coder, float arrays, tables. */
#include "test_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/side/float_array.h"
#include "../../src/side/half_field.h"
#include "../../src/side/range_coder.h"
#include "../../src/side/table_code.h"

static void test_range_coder_roundtrip_bits_trees_and_integers(void **state)
{
    (void)state;
    uint64_t rng = 7;
    enum { N = 20000 };
    static int bits[N];
    static uint64_t ints[N];
    static uint32_t trees[N];
    for (int i = 0; i < N; i++) {
        /* Skewed bits (carries and runs of 0xff bytes), integers of every length. */
        bits[i] = (test_rand(&rng) % 100) < (i < N / 2 ? 3 : 60);
        ints[i] = test_rand(&rng) >> (2 + test_rand(&rng) % 62);
        trees[i] = (uint32_t)(test_rand(&rng) % 23);
    }
    wqc_bytes b = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &b);
    wqc_rc_bit m = {0}, tree[32] = {{0}};
    static wqc_rc_uint um;
    memset(&um, 0, sizeof um);
    for (int i = 0; i < N; i++) {
        wqc_rc_encode(&e, &m, bits[i]);
        wqc_rc_encode_tree(&e, tree, 5, trees[i]);
        wqc_rc_encode_uint(&e, &um, ints[i]);
        wqc_rc_encode_direct(&e, (uint32_t)ints[i], i % 33);
    }
    wqc_rc_enc_finish(&e);
    assert_false(b.failed);

    wqc_rc_dec d;
    wqc_rc_dec_init(&d, b.data, b.len);
    wqc_rc_bit m2 = {0}, tree2[32] = {{0}};
    static wqc_rc_uint um2;
    memset(&um2, 0, sizeof um2);
    for (int i = 0; i < N; i++) {
        assert_int_equal(wqc_rc_decode(&d, &m2), bits[i]);
        assert_int_equal(wqc_rc_decode_tree(&d, tree2, 5), trees[i]);
        assert_true(wqc_rc_decode_uint(&d, &um2) == ints[i]);
        uint32_t mask = i % 33 == 32 ? 0xffffffffu : (1u << (i % 33)) - 1;
        assert_int_equal(wqc_rc_decode_direct(&d, i % 33), (uint32_t)ints[i] & mask);
    }
    assert_true(d.overrun <= WQC_RC_TAIL);
    assert_true(d.p == b.data + b.len);
    wqc_bytes_free(&b);
}

static void test_range_coder_costs_near_the_entropy(void **state)
{
    (void)state;
    /* 100000 bits with P(1) = 0.05: H = 0.2864 bits each, 3580 bytes. */
    uint64_t rng = 3;
    wqc_bytes b = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &b);
    wqc_rc_bit m = {0};
    for (int i = 0; i < 100000; i++) wqc_rc_encode(&e, &m, test_rand(&rng) % 100 < 5);
    wqc_rc_enc_finish(&e);
    assert_in_range(b.len, 3400, 3680);
    wqc_bytes_free(&b);
}

static void test_range_decoder_reports_a_short_stream(void **state)
{
    (void)state;
    wqc_bytes b = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &b);
    for (int i = 0; i < 1000; i++) wqc_rc_encode_direct(&e, (uint32_t)i, 16);
    wqc_rc_enc_finish(&e);
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, b.data, b.len / 2);
    for (int i = 0; i < 1000; i++) wqc_rc_decode_direct(&d, 16);
    assert_true(d.overrun > WQC_RC_TAIL);
    wqc_bytes_free(&b);
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static size_t float_roundtrip(wqc_dtype dtype, const uint32_t *v, size_t n)
{
    wqc_bytes b = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &b);
    wqc_floats_encode(&e, dtype, v, n);
    wqc_rc_enc_finish(&e);
    uint32_t *back = calloc(n + 1, sizeof *back);
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, b.data, b.len);
    wqc_floats_decode(&d, dtype, back, n);
    assert_memory_equal(back, v, n * sizeof *v);
    assert_true(d.overrun <= WQC_RC_TAIL);
    assert_int_equal(wqc_floats_cost(dtype, v, n), b.len);
    free(back);
    size_t len = b.len;
    wqc_bytes_free(&b);
    return len;
}

static void test_float_arrays_roundtrip_and_cost_what_they_carry(void **state)
{
    (void)state;
    enum { N = 2000 };
    static uint32_t v[N];
    uint64_t rng = 11;
    /* Scales of one tensor: one binade or two, random mantissas: 23 bits
     * plus about one of exponent. */
    for (int i = 0; i < N; i++) v[i] = f32_bits(0.01f + 0.02f * (float)(test_rand(&rng) % 1000000) / 1e6f);
    size_t full = float_roundtrip(WQC_DTYPE_F32, v, N);
    assert_in_range(full, N * 23 / 8, N * 25 / 8);
    /* The same values rounded to bfloat16: 7 mantissa bits. */
    for (int i = 0; i < N; i++) v[i] &= 0xffff0000u;
    size_t bf16 = float_roundtrip(WQC_DTYPE_F32, v, N);
    assert_in_range(bf16, N * 7 / 8, N * 9 / 8);
    /* Repeats of a few values cost little. */
    for (int i = 0; i < N; i++) v[i] = f32_bits((float)(1 + test_rand(&rng) % 3));
    assert_true(float_roundtrip(WQC_DTYPE_F32, v, N) < N / 4);
    /* Signs, zeros, subnormals, infinities and NaN payloads come back as they were. */
    uint32_t odd[] = {0, 0x80000000u, 1, 0x807fffffu, 0x7f800000u, 0xff800000u, 0x7fc00001u, 0xffffffffu,
                      f32_bits(-1.5f), f32_bits(3.0e38f)};
    float_roundtrip(WQC_DTYPE_F32, odd, sizeof odd / sizeof odd[0]);
    uint32_t half[] = {0x3c00, 0xbc00, 0x7c00, 0x0001, 0x7e01, 0x0000, 0x3c00, 0x3555};
    float_roundtrip(WQC_DTYPE_F16, half, 8);
    float_roundtrip(WQC_DTYPE_BF16, half, 8);
    assert_int_equal(float_roundtrip(WQC_DTYPE_F32, v, 0), 0);
}

static void test_tables_roundtrip_and_refuse_a_bad_sum(void **state)
{
    (void)state;
    uint32_t freq[16] = {1, 3, 20, 100, 300, 600, 800, 900, 700, 400, 150, 60, 40, 10, 2, 0};
    uint32_t sum = 0;
    for (int s = 0; s < 15; s++) sum += freq[s];
    freq[15] = 4096 - sum;
    wqc_bytes b = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &b);
    wqc_table_encode(&e, freq, 16, 12);
    wqc_rc_enc_finish(&e);
    assert_true(b.len < 24);
    uint32_t back[16];
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, b.data, b.len);
    wqc_error err;
    assert_int_equal(wqc_table_decode(&d, back, 16, 12, &err), WQC_OK);
    assert_memory_equal(back, freq, sizeof freq);
    /* The same stream read as a 2^10 table overflows. */
    wqc_rc_dec_init(&d, b.data, b.len);
    assert_fails_with(wqc_table_decode(&d, back, 16, 10, &err), WQC_ERR_FORMAT, err, "sums past");
    wqc_bytes_free(&b);
}

/* F16 fields (a GGUF block's d, or d and dmin): back bit for bit, smaller
 * than the raw bytes when the exponents cluster, a short stream refused. */
static void test_half_fields_roundtrip_and_refuse_a_short_stream(void **state)
{
    (void)state;
    enum { BLOCKS = 3000 };
    static uint8_t field[4 * BLOCKS], back[4 * BLOCKS];
    uint64_t rng = 11;
    for (int i = 0; i < 2 * BLOCKS; i++) {
        /* Scales of Gaussian blocks: exponents in a narrow band, mantissas anything. */
        float v = (float)(1e-3 * (1.0 + (double)(test_rand(&rng) % 1000) / 250.0));
        uint16_t h = wqc_f32_to_f16(i % 2 ? -v : v);
        field[2 * i] = (uint8_t)h, field[2 * i + 1] = (uint8_t)(h >> 8);
    }
    wqc_error err;
    for (uint32_t halves = 1; halves <= 2; halves++) {
        wqc_bytes b = {0};
        assert_int_equal(wqc_half_field_encode(field, sizeof field, halves, &b, &err), WQC_OK);
        assert_true(b.len * 5 < sizeof field * 4); /* about 12 bits a value of 16 */
        assert_int_equal(wqc_half_field_decode(b.data, b.len, halves, back, sizeof back, &err), WQC_OK);
        assert_memory_equal(back, field, sizeof field);
        assert_fails_with(wqc_half_field_decode(b.data, b.len / 2, halves, back, sizeof back, &err), WQC_ERR_FORMAT, err,
                          "ends early");
        wqc_bytes_free(&b);
    }
    wqc_bytes b = {0};
    assert_fails_with(wqc_half_field_encode(field, 6, 2, &b, &err), WQC_ERR_INVALID_ARG, err, "6 bytes");
    wqc_bytes_free(&b);
}

/* The rANS coding of F16 fields: back bit-exact from every ISA at lengths
 * around the chunk minimum and the lane thresholds, about as small as the
 * adaptive coder on a large field, and damage refused. */
static void test_half_rans_roundtrip_every_isa(void **state)
{
    (void)state;
    static const size_t values[] = {0, 1, 7, 1023, 1025, 3000, 70001};
    uint64_t rng = 12;
    for (size_t l = 0; l < sizeof values / sizeof *values; l++) {
        size_t n = values[l], len = 2 * n;
        uint8_t *field = malloc(len + 1), *back = malloc(len + 1);
        for (size_t i = 0; i < n; i++) {
            float v = (float)(1e-3 * (1.0 + (double)(test_rand(&rng) % 1000) / 250.0));
            uint16_t h = wqc_f32_to_f16(i % 3 ? v : -v);
            if (i % 501 == 7) h = (uint16_t)test_rand(&rng); /* any pattern at all */
            field[2 * i] = (uint8_t)h, field[2 * i + 1] = (uint8_t)(h >> 8);
        }
        wqc_bytes b = {0};
        wqc_error err;
        if (n == 0) { /* GGUF fields hold a value a block at least */
            assert_fails_with(wqc_half_rans_encode(field, len, &b, &err), WQC_ERR_INVALID_ARG, err, "0 bytes");
            free(field), free(back);
            continue;
        }
        assert_int_equal(wqc_half_rans_encode(field, len, &b, &err), WQC_OK);
        for (int isa = WQC_ISA_SCALAR; isa <= WQC_ISA_NEON; isa++) {
            if (!wqc_isa_available((wqc_isa)isa)) continue;
            memset(back, 0xaa, len + 1);
            assert_int_equal(wqc_half_rans_decode(b.data, b.len, back, len, (wqc_isa)isa, &err), WQC_OK);
            assert_memory_equal(back, field, len);
        }
        if (n == 70001) {
            wqc_bytes a = {0};
            assert_int_equal(wqc_half_field_encode(field, len, 1, &a, &err), WQC_OK);
            assert_true(b.len < a.len + a.len / 50);
            wqc_bytes_free(&a);
        }
        assert_fails_with(wqc_half_rans_decode(b.data, b.len - 1, back, len, WQC_ISA_SCALAR, &err), WQC_ERR_FORMAT, err, "");
        assert_fails_with(wqc_half_rans_decode(b.data, 3, back, len, WQC_ISA_SCALAR, &err), WQC_ERR_FORMAT, err, "");
        b.data[1] = 0; /* no lanes */
        assert_fails_with(wqc_half_rans_decode(b.data, b.len, back, len, WQC_ISA_SCALAR, &err), WQC_ERR_FORMAT, err,
                          "F16 field");
        wqc_bytes_free(&b);
        free(field), free(back);
    }
}

/* The models' probabilities come from a reciprocal table: the same as the
 * division for every pair of counts a model can hold. */
static void test_range_coder_reciprocals_are_exact(void **state)
{
    (void)state;
    for (uint32_t n0 = 0; n0 <= 257; n0++)
        for (uint32_t n1 = 0; n0 + n1 <= 257; n1++)
            assert_int_equal(wqc_rc_kt_prob(n0, n1), ((2 * n0 + 1) << WQC_RC_PROB_BITS) / (2 * (n0 + n1) + 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_coder_roundtrip_bits_trees_and_integers),
        cmocka_unit_test(test_range_coder_reciprocals_are_exact),
        cmocka_unit_test(test_range_coder_costs_near_the_entropy),
        cmocka_unit_test(test_range_decoder_reports_a_short_stream),
        cmocka_unit_test(test_float_arrays_roundtrip_and_cost_what_they_carry),
        cmocka_unit_test(test_tables_roundtrip_and_refuse_a_bad_sum),
        cmocka_unit_test(test_half_fields_roundtrip_and_refuse_a_short_stream),
        cmocka_unit_test(test_half_rans_roundtrip_every_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
