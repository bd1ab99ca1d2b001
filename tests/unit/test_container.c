#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_common.h"
#include "../../src/container/format.h"
#include "../../src/common/async_sink.h"
#include "../../src/common/ordered_batches.h"
#include "../../src/common/ordered_tasks.h"
#include "../../src/common/xxh3.h"
#include <xxhash.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";

typedef struct model {
    float *w;
    wqc_quantized q;
    wqc_rans_coded coded;
    float bias[5];
    uint8_t zeros[4000];
    float big[20000];
    int8_t given[600];
    wqc_rans_coded given_coded;
} model;

/* The frame of a rows x cols F32 matrix coded as q and c. */
static wqc_frame coded_frame(const char *name, uint64_t rows, uint64_t cols, const wqc_quant_params *p,
                             const wqc_quantized *q, const wqc_rans_coded *c)
{
    wqc_frame f;
    memset(&f, 0, sizeof f);
    f.name = name;
    f.dtype = WQC_DTYPE_F32;
    f.ndim = 2;
    f.shape[0] = rows, f.shape[1] = cols;
    f.nelem = rows * cols;
    f.encoding = WQC_ENC_RANS;
    f.quantized = 1;
    f.quant = *p;
    f.q = *q;
    f.coded = *c;
    f.raw_len = f.nelem;
    return f;
}

/* A coded 64x300 matrix, a raw vector, a zstd-compressible tensor and
 * user-given int8 symbols. */
static void build(model *m, wqc_memory_out *out, const uint8_t *k)
{
    memset(m, 0, sizeof *m);
    wqc_synthetic_spec spec = {WQC_SYNTH_GAUSSIAN, 64, 300, 0.02, 3};
    assert_int_equal(wqc_synthetic_generate(&spec, &m->w, NULL), WQC_OK);
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    assert_int_equal(wqc_quantize(m->w, 64, 300, &p, "w", &m->q, NULL), WQC_OK);
    wqc_rans_params rp = {12, 16, 1024, 1};
    assert_int_equal(wqc_rans_encode(m->q.symbols, 64 * 300, m->q.alphabet, &rp, &m->coded, NULL), WQC_OK);

    wqc_writer *w;
    assert_int_equal(wqc_writer_open(wqc_memory_sink, out, k, k ? 32 : 0, &w, NULL), WQC_OK);
    wqc_kv meta[2] = {{"format", "pt"}, {"note", "test"}};
    assert_int_equal(wqc_writer_metadata(w, meta, 2, NULL), WQC_OK);

    wqc_frame f = coded_frame("layers.0.w", 64, 300, &p, &m->q, &m->coded);
    assert_int_equal(wqc_writer_add(w, &f, NULL), WQC_OK);

    for (int i = 0; i < 5; i++) m->bias[i] = (float)i * 0.5f;
    wqc_tensor t = {"bias", WQC_DTYPE_F32, 1, {5}, 5, (const unsigned char *)m->bias, 20};
    void *scratch;
    assert_int_equal(wqc_frame_passthrough(&t, 3, &f, &scratch, NULL), WQC_OK);
    assert_int_equal(f.encoding, WQC_ENC_FLOATS);
    assert_true(f.payload_len < 20);
    assert_int_equal(wqc_writer_add(w, &f, NULL), WQC_OK);
    free(scratch);
    wqc_tensor z = {"zeros", WQC_DTYPE_U8, 2, {40, 100}, 4000, m->zeros, 4000};
    assert_int_equal(wqc_frame_passthrough(&z, 3, &f, &scratch, NULL), WQC_OK);
    assert_int_equal(f.encoding, WQC_ENC_ZSTD);
    assert_int_equal(wqc_writer_add(w, &f, NULL), WQC_OK);
    free(scratch);
    /* Random floats, too many for the float coder, incompressible: kept raw and aligned. */
    uint64_t r = 1;
    for (int i = 0; i < 20000; i++) {
        uint32_t u = (uint32_t)test_rand(&r);
        memcpy(&m->big[i], &u, 4);
    }
    wqc_tensor big = {"big", WQC_DTYPE_F32, 1, {20000}, 20000, (const unsigned char *)m->big, 80000};
    assert_int_equal(wqc_frame_passthrough(&big, 3, &f, &scratch, NULL), WQC_OK);
    assert_int_equal(f.encoding, WQC_ENC_RAW);
    assert_int_equal(wqc_writer_add(w, &f, NULL), WQC_OK);

    uint64_t s = 4;
    uint8_t sym[600];
    for (int i = 0; i < 600; i++) {
        m->given[i] = (int8_t)(test_rand(&s) % 7) - 3;
        sym[i] = (uint8_t)(m->given[i] + 3);
    }
    assert_int_equal(wqc_rans_encode(sym, 600, 7, &rp, &m->given_coded, NULL), WQC_OK);
    static float one = 1.0f, minus3 = -3.0f;
    memset(&f, 0, sizeof f);
    f.name = "given";
    f.dtype = WQC_DTYPE_I8;
    f.ndim = 2;
    f.shape[0] = 20, f.shape[1] = 30;
    f.nelem = 600;
    f.encoding = WQC_ENC_RANS;
    f.quantized = 1;
    f.quant.method = WQC_QUANT_GIVEN;
    f.quant.bits = 3;
    f.q.rows = 20, f.q.cols = 30, f.q.bits = 3, f.q.alphabet = 7, f.q.ngroups = 1, f.q.group_len = 30;
    f.q.scale = &one, f.q.offset = &minus3;
    f.coded = m->given_coded;
    f.raw_len = 600;
    assert_int_equal(wqc_writer_add(w, &f, NULL), WQC_OK);
    assert_int_equal(wqc_writer_finish(w, NULL), WQC_OK);
    wqc_writer_free(w);
}

static void free_model(model *m)
{
    free(m->w);
    wqc_quantized_free(&m->q);
    wqc_rans_coded_free(&m->coded);
    wqc_rans_coded_free(&m->given_coded);
}

