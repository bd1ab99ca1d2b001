/* wqc analyze FILE... : entropy of quantized weights, per tensor and overall. */
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "commands.h"
#include "output.h"

/* As quantize and encode: every matrix. */
#define DEFAULT_MIN_ELEMENTS 0

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wqc analyze [options] FILE...\n"
            "       wqc analyze [options] --synthetic gaussian:ROWSxCOLS[:sigma=S][:seed=N]\n"
            "FILE is .npy, .safetensors, or a sharded checkpoint's *.index.json; '-' is stdin.\n"
            "A GGUF file (llama.cpp) gets its own report: per tensor its blocks split into streams\n"
            "(codes, scales, minimums), each stream's entropy and what wqc would store.\n"
            "\nquantizer:\n"
            "  --method affine|sdclip|grid   (default affine)\n"
            "  --bits B                      1..8 (default 4; sdclip: 6)\n"
            "  --granularity tensor|row|group:G   affine groups (default row)\n"
            "  -k K                          sdclip clip at K std (default 12.85)\n"
            "  --step D                      grid step (required by grid)\n"
            "  --precision P                 rANS table precision 10..15 (default 12)\n"
            "  --exact-ends                  affine's grid ends and sdclip's step in full float32, as a\n"
            "                                textbook quantizer has them (default and encode: rounded to\n"
            "                                bfloat16, 8 significant bits, which cost a third to store)\n"
            "selection:\n"
            "  --tensors GLOB                only tensors whose name matches (repeatable)\n"
            "  --min-elements N              analyse tensors of rank >= 2 with at least N\n"
            "                                elements (default 0, as encode); others are listed as skipped\n"
            "  --vectors                     analyse rank 0/1 tensors too\n"
            "output:\n"
            "  --hist                        print each tensor's symbol histogram\n"
            "  --json                        one JSON document on stdout\n"
            "  --baselines                   zstd, brotli and xz sizes of the symbols (slow)\n"
            "  --lossless                    instead: per F32/F16/BF16 tensor, the entropy of the streams\n"
            "                                encode --lossless codes (exponent, sign, mantissa bytes),\n"
            "                                what it stores, and zstd/brotli/xz of the tensor's bytes\n"
            "  --zstd-level L, --brotli-quality Q   (defaults 19 and 11)\n"
            "  --rd                          instead: rate-distortion sweep per tensor and for the model:\n"
            "                                affine tensor/row/group:32 and sdclip at each k, bits 2..8;\n"
            "                                bits/weight (entropy, and as encode codes it) against SQNR\n"
            "                                and the distance to the Gaussian ECSQ line 6.02 R - 1.53 dB\n"
            "  --rd-bits LO..HI              bits of the sweep (default 2..8)\n"
            "  --rd-k K1,K2,...              sdclip k values (default 1,2,3,4,6,8,12.85)\n"
            "  --plot FILE.svg               draw the symbol histograms (a grid, largest tensors first)\n"
            "                                or, with --rd, the rate-distortion curves (replaces FILE)\n"
            "  -T N, --threads N             tensors analysed in parallel (default: all cores)\n"
            "  -q, --quiet                   no text report (errors and gates only)\n"
            "CI gates (exit status 3 when missed, on the whole-input figure):\n"
            "  --max-bits X                  estimated rANS bits/weight must be <= X\n"
            "  --min-saving PCT              saving vs packed b-bit must be >= PCT percent\n");
}

enum {
    OPT_METHOD = 256, OPT_BITS, OPT_GRAN, OPT_STEP, OPT_PRECISION, OPT_TENSORS, OPT_MIN_ELEM,
    OPT_VECTORS, OPT_HIST, OPT_JSON, OPT_BASELINES, OPT_ZSTD, OPT_BROTLI, OPT_MAX_BITS,
    OPT_MIN_SAVING, OPT_EXACT_ENDS, OPT_SYNTHETIC, OPT_LOSSLESS, OPT_RD, OPT_RD_BITS, OPT_RD_K, OPT_PLOT
};

