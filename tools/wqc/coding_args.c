#include "coding_args.h"

#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_METHOD = 256, OPT_BITS, OPT_GRAN, OPT_STEP, OPT_RULE, OPT_MIN_ELEM, OPT_PRECISION, OPT_LANES,
    OPT_CHUNK, OPT_ZSTD, OPT_KEY_FILE, OPT_KEY_ENV, OPT_SYMBOLS, OPT_DEQUANT, OPT_DTYPE, OPT_TENSORS,
    OPT_AGAINST, OPT_MIN_SQNR, OPT_LIST, OPT_JSON, OPT_MAX_ELEM, OPT_LAYOUT, OPT_MODE, OPT_SHARD_SIZE, OPT_LOSSLESS,
    OPT_DIGEST, OPT_CHECK_DIGEST, OPT_ROUTE, OPT_NO_STATS, OPT_STATS, OPT_FORMAT, OPT_GGUF_TYPE
};

static const struct {
    struct option opt;
    unsigned set;
} options[] = {
    {{"method", required_argument, NULL, OPT_METHOD}, ARGS_QUANTIZE},
    {{"bits", required_argument, NULL, OPT_BITS}, ARGS_QUANTIZE},
    {{"granularity", required_argument, NULL, OPT_GRAN}, ARGS_QUANTIZE},
    {{"step", required_argument, NULL, OPT_STEP}, ARGS_QUANTIZE},
    {{"rule", required_argument, NULL, OPT_RULE}, ARGS_QUANTIZE},
    {{"min-elements", required_argument, NULL, OPT_MIN_ELEM}, ARGS_QUANTIZE},
    {{"precision", required_argument, NULL, OPT_PRECISION}, ARGS_CODEC},
    {{"lanes", required_argument, NULL, OPT_LANES}, ARGS_CODEC},
    {{"chunk", required_argument, NULL, OPT_CHUNK}, ARGS_CODEC},
    {{"zstd-level", required_argument, NULL, OPT_ZSTD}, ARGS_CODEC},
    {{"layout", required_argument, NULL, OPT_LAYOUT}, ARGS_CODEC},
    {{"mode", required_argument, NULL, OPT_MODE}, ARGS_CODEC},
    {{"key-file", required_argument, NULL, OPT_KEY_FILE}, ARGS_KEY},
    {{"key-env", required_argument, NULL, OPT_KEY_ENV}, ARGS_KEY},
    {{"symbols", no_argument, NULL, OPT_SYMBOLS}, ARGS_DECODE},
    {{"dequantize", no_argument, NULL, OPT_DEQUANT}, ARGS_DECODE},
    {{"dtype", required_argument, NULL, OPT_DTYPE}, ARGS_DECODE},
    {{"tensors", required_argument, NULL, OPT_TENSORS}, ARGS_DECODE | ARGS_VERIFY},
    {{"against", required_argument, NULL, OPT_AGAINST}, ARGS_VERIFY},
    {{"min-sqnr", required_argument, NULL, OPT_MIN_SQNR}, ARGS_VERIFY},
    {{"list", no_argument, NULL, OPT_LIST}, ARGS_VERIFY},
    {{"json", no_argument, NULL, OPT_JSON}, ARGS_VERIFY},
    {{"max-elements", required_argument, NULL, OPT_MAX_ELEM}, ARGS_DECODE | ARGS_VERIFY},
    {{"shard-size", required_argument, NULL, OPT_SHARD_SIZE}, ARGS_CODEC | ARGS_DECODE},
    {{"lossless", no_argument, NULL, OPT_LOSSLESS}, ARGS_CODEC},
    {{"no-stats", no_argument, NULL, OPT_NO_STATS}, ARGS_CODEC},
    {{"format", required_argument, NULL, OPT_FORMAT}, ARGS_QUANTIZE},
    {{"gguf-type", required_argument, NULL, OPT_GGUF_TYPE}, ARGS_QUANTIZE},
    {{"digest", no_argument, NULL, OPT_DIGEST}, ARGS_INFO},
    {{"stats", no_argument, NULL, OPT_STATS}, ARGS_INFO},
    {{"route", required_argument, NULL, OPT_ROUTE}, ARGS_INFO},
    {{"digest", required_argument, NULL, OPT_CHECK_DIGEST}, ARGS_CHECK},
    {{"output", required_argument, NULL, 'o'}, ARGS_QUANTIZE | ARGS_DECODE},
    {{"force", no_argument, NULL, 'f'}, ARGS_QUANTIZE | ARGS_DECODE},
    {{"stdout", no_argument, NULL, 'c'}, ARGS_QUANTIZE | ARGS_DECODE},
    {{"threads", required_argument, NULL, 'T'}, ~0u},
    {{"quiet", no_argument, NULL, 'q'}, ~0u},
    {{"verbose", no_argument, NULL, 'v'}, ~0u},
    {{"help", no_argument, NULL, 'h'}, ~0u},
};
#define NOPTIONS (sizeof options / sizeof *options)