static void check_contents(wqc_reader *r, const model *m, const uint8_t *file)
{
    assert_int_equal(wqc_reader_count(r), 5);
    assert_int_equal(wqc_reader_version(r), 2);
    assert_int_equal(wqc_reader_metadata_count(r), 2);
    assert_string_equal(wqc_reader_metadata(r, 1)->value, "test");
    const wqc_frame *f;
    { wqc_error e; wqc_status s = wqc_reader_frame(r, wqc_reader_find(r, "layers.0.w"), &f, &e); if (s) fail_msg("%s", e.msg); }
    assert_int_equal(f->encoding, WQC_ENC_RANS);
    assert_memory_equal(f->q.scale, m->q.scale, 64 * sizeof(float));
    assert_memory_equal(f->q.offset, m->q.offset, 64 * sizeof(float));
    uint8_t *sym = malloc(64 * 300);
    assert_int_equal(wqc_frame_decode_symbols(f, 2, sym, NULL), WQC_OK);
    assert_memory_equal(sym, m->q.symbols, 64 * 300);
    free(sym);
    uint8_t raw[4000];
    assert_int_equal(wqc_reader_frame(r, 1, &f, NULL), WQC_OK);
    assert_string_equal(f->name, "bias");
    assert_int_equal(wqc_frame_decode_raw(f, raw, NULL), WQC_OK);
    assert_memory_equal(raw, m->bias, 20);
    assert_int_equal(wqc_reader_frame(r, 2, &f, NULL), WQC_OK);
    assert_int_equal(wqc_frame_decode_raw(f, raw, NULL), WQC_OK);
    assert_memory_equal(raw, m->zeros, 4000);
    assert_int_equal(wqc_reader_frame(r, 3, &f, NULL), WQC_OK);
    assert_string_equal(f->name, "big");
    assert_int_equal((f->payload - file) % 64, 0); /* large payloads are 64-byte aligned */
    float *big = malloc(80000);
    assert_int_equal(wqc_frame_decode_raw(f, (uint8_t *)big, NULL), WQC_OK);
    assert_memory_equal(big, m->big, 80000);
    free(big);
    assert_int_equal(wqc_reader_frame(r, 4, &f, NULL), WQC_OK);
    assert_int_equal(f->quant.method, WQC_QUANT_GIVEN);
    uint8_t g[600];
    assert_int_equal(wqc_frame_decode_symbols(f, 1, g, NULL), WQC_OK);
    for (int i = 0; i < 600; i++) assert_int_equal((int)(f->q.offset[0] + g[i]), m->given[i]);
}

static void test_container_round_trip_lazy_and_sequential(void **state)
{
    (void)state;
    for (int keyed = 0; keyed < 2; keyed++) {
        model m;
        wqc_memory_out out = {0};
        build(&m, &out, keyed ? key : NULL);
        for (int lazy = 0; lazy < 2; lazy++) {
            wqc_reader *r;
            wqc_error err;
            wqc_error_clear(&err);
            if (wqc_reader_open(out.data, out.len, lazy, keyed ? key : NULL, 32, &r, &err) != WQC_OK)
                fail_msg("open keyed=%d lazy=%d: %s", keyed, lazy, err.msg);
            assert_int_equal(wqc_reader_has_hmac(r), keyed);
            check_contents(r, &m, out.data);
            wqc_reader_free(r);
        }
        free(out.data);
        free_model(&m);
    }
}

static void test_container_hmac_checks(void **state)
{
    (void)state;
    model m;
    wqc_memory_out plain = {0}, keyed = {0};
    build(&m, &plain, NULL);
    free_model(&m);
    build(&m, &keyed, key);
    uint8_t wrong[32];
    memcpy(wrong, key, 32);
    wrong[31] ^= 1;
    wqc_reader *r;
    wqc_error err;
    assert_fails_with(wqc_reader_open(keyed.data, keyed.len, 1, wrong, 32, &r, &err), WQC_ERR_AUTH, err,
                      "HMAC mismatch");
    assert_fails_with(wqc_reader_open(plain.data, plain.len, 1, key, 32, &r, &err), WQC_ERR_AUTH, err,
                      "not authenticated");
    /* Without a key the keyed file still reads. */
    assert_int_equal(wqc_reader_open(keyed.data, keyed.len, 0, NULL, 0, &r, NULL), WQC_OK);
    wqc_reader_free(r);
    free(plain.data);
    free(keyed.data);
    free_model(&m);
}

/* Under AddressSanitizer every STRIDE-th byte (its bit and place vary): the
 * release build tries every byte, and a sanitizer looks for memory errors,
 * which the strided run meets the same; every byte took 90 s of CI there. */
#if defined(__SANITIZE_ADDRESS__)
#define FLIP_STRIDE 5
#else
#define FLIP_STRIDE 1
#endif

/* Every single-byte change and every truncation is reported, never accepted. */
static void test_container_every_byte_flip_and_truncation_is_detected(void **state)
{
    (void)state;
    model m;
    wqc_memory_out out = {0};
    build(&m, &out, NULL);
    uint8_t *copy = malloc(out.len);
    for (int lazy = 0; lazy < 2; lazy++) {
        for (size_t i = (size_t)lazy % FLIP_STRIDE; i < out.len; i += FLIP_STRIDE) {
            memcpy(copy, out.data, out.len);
            copy[i] ^= (uint8_t)(1u << (i % 8));
            wqc_reader *r;
            wqc_status st = wqc_reader_open(copy, out.len, lazy, NULL, 0, &r, NULL);
            if (st == WQC_OK && lazy) {
                /* Lazy readers check frames when asked for them. */
                const wqc_frame *f;
                for (size_t t = 0; t < wqc_reader_count(r) && st == WQC_OK; t++) st = wqc_reader_frame(r, t, &f, NULL);
                wqc_reader_free(r);
            } else if (st == WQC_OK) {
                wqc_reader_free(r);
            }
            if (st == WQC_OK) fail_msg("flip at byte %zu of %zu (lazy=%d) not detected", i, out.len, lazy);
        }
    }
    for (size_t n = 0; n < out.len; n += FLIP_STRIDE) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, out.data, n);
        wqc_reader *r;
        assert_int_not_equal(wqc_reader_open(cut, n, 0, NULL, 0, &r, NULL), WQC_OK);
        assert_int_not_equal(wqc_reader_open(cut, n, 1, NULL, 0, &r, NULL), WQC_OK);
        free(cut);
    }
    free(copy);
    free(out.data);
    free_model(&m);
}

/* Found by fuzz_wqc_reader: a META record whose value is cut short leaked
 * the key read before it. The record here carries a valid check, so the
 * parser itself must reject it (and LeakSanitizer sees any leak). */
