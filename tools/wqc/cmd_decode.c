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
#include "shards.h"
#include "cli_archive.h"

static const char *usage_text =
    "usage: wqc decode IN.wqc [-o OUT | -c] [options]\n"
    "  --symbols            quantized safetensors, as 'wqc quantize' wrote it (default)\n"
    "  --dequantize         weights: OUT.safetensors, or OUT.npy for one tensor\n"
    "  --dtype F32|F16|BF16 dtype of dequantized weights (default F32)\n"
    "  --tensors GLOB       only these tensors (repeatable)\n"
    "  --max-elements N     refuse tensors larger than N elements (default 2^32)\n"
    "  --shard-size SIZE|input   safetensors shards of at most SIZE (500MB, 2GiB, bytes) with an\n"
    "                       index, or one per shard of a sharded .wqc\n"
    "  --key-file FILE | --key-env VAR   check the HMAC first\n"
    "  -T N threads (default: all cores), -o FILE ('-': stdout; stdin goes to stdout; default: the\n"
    "  source's name (M.safetensors, M.npy, M.gguf) when the file gives its source back exactly, else\n"
    "  M.symbols.safetensors or, with --dequantize, M.dequantized.safetensors: never the original's),\n"
    "  -c stdout, -f overwrite (never the input itself), -q quiet (no progress)\n"
    "environment: WQC_ISA=scalar|avx2|avx512|neon forces a decoder (default: the best this CPU has)\n";

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

static int plan_make(const coding_args *a, wqc_archive *in, decode_plan *p)
{
    size_t count = wqc_archive_count(in);
    memset(p, 0, sizeof *p);
    p->index = calloc(count + 1, sizeof *p->index);
    p->stored = calloc(count + 1, sizeof *p->stored);
    p->out = calloc(count + 1, sizeof *p->out);
    if (!p->index || !p->stored || !p->out) {
        cli_error("out of memory");
        return WQC_EXIT_ERROR;
    }
    /* The selected tensors, described -T wide first, then one by one. */
    size_t nsel = 0;
    for (size_t i = 0; i < count; i++)
        if (coding_args_selected(a, wqc_archive_name(in, i))) p->index[nsel++] = i;
    wqc_archive_describe_ahead(in, p->index, nsel, (int)a->threads);
    for (size_t k = 0; k < nsel; k++) {
        size_t i = p->index[k];
        wqc_error err;
        const wqc_frame *f;
        wqc_status st = wqc_archive_describe(in, i, &f, &err);
        if (st != WQC_OK) {
            cli_file_error(wqc_archive_path(in, i), st, &err);
            return cli_exit_status(st);
        }
        int rc = cli_check_size(a, i, f);
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
        p->stored[p->n++] = f;
    }
    return WQC_EXIT_OK;
}

/* The output's tensors and metadata; frame_of[t] is tensor t's frame. */
typedef struct decode_layout {
    wqc_qst_layout qst;          /* quantized safetensors (symbols) */
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
    if (!a->dequantize && !cli_has_suffix(a->output, ".npy")) {
        wqc_status st = wqc_qst_layout_make(p->out, p->n, meta, nmeta, &l->qst, err);
        if (st != WQC_OK) return st;
        *tensors = l->qst.tensors;
        *nt = l->qst.n;
        *frame_of = l->qst.frame_of;
        return wqc_safetensors_write_header(cli_out_sink, out, l->qst.tensors, l->qst.n, l->qst.kv, l->qst.nkv, err);
    }
    l->tensors = calloc(p->n + 1, sizeof *l->tensors);
    l->frame_of = calloc(p->n + 1, sizeof *l->frame_of);
    l->src = wqc_qst_source_metadata(meta, nmeta, &l->nsrc);
    if (!l->tensors || !l->frame_of || !l->src) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < p->n; i++) {
        l->tensors[i] = plain_tensor(&p->out[i]);
        l->frame_of[i] = i;
    }
    *tensors = l->tensors;
    *nt = p->n;
    *frame_of = l->frame_of;
    if (cli_has_suffix(a->output, ".npy")) return wqc_npy_write_header(cli_out_sink, out, &l->tensors[0], err);
    return wqc_safetensors_write_header(cli_out_sink, out, l->tensors, p->n, l->src, l->nsrc, err);
}