static const struct option long_options[] = {
    {"method", required_argument, NULL, OPT_METHOD},
    {"bits", required_argument, NULL, OPT_BITS},
    {"granularity", required_argument, NULL, OPT_GRAN},
    {"step", required_argument, NULL, OPT_STEP},
    {"precision", required_argument, NULL, OPT_PRECISION},
    {"tensors", required_argument, NULL, OPT_TENSORS},
    {"min-elements", required_argument, NULL, OPT_MIN_ELEM},
    {"vectors", no_argument, NULL, OPT_VECTORS},
    {"hist", no_argument, NULL, OPT_HIST},
    {"json", no_argument, NULL, OPT_JSON},
    {"baselines", no_argument, NULL, OPT_BASELINES},
    {"zstd-level", required_argument, NULL, OPT_ZSTD},
    {"brotli-quality", required_argument, NULL, OPT_BROTLI},
    {"threads", required_argument, NULL, 'T'},
    {"quiet", no_argument, NULL, 'q'},
    {"max-bits", required_argument, NULL, OPT_MAX_BITS},
    {"min-saving", required_argument, NULL, OPT_MIN_SAVING},
    {"synthetic", required_argument, NULL, OPT_SYNTHETIC},
    {"exact-ends", no_argument, NULL, OPT_EXACT_ENDS},
    {"lossless", no_argument, NULL, OPT_LOSSLESS},
    {"rd", no_argument, NULL, OPT_RD},
    {"rd-bits", required_argument, NULL, OPT_RD_BITS},
    {"rd-k", required_argument, NULL, OPT_RD_K},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct analyze_args {
    wqc_quant_settings quant;
    wqc_analysis_options options;
    const char **globs;
    size_t nglobs;
    uint64_t min_elements;
    int vectors, hist, json, quiet, lossless, rd;
    rd_options rd_opts;
    const char *plot;
    long threads;
    double max_bits, min_saving;
    const char *synthetic;
    int exact_ends;
} analyze_args;

static int parse_args(int argc, char **argv, analyze_args *a)
{
    memset(a, 0, sizeof *a);
    wqc_quant_settings_init(&a->quant);
    wqc_analysis_options_default(&a->options);
    a->min_elements = DEFAULT_MIN_ELEMENTS;
    a->threads = cli_cpu_count();
    a->max_bits = a->min_saving = NAN;
    static const double default_ks[] = {1, 2, 3, 4, 6, 8, 12.85};
    a->rd_opts.bits_lo = 2, a->rd_opts.bits_hi = 8;
    a->rd_opts.nk = sizeof default_ks / sizeof *default_ks;
    memcpy(a->rd_opts.ks, default_ks, sizeof default_ks);
    a->globs = calloc((size_t)argc + 1, sizeof *a->globs);
    if (!a->globs) return WQC_EXIT_ERROR;
    long v;
    int c;
    while ((c = getopt_long(argc, argv, "k:T:qh", long_options, NULL)) != -1) {
        int handled = 0;
        switch (c) {
        case OPT_METHOD: handled = cli_quant_option(&a->quant, "method", optarg); break;
        case OPT_BITS: handled = cli_quant_option(&a->quant, "bits", optarg); break;
        case OPT_GRAN: handled = cli_quant_option(&a->quant, "granularity", optarg); break;
        case OPT_STEP: handled = cli_quant_option(&a->quant, "step", optarg); break;
        case 'k': handled = cli_quant_option(&a->quant, "k", optarg); break;
        case OPT_PRECISION: {
            wqc_rans_params p;
            if (!cli_rans_option(&p, "precision", optarg)) return WQC_EXIT_USAGE;
            a->options.precision = p.precision;
            break;
        }
        case OPT_TENSORS: a->globs[a->nglobs++] = optarg; break;
        case OPT_MIN_ELEM:
            if (!cli_parse_u64("--min-elements", optarg, &a->min_elements)) return WQC_EXIT_USAGE;
            break;
        case OPT_VECTORS: a->vectors = 1; break;
        case OPT_HIST: a->hist = 1; break;
        case OPT_JSON: a->json = 1; break;
        case OPT_BASELINES: a->options.baselines = 1; break;
        case OPT_ZSTD:
            if (!cli_parse_int("--zstd-level", optarg, 1, 22, &v)) return WQC_EXIT_USAGE;
            a->options.zstd_level = (int)v;
            break;
        case OPT_BROTLI:
            if (!cli_parse_int("--brotli-quality", optarg, 0, 11, &v)) return WQC_EXIT_USAGE;
            a->options.brotli_quality = (int)v;
            break;
        case 'T':
            if (!cli_parse_int("-T", optarg, 1, 4096, &a->threads)) return WQC_EXIT_USAGE;
            break;
        case 'q': a->quiet = 1; break;
        case OPT_MAX_BITS:
            if (!cli_parse_double("--max-bits", optarg, 0.0, 64.0, &a->max_bits)) return WQC_EXIT_USAGE;
            break;
        case OPT_MIN_SAVING:
            if (!cli_parse_double("--min-saving", optarg, -1e9, 100.0, &a->min_saving))
                return WQC_EXIT_USAGE;
            break;
        case OPT_SYNTHETIC: a->synthetic = optarg; break;
        case OPT_EXACT_ENDS: a->exact_ends = 1; break;
        case OPT_LOSSLESS: a->lossless = 1; break;
        case OPT_RD: a->rd = 1; break;
        case OPT_RD_BITS: {
            int lo, hi, used = 0;
            if (sscanf(optarg, "%d..%d%n", &lo, &hi, &used) != 2 || optarg[used] || lo < 2 || hi > 8 || lo > hi) {
                cli_error("--rd-bits: expected LO..HI within 2..8, got '%s'", optarg);
                return WQC_EXIT_USAGE;
            }
            a->rd_opts.bits_lo = lo, a->rd_opts.bits_hi = hi;
            break;
        }
        case OPT_RD_K: {
            a->rd_opts.nk = 0;
            char *copy = strdup(optarg), *save = NULL;
            for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
                double k;
                if (a->rd_opts.nk == sizeof a->rd_opts.ks / sizeof *a->rd_opts.ks ||
                    !cli_parse_double("--rd-k", tok, 1e-3, 1e3, &k)) {
                    if (a->rd_opts.nk == sizeof a->rd_opts.ks / sizeof *a->rd_opts.ks) cli_error("--rd-k: at most 16 values");
                    free(copy);
                    return WQC_EXIT_USAGE;
                }
                a->rd_opts.ks[a->rd_opts.nk++] = k;
            }
            free(copy);
            break;
        }
        case OPT_PLOT: a->plot = optarg; break;
        case 'h': usage(stdout); exit(WQC_EXIT_OK);
        default: usage(stderr); return WQC_EXIT_USAGE;
        }
        if (handled < 0) return WQC_EXIT_USAGE;
    }
    if (!cli_quant_options_finish(&a->quant)) return WQC_EXIT_USAGE;
    a->options.quant = a->quant.params;
    a->options.quant.exact_ends = a->exact_ends;
    int gates = !isnan(a->max_bits) || !isnan(a->min_saving);
    if (a->exact_ends && (a->lossless || a->rd || a->quant.params.method == WQC_QUANT_GRID)) {
        cli_error("--exact-ends sets affine's grid ends and sdclip's step: not with %s",
                  a->lossless ? "--lossless" : a->rd ? "--rd (its sweep rounds as encode does)" : "--method grid");
        return WQC_EXIT_USAGE;
    }
    if (gates && (a->lossless || a->rd)) {
        cli_error("--max-bits and --min-saving judge the quantized analysis, not %s", a->lossless ? "--lossless" : "--rd");
        return WQC_EXIT_USAGE;
    }
    if (a->plot && !cli_has_suffix(a->plot, ".svg")) {
        cli_error("--plot writes SVG: name the file .svg, got '%s'", a->plot);
        return WQC_EXIT_USAGE;
    }
    if (optind == argc && !a->synthetic) {
        cli_error("no input: give FILE... or --synthetic gaussian:ROWSxCOLS");
        usage(stderr);
        return WQC_EXIT_USAGE;
    }
    return WQC_EXIT_OK;
}