static void test_container_malformed_meta_is_rejected_without_leaks(void **state)
{
    (void)state;
    model m;
    wqc_memory_out out = {0};
    build(&m, &out, NULL);
    free_model(&m);
    wqc_record2 meta;
    assert_int_equal(wqc_record2_read(out.data, out.len, WQC2_FILE_HEADER_BYTES, 1, &meta, NULL), WQC_OK);
    assert_int_equal(meta.type, WQC2_REC_META);
    /* Body: count 1, key "format", value length 99 with no bytes behind it. */
    uint8_t body[9] = {1, 6, 'f', 'o', 'r', 'm', 'a', 't', 99};
    uint8_t *copy = malloc(out.len);
    memcpy(copy, out.data, out.len);
    assert_true(meta.body_len >= sizeof body);
    uint8_t *b = copy + meta.body_offset;
    memset(b, 0, (size_t)meta.body_len);
    memcpy(b, body, sizeof body);
    const uint8_t *parts[1] = {b};
    uint64_t lens[1] = {meta.body_len};
    uint8_t header[WQC2_RECORD_HEADER_MAX];
    size_t hl = wqc_record2_header(header, WQC2_REC_META, 0, parts, lens, 1);
    assert_int_equal(hl, meta.body_offset - meta.offset);
    memcpy(copy + meta.offset, header, hl);
    wqc_reader *r;
    wqc_error err;
    for (int lazy = 0; lazy < 2; lazy++)
        assert_fails_with(wqc_reader_open(copy, out.len, lazy, NULL, 0, &r, &err), WQC_ERR_FORMAT, err, "META");
    free(copy);
    free(out.data);
}

/* Replaces the record at `at` of a copy of f (whose body is body_len bytes)
 * by one of the same header size with a valid check. */
static uint8_t *with_record(const wqc_memory_out *f, const wqc_record2 *rec, uint8_t type, uint8_t flags, const uint8_t *body)
{
    uint8_t *copy = malloc(f->len);
    memcpy(copy, f->data, f->len);
    memcpy(copy + rec->body_offset, body, (size_t)rec->body_len);
    const uint8_t *parts[1] = {copy + rec->body_offset};
    uint64_t lens[1] = {rec->body_len};
    uint8_t header[WQC2_RECORD_HEADER_MAX];
    size_t hl = wqc_record2_header(header, type, flags, parts, lens, 1);
    assert_int_equal(hl, rec->body_offset - rec->offset);
    memcpy(copy + rec->offset, header, hl);
    return copy;
}

/* Records whose checks hold but whose contents are hostile: refused before
 * anything is allocated for them. */
static void test_container_hostile_records_with_valid_checks(void **state)
{
    (void)state;
    model m;
    wqc_memory_out out = {0};
    build(&m, &out, NULL);
    free_model(&m);
    wqc_reader *r;
    wqc_error err;
    /* The names record (written last here: the writer was given no names up
     * front) declaring a 16 GiB list. */
    wqc_record2 meta, names;
    assert_int_equal(wqc_record2_read(out.data, out.len, WQC2_FILE_HEADER_BYTES, 1, &meta, NULL), WQC_OK);
    for (uint64_t at = meta.next;; at = names.next) {
        assert_int_equal(wqc_record2_read(out.data, out.len, at, 1, &names, NULL), WQC_OK);
        if (names.type == WQC2_REC_NAMES) break;
    }
    uint8_t *body = calloc(1, (size_t)names.body_len);
    body[0] = WQC_ENC_BROTLI;
    wqc_varint_store(body + 1, 1ull << 34);
    uint8_t *bomb = with_record(&out, &names, WQC2_REC_NAMES, WQC2_RECORD_CRITICAL, body);
    for (int lazy = 0; lazy < 2; lazy++)
        assert_fails_with(wqc_reader_open(bomb, out.len, lazy, NULL, 0, &r, &err), WQC_ERR_FORMAT, err, "NAMES");
    free(bomb);
    /* An unknown critical record is refused; an unknown plain one is skipped. */
    memcpy(body, meta.body, (size_t)meta.body_len);
    uint8_t *critical = with_record(&out, &meta, 'Z', WQC2_RECORD_CRITICAL, body);
    assert_fails_with(wqc_reader_open(critical, out.len, 0, NULL, 0, &r, &err), WQC_ERR_UNSUPPORTED, err,
                      "unknown critical record");
    uint8_t *plain = with_record(&out, &meta, 'Z', 0, body);
    assert_int_equal(wqc_reader_open(plain, out.len, 0, NULL, 0, &r, &err), WQC_OK);
    assert_int_equal(wqc_reader_metadata_count(r), 0);
    wqc_reader_free(r);
    /* A later major version is not guessed at. */
    memcpy(plain, out.data, out.len);
    plain[8] = 3;
    assert_fails_with(wqc_reader_open(plain, out.len, 0, NULL, 0, &r, &err), WQC_ERR_UNSUPPORTED, err, "version 3.0");
    free(critical);
    free(plain);
    free(body);
    free(out.data);
}

/* A file of one n-byte kept U8 tensor (256 KiB: a record of 5 segments of
 * 64 KiB) and one small one; *rec gets the large record, *k the K record. */
static void segmented_file_of(uint64_t n, wqc_memory_out *out, uint8_t **bytes, wqc_record2 *rec, wqc_record2 *k)
{
    uint8_t *b = malloc(n), small[64] = {1, 2, 3};
    uint64_t s = 5;
    for (uint64_t i = 0; i < n; i++) b[i] = (uint8_t)((s = s * 6364136223846793005ull + 1) >> 56);
    wqc_tensor t[2] = {{.name = "big", .dtype = WQC_DTYPE_U8, .ndim = 1, .shape = {n}, .nelem = n, .data = b, .nbytes = n},
                       {.name = "small", .dtype = WQC_DTYPE_U8, .ndim = 1, .shape = {64}, .nelem = 64, .data = small, .nbytes = 64}};
    wqc_writer *w;
    assert_int_equal(wqc_writer_open(wqc_memory_sink, out, NULL, 0, &w, NULL), WQC_OK);
    for (int i = 0; i < 2; i++) {
        wqc_frame f;
        void *scratch = NULL;
        assert_int_equal(wqc_frame_keep(&t[i], 0, WQC_PEERS_NEVER, &f, &scratch, NULL), WQC_OK);
        assert_int_equal(wqc_writer_add(w, &f, NULL), WQC_OK);
        free(scratch);
    }
    assert_int_equal(wqc_writer_finish(w, NULL), WQC_OK);
    wqc_writer_free(w);
    *bytes = b;
    uint64_t at = WQC2_FILE_HEADER_BYTES;
    memset(k, 0, sizeof *k);
    for (wqc_record2 x; at < out->len; at = x.next) {
        assert_int_equal(wqc_record2_read(out->data, out->len, at, 1, &x, NULL), WQC_OK);
        if (x.type == WQC2_REC_TENSOR && x.body_len > n) *rec = x;
        if (x.type == WQC2_REC_SEGMENTS) *k = x;
    }
    assert_int_equal(k->type, WQC2_REC_SEGMENTS);
}

