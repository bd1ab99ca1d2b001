/* A model written as an FP8 checkpoint (quantize --format fp8; wqc/fp8.h):
 * the safetensors header from the tensor list, then each tensor's bytes in
 * turn, so that only one tensor is in memory at a time. */
#include <stdlib.h>
#include <string.h>

#include "wqc/fp8.h"

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

/* Matrices of floats, but the embeddings and the output head, as DeepSeek-V3. */
static int to_fp8(const wqc_tensor *t)
{
    return t->ndim == 2 && wqc_dtype_is_float(t->dtype) && t->dtype != WQC_DTYPE_F64 && !embedding_or_head(t->name);
}

static uint64_t blocks(uint64_t n) { return (n + WQC_FP8_BLOCK - 1) / WQC_FP8_BLOCK; }

/* Tensor t's bytes: its codes and scales, or (kept) its own. */
static wqc_status write_tensor(const wqc_tensor *t, wqc_sink_fn sink, void *ctx, wqc_error *err)
{
    if (!to_fp8(t)) return sink(ctx, t->data, (size_t)t->nbytes, err);
    const uint64_t rows = t->shape[0], cols = t->shape[1], nscales = blocks(rows) * blocks(cols);
    float *w = NULL, *scale = malloc(nscales ? (size_t)nscales * sizeof *scale : 1);
    uint8_t *codes = malloc(t->nelem ? (size_t)t->nelem : 1);
    wqc_status st = scale && codes ? wqc_tensor_to_f32(t, &w, err) : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    if (st == WQC_OK) st = wqc_fp8_block_quantize(w, rows, cols, codes, scale, err);
    if (st == WQC_OK) st = sink(ctx, codes, (size_t)t->nelem, err);
    if (st == WQC_OK) st = sink(ctx, scale, (size_t)nscales * sizeof *scale, err);
    free(w), free(scale), free(codes);
    return st;
}

wqc_status wqc_model_to_fp8(const wqc_model *m, const wqc_fp8_options *o, wqc_sink_fn sink, void *ctx,
                            wqc_error *err)
{
    size_t n = wqc_model_count(m), nmeta = wqc_model_metadata_count(m), count = 0;
    wqc_tensor *out = calloc(2 * n + 1, sizeof *out);
    char **names = calloc(n + 1, sizeof *names);
    wqc_kv *meta = calloc(nmeta + 1, sizeof *meta);
    wqc_status st = out && names && meta ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == WQC_OK && i < n; i++) {
        const wqc_tensor *t = wqc_model_tensor(m, i);
        out[count] = *t;
        if (!to_fp8(t)) {
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
    for (size_t i = 0; st == WQC_OK && i < n; i++) {
        const wqc_tensor *t = wqc_model_tensor(m, i);
        st = write_tensor(t, sink, ctx, err);
        if (st != WQC_OK && st != WQC_ERR_IO) st = wqc_fail_context(err, st, "tensor '%s'", t->name);
        wqc_model_release(m, i);
        if (o && o->done) o->done(o->done_ctx, i);
    }
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names), free(out), free(meta);
    return st;
}