static void layout_free(decode_layout *l)
{
    wqc_qst_layout_free(&l->qst);
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

/* A sharded archive's error names the shard; the error is printed against the index. */
static wqc_status in_shard(const wqc_archive *in, size_t i, wqc_status st, wqc_error *err)
{
    if (st == WQC_OK || !wqc_archive_sharded(in)) return st;
    char msg[WQC_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return wqc_fail(err, st, "%s: %s", wqc_archive_path(in, i), msg);
}

/* Frame j of the plan from the source (with `check`: kept alive while
 * others are taken, *check telling whether its record is still to be
 * checked). */
static wqc_status take_frame(wqc_archive *in, const wqc_frame_source *from, const decode_plan *p, size_t j, int *check,
                             const wqc_frame **f, wqc_error *err)
{
    wqc_status st = check ? wqc_frame_source_get_kept(in, from, p->index[j], f, check, err)
                          : wqc_frame_source_get(in, from, p->index[j], f, err);
    return in_shard(in, p->index[j], st, err);
}

/* What a tensor's stream gives: given integers stay integers; only weights
 * are dequantized. */
static wqc_rans_form tensor_form(const coding_args *a, const wqc_frame *f)
{
    int given = f->quantized && f->quant.method == WQC_QUANT_GIVEN;
    return a->dequantize && !given ? form_of(a->out_dtype) : WQC_FORM_SYMBOLS;
}

/* Writes tensor t (of frame j): its data streamed from its frame, or, for
 * the scale and offset arrays of the quantized layout, the arrays. */
static wqc_status write_tensor(const coding_args *a, wqc_archive *in, const wqc_frame_source *from, int threads,
                               const decode_plan *p, const wqc_tensor *t, size_t j, counted_sink *sink, wqc_error *err)
{
    sink->written = 0;
    if (t->data) return counted_write(sink, t->data, (size_t)t->nbytes, err);
    const wqc_frame *f;
    wqc_status st = take_frame(in, from, p, j, NULL, &f, err);
    if (st != WQC_OK) return st;
    st = wqc_frame_stream(f, tensor_form(a, f), threads, 0, counted_write, sink, err);
    if (st == WQC_OK && sink->written != t->nbytes)
        st = wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s' decoded to %llu bytes, %llu expected", f->name,
                      (unsigned long long)sink->written, (unsigned long long)t->nbytes);
    wqc_frame_source_done(in, from, p->index[j], f);
    return st;
}

/* How many output tensors from t on to decode at once (wqc_frame_batch):
 * up to 2 x threads decoded ones within the output budget; 1 when t's own
 * output is over a thread's share (streamed, its chunks on every thread).
 * *bytes: their output. */
static size_t tensor_batch(int threads, const wqc_tensor *tensors, size_t t, size_t nt, uint64_t *bytes)
{
    size_t n = 0, decoded = 0;
    *bytes = 0;
    for (; t + n < nt; n++) {
        const wqc_tensor *x = &tensors[t + n];
        if (!wqc_frame_batch_admits(threads, decoded, *bytes, x->data ? 0 : x->nbytes)) break;
        if (x->data) continue;
        *bytes += x->nbytes;
        decoded++;
    }
    return decoded > 1 ? n : 1;
}

/* Output tensors t..t+count-1 decoded at once, written in order; a frame
 * not taken ends the batch, its error returned after those before it. */
static wqc_status write_batch(const coding_args *a, wqc_archive *in, const wqc_frame_source *from, int threads,
                              const decode_plan *p, const wqc_tensor *tensors, const size_t *frame_of, size_t t,
                              size_t count, wqc_frame_batch *b, counted_sink *sink, wqc_error *err)
{
    wqc_frame_job *jobs = calloc(count, sizeof *jobs);
    if (!jobs) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status taking = WQC_OK;
    size_t taken = 0, njobs = 0;
    for (; taken < count; taken++) {
        if (tensors[t + taken].data) continue;
        wqc_frame_job *j = &jobs[njobs];
        taking = take_frame(in, from, p, frame_of[t + taken], &j->check, &j->f, err);
        j->in = in;
        j->index = p->index[frame_of[t + taken]];
        if (taking != WQC_OK) break;
        j->form = tensor_form(a, j->f);
        j->len = tensors[t + taken].nbytes;
        njobs++;
    }
    wqc_status st = wqc_frame_batch_decode(b, jobs, njobs, threads, err);
    for (size_t k = 0, job = 0; k < taken; k++) {
        const wqc_tensor *x = &tensors[t + k];
        if (x->data) {
            if (st == WQC_OK) st = counted_write(sink, x->data, (size_t)x->nbytes, err);
            continue;
        }
        wqc_frame_job *j = &jobs[job++];
        if (st == WQC_OK && j->status != WQC_OK) {
            *err = j->err;
            st = in_shard(in, j->index, j->status, err);
        }
        if (st == WQC_OK) st = counted_write(sink, j->out, (size_t)j->len, err);
        wqc_frame_source_done_kept(in, from, p->index[frame_of[t + k]], j->f);
    }
    free(jobs);
    return st == WQC_OK ? taking : st;
}

/* Bytes tensor frame o takes in the output (symbols: with its scale and offset arrays). */
static uint64_t output_bytes(const coding_args *a, const wqc_frame *o)
{
    (void)a;
    return plain_tensor(o).nbytes + (o->quantized ? 2 * o->q.ngroups * sizeof(float) : 0);
}

/* The tensors of each output shard, for the index (names owned). */
typedef struct index_names {
    char **name;
    size_t *shard_of;
    size_t n, cap, shard;
    uint64_t total;
    int ok;
} index_names;

static void index_names_add(index_names *x, const char *name, uint64_t bytes)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        char **nn = realloc(x->name, cap * sizeof *nn);
        if (nn) x->name = nn;
        size_t *ns = nn ? realloc(x->shard_of, cap * sizeof *ns) : NULL;
        if (ns) x->shard_of = ns;
        if (!nn || !ns) {
            x->ok = 0;
            return;
        }
        x->cap = cap;
    }
    if (!(x->name[x->n] = strdup(name))) x->ok = 0;
    x->shard_of[x->n++] = x->shard;
    x->total += bytes;
}

