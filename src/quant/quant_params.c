#include <math.h>
#include <stdio.h>

#include "wqc/quant.h"

void wqc_quant_params_default(wqc_quant_params *p)
{
    p->method = WQC_QUANT_AFFINE;
    p->bits = 4;
    p->granularity = WQC_GRAN_ROW;
    p->group_size = 32;
    p->k = WQC_SDCLIP_MATRIX_K;
    p->step = 0.0;
    p->exact_ends = 0;
}

wqc_status wqc_quant_params_check(const wqc_quant_params *p, wqc_error *err)
{
    switch (p->method) {
    case WQC_QUANT_AFFINE:
        if (p->bits < 1 || p->bits > 8)
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "affine bits must be 1..8, got %d", p->bits);
        if (p->granularity == WQC_GRAN_GROUP && p->group_size == 0)
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "group size must be at least 1");
        if (p->granularity > WQC_GRAN_GROUP)
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "unknown granularity");
        return WQC_OK;
    case WQC_QUANT_SDCLIP:
        if (p->bits < 2 || p->bits > 8)
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "sdclip bits must be 2..8, got %d", p->bits);
        if (!(p->k > 0) || !isfinite(p->k))
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "sdclip k must be a positive number");
        return WQC_OK;
    case WQC_QUANT_GRID:
        if (!(p->step > 0) || !isfinite(p->step) || !isfinite((float)p->step) || (float)p->step == 0.0f)
            return wqc_fail(err, WQC_ERR_INVALID_ARG,
                            "grid step must be a positive number representable in float32");
        return WQC_OK;
    case WQC_QUANT_GIVEN:
        break;
    }
    return wqc_fail(err, WQC_ERR_INVALID_ARG, "unknown quantization method");
}

const char *wqc_quant_params_describe(const wqc_quant_params *p, char *buf, size_t cap)
{
    switch (p->method) {
    case WQC_QUANT_AFFINE:
        if (p->granularity == WQC_GRAN_GROUP)
            snprintf(buf, cap, "affine %d-bit group:%u", p->bits, p->group_size);
        else
            snprintf(buf, cap, "affine %d-bit %s", p->bits,
                     p->granularity == WQC_GRAN_TENSOR ? "tensor" : "row");
        break;
    case WQC_QUANT_SDCLIP:
        snprintf(buf, cap, "sdclip %d-bit k=%g", p->bits, p->k);
        break;
    case WQC_QUANT_GRID:
        snprintf(buf, cap, "grid step=%g", p->step);
        break;
    case WQC_QUANT_GIVEN:
        snprintf(buf, cap, "given %d-bit symbols", p->bits);
        break;
    default:
        snprintf(buf, cap, "unknown");
    }
    return buf;
}
