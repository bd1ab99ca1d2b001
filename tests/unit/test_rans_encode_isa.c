/* Every SIMD encoder against the scalar reference: the same bytes for every
 * table shape, lane count, precision and chunk length, with and without a
 * context, and the same verdict on a symbol a table cannot code. */
#include <stdlib.h>

#include "test_common.h"

/* A table of `alphabet` symbols at `precision`, shaped by `kind`: 0 skewed,
 * 1 with many frequency-1 symbols (x / 1, no shift), 2 one symbol holding
 * almost everything (frequencies near 2^P: the carry of the division). */
static void make_table(wqc_rans_table *t, uint32_t alphabet, int precision, int kind, uint64_t seed)
{
    uint64_t counts[256] = {0};
    for (uint32_t s = 0; s < alphabet; s++) {
        uint64_t r = test_rand(&seed);
        counts[s] = kind == 0 ? 1 + (r % 1000) * (s % 3 + 1) * (alphabet - s) : kind == 1 ? (s % 2 ? 1 : 1 + r % 50000) : 1;
    }
    if (kind == 2) counts[alphabet / 2] = 1ull << 40;
    uint32_t freq[256];
    assert_int_equal(wqc_freq_normalize(counts, alphabet, precision, freq, NULL), WQC_OK);
    assert_int_equal(wqc_rans_table_init(t, freq, alphabet, precision, NULL), WQC_OK);
}

/* Symbols drawn uniformly from those the table (or tables) can code: rare
 * symbols come often, so states grow and renormalise in every pattern. */
static void fill_coded(uint8_t *sym, size_t n, const wqc_rans_table *t, uint64_t seed)
{
    uint8_t ok[256];
    uint32_t nok = 0;
    for (uint32_t s = 0; s < t->alphabet; s++)
        if (t->freq[s]) ok[nok++] = (uint8_t)s;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rand(&seed);
        /* Half follow the table's favourite, half are uniform over the coded ones. */
        sym[i] = r & 1 ? ok[(r >> 8) % nok] : ok[(r >> 8) % (nok < 3 ? nok : 3)];
    }
}

static void same_bytes(const wqc_rans_table *t, const wqc_rans_context *ctx, uint32_t lanes, const uint8_t *sym,
                       size_t n)
{
    size_t cap = wqc_rans_chunk_bound(n, lanes);
    uint8_t *ref = malloc(cap), *out = malloc(cap);
    size_t ref_len = 0;
    wqc_error err;
    wqc_status st = ctx ? wqc_rans_encode_chunk_context_isa(ctx, lanes, sym, 0, n, ref, cap, &ref_len, WQC_ISA_SCALAR, &err)
                        : wqc_rans_encode_chunk_isa(t, lanes, sym, n, ref, cap, &ref_len, WQC_ISA_SCALAR, &err);
    if (st != WQC_OK) fail_msg("scalar encode: %s", err.msg);
    for (int isa = WQC_ISA_AVX2; isa < WQC_ISA_COUNT; isa++) {
        if (!wqc_isa_available((wqc_isa)isa)) continue;
        size_t len = 0;
        memset(out, 0xa5, cap);
        st = ctx ? wqc_rans_encode_chunk_context_isa(ctx, lanes, sym, 0, n, out, cap, &len, (wqc_isa)isa, &err)
                 : wqc_rans_encode_chunk_isa(t, lanes, sym, n, out, cap, &len, (wqc_isa)isa, &err);
        if (st != WQC_OK) fail_msg("%s encode: %s", wqc_isa_name((wqc_isa)isa), err.msg);
        if (len != ref_len || memcmp(out, ref, len) != 0)
            fail_msg("%s encoder differs from scalar: n %zu, lanes %u, alphabet %u, %zu vs %zu bytes",
                     wqc_isa_name((wqc_isa)isa), n, lanes, t->alphabet, len, ref_len);
    }
    free(ref);
    free(out);
}

static void test_encode_isa_tables_lanes_precisions(void **state)
{
    (void)state;
    static const uint32_t alphabets[] = {1, 2, 3, 15, 16, 17, 31, 64, 200, 256};
    static const uint32_t lanes[] = {1, 2, 4, 8, 16, 24, 32, 48, 64, 256};
    static const size_t lengths[] = {0, 1, 31, 32, 33, 1000, 4097, 20000};
    uint64_t seed = 1;
    for (size_t a = 0; a < sizeof alphabets / sizeof alphabets[0]; a++)
        for (int kind = 0; kind < 3; kind++)
            for (int precision = 10; precision <= 15; precision += precision == 10 ? 2 : 3) {
                wqc_rans_table t;
                make_table(&t, alphabets[a], precision, kind, seed++);
                for (size_t l = 0; l < sizeof lanes / sizeof lanes[0]; l++)
                    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
                        uint8_t *sym = malloc(lengths[k] + 1);
                        fill_coded(sym, lengths[k], &t, seed++);
                        same_bytes(&t, NULL, lanes[l], sym, lengths[k]);
                        free(sym);
                    }
            }
}

