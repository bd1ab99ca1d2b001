#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_common.h"

/* 8-byte little-endian length, the JSON header, then `data_len` bytes 0..255. */
static unsigned char *make_st(const char *json, size_t data_len, size_t *len)
{
    size_t h = strlen(json);
    *len = 8 + h + data_len;
    unsigned char *buf = malloc(*len);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, json, h);
    for (size_t i = 0; i < data_len; i++) buf[8 + h + i] = (unsigned char)i;
    return buf;
}

static const char *valid_json =
    "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"x\"},"
    "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[24,28]},"
    "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"e\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[28,28]}}  ";

static void test_safetensors_valid_header(void **state)
{
    (void)state;
    size_t len;
    unsigned char *f = make_st(valid_json, 28, &len);
    wqc_st_header h;
    wqc_error err;
    assert_int_equal(wqc_safetensors_parse(f, len, &h, &err), WQC_OK);
    assert_int_equal(h.count, 3);
    /* Sorted by data offset. */
    assert_string_equal(h.entries[0].name, "a");
    assert_int_equal(h.entries[0].dtype, WQC_DTYPE_F32);
    assert_int_equal(h.entries[0].nelem, 6);
    assert_string_equal(h.entries[1].name, "b");
    assert_int_equal(h.entries[1].begin, 24);
    assert_string_equal(h.entries[2].name, "e");
    assert_int_equal(h.nmeta, 2);
    assert_string_equal(h.meta[0].key, "format");
    assert_string_equal(h.meta[0].value, "pt");
    assert_int_equal(h.data_offset, 8 + strlen(valid_json));
    wqc_st_header_free(&h);
    free(f);
}

static void expect_error(const char *json, size_t data_len, wqc_status status, const char *needle)
{
    size_t len;
    unsigned char *f = make_st(json, data_len, &len);
    wqc_st_header h;
    wqc_error err;
    assert_fails_with(wqc_safetensors_parse(f, len, &h, &err), status, err, needle);
    free(f);
}

static void test_safetensors_malformed_files_are_reported(void **state)
{
    (void)state;
    /* Truncated data section. */
    expect_error(valid_json, 20, WQC_ERR_FORMAT, "ends at byte");
    /* Trailing unreferenced bytes. */
    expect_error(valid_json, 40, WQC_ERR_FORMAT, "trailing bytes");
    expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                 "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
                 6, WQC_ERR_FORMAT, "overlap");
    expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6, WQC_ERR_FORMAT,
                 "unreferenced");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8, WQC_ERR_FORMAT,
                 "shape needs 16");
    expect_error("{\"a\":{\"dtype\":\"Q7\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4,
                 WQC_ERR_UNSUPPORTED, "'Q7'");
    expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[-4],\"data_offsets\":[0,4]}}", 4, WQC_ERR_FORMAT,
                 "bad shape");
    expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,0]}}", 4, WQC_ERR_FORMAT,
                 "data_offsets");
    expect_error("{\"__metadata__\":{\"k\":3}}", 0, WQC_ERR_FORMAT, "not a string");
    expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                 "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                 2, WQC_ERR_FORMAT, "JSON");
    expect_error("[1,2]", 0, WQC_ERR_FORMAT, "not a JSON object");
    expect_error("{\"a\":", 0, WQC_ERR_FORMAT, "bad JSON");
    expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],"
                 "\"data_offsets\":[0,1]}}", 1, WQC_ERR_LIMIT, "overflows");
}

