/* wqc encode IN -o OUT.wqc: quantize (or take given symbols) and rANS-code
 * every tensor into a .wqc container, streaming frame by frame. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coding_args.h"
#include "commands.h"
#include "frames.h"
#include "output.h"
#include "quantized_st.h"

static const char *usage_text =
    "usage: wqc encode IN -o OUT.wqc [options]\n"
    "IN: float .npy/.safetensors/*.index.json (quantized here), a quantized safetensors from\n"
    "'wqc quantize', or an int8/uint8 .npy (its values are coded as given). '-': stdin.\n"
    "  quantizer: --method, --bits, --granularity, -k, --step, --rule, --min-elements (as quantize)\n"
    "  --precision P (10..15, default 12), --lanes N (multiple of 8; default 32, 8 below 256 Ki weights),\n"
    "  --chunk C (symbols per chunk, default 1048576), --zstd-level L (kept tensors, 0: raw; default 9)\n"
    "  --layout row|gemv  symbol order: row-major (default), or tiles of N rows for the fused\n"
    "                   decode + matrix-vector product (wqc_gemv; per-row or per-tensor scales;\n"
    "                   chunks default to 262144 symbols, rounded to whole tiles)\n"
    "  --key-file FILE | --key-env VAR   add an HMAC-SHA256 with this key (16..1024 bytes)\n"
    "  -T N threads, -o FILE ('-': stdout), -f overwrite, -q quiet, -v per-tensor lines\n";

typedef struct encode_totals {
    size_t tensors, coded;
    uint64_t coded_weights, coded_bytes, packed_bits;
    double entropy_bits;
    uint64_t input_bytes;
} encode_totals;

static void report_tensor(const coding_args *a, const wqc_frame *f, size_t i, size_t n)
{
    if (a->verbose) {
        char desc[96];
        fprintf(stderr, "%s: ", cli_program);
        cli_put_escaped(stderr, f->name);
        if (f->encoding == WQC_ENC_RANS)
            fprintf(stderr, ": %s, %.4f bits/weight\n", wqc_quant_params_describe(&f->quant, desc, sizeof desc),
                    f->nelem ? f->coded.payload_len * 8.0 / (double)f->nelem : 0.0);
        else
            fprintf(stderr, ": kept %s (%s)\n", wqc_dtype_name(f->dtype), f->encoding == WQC_ENC_ZSTD ? "zstd" : "raw");
    } else if (!a->quiet && isatty(STDERR_FILENO)) {
        fprintf(stderr, "\r%s: %zu/%zu tensors", cli_program, i + 1, n);
        if (i + 1 == n) fputc('\n', stderr);
    }
}

/* Codes one frame (RANS: from f->q.symbols) and writes it. */
static wqc_status write_frame(const coding_args *a, wqc_writer *w, wqc_frame *f, encode_totals *tot, wqc_error *err)
{
    wqc_status st;
    tot->tensors++;
    if (f->encoding != WQC_ENC_RANS) {
        wqc_tensor t = {f->name, f->dtype, f->ndim, {0}, f->nelem, f->payload, f->payload_len};
        memcpy(t.shape, f->shape, sizeof f->shape);
        void *scratch = NULL;
        st = wqc_frame_passthrough(&t, a->zstd_level, f, &scratch, err);
        if (st == WQC_OK) st = wqc_writer_add(w, f, err);
        free(scratch);
        return st;
    }
    wqc_rans_params codec = a->codec;
    if (!a->lanes_given) codec.lanes = wqc_rans_lanes_auto(f->nelem);
    if (a->layout_gemv) {
        /* Smaller chunks than the row layout's: threads split a product by chunks. */
        if (!a->chunk_given) codec.chunk = WQC_GEMV_CHUNK_DEFAULT;
        st = wqc_gemv_encode(&f->q, &codec, &f->coded, err);
        f->gemv_tile = codec.lanes;
    } else {
        st = wqc_rans_encode(f->q.symbols, f->nelem, f->q.alphabet, &codec, &f->coded, err);
    }
    if (st != WQC_OK) return st;
    st = wqc_writer_add(w, f, err);
    uint64_t counts[256] = {0};
    wqc_histogram(f->q.symbols, (size_t)f->nelem, counts);
    tot->coded++;
    tot->coded_weights += f->nelem;
    tot->coded_bytes += f->coded.payload_len;
    tot->packed_bits += f->nelem * (uint64_t)f->q.bits;
    tot->entropy_bits += (double)f->nelem * wqc_entropy_bits(counts, f->q.alphabet);
    wqc_rans_coded_free(&f->coded);
    return st;
}