static void test_encode_isa_contexts(void **state)
{
    (void)state;
    static const uint32_t alphabets[] = {4, 16, 17, 100};
    uint64_t seed = 77;
    for (size_t a = 0; a < sizeof alphabets / sizeof alphabets[0]; a++)
        for (uint32_t ntables = 1; ntables <= 9; ntables += 4) {
            wqc_rans_table tables[9];
            for (uint32_t k = 0; k < ntables; k++) make_table(&tables[k], alphabets[a], 12, (int)(k % 3), seed++);
            /* 150 columns, groups of 40 (the last of a row shorter), a table per group. */
            uint64_t cols = 150, rows = 61, per_row = 4, n = rows * cols;
            uint8_t group_table[61 * 4];
            for (size_t g = 0; g < rows * per_row; g++) group_table[g] = (uint8_t)(test_rand(&seed) % ntables);
            wqc_rans_context ctx = {.ntables = ntables, .tables = tables, .group_table = group_table, .rows = rows, .cols = cols, .group_len = 40, .ngroups = rows * per_row};
            uint8_t *sym = malloc(n);
            /* Each symbol codable by every table: kind 1 tables code all of them, so draw from the common ones. */
            for (uint64_t i = 0; i < n; i++) {
                uint64_t r = test_rand(&seed);
                uint32_t g = (uint32_t)((i / cols) * per_row + (i % cols) / 40);
                const wqc_rans_table *t = &tables[group_table[g]];
                uint32_t s;
                do s = (uint32_t)((r = r * 6364136223846793005ull + 1442695040888963407ull) >> 40) % t->alphabet;
                while (!t->freq[s]);
                sym[i] = (uint8_t)s;
            }
            for (uint32_t lanes = 8; lanes <= 64; lanes *= 2) same_bytes(&tables[0], &ctx, lanes, sym, (size_t)n);
            free(sym);
        }
}

/* A symbol outside the alphabet or of frequency 0, inside the whole rounds
 * a kernel codes: every ISA fails the same way, naming it. */
static void test_encode_isa_uncodable_symbol(void **state)
{
    (void)state;
    uint64_t counts[16] = {0};
    for (int s = 0; s < 16; s++) counts[s] = s == 5 ? 0 : 100 + (uint64_t)s;
    uint32_t freq[256];
    wqc_rans_table t;
    assert_int_equal(wqc_freq_normalize(counts, 16, 12, freq, NULL), WQC_OK);
    assert_int_equal(wqc_rans_table_init(&t, freq, 16, 12, NULL), WQC_OK);
    size_t n = 4096, cap = wqc_rans_chunk_bound(n, 32), len;
    uint8_t *sym = malloc(n), *out = malloc(cap);
    for (int bad = 0; bad < 2; bad++) {
        for (size_t i = 0; i < n; i++) sym[i] = (uint8_t)(i % 16 == 5 ? 6 : i % 16);
        sym[1234] = bad ? 5 : 16;
        for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
            if (!wqc_isa_available((wqc_isa)isa)) continue;
            wqc_error err;
            assert_fails_with(wqc_rans_encode_chunk_isa(&t, 32, sym, n, out, cap, &len, (wqc_isa)isa, &err),
                              WQC_ERR_RANGE, err, "at position 1234");
        }
    }
    for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
        if (wqc_isa_available((wqc_isa)isa)) continue;
        wqc_error err;
        assert_fails_with(wqc_rans_encode_chunk_isa(&t, 32, sym, n, out, cap, &len, (wqc_isa)isa, &err),
                          WQC_ERR_UNSUPPORTED, err, "encoder");
    }
    free(sym);
    free(out);
}

/* Whole tensors through wqc_rans_encode (the active ISA) decode back. */
static void test_encode_isa_round_trip(void **state)
{
    (void)state;
    uint64_t n = 3u << 20, seed = 5;
    uint8_t *sym = malloc(n), *back = malloc(n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t r = test_rand(&seed);
        sym[i] = (uint8_t)(__builtin_ctzll(r | (1ull << 15)));
    }
    for (int threads = 1; threads <= 3; threads += 2) {
        wqc_rans_params p = {12, 32, 1u << 20, threads};
        wqc_rans_coded c;
        wqc_error err;
        assert_int_equal(wqc_rans_encode(sym, n, 16, &p, &c, &err), WQC_OK);
        assert_int_equal(wqc_rans_decode(&c, 1, back, &err), WQC_OK);
        assert_memory_equal(sym, back, n);
        wqc_rans_coded_free(&c);
    }
    free(sym);
    free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_isa_tables_lanes_precisions),
        cmocka_unit_test(test_encode_isa_contexts),
        cmocka_unit_test(test_encode_isa_uncodable_symbol),
        cmocka_unit_test(test_encode_isa_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
