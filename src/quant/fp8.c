/* FP8 E4M3FN codes and 128 x 128 block scales (wqc/fp8.h). */
#include <math.h>

#include "wqc/fp8.h"

/* The non-negative finite E4M3FN values by code 0x00..0x7e: subnormals
 * m/8 * 2^-6, then (1 + m/8) * 2^(e-7). */
static double e4m3_value(unsigned code)
{
    unsigned e = code >> 3, m = code & 7;
    return e == 0 ? ldexp(m / 8.0, -6) : ldexp(1.0 + m / 8.0, (int)e - 7);
}

double wqc_e4m3_decode(uint8_t code)
{
    if ((code & 0x7f) == 0x7f) return NAN;
    double v = e4m3_value(code & 0x7fu);
    return code & 0x80 ? -v : v;
}

/* value[c] = the value of code c, 0x00..0x7e. */
static void e4m3_values(double value[0x7f])
{
    for (unsigned c = 0; c < 0x7f; c++) value[c] = e4m3_value(c);
}

/* x rounded to the nearest code of the table (ties to the even code), saturated. */
static uint8_t e4m3_nearest(const double value[0x7f], double x)
{
    uint8_t sign = signbit(x) ? 0x80 : 0;
    if (isnan(x)) return (uint8_t)(sign | 0x7f);
    double a = fabs(x);
    if (a >= WQC_E4M3_MAX) return (uint8_t)(sign | 0x7e);
    /* The largest code whose value is <= a (values increase with the code). */
    unsigned lo = 0, hi = 0x7e;
    while (lo < hi) {
        unsigned mid = (lo + hi + 1) / 2;
        if (value[mid] <= a) lo = mid;
        else hi = mid - 1;
    }
    unsigned code = lo;
    if (lo < 0x7e) {
        double below = a - value[lo], above = value[lo + 1] - a;
        if (above < below || (above == below && (lo & 1))) code = lo + 1;
    }
    return (uint8_t)(code ? sign | code : 0); /* zero keeps no sign, as a rounded -0.0001 */
}

uint8_t wqc_e4m3_encode(double x)
{
    double value[0x7f];
    e4m3_values(value);
    return e4m3_nearest(value, x);
}

wqc_status wqc_fp8_block_quantize(const float *w, uint64_t rows, uint64_t cols, uint8_t *codes, float *scale_inv,
                                  wqc_error *err)
{
    const uint64_t bc = (cols + WQC_FP8_BLOCK - 1) / WQC_FP8_BLOCK, br = (rows + WQC_FP8_BLOCK - 1) / WQC_FP8_BLOCK;
    double value[0x7f];
    e4m3_values(value);
    for (uint64_t i = 0; i < rows * cols; i++)
        if (!isfinite(w[i]))
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "value %llu (row %llu) is not finite", (unsigned long long)i,
                            (unsigned long long)(i / cols));
    for (uint64_t bi = 0; bi < br; bi++)
        for (uint64_t bj = 0; bj < bc; bj++) {
            uint64_t r1 = (bi + 1) * WQC_FP8_BLOCK < rows ? (bi + 1) * WQC_FP8_BLOCK : rows;
            uint64_t c1 = (bj + 1) * WQC_FP8_BLOCK < cols ? (bj + 1) * WQC_FP8_BLOCK : cols;
            double amax = 0;
            for (uint64_t r = bi * WQC_FP8_BLOCK; r < r1; r++)
                for (uint64_t c = bj * WQC_FP8_BLOCK; c < c1; c++) {
                    /* A plain compare: aarch64 gcc 12 fails to vectorise an fmax reduction here (internal compiler error). */
                    double a = fabs((double)w[r * cols + c]);
                    if (a > amax) amax = a;
                }
            float s = amax > 0 ? (float)(amax / WQC_E4M3_MAX) : 1.0f;
            if (s == 0.0f) s = 1.0f; /* amax below F32's range once divided */
            scale_inv[bi * bc + bj] = s;
            for (uint64_t r = bi * WQC_FP8_BLOCK; r < r1; r++)
                for (uint64_t c = bj * WQC_FP8_BLOCK; c < c1; c++)
                    codes[r * cols + c] = e4m3_nearest(value, (double)w[r * cols + c] / (double)s);
        }
    return WQC_OK;
}
