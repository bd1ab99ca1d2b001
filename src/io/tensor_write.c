/* .safetensors and .npy writers. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/tensor_io.h"

wqc_status wqc_safetensors_write_header(wqc_sink_fn sink, void *ctx, const wqc_tensor *tensors, size_t n,
                                        const wqc_kv *meta, size_t n_meta, wqc_error *err)
{
    json_t *root = json_object();
    if (!root) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = WQC_OK;
    if (n_meta) {
        json_t *m = json_object();
        for (size_t i = 0; i < n_meta; i++) json_object_set_new(m, meta[i].key, json_string(meta[i].value));
        json_object_set_new(root, "__metadata__", m);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < n && st == WQC_OK; i++) {
        const wqc_tensor *t = &tensors[i];
        json_t *e = json_object(), *shape = json_array(), *offs = json_array();
        for (int d = 0; d < t->ndim; d++) json_array_append_new(shape, json_integer((json_int_t)t->shape[d]));
        json_array_append_new(offs, json_integer((json_int_t)offset));
        json_array_append_new(offs, json_integer((json_int_t)(offset + t->nbytes)));
        json_object_set_new(e, "dtype", json_string(wqc_dtype_name(t->dtype)));
        json_object_set_new(e, "shape", shape);
        json_object_set_new(e, "data_offsets", offs);
        if (json_object_get(root, t->name) || json_object_set_new(root, t->name, e) != 0)
            st = wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor name '%s' is repeated or not valid UTF-8", t->name);
        offset += t->nbytes;
    }
    char *text = st == WQC_OK ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (st != WQC_OK) return st;
    if (!text) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    size_t len = strlen(text), padded = (len + 7) / 8 * 8;
    unsigned char head[8];
    for (int i = 0; i < 8; i++) head[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    st = sink(ctx, head, 8, err);
    if (st == WQC_OK) st = sink(ctx, text, len, err);
    if (st == WQC_OK && padded > len) st = sink(ctx, "       ", padded - len, err);
    free(text);
    return st;
}

wqc_status wqc_safetensors_write(wqc_sink_fn sink, void *ctx, const wqc_tensor *tensors, size_t n,
                                 const wqc_kv *meta, size_t n_meta, wqc_error *err)
{
    wqc_status st = wqc_safetensors_write_header(sink, ctx, tensors, n, meta, n_meta, err);
    for (size_t i = 0; i < n && st == WQC_OK; i++)
        if (tensors[i].nbytes) st = sink(ctx, tensors[i].data, (size_t)tensors[i].nbytes, err);
    return st;
}

wqc_status wqc_npy_write(wqc_sink_fn sink, void *ctx, const wqc_tensor *t, wqc_error *err)
{
    wqc_status st = wqc_npy_write_header(sink, ctx, t, err);
    if (st == WQC_OK && t->nbytes) st = sink(ctx, t->data, (size_t)t->nbytes, err);
    return st;
}

wqc_status wqc_npy_write_header(wqc_sink_fn sink, void *ctx, const wqc_tensor *t, wqc_error *err)
{
    const char *descr;
    switch (t->dtype) {
    case WQC_DTYPE_F32: descr = "<f4"; break;
    case WQC_DTYPE_F16: descr = "<f2"; break;
    case WQC_DTYPE_I8: descr = "|i1"; break;
    case WQC_DTYPE_U8: descr = "|u1"; break;
    default:
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "dtype %s has no .npy equivalent", wqc_dtype_name(t->dtype));
    }
    char shape[WQC_MAX_DIMS * 22 + 4] = "";
    size_t at = 0;
    for (int d = 0; d < t->ndim; d++)
        at += (size_t)snprintf(shape + at, sizeof shape - at, "%llu,%s", (unsigned long long)t->shape[d],
                               t->ndim > 1 && d + 1 < t->ndim ? " " : "");
    if (t->ndim > 1) shape[at - 1] = '\0'; /* "2, 3" not "2, 3," */
    char header[WQC_MAX_DIMS * 22 + 128];
    int hl = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr,
                      shape);
    /* Pad with spaces and a newline so that the data starts at a multiple of 64. */
    size_t total = (10 + (size_t)hl + 1 + 63) / 64 * 64, hlen = total - 10;
    unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)hlen,
                                (unsigned char)(hlen >> 8)};
    memset(header + hl, ' ', hlen - (size_t)hl - 1);
    header[hlen - 1] = '\n';
    wqc_status st = sink(ctx, prefix, sizeof prefix, err);
    if (st == WQC_OK) st = sink(ctx, header, hlen, err);
    return st;
}
