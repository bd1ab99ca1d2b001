/* Digests, routing keys, tensor statistics and the STATS record. */
#include "test_common.h"

#include <math.h>
#include <stdlib.h>

#include "../../src/common/lane_blocks.h"
#include "../../src/container/stats_record.h"
#include "wqc/isa.h"

static void test_route_is_consistent_and_balanced(void **state)
{
    (void)state;
    enum { KEYS = 20000, PLACES = 12 };
    uint64_t rng = 3;
    size_t per[PLACES + 1] = {0};
    for (int k = 0; k < KEYS; k++) {
        uint8_t d[WQC_DIGEST_BYTES];
        for (int i = 0; i < WQC_DIGEST_BYTES; i++) d[i] = (uint8_t)test_rand(&rng);
        assert_int_equal(wqc_route(d, 1), 0);
        uint32_t prev = 0;
        for (uint32_t n = 2; n <= PLACES; n++) {
            uint32_t p = wqc_route(d, n);
            assert_true(p < n);
            /* Growing by one place moves a key only to the new place. */
            assert_true(p == prev || p == n - 1);
            prev = p;
        }
        per[prev]++;
    }
    for (int p = 0; p < PLACES; p++) {
        double share = (double)per[p] / KEYS;
        if (fabs(share - 1.0 / PLACES) > 0.01) fail_msg("place %d takes %.4f of the keys", p, share);
    }
}

static void test_digests_change_with_any_part_of_the_tensor(void **state)
{
    (void)state;
    float v[6] = {1, 2, 3, 4, 5, 6};
    wqc_tensor t = {.name = "w", .dtype = WQC_DTYPE_F32, .ndim = 2, .shape = {2, 3}, .nelem = 6,
                    .data = (const unsigned char *)v, .nbytes = sizeof v};
    uint8_t a[32], b[32];
    wqc_error err;
    assert_int_equal(wqc_digest_tensor(&t, a, &err), WQC_OK);
    wqc_tensor u = t;
    u.shape[0] = 3, u.shape[1] = 2;
    assert_int_equal(wqc_digest_tensor(&u, b, &err), WQC_OK);
    assert_memory_not_equal(a, b, 32);
    u = t;
    u.name = "v";
    assert_int_equal(wqc_digest_tensor(&u, b, &err), WQC_OK);
    assert_memory_not_equal(a, b, 32);
    v[5] = 6.0000005f;
    assert_int_equal(wqc_digest_tensor(&t, b, &err), WQC_OK);
    assert_memory_not_equal(a, b, 32);
    /* The model digest ignores order, and refuses a name twice. */
    const char *names[2] = {"x", "y"}, *swapped[2] = {"y", "x"};
    uint8_t d[2][32], e[2][32], m1[32], m2[32];
    memcpy(d[0], a, 32), memcpy(d[1], b, 32), memcpy(e[0], b, 32), memcpy(e[1], a, 32);
    assert_int_equal(wqc_digest_model(names, (const uint8_t(*)[32])d, 2, m1, &err), WQC_OK);
    assert_int_equal(wqc_digest_model(swapped, (const uint8_t(*)[32])e, 2, m2, &err), WQC_OK);
    assert_memory_equal(m1, m2, 32);
    const char *twice[2] = {"x", "x"};
    assert_fails_with(wqc_digest_model(twice, (const uint8_t(*)[32])d, 2, m1, &err), WQC_ERR_FORMAT, err, "twice");
    char hex[65];
    wqc_digest_hex(m1, hex);
    assert_int_equal(strlen(hex), 64);
    assert_true(wqc_digest_parse(hex, m2));
    assert_memory_equal(m1, m2, 32);
    hex[63] = 'g';
    assert_false(wqc_digest_parse(hex, m2));
    assert_false(wqc_digest_parse("abc", m2));
}

