/* wqc quantize IN -o OUT.safetensors: float tensors to quantized safetensors.
 * The header names every tensor's quantizer (alphabet, step) and scale
 * arrays, which only quantizing tells, so tensors are quantized twice when
 * the model is large: once for the header (their symbols kept while they fit
 * CACHE_MAX), once more as the data streams out. */
#include <stdlib.h>
#include <string.h>

#include "coding_args.h"
#include "commands.h"
#include "output.h"
#include "progress.h"

static const char *usage_text =
    "usage: wqc quantize IN -o OUT.safetensors [options]\n"
    "IN is .npy, .safetensors or *.index.json ('-': stdin). Float tensors of rank >= 2\n"
    "become U8 symbols plus NAME.wqc_scale / NAME.wqc_offset (docs/FORMAT.md); others are copied.\n"
    "  --method affine|sdclip|grid, --bits B, --granularity tensor|row|group:G, -k K, --step D\n"
    "  --rule 'GLOB:METHOD[,bits=B][,k=K][,step=D][,granularity=G]' or 'GLOB:keep'  (first match wins)\n"
    "  --min-elements N      quantize only tensors with at least N elements (default 0)\n"
    "  --format gguf         write GGUF for llama.cpp-style loaders instead: float matrices whose rows\n"
    "                        are whole blocks of 32 as --gguf-type q4_0 (default), q8_0 or f16 (F16\n"
    "                        where rows are not), other floats F32, integers as they are\n"
    "  -o FILE ('-': stdout), -c stdout, -f overwrite, -q quiet (no progress), -v per-tensor lines\n";

/* Symbols kept from the first pass, at most this many bytes. */
#define CACHE_MAX (64u << 20)

/* The second pass must reproduce the first exactly. */
static int same_quantizer(const wqc_frame *a, const wqc_frame *b)
{
    return a->q.alphabet == b->q.alphabet && a->q.ngroups == b->q.ngroups && a->quant.step == b->quant.step &&
           memcmp(a->q.scale, b->q.scale, a->q.ngroups * sizeof(float)) == 0 &&
           memcmp(a->q.offset, b->q.offset, a->q.ngroups * sizeof(float)) == 0;
}

/* Writes tensor t of the layout: its bytes, or the symbols of a frame whose
 * symbols were dropped after the first pass, quantized again. */
static wqc_status write_tensor(const coding_args *a, const wqc_model *m, const wqc_qst_layout *l, size_t t,
                               const wqc_frame *frames, cli_out *out, wqc_error *err)
{
    const wqc_tensor *x = &l->tensors[t];
    size_t i = l->frame_of[t];
    if (x->data || x->nbytes == 0) {
        wqc_status st = x->nbytes ? cli_out_sink(out, x->data, (size_t)x->nbytes, err) : WQC_OK;
        if (!frames[i].quantized) wqc_model_release(m, i);
        return st;
    }
    wqc_frame again;
    wqc_status st = wqc_frame_quantize(m, i, wqc_plan_quantizer(&a->plan, wqc_model_tensor(m, i)), &again, NULL, err);
    if (st == WQC_OK && !same_quantizer(&again, &frames[i]))
        st = wqc_fail(err, WQC_ERR_IO, "tensor '%s' changed while being read (quantized differently the second time)",
                      x->name);
    if (st == WQC_OK) st = cli_out_sink(out, again.q.symbols, (size_t)x->nbytes, err);
    wqc_frame_release(&again);
    return st;
}

static void tensor_done(void *ctx, size_t tensor)
{
    (void)tensor;
    cli_progress_add(ctx, 1, 0);
}

/* --format gguf: the library's wqc_model_to_gguf into the output file. */
static int quantize_gguf(const coding_args *a)
{
    wqc_model *m = NULL;
    int rc = cli_model_open(a->input, &m);
    if (rc != WQC_EXIT_OK) return rc;
    wqc_error err;
    wqc_error_clear(&err);
    cli_out out;
    rc = WQC_EXIT_ERROR;
    if (cli_out_open(&out, a->output, a->force)) {
        cli_progress progress;
        cli_progress_start(&progress, wqc_model_count(m), 0, a->quiet);
        const char *slash = strrchr(a->input, '/');
        wqc_gguf_options o = {a->gguf_type, a->plan.min_elements, slash ? slash + 1 : a->input, tensor_done, &progress};
        wqc_status st = wqc_model_to_gguf(m, &o, cli_out_sink, &out, &err);
        cli_progress_end(&progress);
        rc = st == WQC_OK || st == WQC_ERR_IO ? cli_out_finish(&out, st, &err)
                                              : (cli_out_abort(&out), cli_file_error(a->input, st, &err));
    }
    wqc_model_close(m);
    return rc;
}