static void segmented_file(wqc_memory_out *out, uint8_t **bytes, wqc_record2 *rec, wqc_record2 *k)
{
    segmented_file_of(1u << 18, out, bytes, rec, k);
}

/* Opens file (lazy) and asks for tensor 0 by its segment checks, 4 threads wide. */
static wqc_status open_segmented(const uint8_t *file, size_t len, const uint8_t *want, wqc_error *err)
{
    wqc_reader *r;
    wqc_status st = wqc_reader_open(file, len, 1, NULL, 0, &r, err);
    if (st != WQC_OK) return st;
    assert_true(wqc_reader_has_segments(r, 0));
    assert_false(wqc_reader_has_segments(r, 1));
    const wqc_frame *f;
    st = wqc_reader_frame_segmented(r, 0, 4, &f, err);
    if (st == WQC_OK && want) assert_memory_equal(f->payload, want, 1u << 18);
    if (st == WQC_OK) assert_int_equal(wqc_reader_frame_segmented(r, 1, 4, &f, NULL), WQC_ERR_UNSUPPORTED);
    wqc_reader_free(r);
    return st;
}

/* Segment checks (the K record): a large record verified many threads wide,
 * and every damage that its own check catches caught by them too. */
static void test_container_segment_checks(void **state)
{
    (void)state;
    wqc_memory_out out = {0};
    uint8_t *bytes;
    wqc_record2 rec, k;
    segmented_file(&out, &bytes, &rec, &k);
    wqc_error err;
    wqc_reader *r;
    assert_int_equal(open_segmented(out.data, out.len, bytes, &err), WQC_OK);
    assert_int_equal(wqc_reader_open(out.data, out.len, 0, NULL, 0, &r, &err), WQC_OK);
    wqc_reader_free(r);
    /* A payload byte in the third segment: both checks fail; with the
     * record's check made to hold, the segments' still do. */
    uint8_t *body = malloc((size_t)rec.body_len);
    memcpy(body, rec.body, (size_t)rec.body_len);
    body[(5u << 15) + 7] ^= 0x10;
    uint8_t *damaged = malloc(out.len);
    memcpy(damaged, out.data, out.len);
    damaged[rec.body_offset + (5u << 15) + 7] ^= 0x10;
    assert_fails_with(open_segmented(damaged, out.len, NULL, &err), WQC_ERR_CHECKSUM, err, "checksum mismatch");
    uint8_t *fixed = with_record(&out, &rec, WQC2_REC_TENSOR, rec.flags, body);
    assert_fails_with(open_segmented(fixed, out.len, NULL, &err), WQC_ERR_CHECKSUM, err, "checksum mismatch");
    assert_fails_with(wqc_reader_open(fixed, out.len, 0, NULL, 0, &r, &err), WQC_ERR_CHECKSUM, err, "checksum mismatch");
    /* The record's stored check alone: it seeds every segment. */
    memcpy(damaged, out.data, out.len);
    damaged[rec.body_offset - 1] ^= 1;
    assert_fails_with(open_segmented(damaged, out.len, NULL, &err), WQC_ERR_CHECKSUM, err, "checksum mismatch");
    /* The K record damaged, or rewritten with a wrong hash or count. */
    memcpy(damaged, out.data, out.len);
    damaged[k.next - 3] ^= 1;
    assert_fails_with(wqc_reader_open(damaged, out.len, 1, NULL, 0, &r, &err), WQC_ERR_CHECKSUM, err, "record 'K'");
    uint8_t *kb = malloc((size_t)k.body_len);
    memcpy(kb, k.body, (size_t)k.body_len);
    kb[k.body_len - 1] ^= 1;
    uint8_t *wrong = with_record(&out, &k, WQC2_REC_SEGMENTS, 0, kb);
    assert_fails_with(open_segmented(wrong, out.len, NULL, &err), WQC_ERR_CHECKSUM, err, "checksum mismatch");
    assert_fails_with(wqc_reader_open(wrong, out.len, 0, NULL, 0, &r, &err), WQC_ERR_CHECKSUM, err, "checksum mismatch");
    free(wrong);
    /* log, count, gap, segments: 5 segments of 64 KiB listed; 4 leave 8 bytes over, 6 overrun. */
    assert_int_equal(kb[0], 16);
    assert_int_equal(kb[3], 5);
    for (uint8_t nseg = 4; nseg <= 6; nseg += 2) {
        memcpy(kb, k.body, (size_t)k.body_len);
        kb[3] = nseg;
        wrong = with_record(&out, &k, WQC2_REC_SEGMENTS, 0, kb);
        assert_fails_with(wqc_reader_open(wrong, out.len, 1, NULL, 0, &r, &err), WQC_ERR_FORMAT, err, "K record");
        free(wrong);
    }
    /* An entry for a tensor the file does not have; a segment size out of range. */
    memcpy(kb, k.body, (size_t)k.body_len);
    kb[2] = 2;
    wrong = with_record(&out, &k, WQC2_REC_SEGMENTS, 0, kb);
    assert_fails_with(wqc_reader_open(wrong, out.len, 0, NULL, 0, &r, &err), WQC_ERR_FORMAT, err, "K record");
    free(wrong);
    memcpy(kb, k.body, (size_t)k.body_len);
    kb[0] = 40;
    wrong = with_record(&out, &k, WQC2_REC_SEGMENTS, 0, kb);
    assert_fails_with(wqc_reader_open(wrong, out.len, 1, NULL, 0, &r, &err), WQC_ERR_FORMAT, err, "K record");
    free(wrong);
    free(kb);
    free(fixed);
    free(damaged);
    free(body);
    free(bytes);
    free(out.data);
}

/* The eager walk (what verify does) on 1 and 4 threads: the big record is
 * checked by its segments, the small one whole, and the first damaged
 * record in file order is the one named, even where damage to a length
 * sends the walk astray. */
