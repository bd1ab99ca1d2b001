/* Writing GGUF (version 3): the header, metadata and tensor infos, and
 * ggml's Q8_0 blocks (Q4_0 comes from wqc/q4_0.h, which lays its blocks out
 * as ggml does). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/dtype.h"
#include "wqc/gguf.h"

typedef struct header_out {
    wqc_sink_fn sink;
    void *ctx;
    uint64_t at;
    wqc_status st;
    wqc_error *err;
} header_out;

static void put(header_out *o, const void *p, size_t n)
{
    if (o->st == WQC_OK && n) o->st = o->sink(o->ctx, p, n, o->err);
    o->at += n;
}

static void put_u32(header_out *o, uint32_t v) { put(o, &v, 4); }
static void put_u64(header_out *o, uint64_t v) { put(o, &v, 8); }

static void put_string(header_out *o, const char *s)
{
    put_u64(o, strlen(s));
    put(o, s, strlen(s));
}

uint64_t wqc_gguf_tensor_bytes(uint32_t type, uint64_t nelem)
{
    uint32_t bw, bb;
    if (!wqc_ggml_type_block(type, &bw, &bb) || nelem % bw) return 0;
    return nelem / bw * bb;
}

wqc_status wqc_gguf_write_header(wqc_sink_fn sink, void *ctx, const wqc_gguf_kv_out *kv, size_t nkv,
                                 const wqc_gguf_tensor_out *t, size_t n, uint32_t alignment, wqc_error *err)
{
    if (alignment == 0 || (alignment & (alignment - 1))) return wqc_fail(err, WQC_ERR_INVALID_ARG, "alignment %u", alignment);
    header_out o = {sink, ctx, 0, WQC_OK, err};
    put(&o, "GGUF", 4);
    put_u32(&o, 3);
    put_u64(&o, n);
    put_u64(&o, nkv + 1);
    for (size_t i = 0; i < nkv; i++) {
        put_string(&o, kv[i].key);
        put_u32(&o, kv[i].type);
        if (kv[i].type == WQC_GGUF_STRING) put_string(&o, kv[i].str ? kv[i].str : "");
        else put_u32(&o, kv[i].u32);
    }
    put_string(&o, "general.alignment");
    put_u32(&o, WQC_GGUF_UINT32);
    put_u32(&o, alignment);
    uint64_t offset = 0;
    for (size_t i = 0; i < n && o.st == WQC_OK; i++) {
        uint64_t nelem = 1;
        for (uint32_t d = 0; d < t[i].ndim; d++) nelem *= t[i].dims[d];
        uint64_t bytes = wqc_gguf_tensor_bytes(t[i].type, nelem);
        if (!bytes || t[i].ndim < 1 || t[i].ndim > WQC_GGUF_MAX_DIMS)
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' is not whole %s blocks", t[i].name,
                            wqc_ggml_type_name(t[i].type) ? wqc_ggml_type_name(t[i].type) : "?");
        put_string(&o, t[i].name);
        put_u32(&o, t[i].ndim);
        for (uint32_t d = 0; d < t[i].ndim; d++) put_u64(&o, t[i].dims[d]);
        put_u32(&o, t[i].type);
        put_u64(&o, offset);
        offset = (offset + bytes + alignment - 1) / alignment * alignment;
    }
    static const uint8_t zeros[64];
    for (uint64_t pad = (alignment - o.at % alignment) % alignment; pad > 0 && o.st == WQC_OK;) {
        size_t m = pad < sizeof zeros ? (size_t)pad : sizeof zeros;
        put(&o, zeros, m);
        pad -= m;
    }
    return o.st;
}

void wqc_q8_0_quantize(const float *w, uint64_t n, uint8_t *out)
{
    for (uint64_t b = 0; b < n / 32; b++) {
        const float *x = w + 32 * b;
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t h = wqc_f32_to_f16(d);
        uint8_t *blk = out + 34 * b;
        memcpy(blk, &h, 2);
        for (int j = 0; j < 32; j++) blk[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
    }
}