int cmd_quantize(int argc, char **argv)
{
    cli_program = "wqc quantize";
    coding_args a;
    int rc = coding_args_parse(argc, argv, ARGS_QUANTIZE, usage_text, &a);
    if (rc != WQC_EXIT_OK) {
        coding_args_free(&a);
        return rc;
    }
    if (a.format_gguf) {
        rc = quantize_gguf(&a);
        coding_args_free(&a);
        return rc;
    }
    wqc_model *m = NULL;
    wqc_frame *frames = NULL;
    wqc_kv *meta = NULL;
    wqc_qst_layout l = {0};
    size_t n = 0;
    uint64_t cached = 0;
    wqc_error err;
    wqc_error_clear(&err);
    wqc_status st = WQC_OK;
    rc = cli_model_open(a.input, &m);
    if (rc != WQC_EXIT_OK) goto done;
    frames = calloc(wqc_model_count(m) + 1, sizeof *frames);
    if (!frames) {
        cli_error("out of memory");
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < wqc_model_count(m); i++) total += wqc_model_tensor(m, i)->nbytes;
    cli_progress progress;
    cli_progress_start(&progress, 2 * wqc_model_count(m), total, a.quiet || a.verbose);
    for (; n < wqc_model_count(m); n++) {
        const wqc_tensor *t = wqc_model_tensor(m, n);
        const wqc_quant_params *p = wqc_plan_quantizer(&a.plan, t);
        if (!p) {
            wqc_frame_raw(&frames[n], t);
            cli_progress_add(&progress, 1, t->nbytes);
            continue;
        }
        st = wqc_frame_quantize(m, n, p, &frames[n], NULL, &err);
        if (st != WQC_OK) {
            n++;
            cli_progress_end(&progress);
            rc = cli_file_error(a.input, st, &err);
            goto done;
        }
        if (cached + t->nelem <= CACHE_MAX) cached += t->nelem;
        else {
            free(frames[n].q.symbols);
            frames[n].q.symbols = NULL;
        }
        cli_progress_add(&progress, 1, t->nbytes);
        if (a.verbose) {
            char desc[96];
            fprintf(stderr, "%s: ", cli_program);
            cli_put_escaped(stderr, t->name);
            fprintf(stderr, ": %s\n", wqc_quant_params_describe(p, desc, sizeof desc));
        }
    }
    size_t nmeta = wqc_model_metadata_count(m);
    meta = calloc(nmeta + 1, sizeof *meta);
    for (size_t i = 0; meta && i < nmeta; i++) meta[i] = *wqc_model_metadata(m, i);
    cli_out out;
    if (!meta || !cli_out_open(&out, a.output, a.force)) {
        cli_progress_end(&progress);
        if (!meta) cli_error("out of memory");
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    st = wqc_qst_layout_make(frames, n, meta, nmeta, &l, &err);
    if (st == WQC_OK) st = wqc_safetensors_write_header(cli_out_sink, &out, l.tensors, l.n, l.kv, l.nkv, &err);
    for (size_t t = 0; st == WQC_OK && t < l.n; t++) {
        st = write_tensor(&a, m, &l, t, frames, &out, &err);
        if (t + 1 == l.n || l.frame_of[t + 1] != l.frame_of[t]) cli_progress_add(&progress, 1, 0);
    }
    cli_progress_end(&progress);
    rc = st == WQC_OK || st == WQC_ERR_IO ? cli_out_finish(&out, st, &err) : (cli_out_abort(&out), cli_file_error(a.input, st, &err));
done:
    wqc_qst_layout_free(&l);
    free(meta);
    for (size_t i = 0; i < n; i++) wqc_frame_release(&frames[i]);
    free(frames);
    wqc_model_close(m);
    coding_args_free(&a);
    return rc;
}
