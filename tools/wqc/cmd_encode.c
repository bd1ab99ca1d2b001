/* wqc encode IN -o OUT.wqc: quantize (or take given symbols) and code every
 * tensor into a .wqc container, streaming frame by frame. Small tensors are
 * quantized twice: once to pool their statistics into the models the file
 * shares, once to code them. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coding_args.h"
#include "commands.h"
#include "encode_gguf.h"
#include "frames.h"
#include "output.h"
#include "progress.h"
#include "quantized_st.h"
#include "shards.h"

static const char *usage_text =
    "usage: wqc encode IN [-o OUT.wqc | -c] [options]\n"
    "IN: float .npy/.safetensors/*.index.json (quantized here), a quantized safetensors from\n"
    "'wqc quantize', a GGUF file (every tensor kept bit-exactly: decode gives the file back),\n"
    "'wqc quantize', or an int8/uint8 .npy (its values are coded as given). '-': stdin.\n"
    "  quantizer: --method, --bits, --granularity, -k, --step, --rule, --min-elements (as quantize)\n"
    "  --mode auto|order0|context|brotli|zstd  how symbols are coded (default auto: the smallest,\n"
    "                   per tensor; context = rANS tables chosen by each row's zero point)\n"
    "  --precision P (10..15, default 12), --lanes N (multiple of 8; default 32, 8 below 256 Ki weights),\n"
    "  --chunk C (symbols per chunk, default 1048576), --zstd-level L (kept tensors, 0: raw; default 9)\n"
    "  --lossless       store every F32/F16/BF16 tensor bit-exactly (split into a rANS-coded exponent\n"
    "                   byte and raw/zstd sign-mantissa bytes), nothing quantized; decode then gives\n"
    "                   the input file back byte for byte (also --rule 'GLOB:lossless' per tensor)\n"
    "  --layout row|gemv  symbol order: row-major (default), or tiles of N rows for the fused\n"
    "                   decode + matrix-vector product (wqc_gemv; per-row or per-tensor scales;\n"
    "                   chunks default to 262144 symbols, rounded to whole tiles; rANS modes only)\n"
    "  --no-stats       leave out the statistics record (count, mean, std, min, max, kurtosis of each\n"
    "                   float tensor, clipped weights and SQNR of each quantized one; 'wqc info' shows it)\n"
    "  --key-file FILE | --key-env VAR   add an HMAC-SHA256 with this key (16..1024 bytes)\n"
    "  -T N threads (default: all cores), -o FILE ('-': stdout; default: IN with its .safetensors,\n"
    "  .npy or .index.json suffix replaced by .wqc; stdin goes to stdout), -c stdout, -f overwrite,\n"
    "  -q quiet (no summary or progress), -v per-tensor lines\n";

typedef struct encode_totals {
    size_t tensors, coded;
    size_t by_mode[WQC_MODE_COUNT];
    uint64_t coded_weights, coded_bytes, packed_bits;
    double entropy_bits;
    size_t split;                   /* kept tensors stored with the split coding */
    uint64_t kept_raw, kept_bytes;  /* kept tensors: their bytes, and what they take */
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
    wqc_tensor_stats *stats; /* per tensor, where has_stats[i]: its floats' statistics */
    uint8_t *has_stats;
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
        if (f->q.symbols != t->data) wqc_model_release(in->m, i);
        return st;
    }
    wqc_tensor_stats *stats = in->stats ? &in->stats[i] : NULL;
    if (p) {
        wqc_status st = cli_frame_quantize(in->m, i, p, f, stats, err);
        if (st == WQC_OK && stats) in->has_stats[i] = 1;
        return st;
    }
    /* Kept float tensors: one more pass over their bytes. */
    if (stats && wqc_dtype_is_float(t->dtype)) in->has_stats[i] = wqc_stats_tensor(t, stats, NULL) == WQC_OK;
    cli_frame_raw(f, t);
    return WQC_OK;
}

static void release_frame(const encode_input *in, size_t i, wqc_frame *f)
{
    if (in->given) return;
    /* Given symbols may be the input's own bytes (cli_frame_given). */
    if (f->q.symbols && f->q.symbols == wqc_model_tensor(in->m, i)->data) f->q.symbols = NULL;
    cli_frame_release(f);
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
            release_frame(in, i, &f);
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

static void report_tensor(const coding_args *a, const wqc_frame *f)
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
    }
}

/* Codes one frame (quantized: from f->q.symbols); *scratch is freed after
 * the frame is written. */