static void test_container_eager_walk_threads(void **state)
{
    (void)state;
    wqc_memory_out out = {0};
    uint8_t *bytes;
    wqc_record2 rec, k, small;
    segmented_file(&out, &bytes, &rec, &k);
    assert_int_equal(wqc_record2_read(out.data, out.len, rec.next, 1, &small, NULL), WQC_OK);
    assert_int_equal(small.type, WQC2_REC_TENSOR);
    char big_at[64], small_at[64];
    snprintf(big_at, sizeof big_at, "record 'T' at offset %llu:", (unsigned long long)rec.offset);
    snprintf(small_at, sizeof small_at, "record 'T' at offset %llu:", (unsigned long long)small.offset);
    uint8_t *body = malloc((size_t)rec.body_len), *damaged = malloc(out.len);
    memcpy(body, rec.body, (size_t)rec.body_len);
    body[(3u << 16) + 11] ^= 0x40;
    uint8_t *fixed = with_record(&out, &rec, WQC2_REC_TENSOR, rec.flags, body);
    wqc_error err;
    wqc_reader *r;
    for (int threads = 1; threads <= 4; threads += 3) {
        assert_int_equal(wqc_reader_open_threads(out.data, out.len, 0, threads, NULL, 0, &r, &err), WQC_OK);
        const wqc_frame *f;
        assert_int_equal(wqc_reader_frame(r, 0, &f, &err), WQC_OK);
        assert_memory_equal(f->payload, bytes, 1u << 18);
        wqc_reader_free(r);
        /* The record's own check made to hold: its segments still refuse it. */
        assert_fails_with(wqc_reader_open_threads(fixed, out.len, 0, threads, NULL, 0, &r, &err), WQC_ERR_CHECKSUM,
                          err, big_at);
        /* Its stored check alone (it seeds every segment). */
        memcpy(damaged, out.data, out.len);
        damaged[rec.body_offset - 2] ^= 4;
        assert_fails_with(wqc_reader_open_threads(damaged, out.len, 0, threads, NULL, 0, &r, &err), WQC_ERR_CHECKSUM,
                          err, big_at);
        /* The small record (no segments), then both: the first is named. */
        memcpy(damaged, out.data, out.len);
        damaged[small.next - 1] ^= 1;
        assert_fails_with(wqc_reader_open_threads(damaged, out.len, 0, threads, NULL, 0, &r, &err), WQC_ERR_CHECKSUM,
                          err, small_at);
        damaged[rec.body_offset + 100] ^= 1;
        assert_fails_with(wqc_reader_open_threads(damaged, out.len, 0, threads, NULL, 0, &r, &err), WQC_ERR_CHECKSUM,
                          err, big_at);
        /* The big record's length 16 bytes short: the walk lands inside it. */
        memcpy(damaged, out.data, out.len);
        damaged[rec.offset + 2] = (uint8_t)(damaged[rec.offset + 2] - 16);
        assert_fails_with(wqc_reader_open_threads(damaged, out.len, 0, threads, NULL, 0, &r, &err), WQC_ERR_CHECKSUM,
                          err, big_at);
    }
    free(fixed);
    free(damaged);
    free(body);
    free(bytes);
    free(out.data);
}

/* Tensor 0 of `file` (len bytes, also written to path) read with pread into
 * a copy, its segments verified `threads` wide as they arrive. */
static wqc_status read_segmented(const char *path, const uint8_t *file, size_t len, int threads, const uint8_t *want,
                                 uint64_t n, wqc_error *err)
{
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(file, 1, len, out), len);
    fclose(out);
    wqc_reader *r;
    assert_int_equal(wqc_reader_open(file, len, 1, NULL, 0, &r, NULL), WQC_OK);
    const wqc_frame *d;
    assert_int_equal(wqc_reader_describe(r, 0, &d, NULL), WQC_OK);
    uint8_t *copy = malloc((size_t)d->frame_bytes);
    wqc_frame f;
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    wqc_status st = wqc_reader_frame_read_segmented(r, 0, fd, copy, d->frame_bytes, threads, &f, err);
    close(fd);
    if (st == WQC_OK) {
        assert_true(f.payload >= copy && f.payload + n <= copy + d->frame_bytes);
        if (want) assert_memory_equal(f.payload, want, (size_t)n);
        wqc_descriptor_free(&f);
    }
    assert_int_equal(wqc_reader_frame_read_segmented(r, 1, -1, copy, 64, threads, &f, NULL), WQC_ERR_UNSUPPORTED);
    free(copy);
    wqc_reader_free(r);
    return st;
}

/* A record of 34 segments (three pieces of the parallel read, the last
 * segment short) read into a copy by 1 to 5 threads: the payload the
 * mapping holds; a damaged payload byte in any piece, in the short last
 * segment or in the record's stored check refused; a file cut short is a
 * read error. */
static void test_container_segments_read(void **state)
{
    (void)state;
    const uint64_t n = (33u << 16) + 12345;
    wqc_memory_out out = {0};
    uint8_t *bytes;
    wqc_record2 rec = {0}, k;
    segmented_file_of(n, &out, &bytes, &rec, &k);
    char path[] = "/tmp/wqc_segments_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    wqc_error err;
    for (int threads = 1; threads <= 5; threads += 2)
        assert_int_equal(read_segmented(path, out.data, out.len, threads, bytes, n, &err), WQC_OK);
    uint8_t *damaged = malloc(out.len);
    const uint64_t at[] = {rec.next - n + 5, rec.body_offset + (20u << 16) + 99, rec.next - 3, rec.body_offset - 1};
    for (size_t j = 0; j < sizeof at / sizeof at[0]; j++) {
        memcpy(damaged, out.data, out.len);
        damaged[at[j]] ^= 0x08;
        assert_fails_with(read_segmented(path, damaged, out.len, 3, NULL, n, &err), WQC_ERR_CHECKSUM, err,
                          "checksum mismatch");
    }
    /* The reader opened on the whole file, the file on disk cut inside the record. */
    wqc_reader *r;
    assert_int_equal(wqc_reader_open(out.data, out.len, 1, NULL, 0, &r, NULL), WQC_OK);
    const wqc_frame *d;
    assert_int_equal(wqc_reader_describe(r, 0, &d, NULL), WQC_OK);
    assert_int_equal(truncate(path, (off_t)(rec.body_offset + (30u << 16))), 0);
    uint8_t *copy = malloc((size_t)d->frame_bytes);
    wqc_frame f;
    fd = open(path, O_RDONLY);
    assert_fails_with(wqc_reader_frame_read_segmented(r, 0, fd, copy, d->frame_bytes, 4, &f, &err), WQC_ERR_IO, err,
                      "shrunk");
    close(fd);
    wqc_reader_free(r);
    unlink(path);
    free(copy);
    free(damaged);
    free(bytes);
    free(out.data);
}

