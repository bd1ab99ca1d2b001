/* wqc encode IN -o OUT.wqc: quantize (or take given symbols) and code every
 * tensor into a .wqc container, streaming frame by frame. Small tensors are
 * quantized twice: once to pool their statistics into the models the file
 * shares, once to code them. */
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
    "  --mode auto|order0|context|brotli|zstd  how symbols are coded (default auto: the smallest,\n"
    "                   per tensor; context = rANS tables chosen by each row's zero point)\n"
    "  --precision P (10..15, default 12), --lanes N (multiple of 8; default 32, 8 below 256 Ki weights),\n"
    "  --chunk C (symbols per chunk, default 1048576), --zstd-level L (kept tensors, 0: raw; default 9)\n"
    "  --layout row|gemv  symbol order: row-major (default), or tiles of N rows for the fused\n"
    "                   decode + matrix-vector product (wqc_gemv; per-row or per-tensor scales;\n"
    "                   chunks default to 262144 symbols, rounded to whole tiles; rANS modes only)\n"
    "  --key-file FILE | --key-env VAR   add an HMAC-SHA256 with this key (16..1024 bytes)\n"
    "  -T N threads, -o FILE ('-': stdout), -f overwrite, -q quiet, -v per-tensor lines\n";

typedef struct encode_totals {
    size_t tensors, coded;
    size_t by_mode[WQC_MODE_COUNT];
    uint64_t coded_weights, coded_bytes, packed_bits;
    double entropy_bits;
} encode_totals;

/* Quantized small tensors kept from the first pass, up to this many bytes. */
#define CACHE_MAX (256u << 20)

/* The input and how each of its tensors becomes a frame. */
typedef struct encode_input {
    const coding_args *a;
    wqc_model *m;
    wqc_frame *given;       /* a quantized safetensors input: its frames */
    size_t n;
    wqc_frame *cached;      /* quantized in the first pass (cached[i].quantized set) */
} encode_input;

/* Frame i, quantized if the plan says so (release with release_frame). */
static wqc_status make_frame(const encode_input *in, size_t i, wqc_frame *f, wqc_error *err)
{
    if (in->given) {
        *f = in->given[i];
        return WQC_OK;
    }
    if (in->cached && in->cached[i].quantized) {
        *f = in->cached[i];
        memset(&in->cached[i], 0, sizeof in->cached[i]);
        return WQC_OK;
    }
    const wqc_tensor *t = wqc_model_tensor(in->m, i);
    const wqc_quant_params *p = cli_plan_for(&in->a->plan, t);
    int integer_npy = wqc_model_format_of(in->m) == WQC_FORMAT_NPY && (t->dtype == WQC_DTYPE_I8 || t->dtype == WQC_DTYPE_U8);
    if (integer_npy) {
        wqc_status st = cli_frame_given(t, f, err);
        wqc_model_release(in->m, i);
        return st;
    }
    if (p) return cli_frame_quantize(in->m, i, p, f, err);
    cli_frame_raw(f, t);
    return WQC_OK;
}

static void release_frame(const encode_input *in, wqc_frame *f)
{
    if (!in->given) cli_frame_release(f);
}

/* The models shared by the small quantized tensors of the input; the frames
 * quantized for them are kept for the second pass while they fit CACHE_MAX. */
static wqc_status shared_models(encode_input *in, int precision, wqc_symbol_model **models, size_t *n,
                                wqc_error *err)
{
    *models = NULL;
    *n = 0;
    if (in->a->mode != WQC_MODE_AUTO && in->a->mode != WQC_MODE_CONTEXT) return WQC_OK;
    wqc_model_pool *pool;
    wqc_status st = wqc_model_pool_create(precision, 1, &pool, err);
    if (st == WQC_OK && !in->given && !(in->cached = calloc(in->n + 1, sizeof *in->cached)))
        st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    uint64_t cached = 0;
    for (size_t i = 0; st == WQC_OK && i < in->n; i++) {
        uint64_t nelem = in->given ? in->given[i].nelem : wqc_model_tensor(in->m, i)->nelem;
        if (nelem == 0 || nelem > WQC_SHARED_TENSOR_MAX) continue;
        if (!in->given && !cli_plan_for(&in->a->plan, wqc_model_tensor(in->m, i))) continue;
        wqc_frame f;
        st = make_frame(in, i, &f, err);
        if (st == WQC_OK && f.quantized) st = wqc_model_pool_add(pool, &f.q, err);
        if (st != WQC_OK && st != WQC_ERR_NOMEM) st = WQC_OK; /* reported when the tensor is coded */
        uint64_t bytes = f.nelem + 8 * f.q.ngroups;
        if (in->cached && f.quantized && f.q.symbols && cached + bytes <= CACHE_MAX) {
            in->cached[i] = f;
            cached += bytes;
        } else {
            release_frame(in, &f);
        }
    }
    if (st == WQC_OK) st = wqc_model_pool_build(pool, models, n, err);
    wqc_model_pool_free(pool);
    return st;
}

