/* A model written as an FP8 checkpoint (quantize --format fp8; wqc/fp8.h):
 * the safetensors header from the tensor list, then the tensors' bytes in
 * order, several tensors converted at once (wqc_ordered_batches). */
#include <stdlib.h>
#include <string.h>

#include "../common/ordered_batches.h"
#include "../rans/decode_kernel.h"
#include "wqc/fp8.h"
#include "wqc/model_encode.h"

/* The embeddings and the output head by their usual names: *embed* and
 * *lm_head* (Hugging Face, llama2.c), GPT-2's token and position tables
 * (`wte`, `wpe`), Meta's `output.weight`. */
static int embedding_or_head(const char *name)
{
    const char *dot = strrchr(name, '.'), *prev = name;
    for (const char *p = name; dot && p < dot; p++)
        if (*p == '.') prev = p + 1;
    size_t len = dot ? (size_t)(dot - prev) : 0;
    int gpt2 = len == 3 && (strncmp(prev, "wte", 3) == 0 || strncmp(prev, "wpe", 3) == 0);
    return gpt2 || strstr(name, "embed") || strstr(name, "lm_head") || strcmp(name, "output.weight") == 0;
}

/* Matrices of floats, but the embeddings and the output head, as DeepSeek-V3,
 * and the block scales of tensors already in 8 or 4 bits (scales_of[i]
 * set: wqc_model_block_scales), which stay as they are. */
static int to_fp8(const wqc_tensor *t, const size_t *scales_of, size_t i)
{
    return t->ndim == 2 && wqc_dtype_is_float(t->dtype) && t->dtype != WQC_DTYPE_F64 && !embedding_or_head(t->name) &&
           scales_of[i] == SIZE_MAX;
}

static uint64_t blocks(uint64_t n) { return (n + WQC_FP8_BLOCK - 1) / WQC_FP8_BLOCK; }

typedef struct fp8_pass {
    const wqc_model *m;
    const wqc_fp8_options *o;
    wqc_sink_fn sink;
    void *ctx;
    const size_t *scales_of;
} fp8_pass;

/* A converted tensor: its codes and block scales (kept tensors: none). */
typedef struct fp8_tensor {
    uint8_t *codes;
    float *scale;
    uint64_t nscales;
} fp8_tensor;

/* Its floats, codes and scales. */
static uint64_t pass_bytes(void *ctx, size_t i)
{
    const fp8_pass *p = ctx;
    const wqc_tensor *t = wqc_model_tensor(p->m, i);
    return to_fp8(t, p->scales_of, i) ? 5 * t->nelem + t->nbytes : 0;
}

static wqc_status pass_make(void *ctx, size_t i, int threads, void *slot, wqc_error *err)
{
    (void)threads;
    const fp8_pass *p = ctx;
    const wqc_tensor *t = wqc_model_tensor(p->m, i);
    if (!to_fp8(t, p->scales_of, i)) return WQC_OK;
    fp8_tensor *x = slot;
    const uint64_t rows = t->shape[0], cols = t->shape[1];
    x->nscales = blocks(rows) * blocks(cols);
    float *w = NULL;
    x->scale = malloc(x->nscales ? (size_t)x->nscales * sizeof *x->scale : 1);
    x->codes = malloc(t->nelem ? (size_t)t->nelem : 1);
    wqc_status st = x->scale && x->codes ? wqc_tensor_to_f32(t, &w, err) : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    if (st == WQC_OK) st = wqc_fp8_block_quantize(w, rows, cols, x->codes, x->scale, err);
    free(w);
    return st == WQC_OK ? st : wqc_fail_context(err, st, "tensor '%s'", t->name);
}

/* Tensor i's bytes: its codes and scales, or (kept) its own. */
static wqc_status pass_use(void *ctx, size_t i, void *slot, wqc_error *err)
{
    fp8_pass *p = ctx;
    const wqc_tensor *t = wqc_model_tensor(p->m, i);
    fp8_tensor *x = slot;
    wqc_status st = WQC_OK;
    if (!to_fp8(t, p->scales_of, i)) {
        st = p->sink(p->ctx, t->data, (size_t)t->nbytes, err);
    } else {
        st = p->sink(p->ctx, x->codes, (size_t)t->nelem, err);
        if (st == WQC_OK) st = p->sink(p->ctx, x->scale, (size_t)x->nscales * sizeof *x->scale, err);
    }
    wqc_model_release(p->m, i);
    if (st == WQC_OK && p->o && p->o->done) p->o->done(p->o->done_ctx, i);
    return st;
}

static void pass_release(void *ctx, size_t i, void *slot)
{
    (void)ctx, (void)i;
    fp8_tensor *x = slot;
    free(x->codes);
    free(x->scale);
}

wqc_status wqc_model_to_fp8(const wqc_model *m, const wqc_fp8_options *o, wqc_sink_fn sink, void *ctx,
                            wqc_error *err)
{
    size_t n = wqc_model_count(m), nmeta = wqc_model_metadata_count(m), count = 0;
    wqc_tensor *out = calloc(2 * n + 1, sizeof *out);
    char **names = calloc(n + 1, sizeof *names);
    wqc_kv *meta = calloc(nmeta + 1, sizeof *meta);
    size_t *scales_of = malloc((n + 1) * sizeof *scales_of);
    wqc_status st = out && names && meta && scales_of ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    if (st == WQC_OK) st = wqc_model_block_scales(m, scales_of, NULL, err);
    for (size_t i = 0; st == WQC_OK && i < n; i++) {
        const wqc_tensor *t = wqc_model_tensor(m, i);
        out[count] = *t;
        if (!to_fp8(t, scales_of, i)) {
            count++;
            continue;
        }
        out[count].dtype = WQC_DTYPE_F8_E4M3, out[count].nbytes = t->nelem;
        count++;
        if (!(names[i] = malloc(strlen(t->name) + sizeof "_scale_inv"))) {
            st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            break;
        }
        strcpy(names[i], t->name);
        strcat(names[i], "_scale_inv");
        const uint64_t br = blocks(t->shape[0]), bc = blocks(t->shape[1]);
        out[count++] = (wqc_tensor){.name = names[i], .dtype = WQC_DTYPE_F32, .ndim = 2, .shape = {br, bc},
                                    .nelem = br * bc, .nbytes = br * bc * 4};
    }
    size_t nkv = 0;
    for (size_t i = 0; i < nmeta && st == WQC_OK; i++)
        if (strcmp(wqc_model_metadata(m, i)->key, "quantization") != 0) meta[nkv++] = *wqc_model_metadata(m, i);
    meta[nkv++] = (wqc_kv){"quantization", "fp8 e4m3, 128x128 block scales (weight_scale_inv)"};
    if (st == WQC_OK) st = wqc_safetensors_write_header(sink, ctx, out, count, meta, nkv, err);
    fp8_pass pass = {m, o, sink, ctx, scales_of};
    static const wqc_batch_ops ops = {sizeof(fp8_tensor), pass_bytes, pass_make, pass_use, pass_release};
    if (st == WQC_OK) st = wqc_ordered_batches(n, wqc_rans_threads(o ? o->threads : 1), WQC_BATCH_BYTES_PER_THREAD, &ops, &pass, err);
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names), free(out), free(meta), free(scales_of);
    return st;
}