int coding_args_selected(const coding_args *a, const char *name)
{
    if (a->nglobs == 0) return 1;
    for (size_t i = 0; i < a->nglobs; i++)
        if (fnmatch(a->globs[i], name, 0) == 0) return 1;
    return 0;
}

void coding_args_free(coding_args *a)
{
    free(a->rules);
    free(a->globs);
    free(a->output_owned);
    a->rules = NULL;
    a->plan.rules = NULL;
    a->globs = NULL;
    a->output_owned = NULL;
}

static int parse_option(int c, const char *arg, coding_args *a)
{
    long v;
    int r;
    switch (c) {
    case OPT_METHOD: r = cli_quant_option(&a->quant, "method", arg); return r > 0;
    case OPT_BITS: r = cli_quant_option(&a->quant, "bits", arg); return r > 0;
    case OPT_GRAN: r = cli_quant_option(&a->quant, "granularity", arg); return r > 0;
    case OPT_STEP: r = cli_quant_option(&a->quant, "step", arg); return r > 0;
    case 'k': r = cli_quant_option(&a->quant, "k", arg); return r > 0;
    case OPT_RULE: {
        wqc_error err;
        wqc_error_clear(&err);
        if (wqc_rule_parse(arg, &a->rules[a->plan.nrules++], &err) == WQC_OK) return 1;
        cli_error("%s", err.msg);
        return 0;
    }
    case OPT_MIN_ELEM: return cli_parse_u64("--min-elements", arg, &a->plan.min_elements);
    case OPT_PRECISION: return cli_rans_option(&a->codec, "precision", arg);
    case OPT_LANES: return cli_rans_option(&a->codec, "lanes", arg);
    case OPT_CHUNK: return cli_rans_option(&a->codec, "chunk", arg);
    case OPT_ZSTD:
        if (!cli_parse_int("--zstd-level", arg, 0, 22, &v)) return 0;
        a->zstd_level = (int)v;
        return 1;
    case OPT_LAYOUT:
        if (strcmp(arg, "row") != 0 && strcmp(arg, "gemv") != 0) {
            cli_error("--layout: expected row or gemv, got '%s'", arg);
            return 0;
        }
        a->layout_gemv = strcmp(arg, "gemv") == 0;
        return 1;
    case OPT_MODE: {
        wqc_error err;
        if (wqc_mode_from_name(arg, &a->mode, &err) != WQC_OK) {
            cli_error("--mode: %s", err.msg);
            return 0;
        }
        return 1;
    }
    case OPT_KEY_FILE: a->key_file = arg; return 1;
    case OPT_KEY_ENV: a->key_env = arg; return 1;
    case OPT_SYMBOLS: a->dequantize = 0, a->symbols_given = 1; return 1;
    case OPT_DEQUANT: a->dequantize = 1; return 1;
    case OPT_DTYPE:
        a->dtype_given = 1;
        if (wqc_dtype_from_name(arg, &a->out_dtype) != WQC_OK || !wqc_dtype_is_float(a->out_dtype)) {
            cli_error("--dtype: expected F32, F16 or BF16, got '%s'", arg);
            return 0;
        }
        return 1;
    case OPT_TENSORS: a->globs[a->nglobs++] = arg; return 1;
    case OPT_AGAINST: a->against = arg; return 1;
    case OPT_MIN_SQNR: return cli_parse_double("--min-sqnr", arg, -1000.0, 1000.0, &a->min_sqnr);
    case OPT_LIST: a->list = 1; return 1;
    case OPT_JSON: a->json = 1; return 1;
    case OPT_MAX_ELEM:
        if (!cli_parse_u64("--max-elements", arg, &a->max_elements)) return 0;
        if (a->max_elements == 0 || a->max_elements > WQC_DECODED_MAX) {
            cli_error("--max-elements: must be 1..%llu (2^36), got '%s'", (unsigned long long)WQC_DECODED_MAX, arg);
            return 0;
        }
        return 1;
    case 'o': a->output = arg, a->o_given = 1; return 1;
    case 'c': a->output = "-", a->c_given = 1; return 1;
    case OPT_LOSSLESS: a->plan.lossless = 1; return 1;
    case OPT_DIGEST: a->digest = 1; return 1;
    case OPT_NO_STATS: a->no_stats = 1; return 1;
    case OPT_STATS: a->stats = 1; return 1;
    case OPT_FORMAT:
        if (strcmp(arg, "gguf") == 0 || strcmp(arg, "safetensors") == 0 || strcmp(arg, "fp8") == 0) {
            a->format_gguf = strcmp(arg, "gguf") == 0;
            a->format_fp8 = strcmp(arg, "fp8") == 0;
            return 1;
        }
        cli_error("--format: expected safetensors, gguf or fp8, got '%s'", arg);
        return 0;
    case OPT_GGUF_TYPE:
        a->gguf_type_given = 1;
        if (strcmp(arg, "q4_0") == 0) a->gguf_type = WQC_GGML_Q4_0;
        else if (strcmp(arg, "q8_0") == 0) a->gguf_type = WQC_GGML_Q8_0;
        else if (strcmp(arg, "f16") == 0) a->gguf_type = WQC_GGML_F16;
        else {
            cli_error("--gguf-type: expected q4_0, q8_0 or f16, got '%s'", arg);
            return 0;
        }
        return 1;
    case OPT_CHECK_DIGEST: {
        uint8_t d[WQC_DIGEST_BYTES];
        if (wqc_digest_parse(arg, d)) {
            a->check_digest = arg;
            return 1;
        }
        cli_error("--digest: expected 64 hex digits (a digest from 'wqc info --digest'), got '%s'", arg);
        return 0;
    }
    case OPT_ROUTE:
        if (!cli_parse_int("--route", arg, 1, 1l << 30, &v)) return 0;
        a->route = (uint32_t)v;
        return 1;
    case OPT_SHARD_SIZE:
        if (shard_spec_parse(arg, &a->shards)) return 1;
        cli_error("--shard-size: '%s' is neither a size (500MB, 2GiB, 1000000) nor 'input'", arg);
        return 0;
    case 'f': a->force = 1; return 1;
    case 'T': return cli_parse_int("-T", arg, 1, 4096, &a->threads);
    case 'q': a->quiet = 1; return 1;
    case 'v': a->verbose = 1; return 1;
    }
    return 0;
}