static void index_names_free(index_names *x)
{
    for (size_t i = 0; i < x->n; i++) free(x->name[i]);
    free(x->name);
    free(x->shard_of);
}

/* With several threads and an output that nobody reads before it is
 * whole, the records are checked on a thread of their own while the frames
 * decode (wqc/archive.h): the check is the file's reading (page faults and
 * XXH3), what is left serial when many threads decode. The checker takes a
 * core of its own beside the -T decoders, or one of them when -T covers
 * every core (a 17th thread on 16 cores stalled the decoders' barriers:
 * 32 ms instead of 14 on the device's Xeon, bench/results/
 * decode-threads-device.md), and not at all when that would leave fewer
 * than 3 decoders. WQC_CHECK_AHEAD=0 turns it off (for benchmarks).
 * Records with segment checks are left to the decoders, which verify them
 * all -T wide before decoding (wqc_frame_source). *threads: the decoders.
 * NULL: each record is checked before its frame decodes. */
static wqc_archive_checker *start_checker(const coding_args *a, wqc_archive *in, const cli_out *out, const size_t *idx,
                                          size_t n, int *threads)
{
    const char *env = getenv("WQC_CHECK_AHEAD");
    int cores = cli_cpu_count(), within = a->threads >= cores;
    wqc_archive_checker *c = NULL;
    *threads = (int)a->threads;
    if ((env && strcmp(env, "0") == 0) || a->threads < 2 || (within && a->threads < 4) || !cli_out_whole_only(out))
        return NULL;
    size_t *whole = malloc((n ? n : 1) * sizeof *whole), m = 0;
    for (size_t k = 0; whole && k < n; k++)
        if (!wqc_archive_checks_segments(in, idx[k], *threads)) whole[m++] = idx[k];
    int started = whole && m && wqc_archive_checker_start(in, whole, m, &c, NULL) == WQC_OK;
    free(whole);
    if (!started) return NULL;
    if (within) (*threads)--;
    return c;
}

