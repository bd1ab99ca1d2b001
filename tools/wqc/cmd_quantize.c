/* wqc quantize IN -o OUT.safetensors: float tensors to quantized safetensors. */
#include <stdlib.h>

#include "coding_args.h"
#include "commands.h"
#include "frames.h"
#include "output.h"
#include "quantized_st.h"

static const char *usage_text =
    "usage: wqc quantize IN -o OUT.safetensors [options]\n"
    "IN is .npy, .safetensors or *.index.json ('-': stdin). Float tensors of rank >= 2\n"
    "become U8 symbols plus NAME.wqc_scale / NAME.wqc_offset (docs/FORMAT.md); others are copied.\n"
    "  --method affine|sdclip|grid, --bits B, --granularity tensor|row|group:G, -k K, --step D\n"
    "  --rule 'GLOB:METHOD[,bits=B][,k=K][,step=D][,granularity=G]' or 'GLOB:keep'  (first match wins)\n"
    "  --min-elements N      quantize only tensors with at least N elements (default 0)\n"
    "  -o FILE ('-': stdout), -f overwrite, -q quiet, -v per-tensor lines\n";

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
    wqc_frame *frames = NULL;
    size_t n = 0;
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(a.input);
    wqc_status st = wqc_model_open(a.input, &m, &err);
    if (st != WQC_OK) {
        rc = cli_file_error(a.input, st, &err);
        goto done;
    }
    frames = calloc(wqc_model_count(m) + 1, sizeof *frames);
    if (!frames) {
        cli_error("out of memory");
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    for (; n < wqc_model_count(m); n++) {
        const wqc_tensor *t = wqc_model_tensor(m, n);
        const wqc_quant_params *p = cli_plan_for(&a.plan, t);
        if (!p) {
            cli_frame_raw(&frames[n], t);
            continue;
        }
        st = cli_frame_quantize(m, n, p, &frames[n], &err);
        if (st != WQC_OK) {
            n++;
            rc = cli_file_error(a.input, st, &err);
            goto done;
        }
        if (a.verbose) {
            char desc[96];
            fprintf(stderr, "%s: ", cli_program);
            cli_put_escaped(stderr, t->name);
            fprintf(stderr, ": %s\n", wqc_quant_params_describe(p, desc, sizeof desc));
        }
    }
    size_t nmeta = wqc_model_metadata_count(m);
    wqc_kv *meta = calloc(nmeta + 1, sizeof *meta);
    for (size_t i = 0; meta && i < nmeta; i++) meta[i] = *wqc_model_metadata(m, i);
    cli_out out;
    if (!meta || !cli_out_open(&out, a.output, a.force)) {
        free(meta);
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    st = qst_write(cli_out_sink, &out, frames, n, meta, nmeta, &err);
    free(meta);
    rc = cli_out_finish(&out, st, &err);
done:
    for (size_t i = 0; i < n; i++) cli_frame_release(&frames[i]);
    free(frames);
    wqc_model_close(m);
    coding_args_free(&a);
    return rc;
}
