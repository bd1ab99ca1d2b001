#include <math.h>
#include <stdlib.h>

#include "test_common.h"

enum { DIST_UNIFORM, DIST_SKEWED, DIST_SINGLE };

static void fill(uint8_t *sym, size_t n, uint32_t alphabet, int dist, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rand(&seed);
        if (dist == DIST_UNIFORM) sym[i] = (uint8_t)(r % alphabet);
        else if (dist == DIST_SINGLE) sym[i] = (uint8_t)(alphabet - 1);
        else {
            /* Geometric-ish: symbol k with probability ~ 2^-(k+1), capped. */
            uint32_t k = (uint32_t)__builtin_ctzll(r | (1ull << 63));
            sym[i] = (uint8_t)(k < alphabet ? k : alphabet - 1);
        }
    }
}

static void round_trip(const uint8_t *sym, size_t n, uint32_t alphabet, int precision, uint32_t lanes,
                       uint32_t chunk, int threads)
{
    wqc_rans_params p = {precision, lanes, chunk, threads};
    wqc_rans_coded c;
    wqc_error err;
    wqc_error_clear(&err);
    if (wqc_rans_encode(sym, n, alphabet, &p, &c, &err) != WQC_OK)
        fail_msg("encode n=%zu A=%u P=%d lanes=%u chunk=%u: %s", n, alphabet, precision, lanes, chunk,
                 err.msg);
    uint8_t *back = malloc(n + 1);
    if (wqc_rans_decode(&c, threads, back, &err) != WQC_OK)
        fail_msg("decode n=%zu A=%u P=%d lanes=%u chunk=%u: %s", n, alphabet, precision, lanes, chunk,
                 err.msg);
    if (n && memcmp(back, sym, n) != 0)
        fail_msg("mismatch n=%zu A=%u P=%d lanes=%u chunk=%u", n, alphabet, precision, lanes, chunk);
    assert_int_equal(c.nchunks, (n + chunk - 1) / chunk);
    free(back);
    wqc_rans_coded_free(&c);
}

static void test_rans_roundtrip_all_alphabets_precisions_lanes(void **state)
{
    (void)state;
    const uint32_t chunk = 1024;
    uint8_t *sym = malloc(5000);
    for (int bits = 1; bits <= 8; bits++) {
        uint32_t alphabet = 1u << bits;
        for (int pi = 0; pi < 3; pi++) {
            int precision = (int[]){10, 12, 15}[pi];
            for (uint32_t lanes = 8; lanes <= 64; lanes *= 2) {
                size_t sizes[] = {0, 1, lanes - 1, lanes, lanes + 1, chunk - 1, chunk, chunk + 1,
                                  3 * chunk + 5};
                for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
                    for (int dist = 0; dist < 3; dist++) {
                        fill(sym, sizes[si], alphabet, dist, (uint64_t)(bits * 1000 + si * 10 + dist));
                        round_trip(sym, sizes[si], alphabet, precision, lanes, chunk, 1 + (int)(si & 1));
                    }
                }
            }
        }
    }
    free(sym);
}

static void test_rans_roundtrip_odd_alphabets_and_lanes(void **state)
{
    (void)state;
    uint8_t sym[3000];
    const uint32_t alphabets[] = {2, 3, 5, 17, 63, 255, 256};
    for (size_t a = 0; a < sizeof alphabets / sizeof *alphabets; a++) {
        for (uint32_t lanes = 8; lanes <= 256; lanes += 40) {
            fill(sym, sizeof sym, alphabets[a], DIST_SKEWED, a + lanes);
            round_trip(sym, sizeof sym, alphabets[a], 11, lanes, 1024, 2);
        }
    }
}

/* Enough symbols for several threads (each is given at least 64 Ki): the
 * threaded decode, chunks handed out dynamically, gives the same symbols;
 * a damaged chunk in the middle is reported as that chunk. */
static void test_rans_threaded_decode(void **state)
{
    (void)state;
    enum { N = 300000, CHUNK = 4096 };
    uint8_t *sym = malloc(N), *back = malloc(N);
    fill(sym, N, 16, DIST_SKEWED, 77);
    wqc_rans_params p = {12, 32, CHUNK, 4};
    wqc_rans_coded c;
    assert_int_equal(wqc_rans_encode(sym, N, 16, &p, &c, NULL), WQC_OK);
    for (int threads = 1; threads <= 4; threads++) {
        memset(back, 0, N);
        assert_int_equal(wqc_rans_decode(&c, threads, back, NULL), WQC_OK);
        assert_memory_equal(back, sym, N);
    }
    /* Flip a byte of chunk 40's payload (its final states then cannot match). */
    c.payload[c.offset[40] + c.chunk_bytes[40] / 2] ^= 0x5a;
    wqc_error err;
    wqc_error_clear(&err);
    assert_int_not_equal(wqc_rans_decode(&c, 4, back, &err), WQC_OK);
    assert_non_null(strstr(err.msg, "chunk 40"));
    wqc_rans_coded_free(&c);
    free(sym);
    free(back);
}

