/* wqc bench [FILE]: size and speed of wqc's rANS against the codecs a user
 * would pick instead, on one input, measured in one run. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "output.h"

#define DEFAULT_SYNTHETIC "gaussian:4096x4096"
#define ENCODE_BUDGET_S 3.0

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wqc bench [options] [FILE]\n"
            "Races wqc's rANS decoders (every ISA of this CPU, every output form)\n"
            "against packed 4-bit, htscodecs rANS, zstd and brotli on the same\n"
            "quantized symbols, and prints one table. Without FILE: the seeded\n"
            "synthetic Gaussian " DEFAULT_SYNTHETIC " (sigma 0.02). FILE (.npy,\n"
            ".safetensors, *.index.json): every float tensor of rank >= 2, each\n"
            "coded on its own, figures summed.\n"
            "  --synthetic KIND:ROWSxCOLS[:sigma=S][:seed=N]   synthetic input\n"
            "  --method, --bits, --granularity, -k, --step   quantizer (default affine\n"
            "                                4-bit, granularity tensor: min/max)\n"
            "  --precision P, --lanes N, --chunk N   wqc coding parameters\n"
            "  --codecs LIST                 comma list of wqc,packed,htscodecs,zstd,brotli\n"
            "                                (--lossless: wqc,zstd,brotli,xz)\n"
            "                                (default all; brotli -q 11 encodes slowly)\n"
            "  --repeat N                    repetitions; medians are reported (default 5)\n"
            "  -T N, --threads N             wqc threads (default 1; peers use one)\n"
            "  --json                        one JSON document on stdout\n"
            "  --gemv                        instead: time y = W x with the fused decode +\n"
            "                                product against Q4_0 packed 4-bit, F16 and F32, for\n"
            "                                1..all threads, and derive the break-even memory\n"
            "                                bandwidth; FILE adds its matrices\n"
            "  --shapes RxC[,RxC...]         --gemv matrices (default " BENCH_GEMV_SHAPES ")\n"
            "  --lossless                    instead: FILE stored by encode --lossless against zstd -19,\n"
            "                                brotli -q 11 -w 24 and xz -9e of the file (sizes, speeds)\n"
            "  --gpu                         instead, on an NVIDIA GPU (a build with -DWQC_CUDA=ON):\n"
            "                                GPU decode against the device's copy bandwidth; y = W x\n"
            "                                from the frames against Q4_0 and cuBLAS F16 for 1..8\n"
            "                                vectors, and the break-even bandwidth; loading into GPU\n"
            "                                memory from .wqc, F16 and Q4_0 files. Matrices from\n"
            "                                --shapes RxC[*COUNT],... (default " BENCH_GPU_SHAPES ") or\n"
            "  --model llama-7b              a whole model's matrices (also decoded as a model)\n"
            "  --gpu FILE                    the time to load FILE (.wqc, .safetensors, GGUF) into GPU memory\n");
}

enum { OPT_METHOD = 256, OPT_BITS, OPT_GRAN, OPT_STEP, OPT_PRECISION, OPT_LANES, OPT_CHUNK, OPT_CODECS,
       OPT_REPEAT, OPT_JSON, OPT_SYNTHETIC, OPT_GEMV, OPT_SHAPES, OPT_LOSSLESS, OPT_GPU, OPT_MODEL };

static int parse_args(int argc, char **argv, bench_args *a)
{
    static const struct option options[] = {
        {"method", required_argument, NULL, OPT_METHOD}, {"bits", required_argument, NULL, OPT_BITS},
        {"granularity", required_argument, NULL, OPT_GRAN}, {"step", required_argument, NULL, OPT_STEP},
        {"precision", required_argument, NULL, OPT_PRECISION}, {"lanes", required_argument, NULL, OPT_LANES},
        {"chunk", required_argument, NULL, OPT_CHUNK}, {"codecs", required_argument, NULL, OPT_CODECS},
        {"repeat", required_argument, NULL, OPT_REPEAT}, {"json", no_argument, NULL, OPT_JSON},
        {"synthetic", required_argument, NULL, OPT_SYNTHETIC}, {"threads", required_argument, NULL, 'T'},
        {"gemv", no_argument, NULL, OPT_GEMV}, {"shapes", required_argument, NULL, OPT_SHAPES},
        {"lossless", no_argument, NULL, OPT_LOSSLESS}, {"gpu", no_argument, NULL, OPT_GPU},
        {"model", required_argument, NULL, OPT_MODEL},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    wqc_quant_settings_init(&a->quant);
    a->quant.params.granularity = WQC_GRAN_TENSOR;
    a->repeat = 5;
    a->threads = 1;
    int c, gran_given = 0;
    while ((c = getopt_long(argc, argv, "k:T:h", options, NULL)) != -1) {
        int handled = 1;
        switch (c) {
        case OPT_METHOD: handled = cli_quant_option(&a->quant, "method", optarg); break;
        case OPT_BITS: handled = cli_quant_option(&a->quant, "bits", optarg); break;
        case OPT_GRAN:
            handled = cli_quant_option(&a->quant, "granularity", optarg);
            gran_given = 1;
            break;
        case OPT_STEP: handled = cli_quant_option(&a->quant, "step", optarg); break;
        case 'k': handled = cli_quant_option(&a->quant, "k", optarg); break;
        case OPT_PRECISION:
        case OPT_LANES:
        case OPT_CHUNK: {
            const char *name = c == OPT_PRECISION ? "precision" : c == OPT_LANES ? "lanes" : "chunk";
            wqc_rans_params p = {(int)a->precision, (uint32_t)a->lanes, (uint32_t)a->chunk, 1};
            handled = cli_rans_option(&p, name, optarg) ? 1 : -1;
            /* The SIMD decoders bench races take 8 lanes a vector. */
            if (handled > 0 && p.lanes % 8) {
                cli_error("--lanes: bench races the SIMD decoders, which need a multiple of 8 lanes, got %s", optarg);
                handled = -1;
            }
            a->precision = p.precision, a->lanes = p.lanes, a->chunk = p.chunk;
            break;
        }
        case OPT_CODECS:
            a->codecs = optarg;
            handled = 1;
            break;
        case OPT_REPEAT: handled = cli_parse_int("--repeat", optarg, 1, 1000, &a->repeat) ? 1 : -1; break;
        case 'T':
            handled = cli_parse_int("-T", optarg, 1, 4096, &a->threads) ? 1 : -1;
            a->threads_given = 1;
            break;
        case OPT_GEMV: a->gemv = 1; break;
        case OPT_LOSSLESS: a->lossless = 1; break;
        case OPT_GPU: a->gpu = 1; break;
        case OPT_MODEL: a->model = optarg; break;
        case OPT_SHAPES: a->shapes = optarg; break;
        case OPT_JSON: a->json = 1; break;
        case OPT_SYNTHETIC: a->synthetic = optarg; break;
        case 'h': usage(stdout); exit(WQC_EXIT_OK);
        default: usage(stderr); return WQC_EXIT_USAGE;
        }
        if (handled < 0) return WQC_EXIT_USAGE;
    }
    if (!cli_quant_options_finish(&a->quant)) return WQC_EXIT_USAGE;
    if (optind < argc) a->file = argv[optind++];
    if (optind < argc || (a->file && a->synthetic)) {
        cli_error("give one FILE or --synthetic, not both or several");
        return WQC_EXIT_USAGE;
    }
    if (a->shapes && !a->gemv && !a->gpu) {
        cli_error("--shapes goes with --gemv or --gpu");
        return WQC_EXIT_USAGE;
    }
    if (a->model && !a->gpu) {
        cli_error("--model goes with --gpu");
        return WQC_EXIT_USAGE;
    }
    if (a->gpu && (a->synthetic || a->gemv || a->lossless || a->json || (a->shapes && a->model) ||
                   (a->file && (a->shapes || a->model)))) {
        cli_error("--gpu takes its synthetic matrices from --shapes or --model (one of them), or loads FILE; not "
                  "--synthetic, --gemv, --lossless or --json");
        return WQC_EXIT_USAGE;
    }
    /* The GPU's decoders take 1 to 32 lanes or 64; a FILE loads with its own. */
    if (a->gpu && a->file && (a->lanes || a->chunk || a->precision)) {
        cli_error("--gpu FILE loads the file as coded: --%s goes with the synthetic matrices only",
                  a->lanes ? "lanes" : a->chunk ? "chunk" : "precision");
        return WQC_EXIT_USAGE;
    }
    if (a->gpu && a->lanes > 32 && a->lanes != 64) {
        cli_error("--gpu --lanes: the GPU decodes up to 32 lanes or 64, got %ld", a->lanes);
        return WQC_EXIT_USAGE;
    }
    if (a->codecs && (a->gemv || a->gpu)) {
        cli_error("--codecs goes with the codec table or --lossless, not --gemv or --gpu (they race fixed peers)");
        return WQC_EXIT_USAGE;
    }
    if (!bench_codecs_valid(a->codecs, a->lossless)) return WQC_EXIT_USAGE;
    if (a->gemv && a->synthetic) {
        cli_error("--gemv takes its synthetic matrices from --shapes, not --synthetic");
        return WQC_EXIT_USAGE;
    }
    if (a->gpu && !gran_given) a->quant.params.granularity = WQC_GRAN_ROW;
    if (!a->file && !a->synthetic && !a->gemv && !a->lossless && !a->gpu) a->synthetic = DEFAULT_SYNTHETIC;
    return WQC_EXIT_OK;
}

