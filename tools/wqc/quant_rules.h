/* Which tensors quantize/encode quantize, and how: the global quantizer
 * options plus per-name rules, e.g.
 *   --rule 'embed*:sdclip,bits=8,k=20' --rule '*norm*:keep' */
#ifndef WQC_TOOLS_QUANT_RULES_H
#define WQC_TOOLS_QUANT_RULES_H

#include "cli.h"

typedef struct cli_rule {
    const char *glob;            /* points into the argument */
    char glob_buf[256];
    int keep;                    /* store as it is (raw or zstd) */
    int lossless;                /* float tensors: bit-exact, split coding (wqc/lossless.h) */
    wqc_quant_params params;
} cli_rule;

typedef struct cli_plan {
    cli_quant_options base;
    cli_rule *rules;
    size_t nrules;
    uint64_t min_elements;       /* float tensors of rank >= 2 with at least this many elements */
    int lossless;                /* --lossless: every float tensor bit-exact, nothing quantized */
} cli_plan;

/* Parses "GLOB:keep", "GLOB:lossless" or "GLOB:METHOD[,bits=B][,k=K][,step=D][,granularity=tensor|row|group:G]".
 * The glob cannot contain ':'. Prints the error and returns 0 when invalid. */
int cli_rule_parse(const char *text, cli_rule *out);

/* The quantizer for tensor t (first matching rule, else the base options),
 * or NULL when t is stored losslessly (not float, rank < 2, too small, kept). */
const wqc_quant_params *cli_plan_for(const cli_plan *plan, const wqc_tensor *t);

/* True when t is a F32/F16/BF16 tensor to store bit-exactly with the split
 * coding: --lossless, or the first rule matching its name says lossless. */
int cli_plan_lossless(const cli_plan *plan, const wqc_tensor *t);

#endif
