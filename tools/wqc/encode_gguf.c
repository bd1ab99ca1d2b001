/* encode of a GGUF file: every tensor stored bit-exactly (quantized blocks
 * split into code and field streams, floats as --lossless does), and the
 * file's header, metadata and padding kept in the SOURCE record, so that
 * decode gives the GGUF file back byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "encode_gguf.h"
#include "output.h"
#include "progress.h"

static int by_offset(const void *a, const void *b)
{
    const wqc_gguf_tensor *x = *(const wqc_gguf_tensor *const *)a, *y = *(const wqc_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int all_zero(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* The SOURCE record of the file: tensors by position, the zero gaps. */
static wqc_status layout(const wqc_gguf *g, const uint8_t *buf, size_t len, size_t *order, uint64_t *gap, uint64_t *tail,
                         uint64_t *header_len, wqc_error *err)
{
    const wqc_gguf_tensor **v = malloc((g->ntensors ? g->ntensors : 1) * sizeof *v);
    if (!v) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->ntensors; i++) v[i] = &g->tensors[i];
    qsort(v, g->ntensors, sizeof *v, by_offset);
    *header_len = g->ntensors ? g->data_offset : len;
    uint64_t at = *header_len;
    wqc_status st = WQC_OK;
    for (size_t k = 0; k < g->ntensors && st == WQC_OK; k++) {
        order[k] = (size_t)(v[k] - g->tensors);
        uint64_t start = g->data_offset + v[k]->offset;
        gap[k] = start - at;
        if (!all_zero(buf + at, gap[k]) || gap[k] > (1u << 20))
            st = wqc_fail(err, WQC_ERR_UNSUPPORTED, "bytes before tensor '%s' are not zero padding", v[k]->name);
        at = start + v[k]->nbytes;
    }
    *tail = len - at;
    if (st == WQC_OK && (!all_zero(buf + at, *tail) || *tail > (1u << 20)))
        st = wqc_fail(err, WQC_ERR_UNSUPPORTED, "the file ends with %llu bytes that are not zero padding", (unsigned long long)*tail);
    free(v);
    return st;
}

wqc_status gguf_write_wqc(const wqc_gguf *g, const uint8_t *buf, size_t len, const gguf_encode_params *p,
                          wqc_error *err)
{
    size_t n = g->ntensors, *order = calloc(n + 1, sizeof *order);
    uint64_t *gap = calloc(n + 1, sizeof *gap), tail = 0, header_len = 0;
    const char **names = calloc(n + 1, sizeof *names);
    wqc_status st = order && gap && names ? layout(g, buf, len, order, gap, &tail, &header_len, err)
                                          : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && names; i++) names[i] = g->tensors[i].name;
    wqc_writer *w = NULL;
    wqc_source src = {WQC_SOURCE_GGUF, buf, header_len, order, n, gap, tail};
    if (st == WQC_OK) st = wqc_writer_open(p->sink, p->ctx, p->key, p->key_len, &w, err);
    if (st == WQC_OK) st = wqc_writer_source(w, &src, err);
    if (st == WQC_OK && n) st = wqc_writer_names(w, names, n, err);
    for (size_t i = 0; i < n && st == WQC_OK; i++) {
        wqc_frame f;
        void *scratch = NULL;
        st = wqc_frame_gguf(&g->tensors[i], p->options, p->zstd_level, &f, &scratch, err);
        if (st == WQC_OK) st = wqc_writer_add(w, &f, err);
        if (st == WQC_OK && p->verbose)
            fprintf(stderr, "  %-40s %-6s %12llu -> %12llu %s\n", g->tensors[i].name, wqc_ggml_type_name(g->tensors[i].type),
                    (unsigned long long)g->tensors[i].nbytes, (unsigned long long)f.payload_len, wqc_encoding_name(f.encoding));
        wqc_encoded_free(&f);
        free(scratch);
        if (p->progress) cli_progress_add(p->progress, 1, g->tensors[i].nbytes);
    }
    if (st == WQC_OK) st = wqc_writer_finish(w, err);
    if (p->written) *p->written = w ? wqc_writer_offset(w) : 0;
    wqc_writer_free(w);
    free(order);
    free(gap);
    free(names);
    return st;
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
        wqc_encode_options o;
        wqc_encode_options_default(&o);
        o.rans = a->codec;
        if (!a->lanes_given) o.rans.lanes = 0;
        cli_progress progress;
        cli_progress_start(&progress, g.ntensors, file.size, a->quiet);
        uint64_t written = 0;
        gguf_encode_params p = {cli_out_sink, &out, a->key_len ? a->key : NULL, a->key_len, &o, a->zstd_level,
                                a->verbose, &progress, &written};
        st = gguf_write_wqc(&g, file.data, file.size, &p, &err);
        cli_progress_end(&progress);
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