/* The checks' verdict with the decode's: a failed check is the cause of any
 * decode error (the decoders met damage), not of a failed write. */
static wqc_status finish_checker(wqc_archive_checker *c, wqc_status st, wqc_error *err)
{
    wqc_error checked;
    wqc_status cst = wqc_archive_checker_finish(c, &checked);
    if (cst == WQC_OK || st == WQC_ERR_IO) return st;
    *err = checked;
    return cst;
}

/* Writes the frames first..first+count of the plan as one file. */
static wqc_status write_file(const coding_args *a, wqc_archive *in, const decode_plan *p, size_t first, size_t count,
                             cli_out *out, cli_progress *progress, index_names *names, wqc_error *err)
{
    decode_plan slice = {count, p->index + first, p->stored + first, p->out + first};
    decode_layout l;
    const wqc_tensor *tensors = NULL;
    const size_t *frame_of = NULL;
    size_t nt = 0;
    wqc_status st = write_header(a, out, wqc_archive_reader(in), &slice, &l, &tensors, &nt, &frame_of, err);
    for (size_t t = 0; names && st == WQC_OK && t < nt; t++) index_names_add(names, tensors[t].name, tensors[t].nbytes);
    counted_sink sink = {out, progress, 0};
    /* Sharded outputs are committed one by one: their records are checked as read. */
    int threads = (int)a->threads;
    wqc_archive_checker *checker = names ? NULL : start_checker(a, in, out, slice.index, count, &threads);
    wqc_frame_source from;
    wqc_frame_source_start(in, checker, threads, &from);
    /* The buffer for the largest batch, made once. */
    uint64_t most = 0, bytes;
    for (size_t t = 0, run; t < nt; t += run)
        if ((run = tensor_batch(threads, tensors, t, nt, &bytes)) > 1 && bytes > most) most = bytes;
    wqc_frame_batch batch = {0};
    if (st == WQC_OK && most) st = wqc_frame_batch_reserve(&batch, most, err);
    for (size_t t = 0, run; st == WQC_OK && t < nt; t += run) {
        run = tensor_batch(threads, tensors, t, nt, &bytes);
        if (run > 1)
            st = write_batch(a, in, &from, threads, &slice, tensors, frame_of, t, run, &batch, &sink, err);
        else
            st = write_tensor(a, in, &from, threads, &slice, &tensors[t], frame_of[t], &sink, err);
        for (size_t k = t; st == WQC_OK && k < t + run; k++)
            if (k + 1 == nt || frame_of[k + 1] != frame_of[k]) cli_progress_add(progress, 1, 0);
    }
    wqc_frame_batch_free(&batch);
    wqc_frame_source_end(&from);
    st = finish_checker(from.checker, st, err);
    layout_free(&l);
    return st;
}

/* Ends an output after write_file: committed when whole, else removed with
 * the error naming the output (a write failed) or the input (damage). */
static int finish_file(const coding_args *a, cli_out *out, wqc_status st, const wqc_error *err, int commit)
{
    if (st == WQC_OK && !commit) return WQC_EXIT_OK;
    if (st == WQC_OK || st == WQC_ERR_IO) return cli_out_finish(out, st, err);
    cli_out_abort(out);
    cli_file_error(a->input, st, err);
    return cli_exit_status(st);
}

