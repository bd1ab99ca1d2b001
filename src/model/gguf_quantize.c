/* A model written as GGUF (quantize --format gguf) for llama.cpp-style
 * loaders. Float matrices whose rows are whole blocks of 32
 * become Q4_0, Q8_0 or F16 (--gguf-type); other float tensors F32; integer
 * tensors keep their type. Names and shapes are the source's (dims in ggml
 * order); the source's metadata travels as strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/ordered_batches.h"
#include "../rans/decode_kernel.h"
#include "wqc/gguf.h"
#include "wqc/model_encode.h"
#include "wqc/q4_0.h"

/* The ggml type a tensor is written as; 0 and a message when it cannot be. */
static int type_for(const wqc_gguf_options *o, const wqc_tensor *t, uint32_t *type)
{
    uint64_t cols = t->ndim ? t->shape[t->ndim - 1] : 1;
    if (wqc_dtype_is_float(t->dtype)) {
        int matrix = t->ndim >= 2 && t->nelem >= o->min_elements;
        if (!matrix) *type = WQC_GGML_F32;
        else if (o->type == WQC_GGML_F16) *type = WQC_GGML_F16;
        else *type = cols % 32 == 0 ? o->type : WQC_GGML_F16;
        return 1;
    }
    return wqc_dtype_to_ggml(t->dtype, type);
}

/* The tensor's bytes as `type` (allocated). */
static wqc_status convert(const wqc_tensor *t, uint32_t type, uint8_t **out, uint64_t *len, wqc_error *err)
{
    *len = wqc_gguf_tensor_bytes(type, t->nelem);
    *out = malloc(*len ? (size_t)*len : 1);
    if (!*out) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", t->name);
    if (!wqc_dtype_is_float(t->dtype)) {
        memcpy(*out, t->data, (size_t)*len);
        return WQC_OK;
    }
    float *w;
    wqc_status st = wqc_tensor_to_f32(t, &w, err);
    if (st != WQC_OK) return st;
    uint64_t cols = t->ndim ? t->shape[t->ndim - 1] : 1, rows = cols ? t->nelem / cols : 0;
    if (type == WQC_GGML_F32) memcpy(*out, w, (size_t)*len);
    else if (type == WQC_GGML_F16)
        for (uint64_t i = 0; i < t->nelem; i++) {
            uint16_t h = wqc_f32_to_f16(w[i]);
            memcpy(*out + 2 * i, &h, 2);
        }
    else if (type == WQC_GGML_Q8_0) wqc_q8_0_quantize(w, t->nelem, *out);
    else st = wqc_q4_0_quantize(w, rows, cols, (wqc_q4_0_block *)*out, err);
    free(w);
    return st;
}

/* Tensors converted on the threads (wqc_ordered_batches), written in order,
 * each padded to the alignment. */
typedef struct gguf_pass {
    const wqc_model *m;
    const wqc_gguf_options *o;
    const wqc_gguf_tensor_out *t;
    wqc_sink_fn sink;
    void *ctx;
} gguf_pass;

typedef struct gguf_tensor {
    uint8_t *bytes;
    uint64_t len;
} gguf_tensor;

/* Its output, and the float copy of a float tensor (convert). */
static uint64_t pass_bytes(void *ctx, size_t i)
{
    const gguf_pass *p = ctx;
    const wqc_tensor *x = wqc_model_tensor(p->m, i);
    return (wqc_dtype_is_float(x->dtype) ? 4 * x->nelem : 0) + wqc_gguf_tensor_bytes(p->t[i].type, x->nelem);
}

static wqc_status pass_make(void *ctx, size_t i, int threads, void *slot, wqc_error *err)
{
    (void)threads;
    const gguf_pass *p = ctx;
    gguf_tensor *x = slot;
    return convert(wqc_model_tensor(p->m, i), p->t[i].type, &x->bytes, &x->len, err);
}

static wqc_status pass_use(void *ctx, size_t i, void *slot, wqc_error *err)
{
    static const uint8_t zeros[WQC_GGUF_DEFAULT_ALIGNMENT];
    const gguf_pass *p = ctx;
    const gguf_tensor *x = slot;
    wqc_status st = p->sink(p->ctx, x->bytes, (size_t)x->len, err);
    uint64_t pad = (WQC_GGUF_DEFAULT_ALIGNMENT - x->len % WQC_GGUF_DEFAULT_ALIGNMENT) % WQC_GGUF_DEFAULT_ALIGNMENT;
    if (st == WQC_OK && pad) st = p->sink(p->ctx, zeros, (size_t)pad, err);
    wqc_model_release(p->m, i);
    if (st == WQC_OK && p->o->done) p->o->done(p->o->done_ctx, i);
    return st;
}

