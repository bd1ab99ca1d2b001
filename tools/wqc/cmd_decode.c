/* wqc decode IN.wqc -o OUT: symbols (quantized safetensors, bit-exact with
 * `quantize`) or dequantized weights (safetensors or .npy). */
#include <stdlib.h>
#include <string.h>

#include "coding_args.h"
#include "commands.h"
#include "output.h"
#include "quantized_st.h"
#include "wqc_input.h"

static const char *usage_text =
    "usage: wqc decode IN.wqc -o OUT [options]\n"
    "  --symbols            quantized safetensors, as 'wqc quantize' wrote it (default)\n"
    "  --dequantize         weights: OUT.safetensors, or OUT.npy for one tensor\n"
    "  --dtype F32|F16|BF16 dtype of dequantized weights (default F32)\n"
    "  --tensors GLOB       only these tensors (repeatable)\n"
    "  --max-elements N     refuse tensors larger than N elements (default 2^32; all\n"
    "                       selected tensors are held in memory until written)\n"
    "  --key-file FILE | --key-env VAR   check the HMAC first\n"
    "  -T N threads (default: all cores), -o FILE ('-': stdout), -f overwrite, -q quiet\n"
    "environment: WQC_ISA=scalar|avx2|avx512|neon forces a decoder (default: the best this CPU has)\n";

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Dequantized weights of a RANS frame in dtype (F32/F16/BF16), decoded
 * straight into the output (scale and offset applied by the decoder); other
 * dtypes are narrowed from F32 in place. */
static wqc_status dequantized(const wqc_frame *f, wqc_dtype dtype, int threads, unsigned char **out,
                              wqc_error *err)
{
    /* Tiled symbols are untiled, then dequantized: the decoder's fused forms
     * assume row-major order. */
    int fused = f->encoding == WQC_ENC_RANS && !f->gemv_tile;
    wqc_rans_form form = dtype == WQC_DTYPE_F16 && fused ? WQC_FORM_F16 : WQC_FORM_F32;
    uint64_t bytes = wqc_rans_output_bytes(form, f->nelem);
    *out = malloc(bytes ? (size_t)bytes : 1);
    if (!*out) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st;
    if (!fused) {
        wqc_quantized q = f->q;
        q.symbols = malloc(f->nelem ? (size_t)f->nelem : 1);
        if (!q.symbols) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        st = wqc_frame_decode_symbols(f, threads, q.symbols, err);
        if (st == WQC_OK) wqc_dequantize(&q, (float *)*out);
        free(q.symbols);
    } else {
        wqc_rans_output o = {.form = form, .dst = *out, .groups = &f->q};
        st = wqc_rans_decode_to(&f->coded, &o, threads, wqc_isa_active(), err);
    }
    if (st != WQC_OK) return st;
    if (form == WQC_FORM_F32 && dtype != WQC_DTYPE_F32) {
        float *w = (float *)*out;
        uint16_t *h = (uint16_t *)*out; /* narrowing in place, front to back */
        for (uint64_t i = 0; i < f->nelem; i++)
            h[i] = dtype == WQC_DTYPE_F16 ? wqc_f32_to_f16(w[i]) : wqc_f32_to_bf16(w[i]);
    }
    return WQC_OK;
}

/* Decodes frame `src` into `dst` (a frame qst_write or a tensor writer takes). */
static wqc_status decode_one(const coding_args *a, const wqc_frame *src, wqc_frame *dst, void **owned, wqc_error *err)
{
    *dst = *src;
    *owned = NULL;
    if (!src->quantized) {
        uint8_t *raw = malloc(src->raw_len ? (size_t)src->raw_len : 1);
        if (!raw) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        *owned = raw;
        dst->encoding = WQC_ENC_RAW;
        dst->payload = raw;
        dst->payload_len = src->raw_len;
        return wqc_frame_decode_raw(src, raw, err);
    }
    if (a->dequantize && src->quant.method != WQC_QUANT_GIVEN) {
        unsigned char *w = NULL;
        wqc_status st = dequantized(src, a->out_dtype, (int)a->threads, &w, err);
        *owned = w;
        if (st != WQC_OK) return st;
        dst->encoding = WQC_ENC_RAW;
        dst->quantized = 0;
        dst->dtype = a->out_dtype;
        dst->payload = w;
        dst->payload_len = dst->raw_len = dst->nelem * wqc_dtype_size(a->out_dtype);
        return WQC_OK;
    }
    uint8_t *sym = malloc(src->nelem ? (size_t)src->nelem : 1);
    if (!sym) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    *owned = sym;
    wqc_status st = wqc_frame_decode_symbols(src, (int)a->threads, sym, err);
    if (st != WQC_OK) return st;
    dst->q.symbols = sym;
    if (src->quant.method == WQC_QUANT_GIVEN) {
        /* The user's integers come back in their dtype: v = offset + q. */
        int base = (int)src->q.offset[0];
        for (uint64_t i = 0; i < src->nelem; i++) sym[i] = (uint8_t)(base + sym[i]);
        dst->encoding = WQC_ENC_RAW;
        dst->quantized = 0;
        dst->payload = sym;
        dst->payload_len = dst->raw_len = src->nelem;
        return WQC_OK;
    }
    return WQC_OK;
}