/* Frames in the output shard starting at plan entry `first`. */
static size_t shard_length(const coding_args *a, const wqc_archive *in, const decode_plan *p, size_t first)
{
    size_t c = 0;
    uint64_t bytes = 0;
    while (first + c < p->n) {
        if (a->shards.per_input) {
            if (c && wqc_archive_file_of(in, p->index[first + c]) != wqc_archive_file_of(in, p->index[first])) break;
        } else {
            uint64_t b = output_bytes(a, &p->out[first + c]);
            if (c && bytes + b > a->shards.size) break;
            bytes += b;
        }
        c++;
    }
    return c;
}

/* The .wqc keeps its source file's layout and every selected tensor comes
 * back as it was (stored losslessly, or given integers): the original file,
 * byte for byte, is the output. */
/* The whole file, as it was: what the archive holds exactly, asked for whole. */
static int source_reproducible(const coding_args *a, wqc_archive *in, const decode_plan *p)
{
    if (a->dequantize || a->nglobs || a->shards.on || p->n != wqc_archive_count(in) ||
        !wqc_archive_reproduces_source(in))
        return 0;
    /* An output named for another format (x.safetensors for a .npy source) gets that format. */
    wqc_source_format fmt = wqc_reader_source(wqc_archive_reader(in))->format;
    const char *want = fmt == WQC_SOURCE_NPY ? ".npy" : fmt == WQC_SOURCE_GGUF ? ".gguf" : ".safetensors";
    int named = !a->output_owned && (cli_has_suffix(a->output, ".npy") || cli_has_suffix(a->output, ".gguf") ||
                                     cli_has_suffix(a->output, ".safetensors"));
    return !named || cli_has_suffix(a->output, want);
}

/* A default name that is not the source's: decoding a quantized file gives
 * symbols or weights, never the original, so it must not replace it. */
