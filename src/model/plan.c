/* The per-tensor plan: which tensors are quantized, with what, and which
 * are stored bit-exactly. */
#include <fnmatch.h>
#include <stdint.h>
#include <string.h>

#include "wqc/model_encode.h"

void wqc_plan_default(wqc_plan *p)
{
    memset(p, 0, sizeof *p);
    wqc_quant_params_default(&p->base);
}

wqc_status wqc_rule_parse(const char *text, wqc_rule *out, wqc_error *err)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof out->glob)
        return wqc_fail(err, WQC_ERR_INVALID_ARG,
                        "--rule '%s': expected GLOB:METHOD[,key=value...], GLOB:keep or GLOB:lossless", text);
    memcpy(out->glob, text, (size_t)(colon - text));
    const char *spec = colon + 1;
    if (strcmp(spec, "keep") == 0 || strcmp(spec, "lossless") == 0) {
        out->keep = 1;
        out->lossless = spec[0] == 'l';
        return WQC_OK;
    }
    wqc_quant_settings q;
    wqc_quant_settings_init(&q);
    char buf[256];
    if (strlen(spec) >= sizeof buf) return wqc_fail(err, WQC_ERR_INVALID_ARG, "--rule '%s': too long", text);
    strcpy(buf, spec);
    char *save = NULL;
    int first = 1;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save), first = 0) {
        /* The first item may name the method alone: "embed*:sdclip,bits=8". */
        char *eq = strchr(item, '=');
        const char *name = first && !eq ? "method" : item, *value = first && !eq ? item : eq ? eq + 1 : "";
        if (eq) *eq = '\0';
        if (eq && strcmp(name, "gran") == 0) name = "granularity";
        wqc_status st = wqc_quant_setting(&q, name, value, err);
        if (st == WQC_ERR_NOT_FOUND)
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "--rule '%s': unknown setting '%s' (bits, k, step, granularity)",
                            text, name);
        if (st != WQC_OK) return st;
    }
    wqc_status st = wqc_quant_settings_finish(&q, err);
    if (st == WQC_OK) out->params = q.params;
    return st;
}

int wqc_plan_lossless(const wqc_plan *plan, const wqc_tensor *t)
{
    if (!wqc_dtype_is_float(t->dtype)) return 0;
    if (plan->lossless) return 1;
    for (size_t i = 0; i < plan->nrules; i++)
        if (fnmatch(plan->rules[i].glob, t->name, 0) == 0) return plan->rules[i].lossless;
    return 0;
}

const wqc_quant_params *wqc_plan_quantizer(const wqc_plan *plan, const wqc_tensor *t)
{
    if (!wqc_dtype_is_float(t->dtype) || t->ndim < 2 || t->nelem == 0 || t->nelem < plan->min_elements ||
        plan->lossless)
        return NULL;
    for (size_t i = 0; i < plan->nrules; i++) {
        if (fnmatch(plan->rules[i].glob, t->name, 0) == 0)
            return plan->rules[i].keep ? NULL : &plan->rules[i].params;
    }
    return &plan->base;
}

const wqc_quant_params *wqc_plan_model_quantizer(const wqc_plan *plan, const wqc_model *m, const size_t *scales_of,
                                                 size_t i)
{
    if (scales_of && scales_of[i] != SIZE_MAX) return NULL;
    return wqc_plan_quantizer(plan, wqc_model_tensor(m, i));
}

size_t wqc_plan_unmatched_rule(const wqc_plan *plan, const wqc_model *m)
{
    for (size_t r = 0; r < plan->nrules; r++) {
        size_t i = 0;
        while (i < wqc_model_count(m) && fnmatch(plan->rules[r].glob, wqc_model_tensor(m, i)->name, 0) != 0) i++;
        if (i == wqc_model_count(m)) return r;
    }
    return (size_t)-1;
}
