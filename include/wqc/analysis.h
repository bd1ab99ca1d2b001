/* wqc/analysis.h - what `wqc analyze` computes for one tensor, as a library
 * call: quantize, histogram, entropy, cross-entropy under the normalised
 * rANS table, estimated coded size, Gaussian prediction, quantization error,
 * and optionally the zstd/brotli baselines. */
#ifndef WQC_ANALYSIS_H
#define WQC_ANALYSIS_H

#include <stdint.h>

#include "wqc/encode.h"
#include "wqc/entropy.h"
#include "wqc/quant.h"
#include "wqc/tensor_io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wqc_analysis_options {
    wqc_quant_params quant;
    int precision;          /* rANS table precision P */
    int baselines;          /* also compress the symbols with zstd, brotli and xz */
    int zstd_level;
    int brotli_quality;
    int modes;              /* the size of each coding mode (wqc/encode.h) and encode's pick */
    const wqc_symbol_model *shared;     /* the models encode would share among tensors */
    size_t nshared;
} wqc_analysis_options;

/* Quantizer defaults, P = 12, baselines off, zstd level 19, brotli quality
 * 11, modes on, no shared models. */
void wqc_analysis_options_default(wqc_analysis_options *o);

/* Sizes of the symbol stream after general-purpose compressors, in bytes;
 * -1 where not computed (nibble forms exist only for b <= 4). */
typedef struct wqc_baseline_sizes {
    int64_t zstd_bytes;         /* one byte per symbol */
    int64_t zstd_nibble_bytes;  /* two symbols per byte, low nibble first */
    int64_t brotli_bytes;
    int64_t brotli_nibble_bytes;
    int64_t xz_bytes;           /* xz -9e (LZMA2), one byte per symbol */
} wqc_baseline_sizes;

/* Entropy of the symbols given a context, in bits per weight, with a free
 * table per context value (NaN where not computed). */
typedef struct wqc_conditional {
    double given_row;           /* row */
    double given_column;        /* column (computed while cols x alphabet <= 2^26) */
    double given_previous;      /* the previous symbol of the row */
    double given_zero_point;    /* the group's zero-point bin (wqc/symbol_model.h), what
                                   wqc's context mode codes with */
} wqc_conditional;

wqc_status wqc_conditional_entropies(const wqc_quantized *q, wqc_conditional *out, wqc_error *err);

typedef struct wqc_tensor_analysis {
    uint64_t rows, cols, nelem;      /* the matrix view the quantizer used */
    int quantized;                   /* 0: an I8/U8 tensor analysed as given symbols */
    int bits;                        /* b of the packed layout compared against */
    uint32_t alphabet;
    uint64_t counts[256];
    uint32_t freq[256];              /* normalised table, sums to 2^precision */
    double entropy_bits;             /* Shannon entropy, bits/weight */
    double cross_entropy_bits;       /* under freq, bits/weight */
    double predicted_bits;           /* Gaussian prediction; NaN for given symbols */
    size_t table_bytes;
    double rans_bytes;               /* estimated coded size, table included */
    double bits_per_weight;          /* rans_bytes * 8 / nelem */
    double saving_percent;           /* 100 (1 - bits_per_weight / bits) */
    double ratio_vs_packed;          /* bits / bits_per_weight */
    wqc_quant_error error;           /* zero error / +inf SQNR for given symbols */
    double w_min, w_max, w_mean, w_std;
    wqc_baseline_sizes baselines;
    wqc_conditional conditional;
    wqc_mode_sizes modes;            /* options->modes: bytes of each mode (estimates for
                                        rANS, measured for brotli and zstd) and the pick */
} wqc_tensor_analysis;

/* Analyses one tensor of dtype F32, F16, BF16 (quantized with o->quant) or
 * I8, U8 (symbols v - min, alphabet max - min + 1). Rank-0/1 tensors are one
 * row; higher ranks are shape[0] rows. WQC_ERR_UNSUPPORTED for other dtypes. */
wqc_status wqc_analyze_tensor(const wqc_tensor *t, const wqc_analysis_options *o,
                              wqc_tensor_analysis *out, wqc_error *err);

