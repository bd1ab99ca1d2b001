/* The tensors of any input wqc reads (wqc/weights.h): a .wqc through
 * wqc_archive, a quantized safetensors through its frames, plain tensors
 * through wqc_model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/digest.h"
#include "wqc/gguf.h"
#include "wqc/quantized_st.h"
#include "wqc/weights.h"

struct wqc_weights {
    char *path;
    int is_wqc;
    wqc_archive *wqc;       /* is_wqc */
    wqc_model *m;           /* otherwise */
    wqc_frame *qframes;     /* a quantized safetensors: its frames */
    size_t count;
};

wqc_status wqc_weights_open(const char *path, const wqc_archive_options *opts, wqc_weights **out, wqc_error *err)
{
    *out = NULL;
    wqc_weights *am = calloc(1, sizeof *am);
    if (!am || !(am->path = strdup(path))) {
        free(am);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    wqc_file_format fmt = wqc_detect_file(path);
    wqc_status st = WQC_OK;
    if (fmt == WQC_FILE_GGUF) {
        st = wqc_fail(err, WQC_ERR_UNSUPPORTED, "a GGUF file: compare or fingerprint its .wqc (wqc encode), not the GGUF");
    } else if (fmt == WQC_FILE_WQC || fmt == WQC_FILE_WQC_INDEX) {
        am->is_wqc = 1;
        st = wqc_archive_open(path, opts, &am->wqc, err);
        if (st == WQC_OK) am->count = wqc_archive_count(am->wqc);
    } else {
        st = wqc_model_open(path, &am->m, err);
        if (st == WQC_OK && wqc_qst_is_quantized(am->m)) st = wqc_qst_read(am->m, &am->qframes, &am->count, err);
        else if (st == WQC_OK) am->count = wqc_model_count(am->m);
    }
    if (st == WQC_OK) *out = am;
    else wqc_weights_close(am);
    return st;
}

void wqc_weights_close(wqc_weights *am)
{
    if (!am) return;
    wqc_archive_close(am->wqc);
    wqc_qst_frames_free(am->qframes, am->count);
    wqc_model_close(am->m);
    free(am->path);
    free(am);
}

size_t wqc_weights_count(const wqc_weights *am) { return am->count; }

wqc_archive *wqc_weights_archive(const wqc_weights *am) { return am->wqc; }

const char *wqc_weights_path(const wqc_weights *am, size_t i)
{
    return am->is_wqc ? wqc_archive_path(am->wqc, i) : am->path;
}

const char *wqc_weights_name(const wqc_weights *am, size_t i)
{
    if (am->is_wqc) return wqc_archive_name(am->wqc, i);
    return am->qframes ? am->qframes[i].name : wqc_model_tensor(am->m, i)->name;
}

size_t wqc_weights_find(const wqc_weights *am, const char *name)
{
    for (size_t i = 0; i < am->count; i++)
        if (strcmp(wqc_weights_name(am, i), name) == 0) return i;
    return (size_t)-1;
}

int wqc_weights_shape(wqc_weights *am, size_t i, uint64_t shape[WQC_MAX_DIMS])
{
    int ndim;
    if (am->is_wqc) {
        wqc_tensor_info info;
        wqc_error err;
        if (wqc_archive_tensor(am->wqc, i, &info, &err) != WQC_OK) return -1;
        ndim = info.ndim;
        memcpy(shape, info.shape, sizeof info.shape);
    } else if (am->qframes) {
        ndim = am->qframes[i].ndim;
        memcpy(shape, am->qframes[i].shape, sizeof am->qframes[i].shape);
    } else {
        const wqc_tensor *t = wqc_model_tensor(am->m, i);
        ndim = t->ndim;
        memcpy(shape, t->shape, sizeof t->shape);
    }
    return ndim;
}

const char *wqc_weights_metadata(const wqc_weights *am, const char *key)
{
    size_t n = am->is_wqc ? wqc_archive_metadata_count(am->wqc) : wqc_model_metadata_count(am->m);
    for (size_t i = 0; i < n; i++) {
        const wqc_kv *kv = am->is_wqc ? wqc_archive_metadata(am->wqc, i) : wqc_model_metadata(am->m, i);
        if (strcmp(kv->key, key) == 0) return kv->value;
    }
    return NULL;
}

/* A quantized safetensors frame as a plain tensor (its own bytes). */
static wqc_tensor plain_of(const wqc_frame *f)
{
    wqc_tensor t = {.name = f->name, .dtype = f->dtype, .ndim = f->ndim, .nelem = f->nelem,
                    .data = f->payload, .nbytes = f->raw_len};
    memcpy(t.shape, f->shape, sizeof t.shape);
    return t;
}

wqc_status wqc_weights_digest(wqc_weights *am, size_t i, int threads, uint8_t out[32], wqc_error *err)
{
    if (am->is_wqc) {
        const wqc_frame *f;
        wqc_status st = wqc_archive_frame(am->wqc, i, &f, err);
        if (st == WQC_OK) st = wqc_digest_frame(f, threads, out, err);
        if (st == WQC_OK) wqc_archive_release(am->wqc, i, f);
        return st;
    }
    if (am->qframes) {
        const wqc_frame *f = &am->qframes[i];
        if (f->quantized) return wqc_digest_quantized(f->name, f->dtype, f->ndim, f->shape, &f->q, out, err);
        wqc_tensor t = plain_of(f);
        return wqc_digest_tensor(&t, out, err);
    }
    return wqc_digest_tensor(wqc_model_tensor(am->m, i), out, err);
}

wqc_status wqc_weights_digest_all(wqc_weights *w, int threads, uint8_t (*tensor)[32], uint8_t model[32],
                                  void (*done)(void *ctx, size_t i), void *ctx, size_t *failed, wqc_error *err)
{
    const char **names = calloc(w->count + 1, sizeof *names);
    if (!names) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = WQC_OK;
    for (size_t i = 0; st == WQC_OK && i < w->count; i++) {
        names[i] = wqc_weights_name(w, i);
        st = wqc_weights_digest(w, i, threads, tensor[i], err);
        wqc_weights_release(w, i);
        if (st != WQC_OK && failed) *failed = i;
        if (st == WQC_OK && done) done(ctx, i);
    }
    if (failed && st == WQC_OK) *failed = w->count;
    if (st == WQC_OK) st = wqc_digest_model(names, (const uint8_t(*)[WQC_DIGEST_BYTES])tensor, w->count, model, err);
    free(names);
    return st;
}

static wqc_status to_floats(const wqc_tensor *t, wqc_float_tensor *out, wqc_error *err)
{
    out->w = malloc(t->nelem ? (size_t)t->nelem * sizeof *out->w : 1);
    if (!out->w) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", t->name);
    if (wqc_convert_to_f32(t->dtype, t->data, (size_t)t->nelem, out->w) != WQC_OK) {
        free(out->w);
        out->w = NULL;
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': dtype %s has no float values", t->name,
                        wqc_dtype_name(t->dtype));
    }
    return WQC_OK;
}