static void test_rans_compresses_to_the_entropy(void **state)
{
    (void)state;
    /* 2 Mi symbols of a 4-bit min/max quantized Gaussian. */
    wqc_synthetic_spec spec = {WQC_SYNTH_GAUSSIAN, 512, 4096, 0.02, 11};
    float *w;
    assert_int_equal(wqc_synthetic_generate(&spec, &w, NULL), WQC_OK);
    wqc_quant_params qp;
    wqc_quant_params_default(&qp);
    qp.granularity = WQC_GRAN_TENSOR;
    wqc_quantized q;
    assert_int_equal(wqc_quantize(w, 512, 4096, &qp, "g", &q, NULL), WQC_OK);
    uint64_t n = 512 * 4096, counts[256] = {0};
    wqc_histogram(q.symbols, n, counts);
    double h = wqc_entropy_bits(counts, 16);
    wqc_rans_params p;
    wqc_rans_params_default(&p);
    wqc_rans_coded c;
    assert_int_equal(wqc_rans_encode(q.symbols, n, 16, &p, &c, NULL), WQC_OK);
    size_t table = wqc_freq_table_bytes(c.table.freq, 16);
    double bound = n * h / 8.0 * 1.002 + table + 4.0 * c.nchunks;
    if (c.payload_len > bound)
        fail_msg("payload %llu bytes > n H / 8 + 0.2%% + tables = %.0f (H = %.4f)",
                 (unsigned long long)c.payload_len, bound, h);
    wqc_rans_coded_free(&c);
    wqc_quantized_free(&q);
    free(w);
}

static void test_rans_rejects_symbols_outside_the_alphabet(void **state)
{
    (void)state;
    uint8_t sym[100] = {0};
    sym[57] = 16;
    wqc_rans_params p;
    wqc_rans_params_default(&p);
    wqc_rans_coded c;
    wqc_error err;
    assert_fails_with(wqc_rans_encode(sym, 100, 16, &p, &c, &err), WQC_ERR_RANGE, err, "symbol 16");
    p.lanes = 12;
    assert_fails_with(wqc_rans_encode(sym, 100, 256, &p, &c, &err), WQC_ERR_INVALID_ARG, err, "lanes");
    /* A table without symbol 3 cannot code it. */
    uint32_t freq[4] = {2048, 1024, 1024, 0};
    wqc_rans_table t;
    assert_int_equal(wqc_rans_table_init(&t, freq, 4, 12, NULL), WQC_OK);
    uint8_t out[4096];
    size_t len;
    sym[57] = 3;
    assert_fails_with(wqc_rans_encode_chunk(&t, 8, sym, 100, out, sizeof out, &len, &err), WQC_ERR_RANGE,
                      err, "position 57");
    freq[0] = 1;
    assert_int_equal(wqc_rans_table_init(&t, freq, 4, 12, NULL), WQC_ERR_FORMAT);
}

/* Damaged chunk streams are rejected without reading or writing out of bounds. */
static void test_rans_decoder_rejects_damaged_streams(void **state)
{
    (void)state;
    uint8_t sym[500], back[500], out[2048];
    fill(sym, sizeof sym, 16, DIST_SKEWED, 5);
    uint64_t counts[256] = {0};
    wqc_histogram(sym, sizeof sym, counts);
    uint32_t freq[16];
    assert_int_equal(wqc_freq_normalize(counts, 16, 12, freq, NULL), WQC_OK);
    wqc_rans_table t;
    assert_int_equal(wqc_rans_table_init(&t, freq, 16, 12, NULL), WQC_OK);
    wqc_rans_dtable d;
    assert_int_equal(wqc_rans_dtable_init(&d, &t, NULL), WQC_OK);
    size_t len;
    assert_int_equal(wqc_rans_encode_chunk(&t, 16, sym, sizeof sym, out, sizeof out, &len, NULL), WQC_OK);
    assert_int_equal(wqc_rans_decode_chunk(&d, 16, out, len, back, sizeof back, NULL), WQC_OK);
    assert_memory_equal(back, sym, sizeof sym);
    /* Every truncation fails (heap copies so ASan sees any overread). */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, out, cut);
        assert_int_equal(wqc_rans_decode_chunk(&d, 16, copy, cut, back, sizeof back, NULL), WQC_ERR_FORMAT);
        free(copy);
    }
    uint8_t *longer = malloc(len + 2);
    memcpy(longer, out, len);
    longer[len] = longer[len + 1] = 0;
    wqc_error err;
    assert_fails_with(wqc_rans_decode_chunk(&d, 16, longer, len + 2, back, sizeof back, &err),
                      WQC_ERR_FORMAT, err, "left after");
    free(longer);
    /* A flipped bit in a final state or in the words is caught by the end-state check. */
    int caught = 0, trials = 0;
    for (size_t i = 0; i < len; i += 3, trials++) {
        out[i] ^= 0x10;
        caught += wqc_rans_decode_chunk(&d, 16, out, len, back, sizeof back, NULL) != WQC_OK;
        out[i] ^= 0x10;
    }
    assert_true(caught >= trials * 9 / 10);
    wqc_rans_dtable_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rans_roundtrip_all_alphabets_precisions_lanes),
        cmocka_unit_test(test_rans_roundtrip_odd_alphabets_and_lanes),
        cmocka_unit_test(test_rans_threaded_decode),
        cmocka_unit_test(test_rans_compresses_to_the_entropy),
        cmocka_unit_test(test_rans_rejects_symbols_outside_the_alphabet),
        cmocka_unit_test(test_rans_decoder_rejects_damaged_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
