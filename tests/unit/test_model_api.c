/* The model layer as a client links it: a model from tensors in memory,
 * encoded in one call (wqc_model_encode), read back through wqc_archive
 * (list, describe, decode into caller memory in every form), the plan and
 * its rules, and the encoder's estimate against what it codes. */
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_common.h"

enum { ROWS = 48, COLS = 40, VEC = 40, CODES = 96 };

typedef struct fixture {
    float w[ROWS * COLS];        /* quantized by the plan */
    uint16_t h[ROWS * COLS];     /* BF16, kept bit-exactly by a lossless rule */
    float v[VEC];                /* rank 1: kept as it is */
    int8_t c[CODES];
    wqc_tensor t[4];
    wqc_kv meta[1];
} fixture;

static void make_fixture(fixture *x)
{
    uint64_t s = 42;
    for (size_t i = 0; i < ROWS * COLS; i++) {
        double u = (double)(test_rand(&s) >> 11) / 9007199254740992.0 - 0.5;
        x->w[i] = (float)(u * 0.05 * (1 + (double)(i / COLS) / ROWS));
        x->h[i] = wqc_f32_to_bf16(x->w[i] * 3.0f);
    }
    for (size_t i = 0; i < VEC; i++) x->v[i] = 1.0f + (float)i / 64.0f;
    for (size_t i = 0; i < CODES; i++) x->c[i] = (int8_t)((int)(test_rand(&s) % 7) - 3);
    x->t[0] = (wqc_tensor){"layer.weight", WQC_DTYPE_F32, 2, {ROWS, COLS}, ROWS * COLS, (const unsigned char *)x->w,
                           sizeof x->w};
    x->t[1] = (wqc_tensor){"layer.exact", WQC_DTYPE_BF16, 2, {ROWS, COLS}, ROWS * COLS, (const unsigned char *)x->h,
                           sizeof x->h};
    x->t[2] = (wqc_tensor){"norm", WQC_DTYPE_F32, 1, {VEC}, VEC, (const unsigned char *)x->v, sizeof x->v};
    x->t[3] = (wqc_tensor){"codes", WQC_DTYPE_I8, 2, {8, 12}, CODES, (const unsigned char *)x->c, sizeof x->c};
    x->meta[0] = (wqc_kv){"origin", "test_model_api"};
}

/* The fixture made and encoded with a rule that keeps layer.exact bit-exactly. */
static wqc_memory_out encoded_fixture(fixture *x)
{
    make_fixture(x);
    wqc_error err;
    wqc_error_clear(&err);
    wqc_model *m;
    assert_int_equal(wqc_model_from_tensors(x->t, 4, x->meta, 1, &m, &err), WQC_OK);
    wqc_rule rule;
    assert_int_equal(wqc_rule_parse("*.exact:lossless", &rule, &err), WQC_OK);
    wqc_model_encode_options o;
    wqc_model_encode_options_default(&o);
    o.plan.rules = &rule;
    o.plan.nrules = 1;
    wqc_model_file_options fo = {NULL, 0, 0};
    wqc_memory_out out = {0};
    assert_int_equal(wqc_model_encode(m, &o, &fo, wqc_memory_sink, &out, &err), WQC_OK);
    wqc_model_close(m);
    return out;
}