/* Quantizes one float tensor into a new item. */
static int add_item(const wqc_tensor *t, const char *label, const wqc_quant_params *p, bench_item *it)
{
    wqc_error err;
    wqc_error_clear(&err);
    float *w = NULL;
    wqc_status st = wqc_tensor_to_f32(t, &w, &err);
    uint64_t rows, cols;
    wqc_tensor_matrix(t, &rows, &cols);
    if (st == WQC_OK) st = wqc_quantize(w, rows, cols, p, t->name, &it->q, &err);
    free(w);
    if (st != WQC_OK) return cli_file_error(label, st, &err);
    it->name = t->name;
    it->n = t->nelem;
    return WQC_EXIT_OK;
}

static int load_items(const bench_args *a, wqc_model **model, float **synth, bench_item **items, size_t *n)
{
    wqc_error err;
    wqc_error_clear(&err);
    if (a->synthetic) {
        wqc_synthetic_spec spec;
        if (wqc_synthetic_parse(a->synthetic, &spec, &err) != WQC_OK) {
            cli_error("--synthetic: %s", err.msg);
            return WQC_EXIT_USAGE;
        }
        if (wqc_synthetic_generate(&spec, synth, &err) != WQC_OK) {
            cli_error("--synthetic: %s", err.msg);
            return WQC_EXIT_ERROR;
        }
        wqc_tensor t = {.name = a->synthetic, .dtype = WQC_DTYPE_F32, .ndim = 2,
                        .shape = {spec.rows, spec.cols}, .nelem = spec.rows * spec.cols,
                        .data = (const unsigned char *)*synth, .nbytes = spec.rows * spec.cols * sizeof(float)};
        *items = calloc(1, sizeof **items);
        if (!*items) return WQC_EXIT_ERROR;
        *n = 1;
        return add_item(&t, a->synthetic, &a->quant.params, &(*items)[0]);
    }
    int rc = cli_model_open(a->file, model);
    if (rc != WQC_EXIT_OK) return rc;
    size_t count = wqc_model_count(*model);
    *items = calloc(count + 1, sizeof **items);
    if (!*items) return WQC_EXIT_ERROR;
    for (size_t i = 0; i < count; i++) {
        const wqc_tensor *t = wqc_model_tensor(*model, i);
        if (!wqc_dtype_is_float(t->dtype) || t->ndim < 2 || t->nelem == 0) continue;
        rc = add_item(t, a->file, &a->quant.params, &(*items)[*n]);
        if (rc != WQC_EXIT_OK) return rc;
        (*n)++;
    }
    if (*n == 0) {
        cli_error("%s: no float tensor of rank >= 2 to benchmark", a->file);
        return WQC_EXIT_ERROR;
    }
    return WQC_EXIT_OK;
}

