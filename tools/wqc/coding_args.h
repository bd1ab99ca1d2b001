/* Command-line options shared by quantize, encode, decode and verify. */
#ifndef WQC_TOOLS_CODING_ARGS_H
#define WQC_TOOLS_CODING_ARGS_H

#include "cli.h"
#include "shards.h"

enum coding_arg_set {
    ARGS_QUANTIZE = 1, /* quantizer options, rules, --min-elements */
    ARGS_CODEC = 2,    /* --precision --lanes --chunk --zstd-level --layout --mode */
    ARGS_KEY = 4,      /* --key-file --key-env */
    ARGS_DECODE = 8,   /* --symbols --dequantize --dtype --tensors */
    ARGS_VERIFY = 16,  /* --against --list --json */
    ARGS_INFO = 32,    /* --digest --route N (info) */
    ARGS_CHECK = 64    /* --digest HEX (verify) */
};

typedef struct coding_args {
    const char *input;
    const char *output;         /* -o, -c ("-"), or named after the input */
    char *output_owned;
    int force, quiet, verbose;
    int c_given, o_given, symbols_given, dtype_given, gguf_type_given; /* for contradictions */
    long threads;
    wqc_quant_settings quant;    /* --method --bits --granularity -k --step */
    wqc_rule *rules;             /* --rule */
    wqc_plan plan;               /* quant, rules and --min-elements, --lossless */
    wqc_rans_params codec;       /* lanes 0: wqc_rans_lanes_auto; chunk 0: the layout's default */
    int layout_gemv;             /* --layout gemv: row tiles for wqc_gemv (wqc/gemv.h) */
    int zstd_level;
    wqc_mode mode;               /* --mode: how symbols are coded (default auto) */
    const char *key_file, *key_env;
    uint8_t key[CLI_KEY_MAX];
    size_t key_len;
    int dequantize;
    wqc_dtype out_dtype;
    const char **globs;
    size_t nglobs;
    const char *against;
    double min_sqnr;             /* verify --min-sqnr: floor for quantized tensors (default none) */
    int list, json;
    int digest;                  /* info --digest */
    int stats;                   /* info --stats */
    const char *check_digest;    /* verify --digest HEX */
    uint32_t route;              /* info --route N (0: not asked) */
    uint64_t max_elements;       /* --max-elements: largest tensor decode/verify will allocate */
    shard_spec shards;           /* --shard-size */
    int no_stats;                /* encode --no-stats */
    int format_gguf;             /* quantize --format gguf */
    int format_fp8;              /* quantize --format fp8 */
    uint32_t gguf_type;          /* --gguf-type: WQC_GGML_Q4_0 (default), Q8_0 or F16 */
} coding_args;

/* Default --max-elements: 2^32 (16 GiB of F32), above the largest tensor of
 * any public model; the format's own ceiling is WQC_DECODED_MAX. */
#define CLI_MAX_ELEMENTS_DEFAULT (1ull << 32)

/* Parses argv for a command using the given option sets; exactly one
 * positional input. Returns WQC_EXIT_OK or the exit status to return. */
int coding_args_parse(int argc, char **argv, unsigned sets, const char *usage_text, coding_args *a);
void coding_args_free(coding_args *a);

/* True if the tensor name passes --tensors (no globs: all). */
int coding_args_selected(const coding_args *a, const char *name);

#endif
