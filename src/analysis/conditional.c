/* Conditional entropies of a tensor's symbols: what a context model that
 * knows the row, the column, the previous symbol of the row or the group's
 * zero-point bin could reach with free tables (the plug-in estimate, which
 * favours contexts with few symbols each: per row and per column it is a
 * lower bound, not a target). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/analysis.h"
#include "wqc/symbol_model.h"

/* sum over a histogram of c log2(n / c), in bits. */
static double histogram_bits(const uint32_t *c, uint32_t alphabet)
{
    uint64_t n = 0;
    double b = 0.0;
    for (uint32_t s = 0; s < alphabet; s++) n += c[s];
    for (uint32_t s = 0; s < alphabet; s++)
        if (c[s]) b += (double)c[s] * log2((double)n / c[s]);
    return b;
}

wqc_status wqc_conditional_entropies(const wqc_quantized *q, wqc_conditional *out, wqc_error *err)
{
    const uint32_t a = q->alphabet;
    const uint64_t n = q->rows * q->cols;
    out->given_row = out->given_column = out->given_previous = out->given_zero_point = NAN;
    if (n == 0) return WQC_OK;
    uint32_t *h = calloc((size_t)a * (a + 1), sizeof *h);
    if (!h) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    /* Row: one histogram at a time. */
    double bits = 0.0;
    for (uint64_t r = 0; r < q->rows; r++) {
        memset(h, 0, a * sizeof *h);
        for (uint64_t c = 0; c < q->cols; c++) h[q->symbols[r * q->cols + c]]++;
        bits += histogram_bits(h, a);
    }
    out->given_row = bits / (double)n;
    /* Previous symbol of the row (the first of a row has context `a`). */
    memset(h, 0, (size_t)a * (a + 1) * sizeof *h);
    for (uint64_t r = 0; r < q->rows; r++)
        for (uint64_t c = 0; c < q->cols; c++) {
            uint32_t prev = c ? q->symbols[r * q->cols + c - 1] : a;
            h[prev * a + q->symbols[r * q->cols + c]]++;
        }
    bits = 0.0;
    for (uint32_t p = 0; p <= a; p++) bits += histogram_bits(h + p * a, a);
    out->given_previous = bits / (double)n;
    free(h);
    /* Column: a histogram per column, when that fits in 256 MiB. */
    if ((uint64_t)q->cols * a <= (1u << 26)) {
        uint32_t *hc = calloc((size_t)q->cols * a, sizeof *hc);
        if (!hc) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        for (uint64_t r = 0; r < q->rows; r++)
            for (uint64_t c = 0; c < q->cols; c++) hc[c * a + q->symbols[r * q->cols + c]]++;
        bits = 0.0;
        for (uint64_t c = 0; c < q->cols; c++) bits += histogram_bits(hc + c * a, a);
        out->given_column = bits / (double)n;
        free(hc);
    }
    /* Zero-point bin at resolution 1 (the context wqc codes with). */
    uint32_t nbins = wqc_symbol_model_nbins(a, 1);
    if (nbins && q->scale) {
        uint64_t *counts = calloc(256 * (size_t)nbins, sizeof *counts);
        if (!counts) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        wqc_symbol_model_count(q, 1, counts);
        bits = 0.0;
        for (uint32_t b = 0; b < nbins; b++) {
            uint64_t tot = 0;
            for (uint32_t s = 0; s < a; s++) tot += counts[256 * b + s];
            for (uint32_t s = 0; s < a; s++)
                if (counts[256 * b + s]) bits += (double)counts[256 * b + s] * log2((double)tot / counts[256 * b + s]);
        }
        out->given_zero_point = bits / (double)n;
        free(counts);
    }
    return WQC_OK;
}