static int name_selected(const analyze_args *a, const char *name)
{
    if (a->nglobs == 0) return 1;
    for (size_t i = 0; i < a->nglobs; i++)
        if (fnmatch(a->globs[i], name, 0) == 0) return 1;
    return 0;
}

static int selected_name(const void *a, const char *name) { return name_selected(a, name); }

/* Why tensor i of `in` is not analysed (as encode, which keeps it), or NULL. */
static const char *skip_reason(const analyze_args *a, const analyze_input *in, size_t i, const wqc_tensor *t)
{
    if (in->scales_of && in->scales_of[i] != SIZE_MAX) return "block scales of an 8/4-bit tensor, kept exactly";
    if (in->packed && in->packed[i] != WQC_PACKED_NONE)
        return in->packed[i] == WQC_PACKED_MXFP4 ? "MXFP4 (packed E2M1), kept exactly: see --lossless"
                                                 : "NVFP4 (packed E2M1), kept exactly: see --lossless";
    if (t->dtype == WQC_DTYPE_F8_E4M3 || t->dtype == WQC_DTYPE_F8_E5M2 || t->dtype == WQC_DTYPE_F8_E8M0)
        return "8-bit float, kept exactly: see --lossless";
    if (!wqc_dtype_is_float(t->dtype) && t->dtype != WQC_DTYPE_I8 && t->dtype != WQC_DTYPE_U8)
        return "dtype not analysed";
    if (t->ndim < 2 && !a->vectors) return "rank < 2 (use --vectors)";
    if (t->nelem < a->min_elements || t->nelem == 0) return "below --min-elements";
    return NULL;
}