/* Encodes every item (timed), checks one decode against the expected output,
 * then times the decodes. */
static int measure(const bench_args *a, const bench_item *items, size_t nitems, bench_row *row)
{
    const bench_codec *c = &row->codec;
    bench_blob *blobs = calloc(nitems, sizeof *blobs);
    uint64_t maxn = 0;
    for (size_t i = 0; i < nitems; i++) maxn = items[i].n > maxn ? items[i].n : maxn;
    size_t out_bytes = (size_t)bench_output_bytes(c, maxn) + 64;
    uint8_t *out = malloc(out_bytes), *want = malloc(out_bytes);
    double *times = malloc((size_t)a->repeat * sizeof *times);
    int rc = WQC_EXIT_ERROR;
    wqc_error err;
    wqc_error_clear(&err);
    if (!blobs || !out || !want || !times) {
        cli_error("out of memory");
        goto done;
    }
    double spent = 0;
    row->encode_reps = 0;
    while (row->encode_reps < a->repeat && (row->encode_reps == 0 || spent < ENCODE_BUDGET_S)) {
        double t0 = bench_now_s();
        for (size_t i = 0; i < nitems; i++) {
            bench_blob_free(&blobs[i]);
            if (bench_encode(c, &items[i], (int)a->threads, &blobs[i], &err) != 0) {
                cli_error("%s: %s", c->name, err.msg);
                goto done;
            }
        }
        times[row->encode_reps] = bench_now_s() - t0;
        spent += times[row->encode_reps++];
    }
    row->encode_s = bench_median(times, row->encode_reps);
    row->bytes = 0;
    for (size_t i = 0; i < nitems; i++) {
        row->bytes += bench_blob_bytes(c, &blobs[i]);
        uint64_t nb = bench_output_bytes(c, items[i].n);
        memset(out, 0, (size_t)nb);
        bench_expected(c, &items[i], want);
        if (bench_decode(c, &items[i], &blobs[i], (int)a->threads, out, &err) != 0) {
            cli_error("%s: %s", c->name, err.msg);
            goto done;
        }
        if (memcmp(out, want, (size_t)nb) != 0) {
            cli_error("%s: decoded output of '%s' differs from the input", c->name, items[i].name);
            goto done;
        }
    }
    for (row->decode_reps = 0; row->decode_reps < a->repeat; row->decode_reps++) {
        double t0 = bench_now_s();
        for (size_t i = 0; i < nitems; i++)
            if (bench_decode(c, &items[i], &blobs[i], (int)a->threads, out, &err) != 0) {
                cli_error("%s: %s", c->name, err.msg);
                goto done;
            }
        times[row->decode_reps] = bench_now_s() - t0;
    }
    row->decode_s = bench_median(times, row->decode_reps);
    rc = WQC_EXIT_OK;
done:
    for (size_t i = 0; blobs && i < nitems; i++) bench_blob_free(&blobs[i]);
    free(blobs);
    free(out);
    free(want);
    free(times);
    return rc;
}

