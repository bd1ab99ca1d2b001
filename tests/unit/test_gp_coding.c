/* The general-purpose codings of symbols and kept tensors: the LZMA2 codec,
 * the structure probe that decides when the peers run, and the guarantee
 * that auto mode stores no tensor larger than the best peer would. */
#include <math.h>

#include "test_common.h"
#include "../../src/common/byte_codec.h"
#include "../../src/entropy/byte_probe.h"

static void test_lzma_round_trip_and_damage(void **state)
{
    (void)state;
    uint8_t src[5000], back[5000];
    uint64_t r = 9;
    for (int i = 0; i < 5000; i++) src[i] = (uint8_t)(i % 97 < 40 ? (uint64_t)(i % 13) : test_rand(&r) % 5);
    uint8_t *packed;
    size_t len;
    assert_int_equal(wqc_byte_compress(WQC_ENC_LZMA, WQC_GP_LZMA_LEVEL, src, 5000, &packed, &len, NULL), WQC_OK);
    assert_true(len < 2500);
    assert_int_equal(wqc_byte_decompress(WQC_ENC_LZMA, packed, len, back, 5000, NULL), WQC_OK);
    assert_memory_equal(back, src, 5000);
    wqc_error err;
    /* Another size, a byte more or less of stream, a flipped byte: refused. */
    assert_fails_with(wqc_byte_decompress(WQC_ENC_LZMA, packed, len, back, 4999, &err), WQC_ERR_FORMAT, err, "LZMA");
    assert_fails_with(wqc_byte_decompress(WQC_ENC_LZMA, packed, len - 1, back, 5000, &err), WQC_ERR_FORMAT, err, "LZMA");
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, packed, len);
    longer[len] = 0;
    assert_fails_with(wqc_byte_decompress(WQC_ENC_LZMA, longer, len + 1, back, 5000, &err), WQC_ERR_FORMAT, err, "LZMA");
    free(longer);
    packed[len / 2] ^= 0x40;
    wqc_status st = wqc_byte_decompress(WQC_ENC_LZMA, packed, len, back, 5000, NULL);
    assert_true(st == WQC_ERR_FORMAT || memcmp(back, src, 5000) != 0);
    free(packed);
    /* Incompressible bytes: stored in LZMA2's uncompressed chunks within the bound. */
    uint8_t noise[70000];
    for (int i = 0; i < 70000; i++) noise[i] = (uint8_t)test_rand(&r);
    assert_int_equal(wqc_byte_compress(WQC_ENC_LZMA, 6, noise, 70000, &packed, &len, NULL), WQC_OK);
    uint8_t *nb = malloc(70000);
    assert_int_equal(wqc_byte_decompress(WQC_ENC_LZMA, packed, len, nb, 70000, NULL), WQC_OK);
    assert_memory_equal(nb, noise, 70000);
    free(nb);
    free(packed);
}

