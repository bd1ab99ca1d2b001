/* Entropy predicted for Gaussian weights under a quantizer's grid. */
#include <math.h>
#include <stdlib.h>

#include "wqc/entropy.h"

static double normal_cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

/* Adds `weight` times the symbol distribution of N(mu, sd^2) rounded on the
 * grid offset + scale * j (j in [0, alphabet)) to mix[]. Symbol j takes the
 * interval [offset + scale (j - 1/2), offset + scale (j + 1/2)); the end
 * symbols also take the tails. */
static void add_group(double mu, double sd, double scale, double offset, uint32_t alphabet,
                      uint8_t constant_symbol, double weight, double *mix)
{
    if (scale <= 0.0 || sd <= 0.0) {
        uint32_t j = constant_symbol;
        if (scale > 0.0) {
            double x = floor((mu - offset) / scale + 0.5);
            j = x < 0 ? 0 : x > alphabet - 1 ? alphabet - 1 : (uint32_t)x;
        }
        mix[j] += weight;
        return;
    }
    double prev = 0.0; /* CDF at the lower edge of symbol j */
    for (uint32_t j = 0; j < alphabet; j++) {
        double cdf = j + 1 == alphabet ? 1.0 : normal_cdf((offset + scale * (j + 0.5) - mu) / sd);
        mix[j] += weight * (cdf - prev);
        prev = cdf;
    }
}

double wqc_gaussian_predicted_entropy(const float *w, const wqc_quantized *q)
{
    double mix[256] = {0};
    uint64_t per_row = q->group_len ? (q->cols + q->group_len - 1) / q->group_len : 0;
    /* Groups are either the whole tensor or spans within one row. */
    uint64_t spans = q->ngroups == 1 ? 1 : q->rows * per_row;
    for (uint64_t g = 0; g < spans; g++) {
        uint64_t start, len;
        if (q->ngroups == 1) {
            start = 0;
            len = q->rows * q->cols;
        } else {
            uint64_t r = g / per_row, c = (g % per_row) * q->group_len;
            start = r * q->cols + c;
            len = q->cols - c < q->group_len ? q->cols - c : q->group_len;
        }
        if (len == 0) continue;
        double sum = 0.0, ss = 0.0;
        for (uint64_t i = 0; i < len; i++) sum += w[start + i];
        double mu = sum / (double)len;
        for (uint64_t i = 0; i < len; i++) ss += (w[start + i] - mu) * (w[start + i] - mu);
        add_group(mu, sqrt(ss / (double)len), q->scale[g], q->offset[g], q->alphabet,
                  q->symbols[start], (double)len, mix);
    }
    double total = 0.0, h = 0.0;
    for (int j = 0; j < 256; j++) total += mix[j];
    for (int j = 0; j < 256; j++)
        if (mix[j] > 0.0) h -= mix[j] / total * log2(mix[j] / total);
    return total > 0.0 ? h : 0.0;
}

double wqc_sdclip_entropy_closed_form(int bits, double k)
{
    const double m = (double)((1 << (bits - 1)) - 1);
    const double pi = 3.14159265358979323846;
    return log2(sqrt(2.0 * pi * exp(1.0))) + log2(m) - log2(k);
}