static const char *mode_text(const wqc_frame *f)
{
    switch (wqc_frame_mode(f)) {
    case WQC_MODE_CONTEXT: return f->shared_model ? "context (shared tables)" : "context";
    case WQC_MODE_ORDER0: return "order-0";
    default: return wqc_encoding_name(f->encoding);
    }
}

static void report_tensor(const coding_args *a, const wqc_frame *f, size_t i, size_t n)
{
    if (a->verbose) {
        char desc[96];
        fprintf(stderr, "%s: ", cli_program);
        cli_put_escaped(stderr, f->name);
        if (f->quantized)
            fprintf(stderr, ": %s, %s, %.4f bits/weight\n", wqc_quant_params_describe(&f->quant, desc, sizeof desc),
                    mode_text(f),
                    f->nelem ? (f->encoding == WQC_ENC_RANS ? f->coded.payload_len : f->payload_len) * 8.0 / (double)f->nelem
                             : 0.0);
        else
            fprintf(stderr, ": kept %s (%s)\n", wqc_dtype_name(f->dtype), wqc_encoding_name(f->encoding));
    } else if (!a->quiet && isatty(STDERR_FILENO)) {
        fprintf(stderr, "\r%s: %zu/%zu tensors", cli_program, i + 1, n);
        if (i + 1 == n) fputc('\n', stderr);
    }
}

/* Codes one frame (quantized: from f->q.symbols) and writes it. */
static wqc_status write_frame(const coding_args *a, const wqc_encode_options *o, wqc_writer *w, wqc_frame *f,
                              encode_totals *tot, wqc_error *err)
{
    wqc_status st;
    void *scratch = NULL;
    tot->tensors++;
    if (!f->quantized) {
        wqc_tensor t = {f->name, f->dtype, f->ndim, {0}, f->nelem, f->payload, f->payload_len};
        memcpy(t.shape, f->shape, sizeof f->shape);
        st = wqc_frame_passthrough(&t, a->zstd_level, f, &scratch, err);
        if (st == WQC_OK) st = wqc_writer_add(w, f, err);
        free(scratch);
        return st;
    }
    wqc_mode_sizes sizes;
    st = wqc_encode_symbols(f, o, &sizes, &scratch, err);
    if (st != WQC_OK) return st;
    st = wqc_writer_add(w, f, err);
    tot->coded++;
    tot->by_mode[sizes.chosen]++;
    tot->coded_weights += f->nelem;
    tot->coded_bytes += f->encoding == WQC_ENC_RANS ? f->coded.payload_len : f->payload_len;
    tot->packed_bits += f->nelem * (uint64_t)f->q.bits;
    tot->entropy_bits += (double)f->nelem * sizes.entropy_bits;
    wqc_encoded_free(f);
    free(scratch);
    return st;
}