int cmd_bench(int argc, char **argv)
{
    cli_program = "wqc bench";
    bench_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != WQC_EXIT_OK) return rc;
    if (a.gemv) return bench_gemv(&a);
    if (a.lossless) return bench_lossless(&a);
    if (a.gpu) {
#ifdef WQC_HAVE_CUDA
        return bench_gpu(&a);
#else
        cli_error("--gpu: this wqc was built without CUDA (build with cmake -DWQC_CUDA=ON on a machine with the CUDA toolkit)");
        return WQC_EXIT_ERROR;
#endif
    }
    wqc_model *model = NULL;
    float *synth = NULL;
    bench_item *items = NULL;
    size_t nitems = 0;
    bench_codec codecs[32];
    bench_report r;
    memset(&r, 0, sizeof r);
    rc = load_items(&a, &model, &synth, &items, &nitems);
    if (rc != WQC_EXIT_OK) goto done;

    uint32_t max_alphabet = 0;
    double bits = 0;
    for (size_t i = 0; i < nitems; i++) {
        uint64_t counts[256] = {0};
        wqc_histogram(items[i].q.symbols, (size_t)items[i].n, counts);
        bits += wqc_entropy_bits(counts, 256) * (double)items[i].n;
        r.symbols += items[i].n;
        if (items[i].q.alphabet > max_alphabet) max_alphabet = items[i].q.alphabet;
    }
    char quant[96];
    r.input = a.file ? a.file : a.synthetic;
    r.quantizer = wqc_quant_params_describe(&a.quant.params, quant, sizeof quant);
    r.bits = items[0].q.bits;
    r.items = nitems;
    r.entropy_bits = r.symbols ? bits / (double)r.symbols : 0;
    r.threads = (int)a.threads;
    r.repeat = (int)a.repeat;
    r.cpu = bench_cpu_name();
    r.nrows = bench_codecs_list(a.codecs, max_alphabet, codecs);
    r.rows = calloc(r.nrows + 1, sizeof *r.rows);
    if (!r.rows) {
        rc = WQC_EXIT_ERROR;
        goto done;
    }
    for (size_t i = 0; i < r.nrows; i++) {
        r.rows[i].codec = codecs[i];
        r.rows[i].codec.precision = (int)a.precision;
        r.rows[i].codec.lanes = (uint32_t)a.lanes;
        r.rows[i].codec.chunk = (uint32_t)a.chunk;
        rc = measure(&a, items, nitems, &r.rows[i]);
        if (rc != WQC_EXIT_OK) goto done;
    }
    if (a.json ? bench_print_json(stdout, &r) != 0 : (bench_print_text(stdout, &r), 0)) {
        cli_error("cannot write the JSON report");
        rc = WQC_EXIT_ERROR;
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write to stdout");
        rc = WQC_EXIT_ERROR;
    }
done:
    for (size_t i = 0; i < nitems; i++) wqc_quantized_free(&items[i].q);
    free(items);
    free(synth);
    free(r.rows);
    free((char *)r.cpu);
    wqc_model_close(model);
    return rc;
}