static void test_model_api_encode_tensors_and_decode_every_form(void **state)
{
    (void)state;
    fixture x;
    wqc_memory_out file = encoded_fixture(&x);
    wqc_error err;
    wqc_error_clear(&err);
    wqc_archive *a;
    assert_int_equal(wqc_archive_open_memory(file.data, file.len, NULL, &a, &err), WQC_OK);
    assert_int_equal(wqc_archive_count(a), 4);
    assert_int_equal(wqc_archive_find(a, "norm"), 2);
    assert_int_equal(wqc_archive_find(a, "nothing"), (size_t)-1);
    int found = 0;
    for (size_t i = 0; i < wqc_archive_metadata_count(a); i++)
        found |= strcmp(wqc_archive_metadata(a, i)->key, "origin") == 0;
    assert_true(found);

    /* The quantized matrix: symbols and floats as wqc_quantize/wqc_dequantize give them. */
    wqc_tensor_info info;
    assert_int_equal(wqc_archive_tensor(a, 0, &info, &err), WQC_OK);
    assert_string_equal(info.name, "layer.weight");
    assert_true(info.quantized);
    assert_int_equal(info.bits, 4);
    assert_int_equal(info.ndim, 2);
    assert_int_equal(info.shape[1], COLS);
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    wqc_quantized q;
    assert_int_equal(wqc_quantize(x.w, ROWS, COLS, &p, "layer.weight", &q, &err), WQC_OK);
    float *want = malloc(sizeof x.w);
    wqc_dequantize(&q, want);
    assert_int_equal(wqc_archive_decoded_size(a, 0, WQC_AS_SYMBOLS), ROWS * COLS);
    uint8_t sym[ROWS * COLS];
    assert_int_equal(wqc_archive_decode(a, 0, WQC_AS_SYMBOLS, 1, sym, sizeof sym, &err), WQC_OK);
    assert_memory_equal(sym, q.symbols, sizeof sym);
    float got[ROWS * COLS];
    assert_int_equal(wqc_archive_decoded_size(a, 0, WQC_AS_ORIGINAL), sizeof got);
    assert_int_equal(wqc_archive_decode(a, 0, WQC_AS_ORIGINAL, 2, got, sizeof got, &err), WQC_OK);
    assert_memory_equal(got, want, sizeof got);
    uint16_t half[ROWS * COLS];
    assert_int_equal(wqc_archive_decode(a, 0, WQC_AS_BF16, 0, half, sizeof half, &err), WQC_OK);
    for (size_t i = 0; i < ROWS * COLS; i++) assert_int_equal(half[i], wqc_f32_to_bf16(want[i]));
    assert_fails_with(wqc_archive_decode(a, 0, WQC_AS_F32, 1, got, sizeof got - 1, &err), WQC_ERR_INVALID_ARG, err,
                      "needs");
    wqc_quantized_free(&q);
    free(want);

    /* The lossless BF16 matrix: its bytes, or exact floats. */
    assert_int_equal(wqc_archive_tensor(a, 1, &info, &err), WQC_OK);
    assert_false(info.quantized);
    assert_int_equal(info.dtype, WQC_DTYPE_BF16);
    assert_int_equal(info.encoding, WQC_ENC_SPLIT);
    assert_int_equal(wqc_archive_decode(a, 1, WQC_AS_ORIGINAL, 1, half, sizeof half, &err), WQC_OK);
    assert_memory_equal(half, x.h, sizeof half);
    assert_int_equal(wqc_archive_decode(a, 1, WQC_AS_BF16, 1, half, sizeof half, &err), WQC_OK);
    assert_memory_equal(half, x.h, sizeof half);
    assert_int_equal(wqc_archive_decode(a, 1, WQC_AS_F32, 1, got, sizeof got, &err), WQC_OK);
    for (size_t i = 0; i < ROWS * COLS; i++) assert_int_equal(wqc_f32_to_bf16(got[i]), x.h[i]);
    assert_int_equal(wqc_archive_decoded_size(a, 1, WQC_AS_SYMBOLS), 0);
    assert_fails_with(wqc_archive_decode(a, 1, WQC_AS_SYMBOLS, 1, sym, sizeof sym, &err), WQC_ERR_UNSUPPORTED, err,
                      "not quantized");
    assert_fails_with(wqc_archive_decode(a, 1, WQC_AS_F16, 1, half, sizeof half, &err), WQC_ERR_UNSUPPORTED, err,
                      "layer.exact");

    /* The vector and the int8 codes kept as they are (int8 is taken as given
     * symbols only from a .npy, as the CLI documents). */
    float v[VEC];
    assert_int_equal(wqc_archive_decode(a, 2, WQC_AS_F32, 1, v, sizeof v, &err), WQC_OK);
    assert_memory_equal(v, x.v, sizeof v);
    int8_t c[CODES];
    assert_int_equal(wqc_archive_decoded_size(a, 3, WQC_AS_ORIGINAL), CODES);
    assert_int_equal(wqc_archive_decode(a, 3, WQC_AS_ORIGINAL, 1, c, sizeof c, &err), WQC_OK);
    assert_memory_equal(c, x.c, sizeof c);
    assert_int_equal(wqc_archive_decode(a, 3, WQC_AS_F32, 1, got, CODES * sizeof(float), &err), WQC_OK);
    for (size_t i = 0; i < CODES; i++) assert_true(got[i] == (float)x.c[i]);
    wqc_archive_close(a);

    /* A damaged payload byte: the record's check fails, nothing decoded. */
    file.data[file.len / 2] ^= 0x40;
    wqc_status st = wqc_archive_open_memory(file.data, file.len, NULL, &a, &err);
    int damaged = st != WQC_OK;
    for (size_t i = 0; st == WQC_OK && i < wqc_archive_count(a); i++) {
        uint64_t n = wqc_archive_decoded_size(a, i, WQC_AS_ORIGINAL);
        void *buf = malloc(n ? n : 1);
        damaged |= wqc_archive_decode(a, i, WQC_AS_ORIGINAL, 1, buf, n, &err) != WQC_OK;
        free(buf);
    }
    if (st == WQC_OK) wqc_archive_close(a);
    assert_true(damaged);
    free(file.data);
}