/* Adds a job for every selected tensor of input `index`. */
static int add_jobs(const analyze_args *a, size_t index, const analyze_input *in, analyze_job **jobs,
                    size_t *njobs)
{
    size_t count = in->model ? wqc_model_count(in->model) : 1;
    analyze_job *grown = realloc(*jobs, (*njobs + count + 1) * sizeof *grown);
    if (!grown) return 0;
    *jobs = grown;
    for (size_t i = 0; i < count; i++) {
        const wqc_tensor *t = in->model ? wqc_model_tensor(in->model, i) : &in->synthetic;
        if (!name_selected(a, t->name)) continue;
        analyze_job *j = &grown[(*njobs)++];
        memset(j, 0, sizeof *j);
        j->input = index;
        j->index = i;
        j->tensor = t;
        j->skip = skip_reason(a, in, i, t);
    }
    return 1;
}

static int open_synthetic(const char *spec_text, analyze_input *in)
{
    wqc_synthetic_spec spec;
    wqc_error err;
    wqc_error_clear(&err);
    if (wqc_synthetic_parse(spec_text, &spec, &err) != WQC_OK) {
        cli_error("--synthetic: %s", err.msg);
        return WQC_EXIT_USAGE;
    }
    if (wqc_synthetic_generate(&spec, &in->synthetic_data, &err) != WQC_OK) {
        cli_error("--synthetic: %s", err.msg);
        return WQC_EXIT_ERROR;
    }
    wqc_tensor *t = &in->synthetic;
    t->name = spec_text;
    t->dtype = WQC_DTYPE_F32;
    t->ndim = 2;
    t->shape[0] = spec.rows;
    t->shape[1] = spec.cols;
    t->nelem = spec.rows * spec.cols;
    t->data = (const unsigned char *)in->synthetic_data;
    t->nbytes = t->nelem * sizeof(float);
    in->label = spec_text;
    return WQC_EXIT_OK;
}

/* Each input's encoder, as `wqc encode` with the same quantizer and
 * precision would run it, so that the modes and bytes analyze reports are
 * the ones encode writes: the same frames, shared models and choice. */
static wqc_status open_encoders(const analyze_args *a, analyze_input *inputs, size_t ninputs, wqc_error *err)
{
    wqc_model_encode_options o;
    wqc_model_encode_options_default(&o);
    o.plan.base = a->options.quant;
    o.coding.rans.precision = a->options.precision;
    o.stats = 0;
    for (size_t in = 0; in < ninputs; in++) {
        analyze_input *input = &inputs[in];
        if (!input->model) continue;
        size_t count = wqc_model_count(input->model);
        input->coded_as = malloc((count + 1) * sizeof *input->coded_as);
        if (!input->coded_as) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < count; i++) input->coded_as[i] = SIZE_MAX;
        wqc_status st = wqc_model_encoder_open(input->model, &o, &input->encoder, err);
        if (st != WQC_OK) return st;
        const wqc_model_encoder *e = input->encoder;
        for (size_t k = 0; k < wqc_model_encoder_count(e); k++)
            if (wqc_model_encoder_quantized(e, k)) input->coded_as[wqc_model_encoder_input_index(e, k)] = k;
    }
    return WQC_OK;
}

