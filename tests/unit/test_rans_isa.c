/* Every SIMD decoder against the scalar reference, bit for bit, in every
 * output form; the scalar decoder against independent definitions of each
 * form (the original symbols, nibble packing, wqc_dequantize). */
#include <stdlib.h>

#include "test_common.h"

static void fill(uint8_t *sym, size_t n, uint32_t alphabet, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rand(&seed);
        /* Skewed toward small symbols, every symbol possible. */
        uint32_t k = (uint32_t)__builtin_ctzll(r | (1ull << 40));
        sym[i] = (uint8_t)(k < alphabet && (r >> 48) % 4 ? k : (r >> 32) % alphabet);
    }
}

/* Parameter groups: per tensor, per row, or G per row with a short last group. */
static void make_groups(wqc_quantized *q, uint64_t n, int kind, uint64_t seed)
{
    memset(q, 0, sizeof *q);
    q->cols = kind == 0 ? (n ? n : 1) : 100;
    q->rows = (n + q->cols - 1) / q->cols;
    q->group_len = kind == 2 ? 32 : q->cols;
    uint64_t per_row = (q->cols + q->group_len - 1) / q->group_len;
    q->ngroups = kind == 0 ? 1 : (q->rows ? q->rows : 1) * per_row;
    q->scale = malloc(q->ngroups * sizeof(float));
    q->offset = malloc(q->ngroups * sizeof(float));
    for (uint64_t g = 0; g < q->ngroups; g++) {
        q->scale[g] = (float)((test_rand(&seed) % 20000) + 1) * 1.37e-6f;
        q->offset[g] = -(float)(test_rand(&seed) % 30000) * 1.1e-6f;
    }
}

static void make_context(wqc_rans_context *ctx, wqc_quantized *g, uint64_t n, uint32_t alphabet, int precision,
                         int kind, uint32_t ntables, uint64_t seed);
static void free_context(wqc_rans_context *ctx, wqc_quantized *g);
static void check_context_buckets(const uint32_t (*freq)[16], uint32_t ntables, int precision, uint32_t starts,
                                  const uint32_t *dense);

/* Expected output of form for sym[0..n), from first principles. */
static uint8_t *expected(const uint8_t *sym, uint64_t n, wqc_rans_form form, const wqc_quantized *g)
{
    uint8_t *e = calloc(wqc_rans_output_bytes(form, n) + 1, 1);
    for (uint64_t i = 0; i < n; i++) {
        if (form == WQC_FORM_SYMBOLS) {
            e[i] = sym[i];
        } else if (form == WQC_FORM_NIBBLES) {
            e[i / 2] |= (uint8_t)(sym[i] << (4 * (i & 1)));
        } else {
            uint64_t grp = wqc_quantized_group(g, i / g->cols, i % g->cols);
            float v = g->offset[grp] + g->scale[grp] * (float)sym[i];
            if (form == WQC_FORM_F32) {
                memcpy(e + 4 * i, &v, 4);
            } else {
                uint16_t h = form == WQC_FORM_F16 ? wqc_f32_to_f16(v) : wqc_f32_to_bf16(v);
                memcpy(e + 2 * i, &h, 2);
            }
        }
    }
    return e;
}

static const char *form_name(wqc_rans_form f)
{
    static const char *names[] = {"symbols", "nibbles", "f32", "f16", "dot", "bf16"};
    return names[f];
}

/* Decodes c in form with every ISA (1 and 2 threads) and compares. */
static void check_all_isas(const wqc_rans_coded *c, const uint8_t *sym, wqc_rans_form form, int group_kind)
{
    wqc_quantized g;
    make_groups(&g, c->n, group_kind, c->n * 31 + (uint64_t)form);
    uint8_t *want = expected(sym, c->n, form, &g);
    size_t bytes = (size_t)wqc_rans_output_bytes(form, c->n);
    uint8_t *got = malloc(bytes + 1);
    for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
        if (!wqc_isa_available((wqc_isa)isa)) continue;
        for (int threads = 1; threads <= 2; threads++) {
            memset(got, 0xa5, bytes + 1);
            wqc_rans_output out = {.form = form, .dst = got, .groups = &g};
            wqc_error err;
            if (wqc_rans_decode_to(c, &out, threads, (wqc_isa)isa, &err) != WQC_OK)
                fail_msg("%s %s n=%llu: %s", wqc_isa_name((wqc_isa)isa), form_name(form),
                         (unsigned long long)c->n, err.msg);
            if (memcmp(got, want, bytes) != 0 || got[bytes] != 0xa5)
                fail_msg("%s %s differs: n=%llu A=%u P=%d lanes=%u chunk=%u groups=%d threads=%d",
                         wqc_isa_name((wqc_isa)isa), form_name(form), (unsigned long long)c->n,
                         c->table.alphabet, c->table.precision, c->lanes, c->chunk, group_kind, threads);
        }
    }
    free(got);
    free(want);
    free(g.scale);
    free(g.offset);
}