/* Options that contradict each other, or that the rest of the command line
 * would ignore: a usage error rather than a silent choice. */
static const char *contradiction(const coding_args *a, unsigned sets)
{
    int quantizer = wqc_quant_settings_given(&a->quant);
    if (a->plan.lossless && quantizer)
        return "--lossless stores every float tensor bit-exactly: it takes no quantizer option";
    if (a->symbols_given && a->dequantize) return "--symbols and --dequantize ask for two outputs: give one";
    if (a->c_given && a->o_given) return "-c and -o name two outputs: give one";
    if (a->dtype_given && !a->dequantize) return "--dtype sets the dtype of --dequantize's weights: add --dequantize";
    if (a->gguf_type_given && !a->format_gguf) return "--gguf-type applies to --format gguf";
    if (a->format_gguf && (quantizer || a->plan.nrules))
        return "--format gguf quantizes with --gguf-type (q4_0, q8_0, f16), not with --method, --bits, -k, --step, "
               "--granularity or --rule";
    if (a->format_fp8 && (quantizer || a->plan.nrules || a->plan.min_elements))
        return "--format fp8 writes DeepSeek-V3's FP8 (E4M3, 128x128 block scales): it takes no --method, --bits, -k, "
               "--step, --granularity, --rule or --min-elements";
    if ((sets & ARGS_VERIFY) && !isinf(a->min_sqnr) && !a->against)
        return "--min-sqnr is a floor for --against ORIGINAL: add --against";
    if ((sets & ARGS_VERIFY) && a->check_digest && (a->against || a->json || a->list))
        return "--digest HEX checks a digest: not with --against, --json or --list";
    if (a->plan.lossless)
        for (size_t i = 0; i < a->plan.nrules; i++)
            if (!a->rules[i].keep)
                return "--lossless stores every float tensor bit-exactly: a --rule can only keep or losslessly store";
    return NULL;
}

/* The output named after the input, as zstd and xz name theirs: encode
 * M.safetensors (.npy, .index.json) -> M.wqc, decode M.wqc -> M.safetensors,
 * next to the input; stdin goes to stdout. Quantize has no default. */