static void test_probe_tells_structure_from_noise(void **state)
{
    (void)state;
    enum { N = 1 << 18 };
    uint8_t *iid = malloc(N), *periodic = malloc(N), *markov = malloc(N), pattern[37];
    uint64_t r = 5;
    for (int i = 0; i < 37; i++) pattern[i] = (uint8_t)(test_rand(&r) % 16);
    uint8_t prev = 0;
    for (int i = 0; i < N; i++) {
        /* 4-bit symbols: near-Gaussian counts, none depending on another. */
        int g = 0;
        for (int k = 0; k < 4; k++) g += (int)(test_rand(&r) % 5);
        iid[i] = (uint8_t)(g < 16 ? g : 15);
        periodic[i] = (uint8_t)(pattern[i % 37] ^ (i % 4096 == 0));
        /* Each symbol near the previous one: the previous symbol carries information. */
        prev = markov[i] = (uint8_t)((prev + (int)(test_rand(&r) % 3) - 1) & 15);
    }
    wqc_byte_structure s;
    wqc_byte_probe(iid, N, 1, &s);
    assert_true(s.repeats < 0.005 && s.order1_gain < 0.01);
    assert_false(wqc_byte_structured(&s));
    wqc_byte_probe(periodic, N, 1, &s);
    assert_true(s.repeats > 0.9);
    assert_true(wqc_byte_structured(&s));
    wqc_byte_probe(periodic, N, 4, &s);
    assert_true(s.repeats > 0.9 && wqc_byte_structured(&s));
    wqc_byte_probe(markov, N, 1, &s);
    assert_true(s.order1_gain > 0.3 && s.repeats < 0.05);
    assert_true(wqc_byte_structured(&s));
    /* In wider elements the previous byte is mostly the same value's: not counted. */
    wqc_byte_probe(markov, N, 2, &s);
    assert_true(s.order1_gain == 0 && !wqc_byte_structured(&s));
    /* Bytes of a wide alphabet (about 200 seen, as FP8 weights: too few
     * samples for every pair): i.i.d., then in rows of 256 every other of
     * which is weak (a dead neuron's row); the previous byte's top bits
     * tell the second (its order-1 gain was not estimated at all before). */
    uint8_t *wide = malloc(N), *rows = malloc(N);
    for (int i = 0; i < N; i++) {
        int g = 0;
        for (int k = 0; k < 4; k++) g += (int)(test_rand(&r) % 1001) - 500;
        int a = g * 30 / 1000, b = (i / 256) % 2 ? a : g * 2 / 1000;
        wide[i] = (uint8_t)(128 + (a < -100 ? -100 : a > 100 ? 100 : a));
        rows[i] = (uint8_t)(128 + (b < -100 ? -100 : b > 100 ? 100 : b));
    }
    wqc_byte_probe(wide, N, 1, &s);
    assert_true(s.order1_gain < 0.01 && !wqc_byte_structured(&s));
    wqc_byte_probe(rows, N, 1, &s);
    assert_true(s.order1_gain > 0.03 && wqc_byte_structured(&s));
    /* Noise whose second half repeats its first: the anchors of the second
     * half were all seen before, about half of all (the windows are hashed
     * in two chains, one a half: the second's keys must meet the first's). */
    uint8_t *twice = malloc(N);
    for (int i = 0; i < N / 2; i++) twice[i] = twice[N / 2 + i] = (uint8_t)test_rand(&r);
    wqc_byte_probe(twice, N, 1, &s);
    assert_true(s.repeats > 0.4 && s.repeats < 0.6 && wqc_byte_structured(&s));
    free(iid), free(periodic), free(markov), free(wide), free(rows), free(twice);
}

/* A rows x cols matrix quantized 4-bit row-wise, its frame ready to code. */
static void frame_of(const float *w, uint64_t rows, uint64_t cols, wqc_quantized *q, wqc_frame *f)
{
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    assert_int_equal(wqc_quantize(w, rows, cols, &p, "w", q, NULL), WQC_OK);
    memset(f, 0, sizeof *f);
    f->name = "w";
    f->dtype = WQC_DTYPE_F32;
    f->ndim = 2;
    f->shape[0] = rows, f->shape[1] = cols;
    f->nelem = rows * cols;
    f->quantized = 1;
    f->quant = p;
    f->q = *q;
    f->raw_len = f->nelem;
}

static size_t peer(wqc_encoding codec, int level, const uint8_t *p, size_t n)
{
    uint8_t *out;
    size_t len;
    assert_int_equal(wqc_byte_compress(codec, level, p, n, &out, &len, NULL), WQC_OK);
    free(out);
    return len;
}