static void test_model_api_plan_rules(void **state)
{
    (void)state;
    wqc_error err;
    wqc_rule r[3];
    assert_int_equal(wqc_rule_parse("embed*:sdclip,bits=8,k=20", &r[0], &err), WQC_OK);
    assert_int_equal(r[0].params.method, WQC_QUANT_SDCLIP);
    assert_int_equal(r[0].params.bits, 8);
    assert_true(r[0].params.k == 20.0);
    assert_int_equal(wqc_rule_parse("*norm*:keep", &r[1], &err), WQC_OK);
    assert_int_equal(wqc_rule_parse("head:affine,gran=group:16,bits=3", &r[2], &err), WQC_OK);
    assert_int_equal(r[2].params.granularity, WQC_GRAN_GROUP);
    assert_int_equal(r[2].params.group_size, 16);
    assert_fails_with(wqc_rule_parse("x:affine,colour=red", &r[2], &err), WQC_ERR_INVALID_ARG, err,
                      "unknown setting 'colour'");
    assert_fails_with(wqc_rule_parse("nocolon", &r[2], &err), WQC_ERR_INVALID_ARG, err, "GLOB:");
    assert_fails_with(wqc_rule_parse("x:affine,bits=9", &r[2], &err), WQC_ERR_INVALID_ARG, err,
                      "--bits: expected an integer in 1..8");
    wqc_plan plan;
    wqc_plan_default(&plan);
    plan.rules = r;
    plan.nrules = 2;
    plan.min_elements = 100;
    float dummy = 0;
    wqc_tensor embed = {"embed_tokens", WQC_DTYPE_F32, 2, {10, 20}, 200, (const unsigned char *)&dummy, 800};
    wqc_tensor norm = {"layer_norm_w", WQC_DTYPE_F32, 2, {10, 20}, 200, (const unsigned char *)&dummy, 800};
    wqc_tensor small = {"w", WQC_DTYPE_F32, 2, {5, 5}, 25, (const unsigned char *)&dummy, 100};
    wqc_tensor other = {"w", WQC_DTYPE_F16, 2, {10, 20}, 200, (const unsigned char *)&dummy, 400};
    assert_ptr_equal(wqc_plan_quantizer(&plan, &embed), &r[0].params);
    assert_null(wqc_plan_quantizer(&plan, &norm));
    assert_null(wqc_plan_quantizer(&plan, &small));
    assert_ptr_equal(wqc_plan_quantizer(&plan, &other), &plan.base);
    assert_false(wqc_plan_lossless(&plan, &other));
    plan.lossless = 1;
    assert_null(wqc_plan_quantizer(&plan, &other));
    assert_true(wqc_plan_lossless(&plan, &other));
}

/* Block scales beside 8- and 4-bit weights, by the published names; a
 * lookalike beside float weights, or with no partner, is not one. */