static int rename_lossy(coding_args *a)
{
    const char *tag = a->dequantize ? ".dequantized.safetensors" : ".symbols.safetensors";
    size_t keep = strlen(a->output_owned) - strlen(".safetensors");
    char *renamed = malloc(keep + strlen(tag) + 1);
    if (!renamed) return 0;
    memcpy(renamed, a->output_owned, keep);
    strcpy(renamed + keep, tag);
    free(a->output_owned);
    a->output = a->output_owned = renamed;
    return 1;
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
    wqc_archive *in = NULL;
    rc = cli_archive_open(&a, 0, &in);
    if (rc != WQC_EXIT_OK) {
        coding_args_free(&a);
        return rc;
    }
    decode_plan p;
    shard_set set = {0};
    wqc_error err;
    wqc_error_clear(&err);
    cli_progress progress;
    cli_progress_start(&progress, 0, 0, 1);
    rc = plan_make(&a, in, &p);
    if (rc != WQC_EXIT_OK) goto done;
    if (p.n == 0 && a.nglobs) {
        cli_error("%s: no tensor matches --tensors (globs match whole names)", a.input);
        rc = WQC_EXIT_USAGE;
        goto done;
    }
    int reproducible = source_reproducible(&a, in, &p), lossy = 0;
    for (size_t i = 0; i < p.n; i++) lossy |= p.stored[i]->quantized && p.stored[i]->quant.method != WQC_QUANT_GIVEN;
    if (!reproducible && lossy && a.output_owned && !rename_lossy(&a)) {
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    if (reproducible) {
        /* Named after the input, a .npy or GGUF source comes back as .npy or .gguf. */
        wqc_source_format fmt = wqc_reader_source(wqc_archive_reader(in))->format;
        if (a.output_owned && (fmt == WQC_SOURCE_NPY || fmt == WQC_SOURCE_GGUF)) {
            const char *ext = fmt == WQC_SOURCE_NPY ? ".npy" : ".gguf";
            size_t n = strlen(a.output_owned);
            char *renamed = malloc(n + 1);
            if (renamed) {
                memcpy(renamed, a.output_owned, n - strlen(".safetensors"));
                strcpy(renamed + n - strlen(".safetensors"), ext);
                free(a.output_owned);
                a.output = a.output_owned = renamed;
            }
        }
        uint64_t total = wqc_reader_source(wqc_archive_reader(in))->header_len;
        for (size_t i = 0; i < p.n; i++) total += p.out[i].raw_len;
        cli_progress_start(&progress, p.n, total, a.quiet);
        cli_out out;
        if (!cli_out_open(&out, a.output, a.force)) {
            rc = WQC_EXIT_ERROR;
            goto done;
        }
        counted_sink sink = {&out, &progress, 0};
        const wqc_source *src = wqc_reader_source(wqc_archive_reader(in));
        int threads;
        wqc_archive_checker *checker = start_checker(&a, in, &out, src->order, src->n, &threads);
        wqc_status st = wqc_archive_write_source_checked_by(in, checker, threads, counted_write, &sink, &err);
        st = finish_checker(checker, st, &err);
        cli_progress_end(&progress);
        rc = finish_file(&a, &out, st, &err, 1);
        goto done;
    }
    for (size_t i = 0; i < p.n; i++)
        if (p.stored[i]->encoding == WQC_ENC_GGUF) {
            /* ggml blocks have no safetensors or .npy dtype: only their GGUF file holds them. */
            cli_error("%s: tensor '%s' is GGUF %s blocks, which only the GGUF file holds: decode it whole, "
                      "without --dequantize, --symbols, --tensors or --shard-size", a.input, p.stored[i]->name,
                      wqc_ggml_type_name(p.stored[i]->ggml_type));
            rc = WQC_EXIT_USAGE;
            goto done;
        }
    int npy = cli_has_suffix(a.output, ".npy");
    if (npy && (p.n != 1 || a.shards.on)) {
        cli_error(a.shards.on ? "a .npy output cannot be sharded" : "a .npy output holds one tensor, %zu selected (use --tensors NAME)", p.n);
        rc = WQC_EXIT_USAGE;
        goto done;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < p.n; i++) total += output_bytes(&a, &p.out[i]);
    cli_progress_start(&progress, p.n, total, a.quiet);
    if (!a.shards.on) {
        cli_out out;
        if (!cli_out_open(&out, a.output, a.force)) {
            rc = WQC_EXIT_ERROR;
            goto done;
        }
        wqc_status st = write_file(&a, in, &p, 0, p.n, &out, &progress, NULL, &err);
        cli_progress_end(&progress);
        rc = finish_file(&a, &out, st, &err, 1);
        goto done;
    }
    if (!shard_set_begin(&set, a.output, ".safetensors", a.force)) {
        rc = WQC_EXIT_USAGE;
        goto done;
    }
    index_names names = {.ok = 1};
    for (size_t first = 0, k = 0; first < p.n || (p.n == 0 && k == 0); k++) {
        size_t count = shard_length(&a, in, &p, first);
        cli_out *out = shard_set_add(&set);
        if (!out) {
            rc = WQC_EXIT_ERROR;
            break;
        }
        names.shard = k;
        wqc_status st = write_file(&a, in, &p, first, count, out, &progress, &names, &err);
        if (st != WQC_OK) {
            cli_progress_end(&progress);
            rc = finish_file(&a, out, st, &err, 0);
            break;
        }
        first += count;
        if (p.n == 0) break;
    }
    cli_progress_end(&progress);
    if (rc == WQC_EXIT_OK && names.ok)
        rc = shard_set_finish(&set, (const char *const *)names.name, names.shard_of, names.n, names.total, NULL, 0);
    else if (rc == WQC_EXIT_OK) {
        cli_error("out of memory");
        rc = WQC_EXIT_ERROR;
    }
    index_names_free(&names);
done:
    shard_set_abort(&set);
    plan_free(&p);
    wqc_archive_close(in);
    coding_args_free(&a);
    return rc;
}