static void check(uint64_t n, uint32_t alphabet, int precision, uint32_t lanes, uint32_t chunk, uint64_t seed)
{
    uint8_t *sym = malloc(n + 1);
    fill(sym, n, alphabet, seed);
    wqc_rans_params p = {precision, lanes, chunk, 1};
    wqc_rans_coded c;
    wqc_error err;
    if (wqc_rans_encode(sym, n, alphabet, &p, &c, &err) != WQC_OK) fail_msg("encode: %s", err.msg);
    check_all_isas(&c, sym, WQC_FORM_SYMBOLS, 0);
    if (alphabet <= 16) check_all_isas(&c, sym, WQC_FORM_NIBBLES, 0);
    for (int kind = 0; kind < 3; kind++) {
        check_all_isas(&c, sym, WQC_FORM_F32, kind);
        check_all_isas(&c, sym, WQC_FORM_F16, kind);
        check_all_isas(&c, sym, WQC_FORM_BF16, kind);
    }
    wqc_rans_coded_free(&c);
    free(sym);
}

/* Symbols with exactly m * freq[s] of each symbol s, shuffled: their
 * normalised table is freq. */
static uint8_t *symbols_of_table(const uint32_t *freq, uint32_t alphabet, uint64_t m, uint64_t *n, uint64_t seed)
{
    uint64_t total = 0;
    for (uint32_t s = 0; s < alphabet; s++) total += m * freq[s];
    uint8_t *sym = malloc(total + 1);
    uint64_t at = 0;
    for (uint32_t s = 0; s < alphabet; s++)
        for (uint64_t i = 0; i < m * freq[s]; i++) sym[at++] = (uint8_t)s;
    for (uint64_t i = total; i > 1; i--) {
        uint64_t j = test_rand(&seed) % i;
        uint8_t t = sym[i - 1];
        sym[i - 1] = sym[j];
        sym[j] = t;
    }
    *n = total;
    return sym;
}

/* A table given by its frequencies: its bucket tables have `starts` and
 * `dense` slots (4: it has none), and every ISA decodes it as the scalar one. */
static void check_bucket_table(const uint32_t *freq, int precision, uint32_t starts, uint32_t dense)
{
    uint64_t n, m = 40000 >> precision ? 40000 >> precision : 2;
    uint8_t *sym = symbols_of_table(freq, 16, m, &n, (uint64_t)precision * 7 + starts);
    wqc_rans_params p = {precision, 32, 4096, 1};
    wqc_rans_coded c;
    wqc_error err;
    if (wqc_rans_encode(sym, n, 16, &p, &c, &err) != WQC_OK) fail_msg("encode: %s", err.msg);
    assert_memory_equal(c.table.freq, freq, 16 * sizeof *freq);
    wqc_rans_dtable d;
    assert_int_equal(wqc_rans_dtable_init(&d, &c.table, &err), WQC_OK);
    uint32_t got_starts = d.buckets ? d.bucket_starts : 4, got_dense = d.buckets ? d.buckets[0].dense : 0;
    if (got_starts != starts || got_dense != dense)
        fail_msg("P %d, first frequencies %u %u %u: %u starts and %u dense slots, expected %u and %u", precision,
                 freq[0], freq[1], freq[2], got_starts, got_dense, starts, dense);
    wqc_rans_dtable_free(&d);
    check_all_isas(&c, sym, WQC_FORM_SYMBOLS, 0);
    check_all_isas(&c, sym, WQC_FORM_NIBBLES, 0);
    check_all_isas(&c, sym, WQC_FORM_F16, 2);
    wqc_rans_coded_free(&c);
    free(sym);
}

/* The AVX-512 bucket tables (decode_avx512_vbmi.c) of 16-symbol tables:
 * starts at bucket edges only, up to 3 inside a bucket, dense buckets by
 * slot, symbols of frequency 0 inside, and tables without bucket tables. */