/* A scale or offset that is NaN or infinite is refused when the frame is read. */
static void test_container_rejects_non_finite_scales(void **state)
{
    (void)state;
    float w[8 * 64];
    uint64_t seed = 9;
    for (int i = 0; i < 8 * 64; i++) w[i] = (float)(test_rand(&seed) % 1000) * 1e-3f;
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    for (int which = 0; which < 2; which++) {
        wqc_quantized q;
        wqc_rans_coded coded;
        wqc_rans_params rp = {12, 8, 1024, 1};
        assert_int_equal(wqc_quantize(w, 8, 64, &p, "w", &q, NULL), WQC_OK);
        assert_int_equal(wqc_rans_encode(q.symbols, 8 * 64, q.alphabet, &rp, &coded, NULL), WQC_OK);
        if (which) q.offset[5] = INFINITY;
        else q.scale[2] = NAN;
        wqc_memory_out out = {0};
        wqc_writer *wr;
        assert_int_equal(wqc_writer_open(wqc_memory_sink, &out, NULL, 0, &wr, NULL), WQC_OK);
        wqc_frame f = coded_frame("w", 8, 64, &p, &q, &coded);
        assert_int_equal(wqc_writer_add(wr, &f, NULL), WQC_OK);
        assert_int_equal(wqc_writer_finish(wr, NULL), WQC_OK);
        wqc_writer_free(wr);
        wqc_reader *r;
        wqc_error err;
        assert_fails_with(wqc_reader_open(out.data, out.len, 0, NULL, 0, &r, &err), WQC_ERR_FORMAT, err,
                          "non-finite scale or offset");
        free(out.data);
        wqc_quantized_free(&q);
        wqc_rans_coded_free(&coded);
    }
}

/* A gemv-layout frame survives the writer and reader: its symbols come back
 * row-major, and wqc_frame_gemv_prepare on the read frame multiplies; a
 * LAYOUT that contradicts the stream is refused. */
static void test_container_gemv_layout(void **state)
{
    (void)state;
    enum { ROWS = 40, COLS = 96 };
    float w[ROWS * COLS], x[COLS], y[ROWS];
    uint64_t seed = 11;
    for (int i = 0; i < ROWS * COLS; i++) w[i] = (float)((int)(test_rand(&seed) % 2001) - 1000) * 1e-4f;
    for (int j = 0; j < COLS; j++) x[j] = (float)((int)(test_rand(&seed) % 201) - 100) * 1e-2f;
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    p.granularity = WQC_GRAN_ROW;
    wqc_quantized q;
    assert_int_equal(wqc_quantize(w, ROWS, COLS, &p, "w", &q, NULL), WQC_OK);
    for (int bad = 0; bad < 3; bad++) {
        wqc_rans_params rp = {12, 16, 1024, 1};
        wqc_rans_coded coded;
        if (bad == 2) assert_int_equal(wqc_rans_encode(q.symbols, ROWS * COLS, q.alphabet, &rp, &coded, NULL), WQC_OK);
        else assert_int_equal(wqc_gemv_encode(&q, &rp, &coded, NULL), WQC_OK);
        wqc_memory_out out = {0};
        wqc_writer *wr;
        assert_int_equal(wqc_writer_open(wqc_memory_sink, &out, NULL, 0, &wr, NULL), WQC_OK);
        wqc_frame f = coded_frame("w", ROWS, COLS, &p, &q, &coded);
        /* bad 1: tiles that are not the lanes; bad 2: row-major chunks that split tiles. */
        f.gemv_tile = bad == 1 ? 8 : 16;
        assert_int_equal(wqc_writer_add(wr, &f, NULL), WQC_OK);
        assert_int_equal(wqc_writer_finish(wr, NULL), WQC_OK);
        wqc_writer_free(wr);
        wqc_reader *r;
        wqc_error err;
        if (bad) {
            assert_fails_with(wqc_reader_open(out.data, out.len, 0, NULL, 0, &r, &err), WQC_ERR_FORMAT, err,
                              "bad LAYOUT field");
        } else {
            assert_int_equal(wqc_reader_open(out.data, out.len, 1, NULL, 0, &r, NULL), WQC_OK);
            const wqc_frame *rf;
            assert_int_equal(wqc_reader_frame(r, 0, &rf, NULL), WQC_OK);
            assert_int_equal(rf->gemv_tile, 16);
            uint8_t sym[ROWS * COLS];
            assert_int_equal(wqc_frame_decode_symbols(rf, 1, sym, NULL), WQC_OK);
            assert_memory_equal(sym, q.symbols, sizeof sym);
            wqc_gemv *g;
            assert_int_equal(wqc_frame_gemv_prepare(rf, &g, NULL), WQC_OK);
            assert_int_equal(wqc_gemv_run(g, x, y, 1, WQC_ISA_SCALAR, NULL), WQC_OK);
            wqc_gemv_free(g);
            float dq[ROWS * COLS];
            wqc_dequantize(&q, dq);
            for (int i = 0; i < ROWS; i++) {
                double acc = 0, mag = 0;
                for (int j = 0; j < COLS; j++) acc += (double)dq[i * COLS + j] * x[j], mag += fabs((double)dq[i * COLS + j] * x[j]);
                assert_true(fabs((double)y[i] - acc) <= 1e-5 * mag + 1e-12);
            }
            wqc_reader_free(r);
        }
        free(out.data);
        wqc_rans_coded_free(&coded);
    }
    wqc_quantized_free(&q);
}

/* A context put before a failure's message, long messages cut at the buffer. */
static void test_fail_context_puts_the_context_first(void **state)
{
    (void)state;
    wqc_error err;
    wqc_fail(&err, WQC_ERR_FORMAT, "bad table");
    assert_int_equal(wqc_fail_context(&err, WQC_ERR_CHECKSUM, "tensor '%s'", "w"), WQC_ERR_CHECKSUM);
    assert_int_equal(err.status, WQC_ERR_CHECKSUM);
    assert_string_equal(err.msg, "tensor 'w': bad table");
    char long_name[400];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    wqc_fail_context(&err, WQC_ERR_FORMAT, "%s", long_name);
    assert_int_equal(strlen(err.msg), WQC_ERROR_MSG_MAX - 1);
    wqc_fail(&err, WQC_ERR_FORMAT, "%s", long_name);
    wqc_fail_context(&err, WQC_ERR_FORMAT, "shard a");
    assert_int_equal(strlen(err.msg), WQC_ERROR_MSG_MAX - 1);
    assert_memory_equal(err.msg, "shard a: xxx", 12);
    assert_int_equal(wqc_fail_context(NULL, WQC_ERR_IO, "x"), WQC_ERR_IO);
}

