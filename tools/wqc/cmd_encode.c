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
#include "output.h"
#include "progress.h"
#include "shards.h"

static const char *usage_text =
    "usage: wqc encode IN [-o OUT.wqc | -c] [options]\n"
    "IN: float .npy/.safetensors/*.index.json (quantized here), a quantized safetensors from\n"
    "'wqc quantize', a GGUF file (every tensor kept bit-exactly: decode gives the file back),\n"
    "or an int8/uint8 .npy (its values are coded as given). '-': stdin.\n"
    "  quantizer: --method, --bits, --granularity, -k, --step, --rule, --min-elements (as quantize)\n"
    "  --mode auto|order0|context|brotli|zstd|lzma  how symbols are coded (default auto: the\n"
    "                   smallest per tensor; context = rANS tables chosen by each row's zero point;\n"
    "                   zstd -19, brotli -q 11 and lzma tried where a probe finds structure)\n"
    "  --precision P (10..15, default 12), --lanes N (1, 2, 4 or a multiple of 8 up to 256; default\n"
    "                   auto: 1 below 64 Ki weights, 8 below 256 Ki, else 32; 64 from 64 Ki for alphabets\n"
    "                   over 16 symbols: lossless bytes, FP8, Q8_0, 5+ bits; the gemv layout 8 to 32),\n"
    "  --chunk C (symbols per chunk, default 1048576), --zstd-level L (kept tensors, 0: raw; default 9)\n"
    "  --lossless       store every F32/F16/BF16 tensor bit-exactly (split into a rANS-coded exponent\n"
    "                   byte and raw/zstd sign-mantissa bytes), nothing quantized; decode then gives\n"
    "                   the input file back byte for byte (also --rule 'GLOB:lossless' per tensor)\n"
    "  --layout row|gemv  symbol order: row-major (default), or tiles of N rows for the fused\n"
    "                   decode + matrix-vector product (wqc_gemv; per-row or per-tensor scales;\n"
    "                   chunks default to 262144 symbols, rounded to whole tiles; rANS modes only)\n"
    "  --no-stats       leave out the statistics record (count, mean, std, min, max, kurtosis of each\n"
    "                   float tensor, clipped weights and SQNR of each quantized one; 'wqc info' shows it)\n"
    "  --shard-size SIZE|input   write shards of at most SIZE (500MB, 2GiB, bytes) named\n"
    "                   OUT-00001-of-0000N.wqc with OUT.wqc.index.json, or one per input shard\n"
    "  --key-file FILE | --key-env VAR   add an HMAC-SHA256 with this key (16..1024 bytes)\n"
    "  -T N threads: tensors coded at once, up to 32 MiB of them a thread (default: all cores),\n"
    "  -o FILE ('-': stdout; default: IN with its .safetensors,\n"
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
                    f->nelem ? wqc_coded_payload_bytes(f) * 8.0 / (double)f->nelem
                             : 0.0);
        else
            fprintf(stderr, ": kept %s (%s)\n", wqc_dtype_name(f->dtype), wqc_encoding_name(f->encoding));
    }
}

static void account(const wqc_frame *f, const wqc_mode_sizes *sizes, encode_totals *tot)
{
    tot->tensors++;
    if (!f->quantized) {
        tot->split += wqc_encoding_split(f->encoding);
        tot->kept_raw += f->raw_len;
        tot->kept_bytes += f->payload_len;
        return;
    }
    tot->coded++;
    tot->by_mode[sizes->chosen]++;
    tot->coded_weights += f->nelem;
    tot->coded_bytes += wqc_coded_payload_bytes(f);
    tot->packed_bits += f->nelem * (uint64_t)f->q.bits;
    tot->entropy_bits += (double)f->nelem * sizes->entropy_bits;
}

/* Where frames go: one .wqc, or shards of one (--shard-size). */
typedef struct encode_output {
    const coding_args *a;
    const wqc_model_encoder *e;
    cli_out single;
    int single_open;
    shard_set set;
    int sharded;
    wqc_model_file *file;
    size_t in_shard;        /* tensors in the current file */
    size_t input_shard;     /* per-input sharding: the input shard being written */
    uint64_t written;       /* bytes of finished files */
    size_t *shard_of;
} encode_output;

static wqc_status file_start(encode_output *eo, cli_out *out, wqc_error *err)
{
    const coding_args *a = eo->a;
    wqc_model_file_options fo = {a->key_len ? a->key : NULL, a->key_len, eo->sharded};
    eo->in_shard = 0;
    return wqc_model_file_open(eo->e, &fo, cli_out_sink, out, &eo->file, err);
}

static wqc_status file_end(encode_output *eo, wqc_error *err)
{
    uint64_t bytes = 0;
    wqc_status st = wqc_model_file_finish(eo->file, &bytes, err);
    eo->written += bytes;
    eo->file = NULL;
    return st;
}

/* Adds frame i, first starting the next shard when the current one is full
 * (a frame that alone exceeds the size gets a file of its own) or, per input
 * shard, when the input moves to its next file. */