static void test_safetensors_header_length_checks(void **state)
{
    (void)state;
    size_t len;
    unsigned char *f = make_st(valid_json, 28, &len);
    wqc_st_header h;
    wqc_error err;
    f[0] = 0xff, f[1] = 0xff; /* header longer than the file */
    assert_fails_with(wqc_safetensors_parse(f, len, &h, &err), WQC_ERR_FORMAT, err, "longer than the file");
    f[5] = 0x10; /* over the 100 MB cap */
    assert_fails_with(wqc_safetensors_parse(f, len, &h, &err), WQC_ERR_LIMIT, err, "exceeds the limit");
    assert_fails_with(wqc_safetensors_parse(f, 7, &h, &err), WQC_ERR_FORMAT, err, "shorter than 8");
    free(f);
    /* Every truncation of a valid file fails without a crash. */
    f = make_st(valid_json, 28, &len);
    for (size_t n = 0; n < len; n++) {
        unsigned char *copy = malloc(n ? n : 1);
        memcpy(copy, f, n);
        assert_int_not_equal(wqc_safetensors_parse(copy, n, &h, NULL), WQC_OK);
        free(copy);
    }
    free(f);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void test_model_opens_sharded_index(void **state)
{
    (void)state;
    char dir[] = "/tmp/wqc_test_index_XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    size_t len;
    unsigned char *s1 = make_st("{\"x.w\":{\"dtype\":\"U8\",\"shape\":[2,2],\"data_offsets\":[0,4]}}", 4, &len);
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
    write_file(path, s1, len);
    free(s1);
    unsigned char *s2 = make_st("{\"y.w\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                                "\"__metadata__\":{\"format\":\"pt\"}}", 3, &len);
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
    write_file(path, s2, len);
    free(s2);
    const char *index = "{\"metadata\":{\"total_size\":7},\"weight_map\":{"
                        "\"y.w\":\"model-00002-of-00002.safetensors\","
                        "\"x.w\":\"model-00001-of-00002.safetensors\"}}";
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    write_file(path, index, strlen(index));

    wqc_model *m;
    wqc_error err;
    wqc_error_clear(&err);
    assert_int_equal(wqc_model_open(path, &m, &err), WQC_OK);
    assert_int_equal(wqc_model_format_of(m), WQC_FORMAT_SAFETENSORS_INDEX);
    assert_int_equal(wqc_model_count(m), 2);
    assert_string_equal(wqc_model_tensor(m, 0)->name, "x.w");
    assert_string_equal(wqc_model_tensor(m, 1)->name, "y.w");
    assert_int_equal(wqc_model_tensor(m, 1)->data[2], 2);
    /* The index's metadata, then the shards' __metadata__ keys. */
    assert_int_equal(wqc_model_metadata_count(m), 2);
    assert_string_equal(wqc_model_metadata(m, 0)->value, "7");
    assert_string_equal(wqc_model_metadata(m, 1)->key, "format");
    assert_string_equal(wqc_model_metadata(m, 1)->value, "pt");
    assert_int_equal(wqc_model_shard_of(m, 0), 0);
    assert_int_equal(wqc_model_shard_of(m, 1), 1);
    wqc_model_close(m);

    /* An index naming a tensor its shard lacks, and one escaping the folder. */
    const char *missing = "{\"weight_map\":{\"z\":\"model-00001-of-00002.safetensors\"}}";
    write_file(path, missing, strlen(missing));
    assert_fails_with(wqc_model_open(path, &m, &err), WQC_ERR_NOT_FOUND, err, "'z'");
    const char *escape = "{\"weight_map\":{\"z\":\"../etc/passwd\"}}";
    write_file(path, escape, strlen(escape));
    assert_fails_with(wqc_model_open(path, &m, &err), WQC_ERR_FORMAT, err, "invalid shard path");
    const char *absent = "{\"weight_map\":{\"z\":\"nope.safetensors\"}}";
    write_file(path, absent, strlen(absent));
    assert_fails_with(wqc_model_open(path, &m, &err), WQC_ERR_IO, err, "nope.safetensors");

    snprintf(path, sizeof path, "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safetensors_valid_header),
        cmocka_unit_test(test_safetensors_malformed_files_are_reported),
        cmocka_unit_test(test_safetensors_header_length_checks),
        cmocka_unit_test(test_model_opens_sharded_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
