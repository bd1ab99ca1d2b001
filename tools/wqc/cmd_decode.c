/* wqc decode IN.wqc -o OUT: symbols (quantized safetensors, bit-exact with
 * `quantize`) or dequantized weights (safetensors or .npy). Streams: the
 * output's header is laid out from the tensor descriptors, then each tensor
 * is decoded a window at a time straight to the output, so memory does not
 * grow with the model. */
#include <stdlib.h>
#include <string.h>

#include "coding_args.h"
#include "commands.h"
#include "output.h"
#include "progress.h"
#include "quantized_st.h"
#include "wqc_input.h"

static const char *usage_text =
    "usage: wqc decode IN.wqc -o OUT [options]\n"
    "  --symbols            quantized safetensors, as 'wqc quantize' wrote it (default)\n"
    "  --dequantize         weights: OUT.safetensors, or OUT.npy for one tensor\n"
    "  --dtype F32|F16|BF16 dtype of dequantized weights (default F32)\n"
    "  --tensors GLOB       only these tensors (repeatable)\n"
    "  --max-elements N     refuse tensors larger than N elements (default 2^32)\n"
    "  --key-file FILE | --key-env VAR   check the HMAC first\n"
    "  -T N threads (default: all cores), -o FILE ('-': stdout), -f overwrite, -q quiet\n"
    "environment: WQC_ISA=scalar|avx2|avx512|neon forces a decoder (default: the best this CPU has)\n";

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static wqc_rans_form form_of(wqc_dtype dtype)
{
    return dtype == WQC_DTYPE_F16 ? WQC_FORM_F16 : dtype == WQC_DTYPE_BF16 ? WQC_FORM_BF16 : WQC_FORM_F32;
}

/* The selected tensors: reader index, stored frame (described, not yet
 * verified) and the frame as the output holds it (no data: streamed). */
typedef struct decode_plan {
    size_t n;
    size_t *index;
    const wqc_frame **stored;
    wqc_frame *out;
} decode_plan;

static void plan_free(decode_plan *p)
{
    free(p->index);
    free(p->stored);
    free(p->out);
}

static int plan_make(const coding_args *a, wqc_input *in, decode_plan *p)
{
    size_t count = wqc_reader_count(in->reader);
    memset(p, 0, sizeof *p);
    p->index = calloc(count + 1, sizeof *p->index);
    p->stored = calloc(count + 1, sizeof *p->stored);
    p->out = calloc(count + 1, sizeof *p->out);
    if (!p->index || !p->stored || !p->out) {
        cli_error("out of memory");
        return WQC_EXIT_ERROR;
    }
    for (size_t i = 0; i < count; i++) {
        if (!coding_args_selected(a, wqc_reader_name(in->reader, i))) continue;
        wqc_error err;
        const wqc_frame *f;
        wqc_status st = wqc_reader_describe(in->reader, i, &f, &err);
        if (st != WQC_OK) {
            cli_file_error(a->input, st, &err);
            return wqc_input_status(st);
        }
        int rc = wqc_input_check_size(a, i, f);
        if (rc != WQC_EXIT_OK) return rc;
        wqc_frame *o = &p->out[p->n];
        *o = *f;
        o->payload = NULL;
        o->q.symbols = NULL;
        int given = f->quantized && f->quant.method == WQC_QUANT_GIVEN;
        if (given || (f->quantized && a->dequantize)) {
            /* Plain tensors: the user's integers, or weights. */
            o->quantized = 0;
            o->encoding = WQC_ENC_RAW;
            if (!given) o->dtype = a->out_dtype;
            o->raw_len = f->nelem * wqc_dtype_size(o->dtype);
        }
        p->index[p->n] = i;
        p->stored[p->n++] = f;
    }
    return WQC_EXIT_OK;
}

/* The output's tensors and metadata; frame_of[t] is tensor t's frame. */
typedef struct decode_layout {
    qst_layout qst;          /* quantized safetensors (symbols) */
    wqc_tensor *tensors;     /* safetensors of weights, or the one .npy tensor */
    size_t *frame_of;
    wqc_kv *src;
    size_t nsrc;
} decode_layout;

static wqc_tensor plain_tensor(const wqc_frame *f)
{
    wqc_tensor t = {f->name, f->dtype, f->ndim, {0}, f->nelem, NULL, f->raw_len};
    memcpy(t.shape, f->shape, sizeof f->shape);
    if (f->quantized) { /* symbols */
        t.dtype = WQC_DTYPE_U8;
        t.nbytes = f->nelem;
    }
    return t;
}