static void test_isa_bucket_tables(void **state)
{
    (void)state;
    uint32_t f[16];
    /* P 12: buckets of 32 slots. Every start on a bucket's edge. */
    for (int s = 0; s < 16; s++) f[s] = 256;
    check_bucket_table(f, 12, 0, 0);
    /* A per-tensor affine 4-bit Gaussian (wqc bench's table): the tails' 4
     * starts in buckets 0 and 127 go by slot, one start elsewhere. */
    static const uint32_t tails[16] = {1, 1, 1, 6, 54, 264, 740, 1180, 1080, 565, 169, 29, 3, 1, 1, 1};
    check_bucket_table(tails, 12, 1, 64);
    /* Three starts in bucket 1, two in bucket 2: both dense (64 slots). */
    static const uint32_t dense[16] = {40, 10, 10, 10, 5, 500, 500, 500, 500, 500, 500, 500, 300, 100, 100, 21};
    check_bucket_table(dense, 12, 1, 64);
    /* Two starts in each of five buckets: dense would take 160 slots. */
    static const uint32_t two[16] = {10, 10, 630, 10, 630, 10, 630, 10, 630, 10, 500, 300, 300, 200, 100, 116};
    check_bucket_table(two, 12, 2, 0);
    /* Three starts in each of five buckets: dense would take 160 slots. */
    static const uint32_t three[16] = {8, 8, 8, 624, 8, 8, 624, 8, 8, 624, 8, 8, 624, 8, 8, 1512};
    check_bucket_table(three, 12, 3, 0);
    /* Symbols of frequency 0 inside the alphabet: three starts at slot 300
     * (symbols 1, 2, 3), two at 1805, two at 3800. */
    static const uint32_t zeros[16] = {300, 0, 0, 500, 500, 500, 5, 0, 495, 500, 500, 500, 0, 296, 0, 0};
    check_bucket_table(zeros, 12, 1, 96);
    /* P 13, buckets of 64: three buckets of 4 starts (192 slots) do not fit the
     * slot table: no bucket tables (the search decodes it). */
    static const uint32_t crowded[16] = {1, 1, 1, 1, 1996, 1, 1, 1, 2997, 1, 1, 1, 3000, 100, 50, 39};
    check_bucket_table(crowded, 13, 4, 0);
    /* P 14: one dense bucket of 128 slots fits; P 15: none (256 slots). */
    static const uint32_t p14[16] = {1, 1, 1, 1, 5000, 5000, 3800, 1000, 500, 300, 200, 150, 130, 128, 128, 44};
    check_bucket_table(p14, 14, 1, 128);
    static const uint32_t p15[16] = {1, 1, 1, 1, 10000, 10000, 10000, 2000, 400, 200, 100, 30, 10, 10, 10, 4};
    check_bucket_table(p15, 15, 4, 0);
    /* A context's tables share the most starts any needs (2, the third's);
     * the tails' stay dense, the others have no dense slots. */
    static const uint32_t ctx_tables[3][16] = {
        {256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256},
        {1, 1, 1, 6, 54, 264, 740, 1180, 1080, 565, 169, 29, 3, 1, 1, 1},
        {10, 10, 630, 10, 630, 10, 630, 10, 630, 10, 500, 300, 300, 200, 100, 116}};
    static const uint32_t ctx_dense[3] = {0, 64, 0};
    check_context_buckets(ctx_tables, 3, 12, 2, ctx_dense);
    /* One table without bucket tables leaves the context without them. */
    static const uint32_t ctx_crowded[2][16] = {{1, 1, 1, 1, 1996, 1, 1, 1, 2997, 1, 1, 1, 3000, 100, 50, 39},
                                                {512, 512, 512, 512, 512, 512, 512, 512, 512, 512, 512, 512, 512, 512, 512, 512}};
    static const uint32_t no_dense[2] = {0, 0};
    check_context_buckets(ctx_crowded, 2, 13, 4, no_dense);
    /* P 10, buckets of 8: the 9 buckets with starts fit the slot table. */
    static const uint32_t p10[16] = {1, 1, 1, 2, 14, 66, 185, 289, 270, 141, 42, 7, 2, 1, 1, 1};
    check_bucket_table(p10, 10, 0, 72);
}

/* A window of chunks decoded into a buffer that starts at its first element,
 * symbols shifted by `add` (what decode does for given integers), and F32:
 * every ISA gives the slice of the whole tensor. */