static int default_output(coding_args *a, unsigned sets)
{
    if (strcmp(a->input, "-") == 0) {
        a->output = "-";
        return 1;
    }
    static const char *const model_suffixes[] = {".safetensors.index.json", ".index.json", ".safetensors", ".npy", ".gguf"};
    const char *strip = NULL, *add = NULL;
    if (sets & ARGS_CODEC) {
        add = ".wqc";
        for (size_t i = 0; i < sizeof model_suffixes / sizeof *model_suffixes && !strip; i++)
            if (cli_has_suffix(a->input, model_suffixes[i]) && strlen(a->input) > strlen(model_suffixes[i]))
                strip = model_suffixes[i];
    } else if ((sets & ARGS_DECODE) && cli_has_suffix(a->input, ".wqc") && strlen(a->input) > 4) {
        strip = ".wqc";
        add = ".safetensors";
    }
    if (!strip) {
        cli_error(sets & ARGS_CODEC || sets & ARGS_DECODE
                      ? "%s: cannot name the output after this input (unknown suffix): give -o FILE, or -c for stdout"
                      : "%s: no output: give -o FILE, or -c for stdout",
                  a->input);
        return 0;
    }
    size_t keep = strlen(a->input) - strlen(strip);
    a->output_owned = malloc(keep + strlen(add) + 1);
    if (!a->output_owned) return 0;
    memcpy(a->output_owned, a->input, keep);
    strcpy(a->output_owned + keep, add);
    a->output = a->output_owned;
    return 1;
}

int coding_args_parse(int argc, char **argv, unsigned sets, const char *usage_text, coding_args *a)
{
    memset(a, 0, sizeof *a);
    wqc_quant_settings_init(&a->quant);
    wqc_plan_default(&a->plan);
    wqc_rans_params_default(&a->codec);
    a->codec.lanes = a->codec.chunk = 0; /* auto: by tensor size, by layout */
    a->zstd_level = 9;
    a->threads = cli_cpu_count();
    a->out_dtype = WQC_DTYPE_F32;
    a->max_elements = CLI_MAX_ELEMENTS_DEFAULT;
    a->min_sqnr = -INFINITY;
    a->gguf_type = WQC_GGML_Q4_0;
    a->plan.rules = a->rules = calloc((size_t)argc + 1, sizeof *a->rules);
    a->globs = calloc((size_t)argc + 1, sizeof *a->globs);
    struct option longs[NOPTIONS + 1];
    size_t n = 0;
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].set & sets) longs[n++] = options[i].opt;
    memset(&longs[n], 0, sizeof longs[n]);
    if (!a->rules || !a->globs) return WQC_EXIT_ERROR;
    const char *shorts = sets & ARGS_QUANTIZE ? "k:o:cfT:qvh" : sets & ARGS_DECODE ? "o:cfT:qvh" : "T:qvh";
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            exit(WQC_EXIT_OK);
        }
        if (c == '?' || !parse_option(c, optarg, a)) {
            fputs(usage_text, stderr);
            return WQC_EXIT_USAGE;
        }
    }
    if ((sets & ARGS_QUANTIZE) && !cli_quant_options_finish(&a->quant)) return WQC_EXIT_USAGE;
    const char *why = contradiction(a, sets);
    if (why) {
        cli_error("%s", why);
        return WQC_EXIT_USAGE;
    }
    a->plan.base = a->quant.params;
    if (a->layout_gemv && (a->mode == WQC_MODE_BROTLI || a->mode == WQC_MODE_ZSTD || a->mode == WQC_MODE_LZMA)) {
        cli_error("--layout gemv needs a rANS mode (auto, order0 or context), not --mode %s", wqc_mode_name(a->mode));
        return WQC_EXIT_USAGE;
    }
    a->codec.threads = (int)a->threads;
    /* No input named and stdin not a terminal: read stdin, as zstd does. */
    int from_stdin = optind == argc && !isatty(STDIN_FILENO) && (sets & (ARGS_QUANTIZE | ARGS_DECODE));
    if (optind != argc - 1 && !from_stdin) {
        cli_error(optind >= argc ? "no input file" : "one input file expected");
        fputs(usage_text, stderr);
        return WQC_EXIT_USAGE;
    }
    a->input = from_stdin ? "-" : argv[optind];
    if ((sets & (ARGS_QUANTIZE | ARGS_DECODE)) && !a->output && !default_output(a, sets)) return WQC_EXIT_USAGE;
    if ((sets & ARGS_KEY) && !cli_load_key(a->key_file, a->key_env, a->key, &a->key_len)) return WQC_EXIT_USAGE;
    return WQC_EXIT_OK;
}
