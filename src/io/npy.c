/* .npy reader: versions 1.0, 2.0 and 3.0 of numpy's format.
 *
 * Layout: "\x93NUMPY", major, minor, header length (uint16 LE for 1.x, uint32
 * LE for 2.x/3.x), then a Python dict literal with exactly the keys 'descr',
 * 'fortran_order' and 'shape', then the raw array data. */
#include <string.h>

#include "wqc/tensor_io.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int accept(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes, copied NUL-terminated into out. */
static int parse_string(cursor *c, char *out, size_t cap)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p == '\\' || n + 1 >= cap) return 0;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return 0;
    c->p++;
    out[n] = '\0';
    return 1;
}

static int parse_uint(cursor *c, uint64_t *out)
{
    skip_space(c);
    uint64_t v = 0;
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned d = (unsigned)(*c->p - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
        c->p++;
    }
    if (c->p == start) return 0;
    if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 long literal */
    *out = v;
    return 1;
}

static int parse_bool(cursor *c, int *out)
{
    skip_space(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && memcmp(c->p, "True", 4) == 0) {
        c->p += 4;
        *out = 1;
        return 1;
    }
    if (left >= 5 && memcmp(c->p, "False", 5) == 0) {
        c->p += 5;
        *out = 0;
        return 1;
    }
    return 0;
}

static wqc_status parse_shape(cursor *c, wqc_npy_header *h, wqc_error *err)
{
    if (!accept(c, '(')) return wqc_fail(err, WQC_ERR_FORMAT, "npy header: 'shape' is not a tuple");
    h->ndim = 0;
    for (;;) {
        if (accept(c, ')')) return WQC_OK;
        if (h->ndim == WQC_MAX_DIMS)
            return wqc_fail(err, WQC_ERR_UNSUPPORTED, "npy header: more than %d dimensions",
                            WQC_MAX_DIMS);
        if (!parse_uint(c, &h->shape[h->ndim]))
            return wqc_fail(err, WQC_ERR_FORMAT, "npy header: bad dimension in 'shape'");
        h->ndim++;
        if (!accept(c, ',')) {
            if (accept(c, ')')) return WQC_OK;
            return wqc_fail(err, WQC_ERR_FORMAT, "npy header: bad 'shape' tuple");
        }
    }
}

static wqc_status parse_descr(const char *descr, wqc_npy_header *h, wqc_error *err)
{
    char order = descr[0];
    const char *type = descr + 1;
    if (order != '<' && order != '>' && order != '|')
        return wqc_fail(err, WQC_ERR_UNSUPPORTED,
                        "npy header: unsupported dtype '%s' (byte order must be '<', '>' or '|')",
                        descr);
    h->big_endian = (order == '>');
    if (strcmp(type, "f4") == 0) h->dtype = WQC_DTYPE_F32;
    else if (strcmp(type, "f2") == 0) h->dtype = WQC_DTYPE_F16;
    else if (strcmp(type, "i1") == 0) h->dtype = WQC_DTYPE_I8;
    else if (strcmp(type, "u1") == 0) h->dtype = WQC_DTYPE_U8;
    else
        return wqc_fail(err, WQC_ERR_UNSUPPORTED,
                        "npy header: unsupported dtype '%s' (wqc reads f4, f2, i1, u1)", descr);
    if (order == '|' && wqc_dtype_size(h->dtype) != 1)
        return wqc_fail(err, WQC_ERR_FORMAT, "npy header: dtype '%s' needs a byte order", descr);
    return WQC_OK;
}

