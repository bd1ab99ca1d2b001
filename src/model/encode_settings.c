/* Encode options given as text ("method=sdclip;bits=6;rule=*embed*:keep"),
 * the way a binding or a config file gives them: one parser, the CLI's
 * rules, so that every client means the same by the same words. */
#include <stdlib.h>
#include <string.h>

#include "wqc/model_encode.h"

enum { RULES_MAX = 64 };

typedef struct parsed {
    wqc_quant_settings quant;
    wqc_rule rules[RULES_MAX];
    wqc_model_encode_options o;
} parsed;

static wqc_status apply(parsed *p, const char *key, const char *value, wqc_error *err)
{
    wqc_status st = wqc_quant_setting(&p->quant, key, value, err);
    if (st != WQC_ERR_NOT_FOUND) return st;
    st = wqc_rans_setting(&p->o.coding.rans, key, value, err);
    if (st != WQC_ERR_NOT_FOUND) return st;
    if (strcmp(key, "mode") == 0) return wqc_mode_from_name(value, &p->o.coding.mode, err);
    if (strcmp(key, "lossless") == 0 || strcmp(key, "stats") == 0) {
        if (strcmp(value, "0") && strcmp(value, "1"))
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "%s: expected 0 or 1, got '%s'", key, value);
        *(strcmp(key, "stats") == 0 ? &p->o.stats : &p->o.plan.lossless) = value[0] == '1';
        return WQC_OK;
    }
    if (strcmp(key, "rule") == 0) {
        if (p->o.plan.nrules == RULES_MAX) return wqc_fail(err, WQC_ERR_LIMIT, "at most %d rules", RULES_MAX);
        st = wqc_rule_parse(value, &p->rules[p->o.plan.nrules], err);
        if (st == WQC_OK) p->o.plan.nrules++;
        return st;
    }
    return wqc_fail(err, WQC_ERR_INVALID_ARG,
                    "unknown setting '%s' (method, bits, granularity, k, step, precision, lanes, chunk, mode, "
                    "lossless, stats, rule)", key);
}

wqc_status wqc_encode_tensors(const wqc_tensor *tensors, size_t n, const wqc_kv *meta, size_t nmeta,
                              const char *settings, wqc_sink_fn sink, void *ctx, wqc_error *err)
{
    parsed *p = calloc(1, sizeof *p);
    char *text = strdup(settings ? settings : "");
    wqc_status st = p && text ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    if (st == WQC_OK) {
        wqc_model_encode_options_default(&p->o);
        wqc_quant_settings_init(&p->quant);
        p->o.plan.rules = p->rules;
    }
    char *save = NULL;
    for (char *item = st == WQC_OK ? strtok_r(text, ";", &save) : NULL; st == WQC_OK && item;
         item = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) st = wqc_fail(err, WQC_ERR_INVALID_ARG, "setting '%s': expected KEY=VALUE", item);
        else *eq = '\0', st = apply(p, item, eq + 1, err);
    }
    if (st == WQC_OK) st = wqc_quant_settings_finish(&p->quant, err);
    for (size_t r = 0; st == WQC_OK && p->o.plan.lossless && r < p->o.plan.nrules; r++)
        if (!p->rules[r].keep)
            st = wqc_fail(err, WQC_ERR_INVALID_ARG, "lossless=1: rule '%s:...' would quantize; a rule can only keep or "
                                                    "losslessly store", p->rules[r].glob);
    if (st == WQC_OK && p->o.plan.lossless && wqc_quant_settings_given(&p->quant))
        st = wqc_fail(err, WQC_ERR_INVALID_ARG, "lossless=1 stores every float tensor bit-exactly: no quantizer setting");
    wqc_model *m = NULL;
    if (st == WQC_OK) {
        p->o.plan.base = p->quant.params;
        st = wqc_model_from_tensors(tensors, n, meta, nmeta, &m, err);
    }
    size_t unmatched = st == WQC_OK ? wqc_plan_unmatched_rule(&p->o.plan, m) : (size_t)-1;
    if (unmatched != (size_t)-1)
        st = wqc_fail(err, WQC_ERR_INVALID_ARG, "rule '%s:...' matches no tensor", p->rules[unmatched].glob);
    wqc_model_file_options fo = {NULL, 0, 0};
    if (st == WQC_OK) st = wqc_model_encode(m, &p->o, &fo, sink, ctx, err);
    wqc_model_close(m);
    free(text);
    free(p);
    return st;
}