static void test_auto_never_larger_than_the_peers(void **state)
{
    (void)state;
    enum { R = 258, C = 256 };
    float *w = malloc(sizeof(float) * R * C);
    /* Windowed sinusoids, as an STFT front end's kernel: exact repeats inside rows. */
    for (int k = 0; k < R; k++)
        for (int n = 0; n < C; n++) {
            double win = 0.5 - 0.5 * cos(2 * M_PI * n / C), a = 2 * M_PI * (k % 129) * n / C;
            w[k * C + n] = (float)(win * (k < 129 ? cos(a) : -sin(a)));
        }
    wqc_quantized q;
    wqc_frame f;
    frame_of(w, R, C, &q, &f);
    wqc_encode_options o;
    wqc_encode_options_default(&o);
    wqc_mode_sizes sizes;
    void *scratch;
    assert_int_equal(wqc_encode_symbols(&f, &o, &sizes, &scratch, NULL), WQC_OK);
    size_t best = peer(WQC_ENC_ZSTD, WQC_GP_ZSTD_LEVEL, q.symbols, R * C);
    best = fmin(best, peer(WQC_ENC_BROTLI, WQC_GP_BROTLI_QUALITY, q.symbols, R * C));
    best = fmin(best, peer(WQC_ENC_LZMA, WQC_GP_LZMA_LEVEL, q.symbols, R * C));
    assert_true(f.encoding == WQC_ENC_ZSTD || f.encoding == WQC_ENC_BROTLI || f.encoding == WQC_ENC_LZMA);
    assert_int_equal(wqc_frame_symbol_bytes(&f), best);
    assert_true(sizes.bytes[WQC_MODE_ORDER0] > (int64_t)best * 3 / 2); /* rANS alone loses by far */
    assert_int_equal(sizes.bytes[sizes.chosen], best);
    assert_true(sizes.bytes[WQC_MODE_LZMA] > 0 && sizes.bytes[WQC_MODE_BROTLI] > 0 && sizes.bytes[WQC_MODE_ZSTD] > 0);
    /* Through a file and back: the same symbols. */
    wqc_memory_out out = {0};
    wqc_writer *wr;
    assert_int_equal(wqc_writer_open(wqc_memory_sink, &out, NULL, 0, &wr, NULL), WQC_OK);
    assert_int_equal(wqc_writer_add(wr, &f, NULL), WQC_OK);
    assert_int_equal(wqc_writer_finish(wr, NULL), WQC_OK);
    wqc_writer_free(wr);
    wqc_encoded_free(&f);
    free(scratch);
    wqc_reader *rd;
    assert_int_equal(wqc_reader_open(out.data, out.len, 1, NULL, 0, &rd, NULL), WQC_OK);
    const wqc_frame *g;
    assert_int_equal(wqc_reader_frame(rd, 0, &g, NULL), WQC_OK);
    uint8_t *sym = malloc(R * C);
    assert_int_equal(wqc_frame_decode_symbols(g, 1, sym, NULL), WQC_OK);
    assert_memory_equal(sym, q.symbols, R * C);
    free(sym);
    wqc_reader_free(rd);
    free(out.data);
    wqc_quantized_free(&q);

    /* --mode lzma, forced on a Gaussian matrix: LZMA2 although rANS is smaller. */
    wqc_synthetic_spec spec = {WQC_SYNTH_GAUSSIAN, 64, 512, 0.02, 3};
    float *gw;
    assert_int_equal(wqc_synthetic_generate(&spec, &gw, NULL), WQC_OK);
    frame_of(gw, 64, 512, &q, &f);
    o.mode = WQC_MODE_LZMA;
    assert_int_equal(wqc_encode_symbols(&f, &o, &sizes, &scratch, NULL), WQC_OK);
    assert_int_equal(f.encoding, WQC_ENC_LZMA);
    assert_int_equal(sizes.chosen, WQC_MODE_LZMA);
    wqc_encoded_free(&f);
    free(scratch);
    /* Auto on it: rANS, the peers not even tried. */
    o.mode = WQC_MODE_AUTO;
    assert_int_equal(wqc_encode_symbols(&f, &o, &sizes, &scratch, NULL), WQC_OK);
    assert_int_equal(f.encoding, WQC_ENC_RANS);
    assert_true(sizes.bytes[WQC_MODE_LZMA] < 0 && sizes.bytes[WQC_MODE_BROTLI] < 0);
    wqc_encoded_free(&f);
    free(scratch);
    wqc_quantized_free(&q);
    free(gw);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lzma_round_trip_and_damage),
        cmocka_unit_test(test_probe_tells_structure_from_noise),
        cmocka_unit_test(test_auto_never_larger_than_the_peers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
