/* encode of a GGUF input: the library's wqc_gguf_encode, with the tool's
 * files, progress and report. */
#include <stdlib.h>

#include "commands.h"
#include "encode_gguf.h"
#include "output.h"
#include "progress.h"

typedef struct encoded_report {
    int verbose;                /* a line per tensor on stderr */
    cli_progress progress;
} encoded_report;

static void report_encoded(void *ctx, const wqc_gguf_tensor *t, const wqc_frame *f)
{
    encoded_report *r = ctx;
    if (r->verbose)
        fprintf(stderr, "  %-40s %-6s %12llu -> %12llu %s\n", t->name, wqc_ggml_type_name(t->type),
                (unsigned long long)t->nbytes, (unsigned long long)f->payload_len, wqc_encoding_name(f->encoding));
    cli_progress_add(&r->progress, 1, t->nbytes);
}

int encode_gguf(const coding_args *a)
{
    wqc_mapped_file file;
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(a->input);
    wqc_status st = wqc_map_file(a->input, &file, &err);
    if (st != WQC_OK) return cli_file_error(a->input, st, &err);
    wqc_gguf g;
    st = wqc_gguf_parse(file.data, file.size, &g, &err);
    if (st != WQC_OK) {
        wqc_unmap_file(&file);
        return cli_file_error(a->input, st, &err);
    }
    int rc = WQC_EXIT_OK;
    cli_out out;
    if (!cli_out_open(&out, a->output, a->force)) rc = WQC_EXIT_ERROR;
    if (rc == WQC_EXIT_OK) {
        wqc_model_encode_options o;
        encode_options(a, &o);
        wqc_model_file_options fo = {a->key_len ? a->key : NULL, a->key_len, 0};
        encoded_report r;
        r.verbose = a->verbose;
        cli_progress_start(&r.progress, g.ntensors, file.size, a->quiet);
        uint64_t written = 0;
        st = wqc_gguf_encode(&g, file.data, file.size, &o, &fo, cli_out_sink, &out, report_encoded, &r, &written, &err);
        cli_progress_end(&r.progress);
        if (st != WQC_OK) {
            rc = cli_file_error(st == WQC_ERR_IO ? a->output : a->input, st, &err);
            cli_out_abort(&out);
        } else if (!cli_out_commit(&out)) {
            rc = WQC_EXIT_ERROR;
        }
        if (rc == WQC_EXIT_OK && !a->quiet) {
            fprintf(stderr, "%s: ", cli_program);
            cli_put_escaped(stderr, a->input);
            fprintf(stderr, " -> ");
            cli_put_escaped(stderr, a->output);
            fprintf(stderr, ": GGUF v%u, %zu tensors, %zu -> %llu bytes (%.4f of the file); decode gives it back byte for byte\n",
                    g.version, g.ntensors, file.size, (unsigned long long)written,
                    file.size ? (double)written / (double)file.size : 0.0);
        }
    }
    wqc_gguf_free(&g);
    wqc_unmap_file(&file);
    return rc;
}