static void test_stats_match_a_direct_computation(void **state)
{
    (void)state;
    enum { N = 5000 };
    static float w[N];
    uint64_t rng = 9;
    for (int i = 0; i < N; i++) w[i] = (float)((double)(test_rand(&rng) % 20001) / 1000.0 - 10.0) * 0.01f + 0.5f;
    wqc_tensor_stats s;
    wqc_stats_floats(w, N, &s);
    long double sum = 0, m2 = 0, m4 = 0;
    float lo = w[0], hi = w[0];
    for (int i = 0; i < N; i++) sum += w[i], lo = fminf(lo, w[i]), hi = fmaxf(hi, w[i]);
    long double mean = sum / N;
    for (int i = 0; i < N; i++) m2 += (w[i] - mean) * (w[i] - mean), m4 += powl(w[i] - mean, 4);
    assert_int_equal(s.count, N);
    assert_true(fabs(s.mean - (double)mean) < 1e-12);
    assert_true(fabs(s.std - sqrt((double)(m2 / N))) < 1e-12);
    assert_true(fabs(s.kurtosis - (double)((m4 / N) / ((m2 / N) * (m2 / N)) - 3)) < 1e-9);
    assert_true(s.min == lo && s.max == hi);
    /* Constant values: zero spread, zero kurtosis. */
    float c[4] = {2, 2, 2, 2};
    wqc_stats_floats(c, 4, &s);
    assert_true(s.std == 0 && s.kurtosis == 0 && s.mean == 2);
    /* Clipping: an sdclip grid at k = 1 leaves values beyond about one std out. */
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    p.method = WQC_QUANT_SDCLIP, p.bits = 4, p.k = 1.0;
    wqc_quantized q;
    wqc_error err;
    assert_int_equal(wqc_quantize(w, 1, N, &p, "w", &q, &err), WQC_OK);
    wqc_stats_floats(w, N, &s);
    wqc_stats_quantization(w, &q, &s);
    uint64_t outside = 0;
    for (int i = 0; i < N; i++) {
        double lo2 = q.offset[0] - q.scale[0] / 2.0, hi2 = q.offset[0] + q.scale[0] * (q.alphabet - 1) + q.scale[0] / 2.0;
        outside += w[i] < lo2 || w[i] > hi2;
    }
    assert_true(s.quantized && s.clipped == outside && outside > N / 10);
    assert_true(s.sqnr_db > 0 && isfinite(s.sqnr_db));
    wqc_quantized_free(&q);
}

/* Streams of the statistics, cut anywhere and run on threads, give the
 * whole-tensor figures bit for bit (lane sums, wqc/quant.h). */
static void stats_through_stream(const float *w, const wqc_quantized *q, const uint64_t *cut, int ncuts, int threads,
                                 wqc_tensor_stats *out)
{
    wqc_stats_stream s = {.threads = threads};
    for (int k = 0; k + 1 < ncuts; k++) {
        /* The first pass in pieces of 999 elements: most start mid-vector. */
        for (uint64_t i = cut[k] * q->cols; i < cut[k + 1] * q->cols; i += 999) {
            uint64_t end = cut[k + 1] * q->cols - i < 999 ? cut[k + 1] * q->cols : i + 999;
            wqc_stats_stream_first(&s, w + i, (size_t)(end - i));
        }
        wqc_stats_stream_quantized(&s, w + cut[k] * q->cols, q, cut[k], cut[k + 1]);
    }
    /* The second in pieces of 1001 within each cut. */
    for (int k = 0; k + 1 < ncuts; k++)
        for (uint64_t i = cut[k] * q->cols; i < cut[k + 1] * q->cols; i += 1001) {
            uint64_t end = cut[k + 1] * q->cols - i < 1001 ? cut[k + 1] * q->cols : i + 1001;
            wqc_stats_stream_second(&s, w + i, (size_t)(end - i));
        }
    wqc_stats_stream_end(&s, out);
}

static void assert_same_stats(const wqc_tensor_stats *a, const wqc_tensor_stats *b)
{
    const double fa[7] = {a->mean, a->std, a->min, a->max, a->kurtosis, a->sqnr_db, (double)a->clipped};
    const double fb[7] = {b->mean, b->std, b->min, b->max, b->kurtosis, b->sqnr_db, (double)b->clipped};
    assert_memory_equal(fa, fb, sizeof fa);
    assert_true(a->count == b->count && a->quantized == b->quantized);
}