static void test_model_api_block_scales(void **state)
{
    (void)state;
    static uint8_t b[64];
    const unsigned char *d = b;
    const wqc_tensor t[] = {
        {"l.q.weight", WQC_DTYPE_F8_E4M3, 2, {4, 4}, 16, d, 16},
        {"l.q.weight_scale_inv", WQC_DTYPE_F32, 2, {1, 1}, 1, d, 4},
        {"l.k.weight_scale", WQC_DTYPE_F32, 2, {4, 1}, 4, d, 16},
        {"l.k.weight", WQC_DTYPE_F8_E4M3, 2, {4, 4}, 16, d, 16},
        {"l.k.input_scale", WQC_DTYPE_F32, 0, {0}, 1, d, 4},
        {"l.v.weight", WQC_DTYPE_F32, 2, {2, 2}, 4, d, 16},
        {"l.v.weight_scale", WQC_DTYPE_F32, 2, {2, 2}, 4, d, 16},
        {"e.gate_up_proj_blocks", WQC_DTYPE_U8, 3, {2, 1, 16}, 32, d, 32},
        {"e.gate_up_proj_scales", WQC_DTYPE_U8, 2, {2, 1}, 2, d, 2},
        {"n.weight", WQC_DTYPE_U8, 2, {4, 2}, 8, d, 8},
        {"n.weight_scale", WQC_DTYPE_F8_E4M3, 2, {4, 1}, 4, d, 4},
        {"lonely_scale_inv", WQC_DTYPE_F32, 2, {1, 1}, 1, d, 4},
    };
    wqc_model *m;
    wqc_error err;
    assert_int_equal(wqc_model_from_tensors(t, 12, NULL, 0, &m, &err), WQC_OK);
    size_t of[12];
    wqc_packed_float packed[12];
    assert_int_equal(wqc_model_block_scales(m, of, packed, &err), WQC_OK);
    const size_t want[12] = {SIZE_MAX, 0, 3, SIZE_MAX, 3, SIZE_MAX, SIZE_MAX, SIZE_MAX, 7, SIZE_MAX, 9, SIZE_MAX};
    for (int i = 0; i < 12; i++) assert_int_equal(of[i], want[i]);
    assert_int_equal(packed[7], WQC_PACKED_MXFP4);
    assert_int_equal(packed[9], WQC_PACKED_NVFP4);
    assert_int_equal(packed[0], WQC_PACKED_NONE);
    wqc_plan plan;
    wqc_plan_default(&plan);
    assert_null(wqc_plan_model_quantizer(&plan, m, of, 1));
    assert_non_null(wqc_plan_model_quantizer(&plan, m, of, 6));
    assert_non_null(wqc_plan_model_quantizer(&plan, m, NULL, 1));
    wqc_model_close(m);
}

/* One rule for the coding parameters, whoever gives them. */
static void test_model_api_rans_settings_one_rule(void **state)
{
    (void)state;
    wqc_error err;
    wqc_rans_params p;
    wqc_rans_params_default(&p);
    assert_int_equal(wqc_rans_setting(&p, "lanes", "auto", &err), WQC_OK);
    assert_int_equal(p.lanes, 0);
    assert_int_equal(wqc_rans_lanes_for(p.lanes, 1000, 16), 1);
    assert_int_equal(wqc_rans_lanes_for(p.lanes, 100000, 16), 8);
    assert_int_equal(wqc_rans_lanes_for(p.lanes, 1u << 20, 16), 32);
    assert_int_equal(wqc_rans_lanes_for(16, 1000, 16), 16);
    /* Gathered alphabets take 64 lanes from 2^16 symbols. */
    assert_int_equal(wqc_rans_lanes_for(p.lanes, 1000, 256), 1);
    assert_int_equal(wqc_rans_lanes_for(p.lanes, 100000, 17), 64);
    assert_int_equal(wqc_rans_lanes_for(p.lanes, 1u << 20, 256), 64);
    assert_int_equal(wqc_rans_lanes_for(32, 1u << 20, 256), 32);
    for (const char *const *v = (const char *const[]){"1", "2", "4", "8", "24", "256", NULL}; *v; v++)
        assert_int_equal(wqc_rans_setting(&p, "lanes", *v, &err), WQC_OK);
    for (const char *const *v = (const char *const[]){"3", "12", "0x8", "264", "", NULL}; *v; v++)
        assert_fails_with(wqc_rans_setting(&p, "lanes", *v, &err), WQC_ERR_INVALID_ARG, err, "1, 2, 4 or a multiple of 8");
    assert_int_equal(wqc_rans_setting(&p, "precision", "15", &err), WQC_OK);
    assert_int_equal(p.precision, 15);
    assert_fails_with(wqc_rans_setting(&p, "precision", "16", &err), WQC_ERR_INVALID_ARG, err, "10..15");
    assert_int_equal(wqc_rans_setting(&p, "chunk", "4096", &err), WQC_OK);
    assert_int_equal(p.chunk, 4096);
    assert_fails_with(wqc_rans_setting(&p, "chunk", "100", &err), WQC_ERR_INVALID_ARG, err, "--chunk");
    assert_fails_with(wqc_rans_setting(&p, "width", "1", &err), WQC_ERR_NOT_FOUND, err, "unknown");
}