wqc_status wqc_weights_floats(wqc_weights *am, size_t i, int threads, wqc_float_tensor *out, wqc_error *err)
{
    memset(out, 0, sizeof *out);
    const wqc_frame *f = NULL;
    wqc_status st = WQC_OK;
    if (am->is_wqc) st = wqc_archive_frame(am->wqc, i, &f, err);
    else if (am->qframes) f = &am->qframes[i];
    if (st != WQC_OK) return st;
    if (f) {
        out->nelem = f->nelem;
        out->ndim = f->ndim;
        memcpy(out->shape, f->shape, sizeof out->shape);
        out->dtype = f->dtype;
        out->quantized = f->quantized && f->quant.method != WQC_QUANT_GIVEN;
        if (am->is_wqc) {
            /* The archive's own F32 decoding (weights dequantized, other dtypes widened). */
            uint64_t n = wqc_archive_decoded_size(am->wqc, i, WQC_AS_F32);
            out->w = malloc(n ? (size_t)n : 1);
            if (!out->w) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", f->name);
            st = wqc_archive_decode(am->wqc, i, WQC_AS_F32, threads, out->w, n, err);
            if (st != WQC_OK) free(out->w), out->w = NULL;
            return st;
        }
        if (!out->quantized) {
            wqc_tensor t = plain_of(f);
            return to_floats(&t, out, err);
        }
        out->w = malloc(f->nelem ? (size_t)f->nelem * sizeof *out->w : 1);
        if (!out->w) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", f->name);
        wqc_dequantize(&f->q, out->w);
        return WQC_OK;
    }
    const wqc_tensor *t = wqc_model_tensor(am->m, i);
    out->nelem = t->nelem;
    out->ndim = t->ndim;
    memcpy(out->shape, t->shape, sizeof out->shape);
    out->dtype = t->dtype;
    return to_floats(t, out, err);
}

void wqc_weights_release(wqc_weights *am, size_t i)
{
    if (!am->is_wqc && !am->qframes) wqc_model_release(am->m, i);
}