/* The modes of tensor k as encode codes it. */
static wqc_status encoded_modes(const analyze_input *in, size_t k, wqc_mode_sizes *modes, wqc_error *err)
{
    wqc_coded_tensor c;
    wqc_status st = wqc_model_encoder_code(in->encoder, k, &c, err);
    if (st == WQC_OK) *modes = c.sizes;
    wqc_model_encoder_release(in->encoder, k, &c);
    return st;
}

static void run_jobs(analyze_job *jobs, size_t njobs, const analyze_input *inputs, const wqc_analysis_options *options,
                     long threads)
{
    (void)threads;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads((int)threads)
#endif
    for (size_t i = 0; i < njobs; i++) {
        if (jobs[i].skip) continue;
        analyze_job *j = &jobs[i];
        const analyze_input *in = &inputs[j->input];
        size_t k = in->coded_as ? in->coded_as[j->index] : SIZE_MAX;
        wqc_analysis_options o = *options;
        o.modes = k == SIZE_MAX;
        wqc_error_clear(&j->err);
        j->status = wqc_analyze_tensor(j->tensor, &o, &j->result, &j->err);
        if (j->status == WQC_OK && k != SIZE_MAX) j->status = encoded_modes(in, k, &j->result.modes, &j->err);
    }
}

/* The gates judge what encode writes (its modes' bytes of symbols), not the
 * order-0 estimate; every missed gate is reported. */
static void check_gates(analyze_report *r)
{
    const wqc_analysis_summary *s = &r->summary;
    double bytes = s->mode_bytes[WQC_MODE_AUTO];
    double bits = s->nelem ? bytes * 8.0 / (double)s->nelem : 0.0;
    double saving = s->packed_bits_total > 0 ? 100.0 * (1.0 - bytes * 8.0 / s->packed_bits_total) : 0.0;
    char *msg = r->gate_message;
    size_t cap = sizeof r->gate_message, len = 0;
    if (isnan(r->max_bits) && isnan(r->min_saving)) return;
    r->gate_failed = 1;
    if (s->tensors == 0) {
        snprintf(msg, cap, "gate failed: no tensor was analysed");
        return;
    }
    len += (size_t)snprintf(msg, cap, "gate failed:");
    if (!isnan(r->max_bits) && bits > r->max_bits)
        len += (size_t)snprintf(msg + len, cap - len, " encode's %.4f bits/weight exceeds --max-bits %g;", bits,
                                r->max_bits);
    if (len < cap && !isnan(r->min_saving) && saving < r->min_saving)
        len += (size_t)snprintf(msg + len, cap - len, " saving %.2f%% is below --min-saving %g%%;", saving,
                                r->min_saving);
    if (msg[len - 1] == ':') r->gate_failed = 0;
    else if (len < cap) msg[len - 1] = '\0';
}