static wqc_status code_frame(const coding_args *a, const wqc_encode_options *o, int lossless, wqc_frame *f,
                             void **scratch, wqc_mode_sizes *sizes, wqc_error *err)
{
    *scratch = NULL;
    if (f->quantized) return wqc_encode_symbols(f, o, sizes, scratch, err);
    wqc_tensor t = {f->name, f->dtype, f->ndim, {0}, f->nelem, f->payload, f->payload_len};
    memcpy(t.shape, f->shape, sizeof f->shape);
    if (lossless) return wqc_frame_lossless(&t, o, a->zstd_level, f, scratch, err);
    return wqc_frame_passthrough(&t, a->zstd_level, f, scratch, err);
}

static uint64_t payload_bytes(const wqc_frame *f)
{
    return f->encoding == WQC_ENC_RANS ? f->coded.payload_len : f->payload_len;
}

static void account(const wqc_frame *f, const wqc_mode_sizes *sizes, encode_totals *tot)
{
    tot->tensors++;
    if (!f->quantized) {
        tot->split += f->encoding == WQC_ENC_SPLIT;
        tot->kept_raw += f->raw_len;
        tot->kept_bytes += f->payload_len;
        return;
    }
    tot->coded++;
    tot->by_mode[sizes->chosen]++;
    tot->coded_weights += f->nelem;
    tot->coded_bytes += payload_bytes(f);
    tot->packed_bits += f->nelem * (uint64_t)f->q.bits;
    tot->entropy_bits += (double)f->nelem * sizes->entropy_bits;
}

/* Where frames go: one .wqc, or shards of one (--shard-size). */
typedef struct encode_output {
    const coding_args *a;
    const wqc_kv *meta;
    size_t nmeta;
    const char *const *names;
    size_t n;
    const wqc_symbol_model *shared;
    size_t nshared;
    cli_out single;
    int single_open;
    shard_set set;
    int sharded;
    wqc_writer *w;
    size_t in_shard;        /* tensors in the current file */
    size_t input_shard;     /* per-input sharding: the input shard being written */
    uint64_t written;       /* bytes of finished files */
    size_t *shard_of;
    wqc_source source;      /* format NONE unless the input comes back byte for byte */
    size_t *source_order;
    wqc_tensor_stats *stats; /* the current file's statistics record, for its tensors index[] */
    size_t *stats_index;
    size_t nstats;
} encode_output;

static wqc_status writer_start(encode_output *eo, cli_out *out, wqc_error *err)
{
    const coding_args *a = eo->a;
    wqc_status st = wqc_writer_open(cli_out_sink, out, a->key_len ? a->key : NULL, a->key_len, &eo->w, err);
    if (st == WQC_OK && eo->nmeta) st = wqc_writer_metadata(eo->w, eo->meta, eo->nmeta, err);
    if (st == WQC_OK && eo->source.format) st = wqc_writer_source(eo->w, &eo->source, err);
    /* A shard's tensors are known only as it fills: its names go before its index. */
    if (st == WQC_OK && eo->n && !eo->sharded) st = wqc_writer_names(eo->w, eo->names, eo->n, err);
    if (st == WQC_OK && eo->nshared) st = wqc_writer_shared_models(eo->w, eo->shared, eo->nshared, err);
    eo->in_shard = 0;
    return st;
}

static wqc_status writer_end(encode_output *eo, wqc_error *err)
{
    wqc_status st = WQC_OK;
    if (eo->nstats) st = wqc_writer_stats(eo->w, eo->stats_index, eo->stats, eo->nstats, err);
    eo->nstats = 0;
    if (st == WQC_OK) st = wqc_writer_finish(eo->w, err);
    eo->written += wqc_writer_offset(eo->w);
    wqc_writer_free(eo->w);
    eo->w = NULL;
    return st;
}

/* When no tensor of a single-file input is quantized (all lossless, kept
 * or given integers), the file's layout goes into the .wqc so that decode
 * gives the file back byte for byte. Silently none where it cannot. */
static void source_layout(const encode_input *in, encode_output *eo)
{
    wqc_model_format fmt = wqc_model_format_of(in->m);
    if (fmt != WQC_FORMAT_SAFETENSORS && fmt != WQC_FORMAT_NPY) return;
    for (size_t i = 0; i < in->n; i++) {
        const wqc_tensor *t = wqc_model_tensor(in->m, i);
        int given = fmt == WQC_FORMAT_NPY && (t->dtype == WQC_DTYPE_I8 || t->dtype == WQC_DTYPE_U8);
        if (!given && cli_plan_for(&in->a->plan, t)) return;
    }
    uint64_t header_len, len;
    const uint8_t *bytes = wqc_model_bytes(in->m, &len);
    eo->source_order = calloc(in->n + 1, sizeof *eo->source_order);
    if (!eo->source_order || wqc_model_layout(in->m, &header_len, eo->source_order, NULL) != WQC_OK) return;
    eo->source = (wqc_source){fmt == WQC_FORMAT_NPY ? WQC_SOURCE_NPY : WQC_SOURCE_SAFETENSORS, bytes, header_len,
                              eo->source_order, in->n, NULL, 0};
}