static void summary(const coding_args *a, const encode_totals *tot, uint64_t written)
{
    fprintf(stderr, "%s: ", cli_program);
    cli_put_escaped(stderr, a->input);
    fprintf(stderr, " -> ");
    cli_put_escaped(stderr, a->output);
    fprintf(stderr, ": %zu tensors (%zu coded), %llu bytes", tot->tensors, tot->coded, (unsigned long long)written);
    if (tot->coded_weights)
        fprintf(stderr, "; coded weights %.4f bits/weight (entropy %.4f, packed %.4g-bit: %.3fx)",
                tot->coded_bytes * 8.0 / (double)tot->coded_weights, tot->entropy_bits / (double)tot->coded_weights,
                (double)tot->packed_bits / (double)tot->coded_weights,
                tot->coded_bytes ? (double)tot->packed_bits / (tot->coded_bytes * 8.0) : 0.0);
    if (tot->coded) {
        fprintf(stderr, "; modes:");
        for (int m = 1; m < WQC_MODE_COUNT; m++)
            if (tot->by_mode[m]) fprintf(stderr, " %s %zu", wqc_mode_name((wqc_mode)m), tot->by_mode[m]);
    }
    fputc('\n', stderr);
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
    encode_input in = {&a, NULL, NULL, 0, NULL};
    wqc_writer *w = NULL;
    wqc_kv *meta = NULL;
    const char **names = NULL;
    wqc_symbol_model *shared = NULL;
    size_t nshared = 0;
    cli_out out;
    int out_open = 0;
    encode_totals tot = {0};
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(a.input);
    wqc_status st = wqc_model_open(a.input, &in.m, &err);
    if (st == WQC_OK && qst_is_quantized(in.m)) st = qst_read(in.m, &in.given, &in.n, &err);
    else if (st == WQC_OK) in.n = wqc_model_count(in.m);
    if (st == WQC_OK) st = shared_models(&in, a.codec.precision, &shared, &nshared, &err);
    if (st != WQC_OK) {
        rc = cli_file_error(a.input, st, &err);
        goto done;
    }
    size_t nsrc = 0;
    meta = qst_source_metadata(wqc_model_metadata_count(in.m) ? wqc_model_metadata(in.m, 0) : NULL,
                               wqc_model_metadata_count(in.m), &nsrc);
    names = calloc(in.n + 1, sizeof *names);
    if (!meta || !names) {
        cli_error("out of memory");
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    for (size_t i = 0; i < in.n; i++) names[i] = in.given ? in.given[i].name : wqc_model_tensor(in.m, i)->name;
    if (!cli_out_open(&out, a.output, a.force)) {
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    out_open = 1;
    wqc_encode_options o;
    wqc_encode_options_default(&o);
    o.mode = a.mode;
    o.rans = a.codec;
    if (!a.lanes_given) o.rans.lanes = 0;
    o.gemv = a.layout_gemv;
    /* Smaller chunks than the row layout's: threads split a product by chunks. */
    if (a.layout_gemv && !a.chunk_given) o.rans.chunk = WQC_GEMV_CHUNK_DEFAULT;
    o.shared = shared;
    o.nshared = nshared;
    st = wqc_writer_open(cli_out_sink, &out, a.key_len ? a.key : NULL, a.key_len, &w, &err);
    if (st == WQC_OK && nsrc) st = wqc_writer_metadata(w, meta, nsrc, &err);
    if (st == WQC_OK && in.n) st = wqc_writer_names(w, names, in.n, &err);
    if (st == WQC_OK && nshared) st = wqc_writer_shared_models(w, shared, nshared, &err);
    for (size_t i = 0; st == WQC_OK && i < in.n; i++) {
        wqc_frame f;
        st = make_frame(&in, i, &f, &err);
        if (st == WQC_OK) st = write_frame(&a, &o, w, &f, &tot, &err);
        if (st == WQC_OK) report_tensor(&a, &f, i, in.n);
        release_frame(&in, &f);
        /* Kept tensors were read from the input; quantized ones already let it go. */
        if (!in.given) wqc_model_release(in.m, i);
        else wqc_model_release_data(in.m, in.given[i].quantized ? in.given[i].q.symbols : in.given[i].payload,
                                    in.given[i].raw_len);
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
    if (!a.quiet) summary(&a, &tot, written);
done:
    if (out_open) cli_out_abort(&out);
    wqc_writer_free(w);
    free(meta);
    free(names);
    for (size_t i = 0; i < nshared; i++) wqc_symbol_model_free(&shared[i]);
    free(shared);
    qst_frames_free(in.given, in.n);
    for (size_t i = 0; in.cached && i < in.n; i++) cli_frame_release(&in.cached[i]);
    free(in.cached);
    wqc_model_close(in.m);
    coding_args_free(&a);
    return rc;
}