static void test_isa_chunk_windows(void **state)
{
    (void)state;
    uint64_t n = 41200; /* 412 rows of 100 (make_groups), 11 chunks of 4096 */
    uint8_t *sym = malloc(n);
    fill(sym, n, 16, 44);
    wqc_rans_params p = {12, 32, 4096, 1};
    wqc_rans_coded c;
    wqc_error err;
    assert_int_equal(wqc_rans_encode(sym, n, 16, &p, &c, &err), WQC_OK);
    wqc_quantized g;
    make_groups(&g, n, 1, 5);
    float *all = malloc(n * sizeof *all);
    wqc_quantized whole = g;
    whole.symbols = sym;
    wqc_dequantize(&whole, all);
    uint8_t *bytes = malloc(4 * 4096 * 4);
    for (int isa = 0; isa < WQC_ISA_COUNT; isa++) {
        if (!wqc_isa_available((wqc_isa)isa)) continue;
        for (uint64_t first = 0; first < c.nchunks; first += 3) {
            uint64_t count = c.nchunks - first < 4 ? c.nchunks - first : 4, from = first * c.chunk;
            uint64_t len = (first + count) * c.chunk < n ? count * c.chunk : n - from;
            wqc_rans_output o = {.form = WQC_FORM_SYMBOLS, .dst = bytes, .first = from, .add = 7};
            assert_int_equal(wqc_rans_decode_chunks(&c, first, count, &o, 2, (wqc_isa)isa, &err), WQC_OK);
            for (uint64_t i = 0; i < len; i++) assert_int_equal(bytes[i], (uint8_t)(sym[from + i] + 7));
            wqc_rans_output f = {.form = WQC_FORM_F32, .dst = bytes, .first = from, .groups = &g};
            assert_int_equal(wqc_rans_decode_chunks(&c, first, count, &f, 1, (wqc_isa)isa, &err), WQC_OK);
            assert_memory_equal(bytes, all + from, len * sizeof(float));
        }
    }
    assert_fails_with(wqc_rans_decode_chunks(&c, 9, 3, &(wqc_rans_output){.form = WQC_FORM_SYMBOLS, .dst = bytes}, 1,
                                             WQC_ISA_SCALAR, &err),
                      WQC_ERR_INVALID_ARG, err, "chunks 9..12");
    free(bytes);
    free(all);
    free(g.scale);
    free(g.offset);
    wqc_rans_coded_free(&c);
    free(sym);
}

/* A context over the groups of make_groups(kind): ntables tables of
 * different shapes (every symbol present), each group given one at random. */
static void make_context(wqc_rans_context *ctx, wqc_quantized *g, uint64_t n, uint32_t alphabet, int precision,
                         int kind, uint32_t ntables, uint64_t seed)
{
    make_groups(g, n, kind, seed);
    memset(ctx, 0, sizeof *ctx);
    ctx->ntables = ntables;
    ctx->tables = calloc(ntables, sizeof *ctx->tables);
    ctx->group_table = malloc(g->ngroups);
    for (uint32_t t = 0; t < ntables; t++) {
        uint64_t counts[256] = {0};
        uint32_t freq[256];
        for (uint32_t s = 0; s < alphabet; s++) counts[s] = 1 + (uint64_t)((s * (t + 1) * 7 + t) % (alphabet + 3)) * (t + 1) * 40;
        assert_int_equal(wqc_freq_normalize(counts, alphabet, precision, freq, NULL), WQC_OK);
        assert_int_equal(wqc_rans_table_init(&ctx->tables[t], freq, alphabet, precision, NULL), WQC_OK);
    }
    for (uint64_t i = 0; i < g->ngroups; i++) ctx->group_table[i] = (uint8_t)(test_rand(&seed) % ntables);
    ctx->rows = n ? g->rows : 0;
    ctx->cols = g->cols;
    ctx->group_len = g->group_len;
    ctx->ngroups = g->ngroups;
    if (n == 0) ctx->rows = 0, ctx->cols = 0;
}

/* Column shifts (-4..4, some past either end of the bins) over 2 ntables + 1
 * bins, each bin given a table at random; the groups get bins. */
static void add_col_shifts(wqc_rans_context *ctx, uint64_t seed)
{
    ctx->nbins = 2 * ctx->ntables + 1;
    ctx->bin_table = malloc(ctx->nbins);
    ctx->col_shift = malloc(ctx->cols ? ctx->cols : 1);
    for (uint32_t b = 0; b < ctx->nbins; b++) ctx->bin_table[b] = (uint8_t)(test_rand(&seed) % ctx->ntables);
    for (uint64_t c = 0; c < ctx->cols; c++) ctx->col_shift[c] = (int8_t)((int)(test_rand(&seed) % 9) - 4);
    for (uint64_t i = 0; i < ctx->ngroups; i++) ctx->group_table[i] = (uint8_t)(test_rand(&seed) % ctx->nbins);
}

