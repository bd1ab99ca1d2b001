#include "any_model.h"

#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "wqc/digest.h"

int any_model_open(any_model *am, const coding_args *a, const char *path)
{
    memset(am, 0, sizeof *am);
    am->path = path;
    coding_args copy = *a;
    copy.input = path;
    if (cli_has_suffix(path, ".wqc.index.json") || cli_is_wqc(path)) {
        int rc = cli_archive_open(&copy, 0, &am->wqc);
        if (rc != WQC_EXIT_OK) return rc;
        am->is_wqc = 1;
        am->count = wqc_archive_count(am->wqc);
        return WQC_EXIT_OK;
    }
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(path);
    wqc_status st = wqc_model_open(path, &am->m, &err);
    if (st == WQC_OK && wqc_qst_is_quantized(am->m)) st = wqc_qst_read(am->m, &am->qframes, &am->count, &err);
    else if (st == WQC_OK) am->count = wqc_model_count(am->m);
    if (st != WQC_OK) {
        any_model_close(am);
        return cli_file_error(path, st, &err);
    }
    return WQC_EXIT_OK;
}

void any_model_close(any_model *am)
{
    if (am->is_wqc) wqc_archive_close(am->wqc);
    wqc_qst_frames_free(am->qframes, am->count);
    wqc_model_close(am->m);
    memset(am, 0, sizeof *am);
}

const char *any_model_name(const any_model *am, size_t i)
{
    if (am->is_wqc) return wqc_archive_name(am->wqc, i);
    return am->qframes ? am->qframes[i].name : wqc_model_tensor(am->m, i)->name;
}

/* A quantized safetensors frame as a plain tensor (its own bytes). */
static wqc_tensor plain_of(const wqc_frame *f)
{
    wqc_tensor t = {.name = f->name, .dtype = f->dtype, .ndim = f->ndim, .nelem = f->nelem,
                    .data = f->payload, .nbytes = f->raw_len};
    memcpy(t.shape, f->shape, sizeof t.shape);
    return t;
}

wqc_status any_model_digest(any_model *am, size_t i, int threads, uint8_t out[32], wqc_error *err)
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

static wqc_status to_floats(const wqc_tensor *t, any_tensor *out, wqc_error *err)
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

static wqc_status collect(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    (void)err;
    uint8_t **at = ctx;
    memcpy(*at, buf, len);
    *at += len;
    return WQC_OK;
}

static wqc_status frame_floats(const wqc_frame *f, int threads, any_tensor *out, wqc_error *err)
{
    int dequantize = f->quantized && f->quant.method != WQC_QUANT_GIVEN;
    uint64_t bytes = dequantize ? f->nelem * sizeof(float) : f->quantized ? f->nelem : f->raw_len;
    uint8_t *buf = malloc(bytes ? (size_t)bytes : 1), *at = buf;
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", f->name);
    wqc_status st = wqc_frame_stream(f, dequantize ? WQC_FORM_F32 : WQC_FORM_SYMBOLS, threads, 0, collect, &at, err);
    if (st != WQC_OK) {
        free(buf);
        return st;
    }
    if (dequantize) {
        out->w = (float *)buf;
        return WQC_OK;
    }
    wqc_tensor t = {.name = f->name, .dtype = f->dtype, .nelem = f->nelem, .data = buf, .nbytes = bytes};
    st = to_floats(&t, out, err);
    free(buf);
    return st;
}

wqc_status any_model_floats(any_model *am, size_t i, int threads, any_tensor *out, wqc_error *err)
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
            st = frame_floats(f, threads, out, err);
            wqc_archive_release(am->wqc, i, f);
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

void any_model_release(any_model *am, size_t i)
{
    if (!am->is_wqc && !am->qframes) wqc_model_release(am->m, i);
}

int any_model_fail(const any_model *am, size_t i, wqc_status st, const wqc_error *err)
{
    cli_file_error(am->is_wqc ? wqc_archive_path(am->wqc, i) : am->path, st, err);
    return am->is_wqc ? cli_exit_status(st) : WQC_EXIT_ERROR;
}