static void pass_release(void *ctx, size_t i, void *slot)
{
    (void)ctx, (void)i;
    free(((gguf_tensor *)slot)->bytes);
}

wqc_status wqc_model_to_gguf(const wqc_model *m, const wqc_gguf_options *o, wqc_sink_fn sink, void *ctx,
                             wqc_error *err)
{
    if (o->type != WQC_GGML_Q4_0 && o->type != WQC_GGML_Q8_0 && o->type != WQC_GGML_F16)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "GGUF output type must be Q4_0, Q8_0 or F16");
    size_t n = wqc_model_count(m), nmeta = wqc_model_metadata_count(m);
    wqc_gguf_tensor_out *t = calloc(n + 1, sizeof *t);
    wqc_gguf_kv_out *kv = calloc(nmeta + 5, sizeof *kv);
    char **keys = calloc(nmeta + 1, sizeof *keys);
    wqc_status st = t && kv && keys ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == WQC_OK && i < n; i++) {
        const wqc_tensor *x = wqc_model_tensor(m, i);
        if (!type_for(o, x, &t[i].type))
            st = wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': dtype %s has no GGUF type", x->name,
                          wqc_dtype_name(x->dtype));
        else if (x->ndim > WQC_GGUF_MAX_DIMS)
            st = wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s' has %d dimensions (GGUF holds up to 4)", x->name,
                          x->ndim);
        t[i].name = x->name;
        t[i].ndim = x->ndim ? (uint32_t)x->ndim : 1;
        t[i].dims[0] = 1;
        for (int d = 0; d < x->ndim && d < WQC_GGUF_MAX_DIMS; d++) t[i].dims[d] = x->shape[x->ndim - 1 - d];
    }
    /* general.* keys a loader looks for, then the source metadata as strings. */
    const char *arch = NULL;
    size_t nkv = 0;
    for (size_t i = 0; i < nmeta && st == WQC_OK; i++) {
        const wqc_kv *s = wqc_model_metadata(m, i);
        if (strcmp(s->key, "general.architecture") == 0) arch = s->value;
        if (strncmp(s->key, "general.", 8) == 0) continue;
        keys[i] = malloc(strlen(s->key) + 8);
        if (!keys[i]) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        else sprintf(keys[i], "source.%s", s->key);
        if (keys[i]) kv[nkv++] = (wqc_gguf_kv_out){keys[i], WQC_GGUF_STRING, s->value, 0};
    }
    uint32_t file_type = o->type == WQC_GGML_Q4_0 ? 2 : o->type == WQC_GGML_Q8_0 ? 7 : 1;
    if (st == WQC_OK) {
        kv[nkv++] = (wqc_gguf_kv_out){"general.architecture", WQC_GGUF_STRING, arch ? arch : "unknown", 0};
        kv[nkv++] = (wqc_gguf_kv_out){"general.name", WQC_GGUF_STRING, o->name ? o->name : "model", 0};
        kv[nkv++] = (wqc_gguf_kv_out){"general.file_type", WQC_GGUF_UINT32, NULL, file_type};
        kv[nkv++] = (wqc_gguf_kv_out){"general.quantization_version", WQC_GGUF_UINT32, NULL, 2};
        st = wqc_gguf_write_header(sink, ctx, kv, nkv, t, n, WQC_GGUF_DEFAULT_ALIGNMENT, err);
    }
    gguf_pass pass = {m, o, t, sink, ctx};
    static const wqc_batch_ops ops = {sizeof(gguf_tensor), pass_bytes, pass_make, pass_use, pass_release};
    if (st == WQC_OK) st = wqc_ordered_batches(n, wqc_rans_threads(o->threads), WQC_BATCH_BYTES_PER_THREAD, &ops, &pass, err);
    for (size_t i = 0; keys && i < nmeta; i++) free(keys[i]);
    free(keys);
    free(kv);
    free(t);
    return st;
}