/* Adds frame i, first starting the next shard when the current one is full
 * (a frame that alone exceeds the size gets a file of its own) or, per input
 * shard, when the input moves to its next file. */
static wqc_status output_add(encode_output *eo, size_t i, size_t input_shard, const wqc_frame *f,
                             const wqc_tensor_stats *stats, wqc_error *err)
{
    wqc_status st = WQC_OK;
    if (eo->sharded) {
        const shard_spec *sp = &eo->a->shards;
        int next = !eo->w || (eo->in_shard && (sp->per_input ? input_shard != eo->input_shard
                                                               : wqc_writer_offset(eo->w) + payload_bytes(f) + 4096 > sp->size));
        if (next && eo->w) st = writer_end(eo, err);
        if (st == WQC_OK && next) {
            cli_out *out = shard_set_add(&eo->set);
            st = out ? writer_start(eo, out, err) : WQC_ERR_IO;
            if (!out) err->msg[0] = '\0';
        }
        eo->input_shard = input_shard;
        eo->shard_of[i] = eo->set.n - 1;
    }
    if (st == WQC_OK) st = wqc_writer_add(eo->w, f, err);
    if (st == WQC_OK && stats) {
        eo->stats[eo->nstats] = *stats;
        eo->stats_index[eo->nstats++] = eo->in_shard;
    }
    eo->in_shard++;
    return st;
}

/* Finishes the files: the summary's byte count in *written. Returns the exit status. */
static int output_finish(encode_output *eo, uint64_t *written)
{
    wqc_error err;
    wqc_error_clear(&err);
    wqc_status st = WQC_OK;
    if (eo->sharded && !eo->w) { /* an empty model still gets its file */
        cli_out *out = shard_set_add(&eo->set);
        st = out ? writer_start(eo, out, &err) : WQC_ERR_IO;
    }
    if (st == WQC_OK) st = writer_end(eo, &err);
    *written = eo->written;
    if (st != WQC_OK) {
        if (err.msg[0]) cli_file_error(eo->single.is_stdout ? "stdout" : eo->a->output, st, &err);
        return WQC_EXIT_ERROR;
    }
    if (!eo->sharded) {
        eo->single_open = 0;
        return cli_out_commit(&eo->single) ? WQC_EXIT_OK : WQC_EXIT_ERROR;
    }
    static const wqc_kv format = {"wqc.format", "wqc-sharded-1"};
    eo->sharded = 0;
    return shard_set_finish(&eo->set, eo->names, eo->shard_of, eo->n, eo->written, &format, 1);
}