static void test_stats_do_not_depend_on_cuts_or_threads(void **state)
{
    (void)state;
    /* 1205 rows of 1001: 18 whole lane blocks of 2^16 and a part; values
     * of many magnitudes, so that sums in another order round otherwise
     * (several data sets: one may happen to round alike). */
    enum { R = 1205, C = 1001 };
    float *w = malloc(R * C * sizeof *w);
    assert_non_null(w);
    const uint64_t one[2] = {0, R}, many[6] = {0, 1, 4, 66, 731, R};
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    p.method = WQC_QUANT_SDCLIP, p.bits = 4, p.k = 2.0, p.granularity = WQC_GRAN_ROW;
    wqc_quantized q;
    wqc_tensor_stats whole, cut;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        uint64_t rng = seed;
        for (int i = 0; i < R * C; i++)
            w[i] = ldexpf((float)(test_rand(&rng) % 2000001) / 1e6f - 1.0f, (int)(test_rand(&rng) % 30) - 20);
        w[70000] = -0.0f, w[70001] = 0.0f;
        assert_int_equal(wqc_quantize(w, R, C, &p, "w", &q, NULL), WQC_OK);
        wqc_stats_floats(w, R * C, &whole);
        wqc_stats_quantization(w, &q, &whole);
        assert_true(whole.clipped > 0);
        for (int threads = 1; threads <= 4; threads += 3) {
            stats_through_stream(w, &q, one, 2, threads, &cut);
            assert_same_stats(&whole, &cut);
            stats_through_stream(w, &q, many, 6, threads, &cut);
            assert_same_stats(&whole, &cut);
        }
        if (seed < 4) wqc_quantized_free(&q);
    }
    /* A NaN anywhere: NaN extremes and moments, however cut. */
    w[940001] = NAN;
    wqc_stats_floats(w, R * C, &whole);
    assert_true(isnan(whole.min) && isnan(whole.max) && isnan(whole.mean));
    stats_through_stream(w, &q, many, 6, 4, &cut);
    assert_true(isnan(cut.min) && isnan(cut.max) && isnan(cut.mean) && cut.count == whole.count);
    wqc_quantized_free(&q);
    free(w);
}

/* The AVX-512 lane loops (lane_blocks.h) against the lanes' definition:
 * element k to lane (lane0 + k) % 8, each lane in element order; runs that
 * start and end anywhere in a vector, and long ones. */
static void test_avx512_lane_loops_match_the_definition(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip(); /* built for x86-64 only */
#else
    if (!wqc_isa_available(WQC_ISA_AVX512)) skip();
    enum { N = 4100 };
    float w[N];
    uint8_t sym[N];
    uint64_t rng = 7;
    for (int i = 0; i < N; i++) {
        w[i] = ldexpf((float)(test_rand(&rng) % 2000001) / 1e6f - 1.0f, (int)(test_rand(&rng) % 30) - 20);
        sym[i] = (uint8_t)(test_rand(&rng) % 16);
    }
    w[77] = NAN;
    static const uint64_t lengths[] = {0, 1, 5, 7, 8, 9, 15, 16, 17, 31, 1000, N - 3};
    for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++)
        for (int lane0 = 0; lane0 < 8; lane0++) {
            const uint64_t n = lengths[li];
            const float *x = w + 3;
            const uint8_t *y = sym + 3;
            double sum[8] = {1, 2, 3, 4, 5, 6, 7, 8}, want_sum[8], m2[8] = {0}, m4[8] = {0}, want_m2[8] = {0},
                   want_m4[8] = {0};
            float lo[8], hi[8], want_lo[8], want_hi[8];
            int nan = 0, want_nan = 0;
            double sg[8] = {0}, ns[8] = {0}, most[8] = {0}, want_sg[8] = {0}, want_ns[8] = {0}, want_most[8] = {0};
            int64_t cl[8] = {0}, want_cl[8] = {0};
            const float s = 0.0125f, o = -0.1f;
            const double glo = -0.09, ghi = 0.08, mean = 0.001;
            memcpy(want_sum, sum, sizeof sum);
            for (int l = 0; l < 8; l++) lo[l] = want_lo[l] = INFINITY, hi[l] = want_hi[l] = -INFINITY;
            for (uint64_t k = 0; k < n; k++) {
                int l = (lane0 + (int)k) & 7;
                float v = x[k];
                want_sum[l] += (double)v;
                want_lo[l] = v < want_lo[l] ? v : want_lo[l];
                want_hi[l] = v > want_hi[l] ? v : want_hi[l];
                want_nan |= v != v;
                double d = (double)v - mean, d2 = d * d, e = (double)v - (double)(o + s * (float)y[k]);
                want_m2[l] += d2;
                want_m4[l] += d2 * d2;
                want_sg[l] += (double)v * (double)v;
                want_ns[l] += e * e;
                want_most[l] = fabs(e) > want_most[l] ? fabs(e) : want_most[l];
                want_cl[l] += (double)v < glo || (double)v > ghi;
            }
            wqc_lane_first_avx512(x, n, lane0, sum, lo, hi, &nan);
            wqc_lane_second_avx512(x, n, lane0, mean, m2, m4);
            wqc_lane_measure_avx512(x, y, n, lane0, s, o, glo, ghi, sg, ns, most, cl);
            assert_memory_equal(sum, want_sum, sizeof sum);
            assert_memory_equal(lo, want_lo, sizeof lo);
            assert_memory_equal(hi, want_hi, sizeof hi);
            assert_int_equal(nan, want_nan);
            assert_memory_equal(m2, want_m2, sizeof m2);
            assert_memory_equal(m4, want_m4, sizeof m4);
            assert_memory_equal(sg, want_sg, sizeof sg);
            assert_memory_equal(ns, want_ns, sizeof ns);
            assert_memory_equal(most, want_most, sizeof most);
            assert_memory_equal(cl, want_cl, sizeof cl);
        }
