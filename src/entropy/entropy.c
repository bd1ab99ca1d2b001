#include <math.h>

#include "wqc/entropy.h"

double wqc_entropy_bits(const uint64_t *counts, size_t alphabet)
{
    double n = 0.0;
    for (size_t i = 0; i < alphabet; i++) n += (double)counts[i];
    if (n == 0.0) return 0.0;
    /* H = log2 n - (1/n) sum c log2 c */
    double s = 0.0;
    for (size_t i = 0; i < alphabet; i++)
        if (counts[i]) s += (double)counts[i] * log2((double)counts[i]);
    double h = log2(n) - s / n;
    return h > 0.0 ? h : 0.0;
}

double wqc_cross_entropy_bits(const uint64_t *counts, const uint32_t *freq, size_t alphabet,
                              uint32_t total)
{
    double n = 0.0, s = 0.0;
    for (size_t i = 0; i < alphabet; i++) {
        if (!counts[i]) continue;
        if (!freq[i]) return INFINITY;
        n += (double)counts[i];
        s += (double)counts[i] * log2((double)freq[i]);
    }
    return n == 0.0 ? 0.0 : log2((double)total) - s / n;
}