static void output_abort(encode_output *eo)
{
    wqc_writer_free(eo->w);
    eo->w = NULL;
    if (eo->single_open) cli_out_abort(&eo->single);
    if (eo->sharded) shard_set_abort(&eo->set);
    eo->single_open = eo->sharded = 0;
    free(eo->shard_of);
    free(eo->source_order);
    free(eo->stats);
    free(eo->stats_index);
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
    if (tot->kept_raw)
        fprintf(stderr, "; %zu kept tensors (%zu split): %llu -> %llu bytes (%.1f%%)", tot->tensors - tot->coded,
                tot->split, (unsigned long long)tot->kept_raw, (unsigned long long)tot->kept_bytes,
                100.0 * (double)tot->kept_bytes / (double)tot->kept_raw);
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
    if (cli_is_gguf(a.input)) {
        rc = encode_gguf(&a);
        coding_args_free(&a);
        return rc;
    }
    encode_input in = {&a, NULL, NULL, 0, NULL, NULL, NULL};
    encode_output eo = {0};
    eo.a = &a;
    wqc_kv *meta = NULL;
    const char **names = NULL;
    size_t *input_shard = NULL;
    wqc_symbol_model *shared = NULL;
    size_t nshared = 0;
    encode_totals tot = {0};
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(a.input);
    wqc_status st = wqc_model_open(a.input, &in.m, &err);
    if (st == WQC_OK && qst_is_quantized(in.m)) st = qst_read(in.m, &in.given, &in.n, &err);
    else if (st == WQC_OK) in.n = wqc_model_count(in.m);
    if (st == WQC_OK && !a.no_stats && !in.given) {
        in.stats = calloc(in.n + 1, sizeof *in.stats);
        in.has_stats = calloc(in.n + 1, 1);
        eo.stats = calloc(in.n + 1, sizeof *eo.stats);
        eo.stats_index = calloc(in.n + 1, sizeof *eo.stats_index);
        if (!in.stats || !in.has_stats || !eo.stats || !eo.stats_index) st = wqc_fail(&err, WQC_ERR_NOMEM, "out of memory");
    }
    if (st == WQC_OK) st = shared_models(&in, a.codec.precision, &shared, &nshared, &err);
    if (st != WQC_OK) {
        rc = cli_file_error(a.input, st, &err);
        goto done;
    }
    size_t nsrc = 0;
    meta = qst_source_metadata(wqc_model_metadata_count(in.m) ? wqc_model_metadata(in.m, 0) : NULL,
                               wqc_model_metadata_count(in.m), &nsrc);
    names = calloc(in.n + 1, sizeof *names);
    input_shard = calloc(in.n + 1, sizeof *input_shard);
    eo.shard_of = calloc(in.n + 1, sizeof *eo.shard_of);
    if (!meta || !names || !input_shard || !eo.shard_of) {
        cli_error("out of memory");
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    for (size_t i = 0; i < in.n; i++) {
        names[i] = in.given ? in.given[i].name : wqc_model_tensor(in.m, i)->name;
        /* A quantized input's frames fold three tensors each: find the symbols'. */
        size_t k = i;
        while (in.given && k < wqc_model_count(in.m) && strcmp(wqc_model_tensor(in.m, k)->name, names[i]) != 0) k++;
        input_shard[i] = wqc_model_shard_of(in.m, k);
    }
    eo.meta = meta;
    eo.nmeta = nsrc;
    if (!a.shards.on && !in.given) source_layout(&in, &eo);
    eo.names = names;
    eo.n = in.n;
    eo.shared = shared;
    eo.nshared = nshared;
    if (a.shards.on) {
        if (!shard_set_begin(&eo.set, a.output, ".wqc", a.force)) {
            rc = WQC_EXIT_USAGE;
            goto done;
        }
        eo.sharded = 1;
    } else {
        if (!cli_out_open(&eo.single, a.output, a.force)) {
            rc = WQC_EXIT_ERROR;
            goto done;
        }
        eo.single_open = 1;
        st = writer_start(&eo, &eo.single, &err);
    }
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
    uint64_t total = 0;
    for (size_t i = 0; !in.given && i < in.n; i++) total += wqc_model_tensor(in.m, i)->nbytes;
    cli_progress progress;
    cli_progress_start(&progress, in.n, total, a.quiet || a.verbose);
    for (size_t i = 0; st == WQC_OK && i < in.n; i++) {
        wqc_frame f = {0};
        void *scratch = NULL;
        wqc_mode_sizes sizes = {0};
        st = make_frame(&in, i, &f, &err);
        int lossless = !in.given && cli_plan_lossless(&a.plan, wqc_model_tensor(in.m, i));
        if (st == WQC_OK) st = code_frame(&a, &o, lossless, &f, &scratch, &sizes, &err);
        if (st == WQC_OK) st = output_add(&eo, i, input_shard[i], &f, in.has_stats && in.has_stats[i] ? &in.stats[i] : NULL, &err);
        if (st == WQC_OK) {
            account(&f, &sizes, &tot);
            report_tensor(&a, &f);
        }
        wqc_encoded_free(&f);
        free(scratch);
        cli_progress_add(&progress, 1, in.given ? 0 : wqc_model_tensor(in.m, i)->nbytes);
        release_frame(&in, i, &f);
        /* Kept tensors were read from the input; quantized ones already let it go. */
        if (!in.given) wqc_model_release(in.m, i);
        else wqc_model_release_data(in.m, in.given[i].quantized ? in.given[i].q.symbols : in.given[i].payload,
                                    in.given[i].raw_len);
    }
    cli_progress_end(&progress);
    if (st != WQC_OK) {
        /* A failed write names the output (an empty message: already printed). */
        if (st == WQC_ERR_IO && err.msg[0]) rc = cli_file_error(eo.single_open && eo.single.is_stdout ? "stdout" : a.output, st, &err);
        else if (st == WQC_ERR_IO) rc = WQC_EXIT_ERROR;
        else rc = cli_file_error(a.input, st, &err);
        goto done;
    }
    uint64_t written;
    rc = output_finish(&eo, &written);
    if (rc == WQC_EXIT_OK && !a.quiet) summary(&a, &tot, written);
done:
    output_abort(&eo);
    free(meta);
    free(names);
    free(input_shard);
    for (size_t i = 0; i < nshared; i++) wqc_symbol_model_free(&shared[i]);
    free(shared);
    qst_frames_free(in.given, in.n);
    for (size_t i = 0; in.cached && i < in.n; i++) release_frame(&in, i, &in.cached[i]);
    free(in.cached);
    free(in.stats);
    free(in.has_stats);
    wqc_model_close(in.m);
    coding_args_free(&a);
    return rc;
}