/* Element-count-weighted totals over many analysed tensors. */
typedef struct wqc_analysis_summary {
    uint64_t tensors, nelem;
    double entropy_bits_total;       /* sum n * H */
    double cross_entropy_bits_total; /* sum n * CE */
    double predicted_bits_total;     /* over tensors with a prediction */
    uint64_t predicted_nelem;
    double rans_bytes;
    double packed_bits_total;        /* sum n * b */
    double signal, noise;            /* sums of w^2 and (w - w')^2 over quantized tensors */
    int64_t zstd_bytes, zstd_nibble_bytes, brotli_bytes, brotli_nibble_bytes, xz_bytes; /* -1: n/a */
    double conditional_bits[4];      /* sum n * H given row, column, previous, zero point */
    uint64_t conditional_nelem[4];
    double mode_bytes[WQC_MODE_COUNT];  /* sum over tensors; [AUTO]: of the picks */
    uint64_t mode_tensors[WQC_MODE_COUNT]; /* tensors with that size; [AUTO] unused */
    uint64_t picked[WQC_MODE_COUNT];
} wqc_analysis_summary;

void wqc_analysis_summary_init(wqc_analysis_summary *s);
void wqc_analysis_summary_add(wqc_analysis_summary *s, const wqc_tensor_analysis *a);
/* Derived whole-input figures (0 for an empty summary). */
double wqc_summary_bits_per_weight(const wqc_analysis_summary *s);
double wqc_summary_saving_percent(const wqc_analysis_summary *s);
double wqc_summary_sqnr_db(const wqc_analysis_summary *s);

/* Compresses sym[0..n) (alphabet up to 2^bits) with zstd, brotli and xz. */
wqc_status wqc_baselines_measure(const uint8_t *sym, size_t n, int bits, int zstd_level,
                                 int brotli_quality, wqc_baseline_sizes *out, wqc_error *err);

/* ---- rate-distortion ---------------------------------------------------- */

/* Streams of bytes, as the GGUF and lossless reports measure them: zstd's
 * size at level (-1 on failure); the entropy of the field (b >> shift) & mask
 * of each byte; the order-0 rANS size estimate of symbols below alphabet
 * (table and lane states included; *entropy gets their entropy). */
int64_t wqc_zstd_bytes(const void *src, size_t n, int level);
double wqc_field_entropy_bits(const uint8_t *s, size_t n, unsigned shift, unsigned mask);
double wqc_stream_rans_bytes(const uint8_t *s, uint64_t n, uint32_t alphabet, int precision, double *entropy);

/* The high-resolution line of entropy-coded uniform scalar quantization of a
 * Gaussian source: SQNR = 6.02 R - 1.53 dB at R bits/weight, 1.53 dB
 * (10 log10(pi e / 6)) short of the rate-distortion bound D(R) = s^2 2^(-2R). */
#define WQC_RD_DB_PER_BIT 6.020599913279624     /* 20 log10(2) */
#define WQC_RD_ECSQ_GAP_DB 1.5329947696941275   /* 10 log10(pi e / 6) */
double wqc_rd_ecsq_line_db(double bits);

/* One quantizer's point on a tensor. */
typedef struct wqc_rd_point {
    wqc_quant_params quant;
    uint64_t nelem;
    double entropy_bits;    /* order-0 entropy of the symbols, bits/weight */
    double coded_bytes;     /* what encode stores: the symbols (its auto pick among its own
                               models) plus the scales and offsets */
    double scale_bytes;     /* the scales and offsets alone */
    double signal, noise;   /* sums of w^2 and (w - w')^2 */
    double sqnr_db;
} wqc_rd_point;

/* Quantizes w (rows x cols) with p and measures the point. */
wqc_status wqc_rd_measure(const float *w, uint64_t rows, uint64_t cols, const wqc_quant_params *p, int precision,
                          wqc_rd_point *out, wqc_error *err);
/* Coded bits per weight of a point, and its distance in dB to the line at
 * its entropy rate (gap > 0: above the line). */
double wqc_rd_coded_bits(const wqc_rd_point *p);
double wqc_rd_gap_db(const wqc_rd_point *p);

/* Adds point p of a tensor into m, the model's point for the same
 * quantizer (sizes and sums added, entropy and SQNR weighted by elements). */
void wqc_rd_accumulate(wqc_rd_point *m, const wqc_rd_point *p);
/* True when point i of pts[0..n) is on the Pareto front: no other point has
 * both fewer coded bits and more SQNR (one of them strictly). */
int wqc_rd_on_front(const wqc_rd_point *pts, size_t n, size_t i);

/* The sweep `analyze --rd` runs: affine tensor, row and group:32, then sdclip
 * at every k of ks[0..nk), each for bits lo..hi. Writes at most cap params
 * and returns how many there are. */
size_t wqc_rd_sweep(int lo, int hi, const double *ks, size_t nk, wqc_quant_params *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
