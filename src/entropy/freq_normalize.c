/* Frequency normalisation that minimises cross-entropy.
 *
 * Maximise sum_i c_i log f_i subject to sum_i f_i = T, integer f_i >= 1 for
 * present symbols. The objective is separable and concave in each f_i, so a
 * feasible point where no single unit moved from one symbol to another
 * raises it is the global optimum. Start from the proportional floor, reach
 * the total greedily by marginal gain, then move units while that improves. */
#include <math.h>

#include "wqc/entropy.h"

/* Gain of f -> f + 1 and loss of f -> f - 1 for a symbol with count c. */
static double gain_up(uint64_t c, uint32_t f) { return (double)c * log1p(1.0 / f); }
static double loss_down(uint64_t c, uint32_t f) { return -(double)c * log1p(-1.0 / f); }

/* Index of the largest gain (any present symbol); ties go to the lowest index. */
static size_t best_up(const uint64_t *c, const uint32_t *f, size_t a)
{
    size_t best = a;
    double g = -1.0;
    for (size_t i = 0; i < a; i++)
        if (c[i] && gain_up(c[i], f[i]) > g) g = gain_up(c[i], f[best = i]);
    return best;
}

/* Index of the smallest loss among symbols with f > 1, other than `skip`. */
static size_t best_down(const uint64_t *c, const uint32_t *f, size_t a, size_t skip)
{
    size_t best = a;
    double l = INFINITY;
    for (size_t i = 0; i < a; i++)
        if (i != skip && c[i] && f[i] > 1 && loss_down(c[i], f[i]) < l) l = loss_down(c[i], f[best = i]);
    return best;
}

wqc_status wqc_freq_normalize_total(const uint64_t *counts, size_t alphabet, uint32_t total,
                                    uint32_t *freq, wqc_error *err)
{
    double n = 0.0;
    size_t present = 0;
    for (size_t i = 0; i < alphabet; i++) {
        n += (double)counts[i];
        present += counts[i] != 0;
        freq[i] = 0;
    }
    if (present == 0) return WQC_OK;
    if (present > total)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "%zu symbols present but the table total is %u",
                        present, total);
    uint64_t sum = 0;
    for (size_t i = 0; i < alphabet; i++) {
        if (!counts[i]) continue;
        double share = floor((double)counts[i] * total / n);
        freq[i] = share < 1.0 ? 1u : (uint32_t)share;
        sum += freq[i];
    }
    for (; sum < total; sum++) freq[best_up(counts, freq, alphabet)]++;
    for (; sum > total; sum--) freq[best_down(counts, freq, alphabet, alphabet)]--;
    for (;;) {
        size_t up = best_up(counts, freq, alphabet);
        size_t down = best_down(counts, freq, alphabet, up);
        if (down == alphabet) break;
        /* Move only on a clear improvement, so rounding noise cannot cycle. */
        double g = gain_up(counts[up], freq[up]), l = loss_down(counts[down], freq[down]);
        if (!(g > l * (1.0 + 1e-12))) break;
        freq[up]++;
        freq[down]--;
    }
    return WQC_OK;
}

wqc_status wqc_freq_normalize(const uint64_t *counts, size_t alphabet, int precision,
                              uint32_t *freq, wqc_error *err)
{
    if (precision < WQC_PRECISION_MIN || precision > WQC_PRECISION_MAX)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "precision must be %d..%d, got %d",
                        WQC_PRECISION_MIN, WQC_PRECISION_MAX, precision);
    if (alphabet < 1 || alphabet > 256)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "alphabet must be 1..256, got %zu", alphabet);
    return wqc_freq_normalize_total(counts, alphabet, 1u << precision, freq, err);
}
