/* wqc/entropy.h - how much information quantized symbols carry.
 *
 * Histograms, Shannon entropy, the rANS frequency table (normalised to 2^P so
 * that the cross-entropy is minimal and every present symbol keeps frequency
 * >= 1), the size a static rANS stream would take, and the entropy predicted
 * for Gaussian weights under a given quantizer. */
#ifndef WQC_ENTROPY_H
#define WQC_ENTROPY_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/quant.h"
#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WQC_PRECISION_MIN 10
#define WQC_PRECISION_MAX 15
#define WQC_PRECISION_DEFAULT 12

/* Adds the symbol counts of sym[0..n) to counts[256] (counts are not cleared). */
void wqc_histogram(const uint8_t *sym, size_t n, uint64_t counts[256]);

/* Shannon entropy in bits per symbol of a histogram; 0 for an empty one. */
double wqc_entropy_bits(const uint64_t *counts, size_t alphabet);

/* Normalises counts[0..alphabet) to freq[] summing to exactly `total`,
 * maximising sum_i counts[i] * log(freq[i]) (i.e. minimising cross-entropy)
 * with freq[i] >= 1 wherever counts[i] > 0 and freq[i] = 0 elsewhere.
 * An all-zero histogram gives all-zero freq. WQC_ERR_INVALID_ARG if more
 * symbols are present than `total` can hold. */
wqc_status wqc_freq_normalize_total(const uint64_t *counts, size_t alphabet, uint32_t total,
                                    uint32_t *freq, wqc_error *err);

/* The same with total = 2^precision, precision in WQC_PRECISION_MIN..MAX. */
wqc_status wqc_freq_normalize(const uint64_t *counts, size_t alphabet, int precision,
                              uint32_t *freq, wqc_error *err);

/* Cross-entropy in bits per symbol of the data (counts) coded with the
 * model freq / total; +inf if a present symbol has frequency 0. */
double wqc_cross_entropy_bits(const uint64_t *counts, const uint32_t *freq, size_t alphabet,
                              uint32_t total);

/* Bytes of the serialised frequency table: one byte (alphabet - 1), then per
 * symbol its frequency as a LEB128 varint (0 for absent symbols). */
size_t wqc_freq_table_bytes(const uint32_t *freq, size_t alphabet);

/* Estimated bytes of a static rANS stream for n symbols: the payload at the
 * cross-entropy, plus 4 bytes of flushed state per lane per chunk, plus the
 * frequency table. */
double wqc_rans_size_estimate(uint64_t n, double cross_entropy_bits, size_t table_bytes,
                              uint32_t lanes, uint64_t chunk);

/* The order-0 estimate of symbols with these counts (n their total), as
 * encode would code them (its lanes for n, its default chunk): the
 * normalised table in freq[alphabet], and the figures below. */
typedef struct wqc_order0_estimate {
    double cross_entropy_bits;
    size_t table_bytes;
    double bytes;
} wqc_order0_estimate;
wqc_status wqc_order0_estimate_counts(const uint64_t *counts, size_t alphabet, uint64_t n, int precision,
                                      uint32_t *freq, wqc_order0_estimate *out, wqc_error *err);

/* Entropy (bits/symbol) that Gaussian weights would give under quantizer q:
 * for every parameter group, the weights are modelled as N(mean_g, std_g^2)
 * with that group's measured mean and std, each symbol's probability is the
 * Gaussian mass of its rounding interval on the group's grid (the end
 * symbols take the tails: clipping), and the groups' distributions are mixed
 * by element count. This is the entropy of the same whole-tensor histogram
 * that the measured figure uses, so the two compare directly. */
double wqc_gaussian_predicted_entropy(const float *w, const wqc_quantized *q);

/* Closed form for SDClip at high resolution: with step = k * sigma / M and
 * M = 2^(b-1) - 1, H ~ log2(sqrt(2 pi e)) + log2(M) - log2(k). */
double wqc_sdclip_entropy_closed_form(int bits, double k);

#ifdef __cplusplus
}
#endif
#endif