#endif
}

static void test_stats_record_roundtrips_within_its_rounding(void **state)
{
    (void)state;
    wqc_tensor_stats s[3] = {
        {.mean = 1e-5, .std = 0.02, .min = -0.125f, .max = 0.1171875f, .kurtosis = 3.25, .quantized = 1, .clipped = 7, .sqnr_db = 19.87},
        {.mean = 1.0, .std = 0.3, .min = 0.5f, .max = 2.6f, .kurtosis = -1.2},
        {.mean = NAN, .std = INFINITY, .min = -INFINITY, .max = 1.0f, .kurtosis = NAN, .quantized = 1, .sqnr_db = INFINITY},
    };
    size_t index[3] = {0, 2, 5};
    wqc_bytes b = {0};
    wqc_stats_record_encode(&b, index, s, 3);
    assert_false(b.failed);
    wqc_tensor_stats back[6];
    uint8_t present[6] = {0};
    wqc_error err;
    assert_int_equal(wqc_stats_record_decode(b.data, b.len, 6, back, present, &err), WQC_OK);
    assert_true(present[0] && !present[1] && present[2] && !present[3] && present[5]);
    double *got[5] = {&back[0].mean, &back[0].std, &back[0].kurtosis, &back[0].sqnr_db, &back[2].kurtosis};
    double want[5] = {1e-5, 0.02, 3.25, 19.87, -1.2};
    for (int k = 0; k < 5; k++)
        if (fabs(*got[k] - want[k]) > 5e-7 * fabs(want[k])) fail_msg("value %d: %.9g for %.9g", k, *got[k], want[k]);
    assert_true(back[0].min == -0.125 && back[0].max == 0.1171875 && back[0].clipped == 7 && back[0].quantized);
    assert_true(back[2].min == 0.5f && back[2].max == 2.6f && !back[2].quantized);
    assert_true(isnan(back[5].mean) && isinf(back[5].std) && isinf(back[5].sqnr_db) && back[5].clipped == 0);
    /* More entries than tensors, and a truncated stream, are refused. */
    assert_fails_with(wqc_stats_record_decode(b.data, b.len, 4, back, present, &err), WQC_ERR_FORMAT, err, "STATS");
    assert_fails_with(wqc_stats_record_decode(b.data, 3, 6, back, present, &err), WQC_ERR_FORMAT, err, "STATS");
    wqc_bytes_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_is_consistent_and_balanced),
        cmocka_unit_test(test_digests_change_with_any_part_of_the_tensor),
        cmocka_unit_test(test_stats_match_a_direct_computation),
        cmocka_unit_test(test_stats_do_not_depend_on_cuts_or_threads),
        cmocka_unit_test(test_avx512_lane_loops_match_the_definition),
        cmocka_unit_test(test_stats_record_roundtrips_within_its_rounding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
