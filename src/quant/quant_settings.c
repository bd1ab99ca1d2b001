/* Quantizer settings given as text (command-line options, --rule specs,
 * a Python keyword): one parser for every client. */
#include <stdlib.h>
#include <string.h>

#include "wqc/quant.h"
#include "../common/parse.h"

void wqc_quant_settings_init(wqc_quant_settings *q)
{
    wqc_quant_params_default(&q->params);
    q->bits_given = q->k_given = q->step_given = q->granularity_given = 0;
}

static wqc_status bad_integer(const char *opt, long lo, long hi, const char *text, wqc_error *err)
{
    return wqc_fail(err, WQC_ERR_INVALID_ARG, "%s: expected an integer in %ld..%ld, got '%s'", opt, lo, hi, text);
}

wqc_status wqc_quant_setting(wqc_quant_settings *q, const char *name, const char *value, wqc_error *err)
{
    wqc_quant_params *p = &q->params;
    if (strcmp(name, "method") == 0) {
        if (strcmp(value, "affine") == 0) p->method = WQC_QUANT_AFFINE;
        else if (strcmp(value, "sdclip") == 0) p->method = WQC_QUANT_SDCLIP;
        else if (strcmp(value, "grid") == 0) p->method = WQC_QUANT_GRID;
        else return wqc_fail(err, WQC_ERR_INVALID_ARG, "--method: expected affine, sdclip or grid, got '%s'", value);
        return WQC_OK;
    }
    if (strcmp(name, "bits") == 0) {
        long b;
        if (!wqc_parse_long(value, 1, 8, &b)) return bad_integer("--bits", 1, 8, value, err);
        p->bits = (int)b;
        q->bits_given = 1;
        return WQC_OK;
    }
    if (strcmp(name, "granularity") == 0) {
        long g;
        if (strcmp(value, "tensor") == 0) p->granularity = WQC_GRAN_TENSOR;
        else if (strcmp(value, "row") == 0) p->granularity = WQC_GRAN_ROW;
        else if (strncmp(value, "group:", 6) == 0) {
            if (!wqc_parse_long(value + 6, 1, 1L << 30, &g))
                return bad_integer("--granularity group:G", 1, 1L << 30, value + 6, err);
            p->granularity = WQC_GRAN_GROUP;
            p->group_size = (uint32_t)g;
        } else {
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "--granularity: expected tensor, row or group:G, got '%s'", value);
        }
        q->granularity_given = 1;
        return WQC_OK;
    }
    if (strcmp(name, "k") == 0) {
        if (!wqc_parse_double(value, 1e-6, 1e6, &p->k))
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "-k: expected a number in %g..%g, got '%s'", 1e-6, 1e6, value);
        q->k_given = 1;
        return WQC_OK;
    }
    if (strcmp(name, "step") == 0) {
        if (!wqc_parse_double(value, 1e-30, 1e30, &p->step))
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "--step: expected a number in %g..%g, got '%s'", 1e-30, 1e30,
                            value);
        q->step_given = 1;
        return WQC_OK;
    }
    return wqc_fail(err, WQC_ERR_NOT_FOUND, "unknown quantizer setting '%s'", name);
}

wqc_status wqc_quant_settings_finish(wqc_quant_settings *q, wqc_error *err)
{
    wqc_quant_params *p = &q->params;
    if (p->method == WQC_QUANT_SDCLIP && !q->bits_given) p->bits = WQC_SDCLIP_MATRIX_BITS;
    if (p->method == WQC_QUANT_SDCLIP && !q->k_given) p->k = WQC_SDCLIP_MATRIX_K;
    if (p->method == WQC_QUANT_GRID && p->step == 0.0)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "--method grid needs --step D");
    /* Settings the method would ignore (and the file would still record). */
    if (q->k_given && p->method != WQC_QUANT_SDCLIP)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "-k applies to --method sdclip only");
    if (q->step_given && p->method != WQC_QUANT_GRID)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "--step applies to --method grid only");
    if (q->granularity_given && p->method != WQC_QUANT_AFFINE)
        return wqc_fail(err, WQC_ERR_INVALID_ARG,
                        "--granularity applies to --method affine only (sdclip is per row, grid per tensor)");
    return wqc_quant_params_check(p, err);
}

int wqc_quant_settings_given(const wqc_quant_settings *q)
{
    return q->bits_given || q->k_given || q->step_given || q->granularity_given ||
           q->params.method != WQC_QUANT_AFFINE;
}
