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
    "  --format fp8          write an FP8 checkpoint as DeepSeek-V3 ships one: float matrices but the\n"
    "                        embedding and lm_head as F8_E4M3 with F32 NAME_scale_inv per 128x128 block\n"
    "  -T N threads: tensors quantized at once, up to 32 MiB of them a thread (default: all cores)\n"
    "  -o FILE ('-': stdout), -c stdout, -f overwrite, -q quiet (no progress), -v per-tensor lines\n";

typedef struct quantize_report {
    const coding_args *a;
    cli_progress progress;
} quantize_report;

/* Progress over both passes; -v: a line per quantized tensor. */
static void report_tensor(void *ctx, const wqc_tensor *t, const wqc_quant_params *p, int pass)
{
    quantize_report *r = ctx;
    cli_progress_add(&r->progress, 1, pass == 1 ? t->nbytes : 0);
    if (pass == 1 && p && r->a->verbose) {
        char desc[96];
        fprintf(stderr, "%s: ", cli_program);
        cli_put_escaped(stderr, t->name);
        fprintf(stderr, ": %s\n", wqc_quant_params_describe(p, desc, sizeof desc));
    }
}

static void tensor_done(void *ctx, size_t tensor)
{
    (void)tensor;
    cli_progress_add(ctx, 1, 0);
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
    wqc_model *m = NULL;
    rc = cli_model_open(a.input, &m);
    size_t unmatched = rc == WQC_EXIT_OK ? wqc_plan_unmatched_rule(&a.plan, m) : (size_t)-1;
    if (unmatched != (size_t)-1) {
        cli_error("%s: --rule '%s:...' matches no tensor (a glob matches whole names)", a.input, a.rules[unmatched].glob);
        rc = WQC_EXIT_USAGE;
    }
    cli_out out;
    if (rc == WQC_EXIT_OK && !cli_out_open(&out, a.output, a.force)) rc = WQC_EXIT_ERROR;
    if (rc == WQC_EXIT_OK) {
        quantize_report r = {&a, {0}};
        uint64_t total = 0;
        for (size_t i = 0; i < wqc_model_count(m); i++) total += wqc_model_tensor(m, i)->nbytes;
        wqc_error err;
        wqc_error_clear(&err);
        wqc_status st;
        if (a.format_gguf) {
            /* --format gguf: one pass, tensors converted several at once. */
            const char *slash = strrchr(a.input, '/');
            wqc_gguf_options o = {a.gguf_type, a.plan.min_elements, slash ? slash + 1 : a.input, tensor_done,
                                  &r.progress, (int)a.threads};
            cli_progress_start(&r.progress, wqc_model_count(m), 0, a.quiet);
            st = wqc_model_to_gguf(m, &o, cli_out_sink, &out, &err);
        } else if (a.format_fp8) {
            wqc_fp8_options o = {tensor_done, &r.progress, (int)a.threads};
            cli_progress_start(&r.progress, wqc_model_count(m), 0, a.quiet);
            st = wqc_model_to_fp8(m, &o, cli_out_sink, &out, &err);
        } else {
            cli_progress_start(&r.progress, 2 * wqc_model_count(m), total, a.quiet || a.verbose);
            st = wqc_model_quantize(m, &a.plan, (int)a.threads, cli_out_sink, &out, report_tensor, &r, &err);
        }
        cli_progress_end(&r.progress);
        rc = st == WQC_OK || st == WQC_ERR_IO ? cli_out_finish(&out, st, &err)
                                              : (cli_out_abort(&out), cli_file_error(a.input, st, &err));
    }
    wqc_model_close(m);
    coding_args_free(&a);
    return rc;
}