/* Writes the output header and returns the tensors (count in *nt). */
static wqc_status write_header(const coding_args *a, cli_out *out, const wqc_reader *r, const decode_plan *p,
                               decode_layout *l, const wqc_tensor **tensors, size_t *nt, const size_t **frame_of,
                               wqc_error *err)
{
    size_t nmeta = wqc_reader_metadata_count(r);
    const wqc_kv *meta = nmeta ? wqc_reader_metadata(r, 0) : NULL;
    memset(l, 0, sizeof *l);
    if (!a->dequantize && !has_suffix(a->output, ".npy")) {
        wqc_status st = qst_layout_make(p->out, p->n, meta, nmeta, &l->qst, err);
        if (st != WQC_OK) return st;
        *tensors = l->qst.tensors;
        *nt = l->qst.n;
        *frame_of = l->qst.frame_of;
        return wqc_safetensors_write_header(cli_out_sink, out, l->qst.tensors, l->qst.n, l->qst.kv, l->qst.nkv, err);
    }
    l->tensors = calloc(p->n + 1, sizeof *l->tensors);
    l->frame_of = calloc(p->n + 1, sizeof *l->frame_of);
    l->src = qst_source_metadata(meta, nmeta, &l->nsrc);
    if (!l->tensors || !l->frame_of || !l->src) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < p->n; i++) {
        l->tensors[i] = plain_tensor(&p->out[i]);
        l->frame_of[i] = i;
    }
    *tensors = l->tensors;
    *nt = p->n;
    *frame_of = l->frame_of;
    if (has_suffix(a->output, ".npy")) return wqc_npy_write_header(cli_out_sink, out, &l->tensors[0], err);
    return wqc_safetensors_write_header(cli_out_sink, out, l->tensors, p->n, l->src, l->nsrc, err);
}

static void layout_free(decode_layout *l)
{
    qst_layout_free(&l->qst);
    free(l->tensors);
    free(l->frame_of);
    free(l->src);
}

/* Counts what a tensor's stream writes, and shows progress. */
typedef struct counted_sink {
    cli_out *out;
    cli_progress *progress;
    uint64_t written;
} counted_sink;

static wqc_status counted_write(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    counted_sink *c = ctx;
    wqc_status st = cli_out_sink(c->out, buf, len, err);
    c->written += len;
    cli_progress_add(c->progress, 0, len);
    return st;
}

/* Writes tensor t (of frame j): its data streamed from the verified frame,
 * or, for the scale and offset arrays of the quantized layout, the arrays. */
static wqc_status write_tensor(const coding_args *a, wqc_input *in, const decode_plan *p, const wqc_tensor *t,
                               size_t j, counted_sink *sink, wqc_error *err)
{
    sink->written = 0;
    if (t->data) return counted_write(sink, t->data, (size_t)t->nbytes, err);
    const wqc_frame *f;
    wqc_status st = wqc_reader_frame(in->reader, p->index[j], &f, err);
    if (st != WQC_OK) return st;
    wqc_rans_form form = a->dequantize ? form_of(a->out_dtype) : WQC_FORM_SYMBOLS;
    st = wqc_frame_stream(f, form, (int)a->threads, 0, counted_write, sink, err);
    if (st == WQC_OK && sink->written != t->nbytes)
        st = wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s' decoded to %llu bytes, %llu expected", f->name,
                      (unsigned long long)sink->written, (unsigned long long)t->nbytes);
    wqc_mapped_release(&in->file, (size_t)f->file_offset, (size_t)f->frame_bytes);
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
    decode_plan p;
    decode_layout l = {0};
    cli_out out;
    int out_open = 0;
    wqc_error err;
    wqc_error_clear(&err);
    rc = plan_make(&a, &in, &p);
    if (rc != WQC_EXIT_OK) goto done;
    if (has_suffix(a.output, ".npy") && p.n != 1) {
        cli_error("a .npy output holds one tensor, %zu selected (use --tensors NAME)", p.n);
        rc = WQC_EXIT_USAGE;
        goto done;
    }
    if (!cli_out_open(&out, a.output, a.force)) {
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    out_open = 1;
    const wqc_tensor *tensors = NULL;
    const size_t *frame_of = NULL;
    size_t nt = 0;
    wqc_status st = write_header(&a, &out, in.reader, &p, &l, &tensors, &nt, &frame_of, &err);
    if (st != WQC_OK) {
        rc = cli_out_finish(&out, st, &err);
        out_open = 0;
        goto done;
    }
    uint64_t total = 0;
    for (size_t t = 0; t < nt; t++) total += tensors[t].nbytes;
    cli_progress progress;
    cli_progress_start(&progress, p.n, total, a.quiet);
    counted_sink sink = {&out, &progress, 0};
    for (size_t t = 0; st == WQC_OK && t < nt; t++) {
        st = write_tensor(&a, &in, &p, &tensors[t], frame_of[t], &sink, &err);
        if (t + 1 == nt || frame_of[t + 1] != frame_of[t]) cli_progress_add(&progress, 1, 0);
    }
    cli_progress_end(&progress);
    out_open = 0;
    if (st == WQC_OK || st == WQC_ERR_IO) {
        rc = cli_out_finish(&out, st, &err);
        goto done;
    }
    /* A damaged tensor: the input is named, the output removed. */
    cli_out_abort(&out);
    rc = wqc_input_status(st);
    cli_file_error(a.input, st, &err);
done:
    if (out_open) cli_out_abort(&out);
    layout_free(&l);
    plan_free(&p);
    wqc_input_close(&in);
    coding_args_free(&a);
    return rc;
}