static void free_context(wqc_rans_context *ctx, wqc_quantized *g)
{
    free(ctx->tables);
    free(ctx->group_table);
    free(ctx->col_shift);
    free(ctx->bin_table);
    free(g->scale);
    free(g->offset);
}

/* Context-coded tensors: every ISA and form against first principles, and a
 * decoder told the wrong tables does not give the symbols back. */
static void check_context_shifted(uint64_t n, uint32_t alphabet, int precision, uint32_t lanes, uint32_t chunk,
                                  int kind, uint32_t ntables, uint64_t seed, int shifted)
{
    wqc_rans_context ctx;
    wqc_quantized g;
    make_context(&ctx, &g, n, alphabet, precision, kind, ntables, seed);
    if (shifted) add_col_shifts(&ctx, seed);
    n = ctx.rows * ctx.cols;
    uint8_t *sym = malloc(n + 1);
    fill(sym, n, alphabet, seed);
    wqc_rans_params p = {precision, lanes, chunk, 1};
    wqc_rans_coded c;
    wqc_error err;
    if (wqc_rans_encode_context(sym, n, &ctx, &p, &c, &err) != WQC_OK) fail_msg("encode: %s", err.msg);
    check_all_isas(&c, sym, WQC_FORM_SYMBOLS, 0);
    if (alphabet <= 16) check_all_isas(&c, sym, WQC_FORM_NIBBLES, 0);
    check_all_isas(&c, sym, WQC_FORM_F32, kind);
    check_all_isas(&c, sym, WQC_FORM_F16, 2);
    check_all_isas(&c, sym, WQC_FORM_BF16, kind);
    if (ntables > 1 && n > 1000) {
        for (uint64_t i = 0; i < c.ctx.ngroups; i++) c.ctx.group_table[i] = (uint8_t)((c.ctx.group_table[i] + 1) % ntables);
        uint8_t *back = malloc(n);
        wqc_status st = wqc_rans_decode(&c, 1, back, &err);
        assert_true(st != WQC_OK || memcmp(back, sym, n) != 0);
        free(back);
    }
    wqc_rans_coded_free(&c);
    free_context(&ctx, &g);
    free(sym);
}

/* A context of the given 16-symbol tables over rows of 100 (rounds in one
 * row and across two), each row given one at random: the bucket tables share `starts`
 * (4: none) and table t has dense[t] dense slots; every ISA decodes it as
 * the scalar one. */
static void check_context_buckets(const uint32_t (*freq)[16], uint32_t ntables, int precision, uint32_t starts,
                                  const uint32_t *dense)
{
    wqc_rans_context ctx;
    wqc_quantized g;
    make_context(&ctx, &g, 32 * 1000, 16, precision, 1, ntables, ntables);
    for (uint32_t t = 0; t < ntables; t++)
        assert_int_equal(wqc_rans_table_init(&ctx.tables[t], freq[t], 16, precision, NULL), WQC_OK);
    uint64_t n = ctx.rows * ctx.cols;
    uint8_t *sym = malloc(n + 1);
    fill(sym, n, 16, starts);
    wqc_rans_params p = {precision, 32, 4096, 1};
    wqc_rans_coded c;
    wqc_error err;
    if (wqc_rans_encode_context(sym, n, &ctx, &p, &c, &err) != WQC_OK) fail_msg("encode: %s", err.msg);
    wqc_rans_dtable d;
    assert_int_equal(wqc_rans_dtable_init_context(&d, &c.ctx, &err), WQC_OK);
    assert_int_equal(d.buckets ? d.bucket_starts : 4, starts);
    for (uint32_t t = 0; d.buckets && t < ntables; t++) assert_int_equal(d.buckets[t].dense, dense[t]);
    wqc_rans_dtable_free(&d);
    check_all_isas(&c, sym, WQC_FORM_SYMBOLS, 0);
    check_all_isas(&c, sym, WQC_FORM_NIBBLES, 0);
    check_all_isas(&c, sym, WQC_FORM_F16, 2);
    wqc_rans_coded_free(&c);
    free_context(&ctx, &g);
    free(sym);
}

static void check_context(uint64_t n, uint32_t alphabet, int precision, uint32_t lanes, uint32_t chunk, int kind,
                          uint32_t ntables, uint64_t seed)
{
    check_context_shifted(n, alphabet, precision, lanes, chunk, kind, ntables, seed, 0);
}