int cmd_analyze(int argc, char **argv)
{
    cli_program = "wqc analyze";
    analyze_args a;
    int rc = parse_args(argc, argv, &a);
    size_t ninputs = 0, njobs = 0;
    analyze_input *inputs = calloc((size_t)(argc - optind) + 2, sizeof *inputs);
    analyze_job *jobs = NULL;
    if (rc != WQC_EXIT_OK || !inputs) goto done;

    if (optind < argc && wqc_detect_file(argv[optind]) == WQC_FILE_GGUF && (!isnan(a.max_bits) || !isnan(a.min_saving))) {
        cli_error("--max-bits and --min-saving judge quantized weights, not a GGUF file's blocks");
        rc = WQC_EXIT_USAGE;
        goto done;
    }
    if (optind < argc && wqc_detect_file(argv[optind]) == WQC_FILE_GGUF) {
        gguf_options go = {a.json, a.quiet, selected_name, &a};
        cli_watch_input(argv[optind]);
        rc = analyze_gguf(&go, (const char *const *)argv + optind, (size_t)(argc - optind));
        goto done;
    }
    if (a.synthetic) {
        rc = open_synthetic(a.synthetic, &inputs[0]);
        if (rc != WQC_EXIT_OK) goto done;
        ninputs = 1;
    }
    for (int i = optind; i < argc; i++) {
        wqc_error err;
        wqc_error_clear(&err);
        analyze_input *in = &inputs[ninputs];
        in->label = argv[i];
        wqc_status st = wqc_model_open(argv[i], &in->model, &err);
        if (st != WQC_OK) {
            rc = cli_file_error(argv[i], st, &err);
            goto done;
        }
        ninputs++;
        size_t count = wqc_model_count(in->model);
        in->scales_of = malloc((count + 1) * sizeof *in->scales_of);
        in->packed = malloc((count + 1) * sizeof *in->packed);
        st = in->scales_of && in->packed ? wqc_model_block_scales(in->model, in->scales_of, in->packed, &err)
                                         : wqc_fail(&err, WQC_ERR_NOMEM, "out of memory");
        if (st != WQC_OK) {
            rc = cli_file_error(argv[i], st, &err);
            goto done;
        }
    }
    if (a.lossless) {
        lossless_options lo = {a.json, a.quiet, a.options.zstd_level, a.options.brotli_quality, selected_name, &a};
        cli_watch_input(ninputs == 1 ? inputs[0].label : "one of the inputs");
        rc = analyze_lossless(&lo, inputs, ninputs);
        goto done;
    }
    for (size_t i = 0; i < ninputs; i++) {
        if (!add_jobs(&a, i, &inputs[i], &jobs, &njobs)) {
            cli_error("out of memory");
            rc = WQC_EXIT_ERROR;
            goto done;
        }
    }
    if (a.rd) {
        a.rd_opts.json = a.json, a.rd_opts.quiet = a.quiet, a.rd_opts.precision = a.options.precision;
        a.rd_opts.threads = a.threads, a.rd_opts.plot = a.plot;
        cli_watch_input(ninputs == 1 ? inputs[0].label : "one of the inputs");
        rc = analyze_rd(&a.rd_opts, jobs, njobs, inputs);
        goto done;
    }
    cli_watch_input(ninputs == 1 ? inputs[0].label : "one of the inputs");
    wqc_error err;
    wqc_error_clear(&err);
    if (open_encoders(&a, inputs, ninputs, &err) != WQC_OK) {
        rc = cli_file_error(ninputs == 1 ? inputs[0].label : "one of the inputs", err.status, &err);
        goto done;
    }
    run_jobs(jobs, njobs, inputs, &a.options, a.threads);

    analyze_report report;
    memset(&report, 0, sizeof report);
    report.inputs = inputs;
    report.ninputs = ninputs;
    report.jobs = jobs;
    report.njobs = njobs;
    report.options = &a.options;
    report.show_hist = a.hist;
    report.max_bits = a.max_bits;
    report.min_saving = a.min_saving;
    wqc_analysis_summary_init(&report.summary);
    for (size_t i = 0; i < njobs; i++) {
        if (jobs[i].skip) continue;
        if (jobs[i].status != WQC_OK) {
            rc = cli_file_error(inputs[jobs[i].input].label, jobs[i].status, &jobs[i].err);
            goto done;
        }
        wqc_analysis_summary_add(&report.summary, &jobs[i].result);
    }
    check_gates(&report);
    if (a.json) {
        if (analyze_print_json(stdout, &report) != 0) {
            cli_error("cannot write the JSON report");
            rc = WQC_EXIT_ERROR;
            goto done;
        }
    } else if (!a.quiet) {
        analyze_print_text(stdout, &report);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write to stdout");
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    if (a.plot) {
        rc = plot_histograms(a.plot, jobs, njobs);
        if (rc != WQC_EXIT_OK) goto done;
    }
    if (report.gate_failed) {
        cli_error("%s", report.gate_message);
        rc = WQC_EXIT_GATE;
    }
done:
    for (size_t i = 0; i < ninputs; i++) {
        wqc_model_encoder_free(inputs[i].encoder);
        wqc_model_close(inputs[i].model);
        free(inputs[i].synthetic_data);
        free(inputs[i].coded_as);
        free(inputs[i].scales_of);
        free(inputs[i].packed);
    }
    free(inputs);
    free(jobs);
    free(a.globs);
    return rc;
}