static wqc_status output_add(encode_output *eo, size_t i, size_t input_shard, const wqc_coded_tensor *c,
                             wqc_error *err)
{
    wqc_status st = WQC_OK;
    if (eo->sharded) {
        const shard_spec *sp = &eo->a->shards;
        int next = !eo->file || (eo->in_shard && (sp->per_input ? input_shard != eo->input_shard
                                                                  : wqc_model_file_offset(eo->file) +
                                                                            wqc_coded_payload_bytes(&c->frame) + 4096 >
                                                                        sp->size));
        if (next && eo->file) st = file_end(eo, err);
        if (st == WQC_OK && next) {
            cli_out *out = shard_set_add(&eo->set);
            st = out ? file_start(eo, out, err) : WQC_ERR_IO;
            if (!out) err->msg[0] = '\0';
        }
        eo->input_shard = input_shard;
        eo->shard_of[i] = eo->set.n - 1;
    }
    if (st == WQC_OK) st = wqc_model_file_add(eo->file, c, err);
    eo->in_shard++;
    return st;
}

/* Finishes the files: the summary's byte count in *written. Returns the exit status. */
static int output_finish(encode_output *eo, uint64_t *written)
{
    wqc_error err;
    wqc_error_clear(&err);
    wqc_status st = WQC_OK;
    if (eo->sharded && !eo->file) { /* an empty model still gets its file */
        cli_out *out = shard_set_add(&eo->set);
        st = out ? file_start(eo, out, &err) : WQC_ERR_IO;
    }
    if (st == WQC_OK) st = file_end(eo, &err);
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
    return shard_set_finish(&eo->set, wqc_model_encoder_names(eo->e), eo->shard_of, wqc_model_encoder_count(eo->e),
                            eo->written, &format, 1);
}

static void output_abort(encode_output *eo)
{
    wqc_model_file_abort(eo->file);
    eo->file = NULL;
    if (eo->single_open) cli_out_abort(&eo->single);
    if (eo->sharded) shard_set_abort(&eo->set);
    eo->single_open = eo->sharded = 0;
    free(eo->shard_of);
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

/* What each coded tensor goes to, in order. */
typedef struct encode_pass {
    const coding_args *a;
    encode_output *eo;
    const size_t *input_shard;
    encode_totals *tot;
    cli_progress *progress;
} encode_pass;

static wqc_status write_coded(void *ctx, size_t i, const wqc_coded_tensor *c, wqc_error *err)
{
    encode_pass *p = ctx;
    wqc_status st = output_add(p->eo, i, p->input_shard[i], c, err);
    if (st == WQC_OK) {
        account(&c->frame, &c->sizes, p->tot);
        report_tensor(p->a, &c->frame);
    }
    cli_progress_add(p->progress, 1, c->input_bytes);
    return st;
}

void encode_options(const coding_args *a, wqc_model_encode_options *o)
{
    wqc_model_encode_options_default(o);
    o->plan = a->plan;
    o->coding.mode = a->mode;
    o->coding.rans = a->codec;
    o->coding.gemv = a->layout_gemv;
    o->kept_zstd_level = a->zstd_level;
    o->stats = !a->no_stats;
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
    if (wqc_detect_file(a.input) == WQC_FILE_GGUF) {
        rc = encode_gguf(&a);
        coding_args_free(&a);
        return rc;
    }
    wqc_model *m = NULL;
    wqc_model_encoder *e = NULL;
    encode_output eo = {0};
    eo.a = &a;
    size_t *input_shard = NULL;
    encode_totals tot = {0};
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(a.input);
    wqc_model_encode_options o;
    encode_options(&a, &o);
    wqc_status st = wqc_model_open(a.input, &m, &err);
    size_t unmatched = st == WQC_OK ? wqc_plan_unmatched_rule(&o.plan, m) : (size_t)-1;
    if (unmatched != (size_t)-1) {
        cli_error("%s: --rule '%s:...' matches no tensor (a glob matches whole names)", a.input, a.rules[unmatched].glob);
        rc = WQC_EXIT_USAGE;
        goto done;
    }
    if (st == WQC_OK) st = wqc_model_encoder_open(m, &o, &e, &err);
    if (st != WQC_OK) {
        rc = cli_file_error(a.input, st, &err);
        goto done;
    }
    size_t n = wqc_model_encoder_count(e);
    eo.e = e;
    input_shard = calloc(n + 1, sizeof *input_shard);
    eo.shard_of = calloc(n + 1, sizeof *eo.shard_of);
    if (!input_shard || !eo.shard_of) {
        cli_error("out of memory");
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    for (size_t i = 0; i < n; i++) input_shard[i] = wqc_model_shard_of(m, wqc_model_encoder_input_index(e, i));
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
        st = file_start(&eo, &eo.single, &err);
    }
    cli_progress progress;
    cli_progress_start(&progress, n, wqc_model_encoder_input_bytes(e), a.quiet || a.verbose);
    encode_pass pass = {&a, &eo, input_shard, &tot, &progress};
    if (st == WQC_OK) st = wqc_model_encoder_each(e, write_coded, &pass, &err);
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
    free(input_shard);
    wqc_model_encoder_free(e);
    wqc_model_close(m);
    coding_args_free(&a);
    return rc;
}