/* Column shifts: each element's table from its group's bin moved by its
 * column's shift; every ISA and form against first principles. */
static void test_isa_context_column_shifts(void **state)
{
    (void)state;
    /* Rows of 100 (vectors straddle rows) and groups of 32 with a short last one. */
    for (int kind = 1; kind < 3; kind++) {
        check_context_shifted(20000, 16, 12, 32, 4096, kind, 5, (uint64_t)kind, 1);
        check_context_shifted(20000, 16, 12, 64, 8192, kind, 9, (uint64_t)kind + 5, 1);
        check_context_shifted(20000, 16, 12, 32, 8192, kind, 20, (uint64_t)kind + 7, 1); /* 41 bins */
        check_context_shifted(20000, 16, 13, 16, 8192, kind, 1, (uint64_t)kind + 10, 1);
        check_context_shifted(9000, 63, 12, 32, 2048, kind, 7, (uint64_t)kind + 20, 1);
        check_context_shifted(7000, 200, 11, 8, 1024, kind, 3, (uint64_t)kind + 30, 1);
        check_context_shifted(3001, 3, 10, 24, 1031, kind, 2, (uint64_t)kind + 40, 1);
    }
    static const uint64_t sizes[] = {101, 199, 1023, 1025};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) check_context_shifted(sizes[i], 16, 12, 16, 1024, 1, 3, i, 1);
}

static void test_isa_context_tables_per_group(void **state)
{
    (void)state;
    /* Per tensor, per row (100 columns: vectors straddle rows) and groups of 32 with a short last one. */
    for (int kind = 0; kind < 3; kind++) {
        check_context(20000, 16, 12, 32, 4096, kind, 5, (uint64_t)kind);
        check_context(20000, 16, 13, 16, 8192, kind, 1, (uint64_t)kind + 10);
        check_context(9000, 63, 12, 32, 2048, kind, 7, (uint64_t)kind + 20);
        check_context(7000, 200, 11, 8, 1024, kind, 3, (uint64_t)kind + 30);
        check_context(3001, 3, 10, 24, 1031, kind, 2, (uint64_t)kind + 40);
    }
    for (uint32_t t = 1; t <= WQC_RANS_TABLES_MAX; t *= 4) check_context(30000, 16, 12, 64, 4096, 1, t, t);
    static const uint64_t sizes[] = {1, 7, 99, 100, 101, 1023, 1025};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) check_context(sizes[i], 16, 12, 16, 1024, 1, 3, i);
}

/* One table as a context codes the same bytes as order-0 with that table. */
static void test_isa_context_of_one_table_is_order0(void **state)
{
    (void)state;
    uint64_t n = 50000;
    uint8_t *sym = malloc(n);
    fill(sym, n, 16, 3);
    wqc_rans_params p = {12, 32, 8192, 1};
    wqc_rans_coded a, b;
    wqc_error err;
    assert_int_equal(wqc_rans_encode(sym, n, 16, &p, &a, &err), WQC_OK);
    uint8_t zero = 0;
    wqc_rans_context ctx = {.ntables = 1, .tables = &a.table, .group_table = &zero, .rows = 1, .cols = n, .group_len = n, .ngroups = 1};
    assert_int_equal(wqc_rans_encode_context(sym, n, &ctx, &p, &b, &err), WQC_OK);
    assert_int_equal(a.payload_len, b.payload_len);
    assert_memory_equal(a.payload, b.payload, a.payload_len);
    wqc_rans_coded_free(&a);
    wqc_rans_coded_free(&b);
    free(sym);
}

static void test_isa_every_alphabet_size(void **state)
{
    (void)state;
    /* Packed (<= 16 symbols, P <= 13) and general tables, n not a multiple
     * of any vector so that chunks end mid-vector. */
    for (uint32_t a = 1; a <= 256; a++) check(3001 + a, a, a <= 16 ? 12 : 11, 32, 1024, a);
}

static void test_isa_every_lane_count_and_precision(void **state)
{
    (void)state;
    for (uint32_t lanes = 8; lanes <= 256; lanes += 8) check(5000 + lanes, 16, 12, lanes, 2048, lanes);
    /* Byte alphabets at WQC_RANS_LANES_GATHERED, their default: the one-gather
     * table (P <= 12) and the two-gather one, several chunks each. */
    for (int p = 11; p <= 13; p++) check(70001, 256, p, WQC_RANS_LANES_GATHERED, 16384, (uint64_t)p + 200);
    for (int p = 10; p <= 15; p++) {
        check(20000, 16, p, 32, 4096, (uint64_t)p);
        check(20000, 200, p, 16, 4096, (uint64_t)p + 100);
    }
}