/* The estimate (estimate_only) picks the mode the coder writes, within
 * 1% of its bytes, tensor by tensor. */
static void test_model_api_estimate_matches_coding(void **state)
{
    (void)state;
    fixture x;
    make_fixture(&x);
    wqc_error err;
    wqc_model *m;
    assert_int_equal(wqc_model_from_tensors(x.t, 4, NULL, 0, &m, &err), WQC_OK);
    wqc_model_encode_options o;
    wqc_model_encode_options_default(&o);
    wqc_model_encoder *coder, *estimator;
    assert_int_equal(wqc_model_encoder_open(m, &o, &coder, &err), WQC_OK);
    o.coding.estimate_only = 1;
    assert_int_equal(wqc_model_encoder_open(m, &o, &estimator, &err), WQC_OK);
    assert_true(wqc_model_encoder_quantized(coder, 0));
    assert_false(wqc_model_encoder_quantized(coder, 2));
    assert_false(wqc_model_encoder_quantized(coder, 3)); /* int8 symbols are given only in a .npy */
    for (size_t i = 0; i < wqc_model_encoder_count(coder); i++) {
        if (!wqc_model_encoder_quantized(coder, i)) continue;
        wqc_coded_tensor c, e;
        assert_int_equal(wqc_model_encoder_code(coder, i, &c, &err), WQC_OK);
        assert_int_equal(wqc_model_encoder_code(estimator, i, &e, &err), WQC_OK);
        assert_int_equal(c.sizes.chosen, e.sizes.chosen);
        double coded = (double)c.sizes.bytes[c.sizes.chosen], est = (double)e.sizes.bytes[e.sizes.chosen];
        assert_true(est > 0.99 * coded && est < 1.01 * coded);
        assert_true(c.has_stats || !wqc_dtype_is_float(x.t[i].dtype));
        wqc_model_encoder_release(coder, i, &c);
        wqc_model_encoder_release(estimator, i, &e);
    }
    wqc_model_encoder_free(coder);
    wqc_model_encoder_free(estimator);
    wqc_model_close(m);
    wqc_tensor bad = x.t[0];
    bad.nbytes--;
    assert_fails_with(wqc_model_from_tensors(&bad, 1, NULL, 0, &m, &err), WQC_ERR_INVALID_ARG, err, "disagree");
    wqc_tensor twice[2] = {x.t[0], x.t[0]};
    assert_fails_with(wqc_model_from_tensors(twice, 2, NULL, 0, &m, &err), WQC_ERR_INVALID_ARG, err,
                      "two tensors are called");
}

typedef struct decode_job {
    const wqc_memory_out *file;
    int ok;
} decode_job;

static void *decode_all(void *arg)
{
    decode_job *j = arg;
    wqc_error err;
    wqc_archive *a;
    j->ok = wqc_archive_open_memory(j->file->data, j->file->len, NULL, &a, &err) == WQC_OK;
    for (int round = 0; j->ok && round < 20; round++) {
        for (size_t i = 0; j->ok && i < wqc_archive_count(a); i++) {
            uint64_t n = wqc_archive_decoded_size(a, i, WQC_AS_F32);
            float *buf = malloc(n);
            j->ok = buf && wqc_archive_decode(a, i, WQC_AS_F32, 1, buf, n, &err) == WQC_OK;
            free(buf);
        }
    }
    if (j->ok) wqc_archive_close(a);
    return NULL;
}

/* Distinct archives over one buffer, from four threads at once (run under
 * ThreadSanitizer or ASan in CI's sanitizer build). */