/* XXH3 through its AVX2 build (where the CPU has it) and the library's own:
 * the library's hashes, whole or in pieces, for every length class XXH3
 * treats apart (0-16, 17-128, 129-240, longer, past a stripe block). */
static void test_container_xxh3_kernels_match_the_library(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 3, 4, 8, 9, 16, 17, 100, 128, 129, 200, 240, 241, 1000, 1024, 4096, 65536 + 77, (1u << 20) + 7};
    size_t most = (1u << 20) + 7;
    uint8_t *b = malloc(most);
    assert_non_null(b);
    for (size_t i = 0; i < most; i++) b[i] = (uint8_t)((i * 2654435761u) >> 11);
    const wqc_isa isas[] = {WQC_ISA_SCALAR, WQC_ISA_AVX2};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        for (uint64_t seed = 0; seed < 2; seed++) {
            uint64_t s = seed * 0x9e3779b97f4a7c15ull, want = XXH3_64bits_withSeed(b, sizes[k], s);
            for (int i = 0; i < 2; i++) {
                if (isas[i] != WQC_ISA_SCALAR && !wqc_isa_available(isas[i])) continue;
                assert_true(wqc_xxh3_isa(b, sizes[k], s, isas[i]) == want);
                wqc_xxh3_state h;
                assert_true(wqc_xxh3_start_isa(&h, s, isas[i]));
                for (size_t at = 0, piece = 1; at < sizes[k]; at += piece, piece = piece * 3 + 1)
                    wqc_xxh3_add(&h, b + at, sizes[k] - at < piece ? sizes[k] - at : piece);
                assert_true(wqc_xxh3_end(&h) == want);
            }
            assert_true(wqc_xxh3(b, sizes[k], s) == want);
        }
    free(b);
}

/* Tasks of a stream: each worker's result in its own slot, emitted in task
 * order; the first failure in task order, of a work or an emit, stops it. */
typedef struct task_log {
    uint64_t slot[8];
    size_t emitted[64], nemitted;
    size_t fail_work, fail_emit;
} task_log;

static wqc_status log_work(void *ctx, size_t t, int w, wqc_error *err)
{
    task_log *g = ctx;
    assert_true(w >= 0 && w < 8);
    uint64_t v = t;
    for (int k = 0; k < 20000 * (int)(t % 5); k++) v = v * 6364136223846793005ull + 1442695040888963407ull;
    g->slot[w] = t << 32 | (v & 1); /* the task's result, in its worker's slot */
    return t == g->fail_work ? wqc_fail(err, WQC_ERR_FORMAT, "work %zu", t) : WQC_OK;
}

static wqc_status log_emit(void *ctx, size_t t, int w, wqc_error *err)
{
    task_log *g = ctx;
    assert_int_equal(g->slot[w] >> 32, t); /* its own worker's result, not overwritten */
    if (t == g->fail_emit) return wqc_fail(err, WQC_ERR_IO, "emit %zu", t);
    g->emitted[g->nemitted++] = t;
    return WQC_OK;
}

static void test_ordered_tasks_emit_in_order_and_stop_at_the_first_failure(void **state)
{
    (void)state;
    static const wqc_task_ops ops = {log_work, log_emit};
    for (int threads = 1; threads <= 8; threads += 3) {
        task_log g = {.fail_work = SIZE_MAX, .fail_emit = SIZE_MAX};
        wqc_error err;
        assert_int_equal(wqc_ordered_tasks(64, threads, &ops, &g, &err), WQC_OK);
        assert_int_equal(g.nemitted, 64);
        for (size_t t = 0; t < 64; t++) assert_int_equal(g.emitted[t], t);
        /* A work failing after an emit that fails: the emit's, the earlier task, wins. */
        g = (task_log){.fail_work = 41, .fail_emit = 23};
        assert_int_equal(wqc_ordered_tasks(64, threads, &ops, &g, &err), WQC_ERR_IO);
        assert_string_equal(err.msg, "emit 23");
        assert_int_equal(g.nemitted, 23);
        g = (task_log){.fail_work = 17, .fail_emit = 30};
        assert_int_equal(wqc_ordered_tasks(64, threads, &ops, &g, &err), WQC_ERR_FORMAT);
        assert_string_equal(err.msg, "work 17");
        assert_int_equal(g.nemitted, 17);
        for (size_t t = 0; t < 17; t++) assert_int_equal(g.emitted[t], t);
    }
    assert_int_equal(wqc_ordered_workers(3, 16), 3);
    assert_int_equal(wqc_ordered_workers(0, 16), 1);
}

/* A sink that keeps what it is given and fails its call `fail` (0: none). */
typedef struct kept_sink {
    wqc_memory_out out;
    int calls, fail;
} kept_sink;

static wqc_status keep_pieces(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    kept_sink *k = ctx;
    if (++k->calls == k->fail) return wqc_fail(err, WQC_ERR_IO, "write %d failed", k->calls);
    return wqc_memory_sink(&k->out, buf, len, err);
}

/* Ordered batches: what each item was made with, and the order of use. */
typedef struct batch_probe {
    int threads[5], level[5];
    size_t used[5], nused;
} batch_probe;

static uint64_t probe_bytes(void *ctx, size_t i)
{
    (void)ctx;
    return i == 2 ? 1000 : 10; /* item 2 over the budget of all threads: made alone */
}

static wqc_status probe_make(void *ctx, size_t i, int threads, void *slot, wqc_error *err)
{
    (void)err;
    batch_probe *p = ctx;
    p->threads[i] = threads;
#ifdef _OPENMP
    p->level[i] = omp_get_level();
#endif
    *(size_t *)slot = i;
    return WQC_OK;
}

static wqc_status probe_use(void *ctx, size_t i, void *slot, wqc_error *err)
{
    (void)err;
    batch_probe *p = ctx;
    assert_int_equal(*(size_t *)slot, i);
    p->used[p->nused++] = i;
    return WQC_OK;
}

static void probe_release(void *ctx, size_t i, void *slot) { (void)ctx, (void)i, (void)slot; }

/* Items are used in order; an item made alone gets every thread and runs
 * outside any parallel region (nested there, each of its own regions
 * started new threads); items made together get one thread each. */
