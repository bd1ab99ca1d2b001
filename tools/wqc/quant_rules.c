#include "quant_rules.h"

#include <fnmatch.h>
#include <string.h>

int cli_rule_parse(const char *text, cli_rule *out)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof out->glob_buf) {
        cli_error("--rule '%s': expected GLOB:METHOD[,key=value...], GLOB:keep or GLOB:lossless", text);
        return 0;
    }
    memcpy(out->glob_buf, text, (size_t)(colon - text));
    out->glob = out->glob_buf;
    const char *spec = colon + 1;
    if (strcmp(spec, "keep") == 0 || strcmp(spec, "lossless") == 0) {
        out->keep = 1;
        out->lossless = spec[0] == 'l';
        return 1;
    }
    cli_quant_options q;
    cli_quant_options_init(&q);
    char buf[256];
    if (strlen(spec) >= sizeof buf) {
        cli_error("--rule '%s': too long", text);
        return 0;
    }
    strcpy(buf, spec);
    char *save = NULL;
    int first = 1;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save), first = 0) {
        char *eq = strchr(item, '=');
        const char *name = first && !eq ? "method" : item, *value = first && !eq ? item : eq ? eq + 1 : "";
        if (eq) *eq = '\0';
        if (eq && strcmp(name, "gran") == 0) name = "granularity";
        int r = cli_quant_option(&q, name, value);
        if (r == 0) cli_error("--rule '%s': unknown setting '%s' (bits, k, step, granularity)", text, name);
        if (r <= 0) return 0;
    }
    if (!cli_quant_options_finish(&q)) return 0;
    out->params = q.params;
    return 1;
}

static int split_dtype(wqc_dtype d) { return d == WQC_DTYPE_F32 || d == WQC_DTYPE_F16 || d == WQC_DTYPE_BF16; }

int cli_plan_lossless(const cli_plan *plan, const wqc_tensor *t)
{
    if (!split_dtype(t->dtype)) return 0;
    if (plan->lossless) return 1;
    for (size_t i = 0; i < plan->nrules; i++)
        if (fnmatch(plan->rules[i].glob, t->name, 0) == 0) return plan->rules[i].lossless;
    return 0;
}

const wqc_quant_params *cli_plan_for(const cli_plan *plan, const wqc_tensor *t)
{
    if (!wqc_dtype_is_float(t->dtype) || t->ndim < 2 || t->nelem == 0 || t->nelem < plan->min_elements ||
        plan->lossless)
        return NULL;
    for (size_t i = 0; i < plan->nrules; i++) {
        if (fnmatch(plan->rules[i].glob, t->name, 0) == 0)
            return plan->rules[i].keep ? NULL : &plan->rules[i].params;
    }
    return &plan->base.params;
}