static void test_isa_short_and_odd_chunks(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {0, 1, 7, 8, 15, 16, 17, 31, 33, 1023, 1024, 1025, 3071};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check(sizes[i], 16, 12, 16, 1024, i);
        check(sizes[i], 5, 12, 8, 1024, i);
    }
    /* Odd chunk lengths put chunk starts on odd elements (nibbles share bytes). */
    check(10000, 16, 12, 32, 1027, 9);
    check(10000, 3, 10, 24, 1031, 10);
}

/* Damaged streams: every ISA fails where the scalar decoder fails, with the same message. */
static void test_isa_same_verdict_on_damaged_streams(void **state)
{
    (void)state;
    uint64_t n = 4096;
    uint8_t *sym = malloc(n);
    fill(sym, n, 16, 77);
    wqc_rans_params p = {12, 32, 4096, 1};
    wqc_rans_coded c;
    wqc_error err;
    assert_int_equal(wqc_rans_encode(sym, n, 16, &p, &c, &err), WQC_OK);
    wqc_rans_dtable d;
    assert_int_equal(wqc_rans_dtable_init(&d, &c.table, &err), WQC_OK);
    uint8_t *ref = malloc(n), *got = malloc(n);
    uint64_t seed = 5;
    for (int trial = 0; trial < 300; trial++) {
        uint8_t *damaged = malloc(c.payload_len);
        memcpy(damaged, c.payload, c.payload_len);
        size_t len = (size_t)c.payload_len;
        if (trial % 3 == 0) len -= 1 + test_rand(&seed) % 64;
        else damaged[test_rand(&seed) % len] ^= (uint8_t)(1 + test_rand(&seed) % 255);
        wqc_rans_output out_ref = {.form = WQC_FORM_SYMBOLS, .dst = ref, .groups = NULL};
        wqc_error want;
        wqc_error_clear(&want);
        wqc_status st_ref = wqc_rans_decode_chunk_to(&d, 32, damaged, len, &out_ref, 0, n, WQC_ISA_SCALAR, &want);
        for (int isa = 1; isa < WQC_ISA_COUNT; isa++) {
            if (!wqc_isa_available((wqc_isa)isa)) continue;
            wqc_rans_output out = {.form = WQC_FORM_SYMBOLS, .dst = got, .groups = NULL};
            wqc_error_clear(&err);
            wqc_status st = wqc_rans_decode_chunk_to(&d, 32, damaged, len, &out, 0, n, (wqc_isa)isa, &err);
            assert_int_equal(st, st_ref);
            assert_string_equal(err.msg, want.msg);
            if (st == WQC_OK) assert_memory_equal(got, ref, n);
        }
        free(damaged);
    }
    wqc_rans_dtable_free(&d);
    wqc_rans_coded_free(&c);
    free(sym);
    free(ref);
    free(got);
}

/* Whole tensors, where chunks are decoded several at a time: a damaged chunk is named
 * the same way by every ISA, and the intact chunks decode the same; with one
 * table and with a context of five (rows of 100: groups straddle vectors). */
static void damaged_tensor(int context)
{
    uint64_t n = 9 * 4096 + 77, seed = 11; /* 10 chunks: tasks of 4, 2 and 1 */
    wqc_rans_context ctx;
    wqc_quantized g;
    if (context) {
        make_context(&ctx, &g, n, 16, 12, 1, 5, 3);
        n = ctx.rows * ctx.cols;
    }
    uint8_t *sym = malloc(n), *ref = malloc(n), *got = malloc(n);
    fill(sym, n, 16, 78);
    wqc_rans_params p = {12, 32, 4096, 1};
    wqc_rans_coded c;
    wqc_error err, want;
    if (context) assert_int_equal(wqc_rans_encode_context(sym, n, &ctx, &p, &c, &err), WQC_OK);
    else assert_int_equal(wqc_rans_encode(sym, n, 16, &p, &c, &err), WQC_OK);
    for (int trial = 0; trial < 60; trial++) {
        uint64_t at = test_rand(&seed) % c.payload_len;
        uint8_t old = c.payload[at];
        c.payload[at] ^= (uint8_t)(1 + test_rand(&seed) % 255);
        for (int threads = 1; threads <= 2; threads++) {
            wqc_rans_output o_ref = {.form = WQC_FORM_SYMBOLS, .dst = ref, .groups = NULL};
            wqc_error_clear(&want);
            wqc_status st_ref = wqc_rans_decode_to(&c, &o_ref, threads, WQC_ISA_SCALAR, &want);
            for (int isa = 1; isa < WQC_ISA_COUNT; isa++) {
                if (!wqc_isa_available((wqc_isa)isa)) continue;
                wqc_rans_output o = {.form = WQC_FORM_SYMBOLS, .dst = got, .groups = NULL};
                wqc_error_clear(&err);
                assert_int_equal(wqc_rans_decode_to(&c, &o, threads, (wqc_isa)isa, &err), st_ref);
                assert_string_equal(err.msg, want.msg);
                if (st_ref == WQC_OK) assert_memory_equal(got, ref, n);
            }
        }
        c.payload[at] = old;
    }
    wqc_rans_coded_free(&c);
    if (context) free_context(&ctx, &g);
    free(sym), free(ref), free(got);
}