static wqc_status parse_dict(cursor *c, wqc_npy_header *h, wqc_error *err)
{
    int have_descr = 0, have_order = 0, have_shape = 0;
    char key[32], descr[64];
    if (!accept(c, '{')) return wqc_fail(err, WQC_ERR_FORMAT, "npy header: not a dict");
    for (;;) {
        if (accept(c, '}')) break;
        if (!parse_string(c, key, sizeof key) || !accept(c, ':'))
            return wqc_fail(err, WQC_ERR_FORMAT, "npy header: bad key");
        wqc_status st = WQC_OK;
        if (strcmp(key, "descr") == 0 && !have_descr) {
            if (!parse_string(c, descr, sizeof descr))
                return wqc_fail(err, WQC_ERR_UNSUPPORTED,
                                "npy header: 'descr' is not a simple dtype string");
            st = parse_descr(descr, h, err);
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            if (!parse_bool(c, &h->fortran_order))
                return wqc_fail(err, WQC_ERR_FORMAT, "npy header: 'fortran_order' is not a bool");
            have_order = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            st = parse_shape(c, h, err);
            have_shape = 1;
        } else {
            return wqc_fail(err, WQC_ERR_FORMAT, "npy header: unexpected or repeated key '%s'", key);
        }
        if (st != WQC_OK) return st;
        if (!accept(c, ',')) {
            if (accept(c, '}')) break;
            return wqc_fail(err, WQC_ERR_FORMAT, "npy header: expected ',' or '}'");
        }
    }
    if (!have_descr || !have_order || !have_shape)
        return wqc_fail(err, WQC_ERR_FORMAT, "npy header: missing '%s'",
                        !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    return WQC_OK;
}

/* The header alone: what the data section must hold. */
static wqc_status parse_head(const unsigned char *buf, size_t len, wqc_npy_header *h, wqc_error *err)
{
    memset(h, 0, sizeof *h);
    if (len < NPY_MAGIC_LEN + 2 || memcmp(buf, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return wqc_fail(err, WQC_ERR_FORMAT, "not a .npy file (bad magic)");
    h->version_major = buf[6];
    size_t prefix, hlen;
    if (h->version_major == 1) {
        prefix = 10;
        if (len < prefix) return wqc_fail(err, WQC_ERR_FORMAT, "npy: truncated header length");
        hlen = (size_t)buf[8] | ((size_t)buf[9] << 8);
    } else if (h->version_major == 2 || h->version_major == 3) {
        prefix = 12;
        if (len < prefix) return wqc_fail(err, WQC_ERR_FORMAT, "npy: truncated header length");
        hlen = (size_t)buf[8] | ((size_t)buf[9] << 8) | ((size_t)buf[10] << 16) |
               ((size_t)buf[11] << 24);
    } else {
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "npy: unsupported format version %d.%d",
                        buf[6], buf[7]);
    }
    if (hlen > WQC_NPY_HEADER_MAX)
        return wqc_fail(err, WQC_ERR_LIMIT, "npy: header length %zu exceeds the limit of %u bytes",
                        hlen, WQC_NPY_HEADER_MAX);
    if (hlen > len - prefix)
        return wqc_fail(err, WQC_ERR_FORMAT,
                        "npy: header length %zu runs past the end of the file (%zu bytes)", hlen,
                        len);
    cursor c = {(const char *)buf + prefix, (const char *)buf + prefix + hlen};
    wqc_status st = parse_dict(&c, h, err);
    if (st != WQC_OK) return st;

    uint64_t nelem = 1;
    for (int d = 0; d < h->ndim; d++) {
        if (h->shape[d] != 0 && nelem > UINT64_MAX / h->shape[d])
            return wqc_fail(err, WQC_ERR_LIMIT, "npy: shape product overflows");
        nelem *= h->shape[d];
    }
    size_t item = wqc_dtype_size(h->dtype);
    if (nelem > UINT64_MAX / item) return wqc_fail(err, WQC_ERR_LIMIT, "npy: data size overflows");
    h->nelem = nelem;
    h->data_offset = prefix + hlen;
    h->data_bytes = nelem * item;
    return WQC_OK;
}

wqc_status wqc_npy_declared_size(const unsigned char *buf, size_t len, uint64_t *total, wqc_error *err)
{
    wqc_npy_header h;
    wqc_status st = parse_head(buf, len, &h, err);
    if (st == WQC_OK && h.data_bytes > UINT64_MAX - h.data_offset)
        st = wqc_fail(err, WQC_ERR_LIMIT, "npy: data size overflows");
    if (st == WQC_OK) *total = h.data_offset + h.data_bytes;
    return st;
}

wqc_status wqc_npy_parse_header(const unsigned char *buf, size_t len, wqc_npy_header *h,
                                wqc_error *err)
{
    wqc_status st = parse_head(buf, len, h, err);
    if (st != WQC_OK) return st;
    uint64_t have = len - h->data_offset;
    if (have < h->data_bytes)
        return wqc_fail(err, WQC_ERR_FORMAT,
                        "npy: truncated data (shape needs %llu bytes, file holds %llu)",
                        (unsigned long long)h->data_bytes, (unsigned long long)have);
    if (have > h->data_bytes)
        return wqc_fail(err, WQC_ERR_FORMAT, "npy: %llu unexpected bytes after the data",
                        (unsigned long long)(have - h->data_bytes));
    return WQC_OK;
}

static void copy_element(unsigned char *dst, const unsigned char *src, size_t item, int swap)
{
    if (!swap) {
        memcpy(dst, src, item);
        return;
    }
    for (size_t b = 0; b < item; b++) dst[b] = src[item - 1 - b];
}

void wqc_npy_copy_c_order(const wqc_npy_header *h, const unsigned char *file, unsigned char *dst)
{
    const unsigned char *src = file + h->data_offset;
    size_t item = wqc_dtype_size(h->dtype);
    int swap = h->big_endian && item > 1;
    if (!h->fortran_order || h->ndim < 2) {
        if (!swap) {
            memcpy(dst, src, h->data_bytes);
            return;
        }
        for (uint64_t i = 0; i < h->nelem; i++) copy_element(dst + i * item, src + i * item, item, 1);
        return;
    }
    if (h->nelem == 0) return;
    /* Walk the C-order multi-index; Fortran strides: 1, shape[0], shape[0]*shape[1], ... */
    uint64_t fstride[WQC_MAX_DIMS], idx[WQC_MAX_DIMS] = {0}, off = 0;
    fstride[0] = 1;
    for (int d = 1; d < h->ndim; d++) fstride[d] = fstride[d - 1] * h->shape[d - 1];
    for (uint64_t i = 0; i < h->nelem; i++) {
        copy_element(dst + i * item, src + off * item, item, swap);
        for (int d = h->ndim - 1; d >= 0; d--) {
            if (++idx[d] < h->shape[d]) {
                off += fstride[d];
                break;
            }
            off -= fstride[d] * (idx[d] - 1);
            idx[d] = 0;
        }
    }
}