static void test_ordered_batches_make_a_lone_item_outside_any_region(void **state)
{
    (void)state;
    static const wqc_batch_ops ops = {sizeof(size_t), probe_bytes, probe_make, probe_use, probe_release};
    batch_probe p = {.nused = 0};
    assert_int_equal(wqc_ordered_batches(5, 3, 100, &ops, &p, NULL), WQC_OK);
    assert_int_equal(p.nused, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(p.used[i], i);
        assert_int_equal(p.threads[i], i == 2 ? 3 : 1);
#ifdef _OPENMP
        assert_int_equal(p.level[i], i == 2 ? 0 : 1);
#endif
    }
}

static void test_async_sink_writes_in_order_and_reports_its_failure(void **state)
{
    (void)state;
    /* Two buffers for 40 pieces: takes wait for the writer to give them back. */
    kept_sink k = {0};
    wqc_async_sink *a = wqc_async_sink_open(keep_pieces, &k, 2, 100);
    assert_non_null(a);
    wqc_error err;
    for (int i = 0; i < 40; i++) {
        uint8_t *buf = wqc_async_sink_take(a);
        memset(buf, i, (size_t)(i % 7 + 1));
        assert_int_equal(wqc_async_sink_put(a, buf, (size_t)(i % 7 + 1), &err), WQC_OK);
    }
    wqc_async_sink_give(a, wqc_async_sink_take(a)); /* taken, not put: not written */
    assert_int_equal(wqc_async_sink_close(a, &err), WQC_OK);
    assert_int_equal(k.calls, 40);
    size_t at = 0;
    for (int i = 0; i < 40; i++)
        for (int j = 0; j < i % 7 + 1; j++) assert_int_equal(k.out.data[at++], i);
    assert_int_equal(at, k.out.len);
    free(k.out.data);
    /* The 5th write fails: nothing after it is written, a later put or the
     * close reports it, and a buffer taken and never put is freed at close. */
    k = (kept_sink){.fail = 5};
    assert_non_null(a = wqc_async_sink_open(keep_pieces, &k, 3, 16));
    wqc_status st = WQC_OK;
    for (int i = 0; i < 20 && st == WQC_OK; i++) {
        uint8_t *buf = wqc_async_sink_take(a);
        st = wqc_async_sink_put(a, buf, 16, &err);
    }
    (void)wqc_async_sink_take(a);
    wqc_status closed = wqc_async_sink_close(a, &err);
    assert_int_equal(st == WQC_OK ? closed : st, WQC_ERR_IO);
    assert_int_equal(closed, WQC_ERR_IO);
    assert_string_equal(err.msg, "write 5 failed");
    assert_int_equal(k.calls, 5);
    assert_int_equal(k.out.len, 4 * 16);
    free(k.out.data);
}

/* A stream of many tasks gives the same bytes with and without the writer
 * thread (forced on, as a machine of few cores leaves it off), and its
 * sink's failure through it, on one thread and on three. */
static void test_frame_stream_through_the_writer_thread(void **state)
{
    (void)state;
    enum { ROWS = 256, COLS = 1024 };
    wqc_synthetic_spec spec = {WQC_SYNTH_GAUSSIAN, ROWS, COLS, 0.02, 5};
    float *w;
    assert_int_equal(wqc_synthetic_generate(&spec, &w, NULL), WQC_OK);
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    wqc_quantized q;
    assert_int_equal(wqc_quantize(w, ROWS, COLS, &p, "w", &q, NULL), WQC_OK);
    wqc_rans_params rp = {12, 32, 1024, 1};
    wqc_rans_coded c;
    assert_int_equal(wqc_rans_encode(q.symbols, ROWS * COLS, q.alphabet, &rp, &c, NULL), WQC_OK);
    wqc_frame f = coded_frame("w", ROWS, COLS, &p, &q, &c);
    wqc_error err;
    for (int threads = 1; threads <= 3; threads += 2) {
        kept_sink ref = {0}, async = {0}, failing = {.fail = 3};
        /* A window of 8 KiB: over a hundred tasks of a few chunks. */
        setenv("WQC_ASYNC_WRITE", "0", 1);
        assert_int_equal(wqc_frame_stream(&f, WQC_FORM_F16, threads, 8192, keep_pieces, &ref, &err), WQC_OK);
        setenv("WQC_ASYNC_WRITE", "1", 1);
        assert_int_equal(wqc_frame_stream(&f, WQC_FORM_F16, threads, 8192, keep_pieces, &async, &err), WQC_OK);
        assert_int_equal(ref.out.len, 2 * ROWS * COLS);
        assert_int_equal(async.out.len, ref.out.len);
        assert_memory_equal(async.out.data, ref.out.data, ref.out.len);
        assert_int_equal(wqc_frame_stream(&f, WQC_FORM_F16, threads, 8192, keep_pieces, &failing, &err), WQC_ERR_IO);
        unsetenv("WQC_ASYNC_WRITE");
        assert_string_equal(err.msg, "write 3 failed");
        /* Two pieces written, the first two of the stream; no write after the failed one. */
        assert_int_equal(failing.calls, 3);
        assert_true(failing.out.len > 0 && failing.out.len < ref.out.len / 4);
        assert_memory_equal(failing.out.data, ref.out.data, failing.out.len);
        free(ref.out.data), free(async.out.data), free(failing.out.data);
    }
    wqc_rans_coded_free(&c);
    wqc_quantized_free(&q);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_context_puts_the_context_first),
        cmocka_unit_test(test_container_round_trip_lazy_and_sequential),
        cmocka_unit_test(test_container_hmac_checks),
        cmocka_unit_test(test_container_gemv_layout),
        cmocka_unit_test(test_container_every_byte_flip_and_truncation_is_detected),
        cmocka_unit_test(test_container_malformed_meta_is_rejected_without_leaks),
        cmocka_unit_test(test_container_rejects_non_finite_scales),
        cmocka_unit_test(test_container_hostile_records_with_valid_checks),
        cmocka_unit_test(test_container_segment_checks),
        cmocka_unit_test(test_container_eager_walk_threads),
        cmocka_unit_test(test_container_segments_read),
        cmocka_unit_test(test_container_xxh3_kernels_match_the_library),
        cmocka_unit_test(test_ordered_tasks_emit_in_order_and_stop_at_the_first_failure),
        cmocka_unit_test(test_async_sink_writes_in_order_and_reports_its_failure),
        cmocka_unit_test(test_ordered_batches_make_a_lone_item_outside_any_region),
        cmocka_unit_test(test_frame_stream_through_the_writer_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