/* A decoded frame as a plain tensor: RAW payload, or U8 symbols. */
static wqc_tensor as_tensor(const wqc_frame *f)
{
    wqc_tensor t = {f->name, f->dtype, f->ndim, {0}, f->nelem, f->payload, f->payload_len};
    memcpy(t.shape, f->shape, sizeof f->shape);
    if (f->quantized) {
        t.dtype = WQC_DTYPE_U8;
        t.data = f->q.symbols;
        t.nbytes = f->nelem;
    }
    return t;
}

static wqc_status write_output(const coding_args *a, cli_out *out, const wqc_reader *r, const wqc_frame *frames,
                               size_t n, wqc_error *err)
{
    size_t nmeta = wqc_reader_metadata_count(r);
    const wqc_kv *meta = nmeta ? wqc_reader_metadata(r, 0) : NULL;
    if (has_suffix(a->output, ".npy")) {
        wqc_tensor t = as_tensor(&frames[0]);
        return wqc_npy_write(cli_out_sink, out, &t, err);
    }
    if (!a->dequantize) return qst_write(cli_out_sink, out, frames, n, meta, nmeta, err);
    wqc_tensor *t = calloc(n + 1, sizeof *t);
    if (!t) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) t[i] = as_tensor(&frames[i]);
    size_t nsrc;
    wqc_kv *src = qst_source_metadata(meta, nmeta, &nsrc);
    wqc_status st = src ? wqc_safetensors_write(cli_out_sink, out, t, n, src, nsrc, err)
                        : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    free(src);
    free(t);
    return st;
}

int cmd_decode(int argc, char **argv)
{
    cli_program = "wqc decode";
    coding_args a;
    int rc = coding_args_parse(argc, argv, ARGS_DECODE | ARGS_KEY, usage_text, &a);
    if (rc != WQC_EXIT_OK) {
        coding_args_free(&a);
        return rc;
    }
    wqc_input in;
    rc = wqc_input_open(&in, &a, 0);
    if (rc != WQC_EXIT_OK) {
        coding_args_free(&a);
        return rc;
    }
    size_t count = wqc_reader_count(in.reader), n = 0;
    wqc_frame *frames = calloc(count + 1, sizeof *frames);
    void **owned = calloc(count + 1, sizeof *owned);
    wqc_error err;
    wqc_error_clear(&err);
    cli_out out;
    if (!frames || !owned) {
        cli_error("out of memory");
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        if (!coding_args_selected(&a, wqc_reader_name(in.reader, i))) continue;
        const wqc_frame *f;
        wqc_status st = wqc_reader_frame(in.reader, i, &f, &err);
        if (st == WQC_OK && (rc = wqc_input_check_size(&a, i, f)) != WQC_EXIT_OK) goto done;
        if (st == WQC_OK) st = decode_one(&a, f, &frames[n], &owned[n], &err);
        n++;
        if (st != WQC_OK) {
            rc = wqc_input_status(st);
            cli_file_error(a.input, st, &err);
            goto done;
        }
    }
    if (has_suffix(a.output, ".npy") && n != 1) {
        cli_error("a .npy output holds one tensor, %zu selected (use --tensors NAME)", n);
        rc = WQC_EXIT_USAGE;
        goto done;
    }
    if (!cli_out_open(&out, a.output, a.force)) {
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    wqc_status st = write_output(&a, &out, in.reader, frames, n, &err);
    rc = cli_out_finish(&out, st, &err);
done:
    for (size_t i = 0; owned && i < n; i++) free(owned[i]);
    free(owned);
    free(frames);
    wqc_input_close(&in);
    coding_args_free(&a);
    return rc;
}