static void test_isa_same_verdict_on_damaged_tensors(void **state)
{
    (void)state;
    damaged_tensor(0);
    damaged_tensor(1);
}

static void test_isa_names_and_availability(void **state)
{
    (void)state;
    wqc_isa isa;
    wqc_error err;
    for (int i = 0; i < WQC_ISA_COUNT; i++) {
        assert_int_equal(wqc_isa_from_name(wqc_isa_name((wqc_isa)i), &isa, &err), WQC_OK);
        assert_int_equal(isa, i);
    }
    assert_fails_with(wqc_isa_from_name("sse9", &isa, &err), WQC_ERR_INVALID_ARG, err, "unknown ISA 'sse9'");
    assert_true(wqc_isa_available(WQC_ISA_SCALAR));
    assert_true(wqc_isa_available(wqc_isa_best()));
#if defined(__x86_64__)
    assert_false(wqc_isa_available(WQC_ISA_NEON));
#elif defined(__aarch64__)
    assert_true(wqc_isa_available(WQC_ISA_NEON));
    assert_false(wqc_isa_available(WQC_ISA_AVX2));
#endif
    /* An unavailable ISA is an error, not a silent fallback. */
    for (int i = 0; i < WQC_ISA_COUNT; i++) {
        if (wqc_isa_available((wqc_isa)i)) continue;
        wqc_rans_coded c;
        wqc_rans_params p = {12, 8, 1024, 1};
        uint8_t s[4] = {0, 1, 0, 1}, out[4];
        assert_int_equal(wqc_rans_encode(s, 4, 2, &p, &c, &err), WQC_OK);
        wqc_rans_output o = {.form = WQC_FORM_SYMBOLS, .dst = out, .groups = NULL};
        assert_fails_with(wqc_rans_decode_to(&c, &o, 1, (wqc_isa)i, &err), WQC_ERR_UNSUPPORTED, err, "decoder");
        wqc_rans_coded_free(&c);
    }
}

static void test_isa_rejects_nibbles_for_large_alphabets(void **state)
{
    (void)state;
    uint8_t s[64], out[64];
    for (int i = 0; i < 64; i++) s[i] = (uint8_t)(i % 17);
    wqc_rans_params p = {12, 8, 1024, 1};
    wqc_rans_coded c;
    wqc_error err;
    assert_int_equal(wqc_rans_encode(s, 64, 17, &p, &c, &err), WQC_OK);
    wqc_rans_output o = {.form = WQC_FORM_NIBBLES, .dst = out, .groups = NULL};
    assert_fails_with(wqc_rans_decode_to(&c, &o, 1, WQC_ISA_SCALAR, &err), WQC_ERR_INVALID_ARG, err,
                      "at most 16 symbols");
    wqc_rans_coded_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_every_alphabet_size),
        cmocka_unit_test(test_isa_every_lane_count_and_precision),
        cmocka_unit_test(test_isa_short_and_odd_chunks),
        cmocka_unit_test(test_isa_same_verdict_on_damaged_streams),
        cmocka_unit_test(test_isa_same_verdict_on_damaged_tensors),
        cmocka_unit_test(test_isa_names_and_availability),
        cmocka_unit_test(test_isa_context_tables_per_group),
        cmocka_unit_test(test_isa_context_column_shifts),
        cmocka_unit_test(test_isa_context_of_one_table_is_order0),
        cmocka_unit_test(test_isa_chunk_windows),
        cmocka_unit_test(test_isa_rejects_nibbles_for_large_alphabets),
        cmocka_unit_test(test_isa_bucket_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