static void test_model_api_archives_on_threads(void **state)
{
    (void)state;
    fixture x;
    wqc_memory_out file = encoded_fixture(&x);
    pthread_t th[4];
    decode_job jobs[4];
    for (int k = 0; k < 4; k++) {
        jobs[k] = (decode_job){&file, 0};
        assert_int_equal(pthread_create(&th[k], NULL, decode_all, &jobs[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        assert_true(jobs[k].ok);
    }
    free(file.data);
}

/* Records checked on a thread of their own while the described frames
 * decode: every check holds on the intact file; a damaged payload byte is
 * named by the checker, whatever the decoders made of it. */
static void test_model_api_checker(void **state)
{
    (void)state;
    fixture x;
    wqc_memory_out file = encoded_fixture(&x);
    wqc_error err;
    wqc_error_clear(&err);
    uint64_t damage_at = 0;
    char path[] = "/tmp/wqc_checker_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    /* From memory (read through it), then from a file (read with pread). */
    for (int run = 0; run < 4; run++) {
        int damaged = run & 1, from_file = run >> 1;
        if (run == 1 || run == 3) file.data[damage_at] ^= 0x40;
        FILE *out = fopen(path, "wb");
        assert_non_null(out);
        assert_int_equal(fwrite(file.data, 1, file.len, out), file.len);
        fclose(out);
        wqc_archive *a;
        assert_int_equal(from_file ? wqc_archive_open(path, NULL, &a, &err)
                                   : wqc_archive_open_memory(file.data, file.len, NULL, &a, &err),
                         WQC_OK);
        if (from_file) {
            int again = wqc_archive_reopen(a);
            assert_true(again >= 0);
            close(again);
        } else {
            assert_int_equal(wqc_archive_reopen(a), -1);
        }
        size_t n = wqc_archive_count(a), idx[8];
        assert_true(n <= 8);
        for (size_t i = 0; i < n; i++) idx[i] = n - 1 - i;
        wqc_archive_checker *c;
        assert_int_equal(wqc_archive_checker_start(a, idx, n, &c, &err), WQC_OK);
        for (size_t i = 0; i < n; i++) {
            const wqc_frame *f;
            assert_int_equal(wqc_archive_describe(a, i, &f, &err), WQC_OK);
            if (run == 0 && f->frame_bytes > 64) damage_at = f->file_offset + f->frame_bytes / 2;
            uint8_t *buf = malloc(f->raw_len ? (size_t)f->raw_len : 1);
            if (!f->quantized) (void)wqc_frame_decode_into(f, WQC_FORM_SYMBOLS, 2, buf, f->raw_len, &err);
            free(buf);
            wqc_archive_checker_release(c, i, f);
        }
        if (!damaged) {
            assert_int_equal(wqc_archive_checker_finish(c, &err), WQC_OK);
            assert_true(damage_at > 0);
        } else {
            assert_fails_with(wqc_archive_checker_finish(c, &err), WQC_ERR_CHECKSUM, err, "checksum mismatch");
        }
        assert_int_equal(wqc_archive_checker_finish(NULL, &err), WQC_OK);
        wqc_archive_close(a);
        if (run == 1) file.data[damage_at] ^= 0x40;
    }
    unlink(path);
    free(file.data);
}

/* wqc_archive_decode with several threads checks a large record by its
 * segment checks: the same tensor back, and damage refused by them. */
static void test_model_api_decode_checks_segments(void **state)
{
    (void)state;
    const uint64_t n = 1u << 19;
    uint8_t *bytes = malloc(n), *back = malloc(n);
    uint64_t s = 9;
    for (uint64_t i = 0; i < n; i++) bytes[i] = (uint8_t)((s = s * 6364136223846793005ull + 1) >> 60);
    wqc_tensor t = {.name = "codes", .dtype = WQC_DTYPE_U8, .ndim = 1, .shape = {n}, .nelem = n, .data = bytes, .nbytes = n};
    wqc_memory_out file = {0};
    wqc_error err;
    assert_int_equal(wqc_encode_tensors(&t, 1, NULL, 0, "lossless=1", wqc_memory_sink, &file, &err), WQC_OK);
    for (int damaged = 0; damaged < 2; damaged++) {
        if (damaged) file.data[file.len / 2] ^= 0x08;
        wqc_archive *a;
        assert_int_equal(wqc_archive_open_memory(file.data, file.len, NULL, &a, &err), WQC_OK);
        assert_true(wqc_archive_checks_segments(a, 0, 4));
        assert_false(wqc_archive_checks_segments(a, 0, 1));
        if (!damaged) {
            assert_int_equal(wqc_archive_decode(a, 0, WQC_AS_ORIGINAL, 4, back, n, &err), WQC_OK);
            assert_memory_equal(back, bytes, n);
        } else {
            assert_fails_with(wqc_archive_decode(a, 0, WQC_AS_ORIGINAL, 4, back, n, &err), WQC_ERR_CHECKSUM, err,
                              "checksum mismatch");
        }
        wqc_archive_close(a);
    }
    free(file.data);
    free(bytes), free(back);
}

/* Frames read from pread copies of their records decode as the ones read
 * in place; a damaged record fails its check there; an archive in memory
 * has no file to read copies from. */
static void test_model_api_frame_copies(void **state)
{
    (void)state;
    fixture x;
    wqc_memory_out file = encoded_fixture(&x);
    wqc_error err;
    wqc_error_clear(&err);
    char path[] = "/tmp/wqc_copies_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, file.data, file.len), (ssize_t)file.len);
    close(fd);
    wqc_archive *a, *m;
    wqc_frame_reader *fr;
    assert_int_equal(wqc_archive_open_memory(file.data, file.len, NULL, &m, &err), WQC_OK);
    assert_fails_with(wqc_frame_reader_open(m, &fr, &err), WQC_ERR_UNSUPPORTED, err, "mapped");
    assert_int_equal(wqc_archive_open(path, NULL, &a, &err), WQC_OK);
    assert_int_equal(wqc_frame_reader_open(a, &fr, &err), WQC_OK);
    uint64_t damage_at = 0;
    for (size_t i = 0; i < wqc_archive_count(a); i++) {
        const wqc_frame *copy, *mapped;
        assert_int_equal(wqc_frame_reader_read(fr, i, &copy, &err), WQC_OK);
        assert_int_equal(wqc_archive_frame(m, i, &mapped, &err), WQC_OK);
        assert_true(copy->raw_len == mapped->raw_len && copy->quantized == mapped->quantized);
        uint64_t n = copy->quantized ? copy->nelem : copy->raw_len;
        uint8_t *p = malloc(n ? n : 1), *q = malloc(n ? n : 1);
        if (copy->quantized) {
            assert_int_equal(wqc_frame_decode_symbols(copy, 1, p, &err), WQC_OK);
            assert_int_equal(wqc_frame_decode_symbols(mapped, 1, q, &err), WQC_OK);
        } else {
            assert_int_equal(wqc_frame_decode_raw(copy, p, &err), WQC_OK);
            assert_int_equal(wqc_frame_decode_raw(mapped, q, &err), WQC_OK);
        }
        assert_memory_equal(p, q, n);
        free(p), free(q);
        if (mapped->frame_bytes > 64) damage_at = mapped->file_offset + mapped->frame_bytes / 2;
    }
    wqc_frame_reader_close(fr);
    wqc_archive_close(a);
    wqc_archive_close(m);
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    uint8_t flipped = file.data[damage_at] ^ 0x40;
    assert_int_equal(pwrite(fd, &flipped, 1, (off_t)damage_at), 1);
    close(fd);
    assert_int_equal(wqc_archive_open(path, NULL, &a, &err), WQC_OK);
    assert_int_equal(wqc_frame_reader_open(a, &fr, &err), WQC_OK);
    wqc_status st = WQC_OK;
    for (size_t i = 0; st == WQC_OK && i < wqc_archive_count(a); i++) {
        const wqc_frame *f;
        st = wqc_frame_reader_read(fr, i, &f, &err);
    }
    assert_int_equal(st, WQC_ERR_CHECKSUM);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    wqc_frame_reader_close(fr);
    wqc_archive_close(a);
    unlink(path);
    free(file.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_api_encode_tensors_and_decode_every_form),
        cmocka_unit_test(test_model_api_plan_rules),
        cmocka_unit_test(test_model_api_block_scales),
        cmocka_unit_test(test_model_api_rans_settings_one_rule),
        cmocka_unit_test(test_model_api_estimate_matches_coding),
        cmocka_unit_test(test_model_api_archives_on_threads),
        cmocka_unit_test(test_model_api_checker),
        cmocka_unit_test(test_model_api_frame_copies),
        cmocka_unit_test(test_model_api_decode_checks_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
