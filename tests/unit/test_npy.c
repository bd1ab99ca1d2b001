#include <stdlib.h>

#include "test_common.h"

/* Builds a .npy file in memory: version major.0, the given header text
 * (padded with spaces and a newline like numpy does), then `data`. */
static unsigned char *make_npy(int major, const char *header, const void *data, size_t nbytes,
                               size_t *len)
{
    size_t prefix = major == 1 ? 10 : 12, hlen = strlen(header) + 1;
    hlen += (64 - (prefix + hlen) % 64) % 64;
    *len = prefix + hlen + nbytes;
    unsigned char *buf = malloc(*len);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < prefix - 8; i++) buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memset(buf + prefix, ' ', hlen);
    memcpy(buf + prefix, header, strlen(header));
    buf[prefix + hlen - 1] = '\n';
    memcpy(buf + prefix + hlen, data, nbytes);
    return buf;
}

static void test_npy_v1_float32_c_order(void **state)
{
    (void)state;
    const float data[6] = {1, 2, 3, 4, 5, 6};
    size_t len;
    unsigned char *f = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                                data, sizeof data, &len);
    wqc_npy_header h;
    wqc_error err;
    assert_int_equal(wqc_npy_parse_header(f, len, &h, &err), WQC_OK);
    assert_int_equal(h.dtype, WQC_DTYPE_F32);
    assert_int_equal(h.ndim, 2);
    assert_int_equal(h.shape[0], 2);
    assert_int_equal(h.shape[1], 3);
    assert_int_equal(h.nelem, 6);
    assert_int_equal(h.data_offset % 64, 0);
    assert_memory_equal(f + h.data_offset, data, sizeof data);
    free(f);
}

static void test_npy_v2_v3_header_lengths_and_scalar(void **state)
{
    (void)state;
    const unsigned char u8 = 200;
    for (int major = 2; major <= 3; major++) {
        size_t len;
        unsigned char *f = make_npy(major, "{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": ()}",
                                    &u8, 1, &len);
        wqc_npy_header h;
        assert_int_equal(wqc_npy_parse_header(f, len, &h, NULL), WQC_OK);
        assert_int_equal(h.version_major, major);
        assert_int_equal(h.ndim, 0);
        assert_int_equal(h.nelem, 1);
        assert_int_equal(h.dtype, WQC_DTYPE_U8);
        free(f);
    }
}

static void test_npy_big_endian_fortran_is_converted(void **state)
{
    (void)state;
    /* 2x3 float16 matrix [[1,2,3],[4,5,6]] stored column-major, big-endian. */
    const uint16_t le_vals[6] = {0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600};
    const int column_major[6] = {0, 3, 1, 4, 2, 5};
    unsigned char data[12];
    for (int i = 0; i < 6; i++) {
        data[2 * i] = (unsigned char)(le_vals[column_major[i]] >> 8);
        data[2 * i + 1] = (unsigned char)(le_vals[column_major[i]] & 0xff);
    }
    size_t len;
    unsigned char *f = make_npy(1, "{'descr': '>f2', 'fortran_order': True, 'shape': (2, 3), }",
                                data, sizeof data, &len);
    wqc_npy_header h;
    assert_int_equal(wqc_npy_parse_header(f, len, &h, NULL), WQC_OK);
    assert_true(h.big_endian && h.fortran_order);
    unsigned char out[12];
    wqc_npy_copy_c_order(&h, f, out);
    float vals[6];
    assert_int_equal(wqc_convert_to_f32(WQC_DTYPE_F16, out, 6, vals), WQC_OK);
    for (int i = 0; i < 6; i++) assert_true(vals[i] == (float)(i + 1));
    free(f);
}

static void test_npy_fortran_order_3d(void **state)
{
    (void)state;
    /* Shape (2,3,4): Fortran element (i,j,k) sits at i + 2j + 6k. */
    int8_t data[24], out[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) data[i + 2 * j + 6 * k] = (int8_t)(i * 12 + j * 4 + k);
    size_t len;
    unsigned char *f = make_npy(1, "{'descr': '|i1', 'fortran_order': True, 'shape': (2, 3, 4), }",
                                data, sizeof data, &len);
    wqc_npy_header h;
    assert_int_equal(wqc_npy_parse_header(f, len, &h, NULL), WQC_OK);
    wqc_npy_copy_c_order(&h, f, (unsigned char *)out);
    for (int i = 0; i < 24; i++) assert_int_equal(out[i], i);
    free(f);
}

static void test_npy_malformed_headers_are_reported(void **state)
{
    (void)state;
    const float d[4] = {0, 0, 0, 0};
    wqc_npy_header h;
    wqc_error err;
    size_t len;
    unsigned char *f;

    f = make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d, 16, &len);
    assert_fails_with(wqc_npy_parse_header(f, len, &h, &err), WQC_ERR_UNSUPPORTED, err, "'<f8'");
    free(f);
    f = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", d, 8, &len);
    assert_fails_with(wqc_npy_parse_header(f, len, &h, &err), WQC_ERR_FORMAT, err, "truncated data");
    free(f);
    f = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", d, 8, &len);
    assert_fails_with(wqc_npy_parse_header(f, len, &h, &err), WQC_ERR_FORMAT, err, "unexpected bytes");
    free(f);
    f = make_npy(1, "{'descr': '<f4', 'shape': (2,), }", d, 8, &len);
    assert_fails_with(wqc_npy_parse_header(f, len, &h, &err), WQC_ERR_FORMAT, err, "fortran_order");
    free(f);
    f = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", d, 8, &len);
    assert_fails_with(wqc_npy_parse_header(f, len, &h, &err), WQC_ERR_FORMAT, err, "'x'");
    free(f);
    f = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }",
                 d, 8, &len);
    assert_fails_with(wqc_npy_parse_header(f, len, &h, &err), WQC_ERR_LIMIT, err, "overflow");
    free(f);
    f = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", d, 8, &len);
    f[8] = 0xff, f[9] = 0x7f; /* header length 32767 > file */
    assert_fails_with(wqc_npy_parse_header(f, len, &h, &err), WQC_ERR_FORMAT, err, "past the end");
    f[8] = 64, f[9] = 0;
    f[6] = 4;
    assert_fails_with(wqc_npy_parse_header(f, len, &h, &err), WQC_ERR_UNSUPPORTED, err, "version 4");
    f[6] = 1;
    f[0] = 'X';
    assert_fails_with(wqc_npy_parse_header(f, len, &h, &err), WQC_ERR_FORMAT, err, "magic");
    assert_fails_with(wqc_npy_parse_header(f, 5, &h, &err), WQC_ERR_FORMAT, err, "magic");
    free(f);
}

/* Every prefix of a valid file is rejected cleanly. */
static void test_npy_every_truncation_fails(void **state)
{
    (void)state;
    const float d[3] = {1, 2, 3};
    size_t len;
    unsigned char *f = make_npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", d,
                                sizeof d, &len);
    for (size_t n = 0; n < len; n++) {
        unsigned char *copy = malloc(n ? n : 1);
        memcpy(copy, f, n);
        wqc_npy_header h;
        assert_int_not_equal(wqc_npy_parse_header(copy, n, &h, NULL), WQC_OK);
        free(copy);
    }
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_v1_float32_c_order),
        cmocka_unit_test(test_npy_v2_v3_header_lengths_and_scalar),
        cmocka_unit_test(test_npy_big_endian_fortran_is_converted),
        cmocka_unit_test(test_npy_fortran_order_3d),
        cmocka_unit_test(test_npy_malformed_headers_are_reported),
        cmocka_unit_test(test_npy_every_truncation_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