int cmd_encode(int argc, char **argv)
{
    cli_program = "wqc encode";
    coding_args a;
    int rc = coding_args_parse(argc, argv, ARGS_QUANTIZE | ARGS_CODEC | ARGS_KEY, usage_text, &a);
    if (rc != WQC_EXIT_OK) {
        coding_args_free(&a);
        return rc;
    }
    wqc_model *m = NULL;
    wqc_frame *given = NULL;
    size_t ngiven = 0;
    wqc_writer *w = NULL;
    wqc_kv *meta = NULL;
    cli_out out;
    int out_open = 0;
    encode_totals tot = {0};
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(a.input);
    wqc_status st = wqc_model_open(a.input, &m, &err);
    if (st != WQC_OK) {
        rc = cli_file_error(a.input, st, &err);
        goto done;
    }
    int from_quantized = qst_is_quantized(m);
    if (from_quantized) {
        st = qst_read(m, &given, &ngiven, &err);
        if (st != WQC_OK) {
            rc = cli_file_error(a.input, st, &err);
            goto done;
        }
    }
    size_t nsrc = 0, n = from_quantized ? ngiven : wqc_model_count(m);
    meta = qst_source_metadata(wqc_model_metadata_count(m) ? wqc_model_metadata(m, 0) : NULL,
                               wqc_model_metadata_count(m), &nsrc);
    if (!meta) {
        cli_error("out of memory");
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    if (!cli_out_open(&out, a.output, a.force)) {
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    out_open = 1;
    st = wqc_writer_open(cli_out_sink, &out, a.key_len ? a.key : NULL, a.key_len, &w, &err);
    if (st == WQC_OK && nsrc) st = wqc_writer_metadata(w, meta, nsrc, &err);
    for (size_t i = 0; st == WQC_OK && i < n; i++) {
        wqc_frame f;
        if (from_quantized) {
            f = given[i];
        } else {
            const wqc_tensor *t = wqc_model_tensor(m, i);
            tot.input_bytes += t->nbytes;
            const wqc_quant_params *p = cli_plan_for(&a.plan, t);
            int integer_npy = wqc_model_format_of(m) == WQC_FORMAT_NPY &&
                              (t->dtype == WQC_DTYPE_I8 || t->dtype == WQC_DTYPE_U8);
            if (integer_npy) st = cli_frame_given(t, &f, &err);
            else if (p) st = cli_frame_quantize(t, p, &f, &err);
            else cli_frame_raw(&f, t);
        }
        if (st == WQC_OK) st = write_frame(&a, w, &f, &tot, &err);
        if (st == WQC_OK) report_tensor(&a, &f, i, n);
        if (!from_quantized) cli_frame_release(&f);
        if (st != WQC_OK && st != WQC_ERR_IO) {
            rc = cli_file_error(a.input, st, &err);
            goto done;
        }
    }
    if (st == WQC_OK) st = wqc_writer_finish(w, &err);
    if (st != WQC_OK) {
        rc = cli_file_error(out.is_stdout ? "stdout" : a.output, st, &err);
        goto done;
    }
    uint64_t written = wqc_writer_offset(w);
    if (!cli_out_commit(&out)) {
        out_open = 0;
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    out_open = 0;
    if (!a.quiet) {
        fprintf(stderr, "%s: ", cli_program);
        cli_put_escaped(stderr, a.input);
        fprintf(stderr, " -> ");
        cli_put_escaped(stderr, a.output);
        fprintf(stderr, ": %zu tensors (%zu coded), %llu bytes", tot.tensors, tot.coded, (unsigned long long)written);
        if (tot.coded_weights)
            fprintf(stderr, "; coded weights %.4f bits/weight (entropy %.4f, packed %.4g-bit: %.3fx)",
                    tot.coded_bytes * 8.0 / (double)tot.coded_weights, tot.entropy_bits / (double)tot.coded_weights,
                    (double)tot.packed_bits / (double)tot.coded_weights,
                    tot.coded_bytes ? (double)tot.packed_bits / (tot.coded_bytes * 8.0) : 0.0);
        fputc('\n', stderr);
    }
done:
    if (out_open) cli_out_abort(&out);
    wqc_writer_free(w);
    free(meta);
    qst_frames_free(given, ngiven);
    wqc_model_close(m);
    coding_args_free(&a);
    return rc;
}
