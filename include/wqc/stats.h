/* wqc/stats.h - statistics of a tensor's original floats, and of what
 * quantization did to them: what `wqc encode` stores in a file's statistics
 * record (docs/FORMAT.md) and `wqc info` and `wqc diff` show. */
#ifndef WQC_STATS_H
#define WQC_STATS_H

#include <stdint.h>

#include "wqc/quant.h"
#include "wqc/status.h"
#include "wqc/tensor_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Moments are of the population (numpy's defaults: std with ddof 0);
 * kurtosis is the excess kurtosis m4 / m2^2 - 3 (0 for a Gaussian; 0 when
 * every value is equal). NaN or Inf values make the moments NaN or Inf. */
typedef struct wqc_tensor_stats {
    uint64_t count;
    double mean, std, min, max, kurtosis;
    int quantized;              /* clipped and sqnr_db are set */
    uint64_t clipped;           /* values more than half a step beyond the grid's ends */
    double sqnr_db;             /* 10 log10(sum w^2 / sum (w - w')^2); +inf when exact */
} wqc_tensor_stats;

/* Moments of w[0..n), computed in double in two passes. */
void wqc_stats_floats(const float *w, uint64_t n, wqc_tensor_stats *out);
/* The same for a tensor of F32, F16 or BF16 values (converted a block at a
 * time, on up to `threads` threads: the same figures at any count);
 * WQC_ERR_UNSUPPORTED for other dtypes. */
wqc_status wqc_stats_tensor(const wqc_tensor *t, int threads, wqc_tensor_stats *out, wqc_error *err);
/* Adds clipped and sqnr_db of q against the weights w it was made from. */
void wqc_stats_quantization(const float *w, const wqc_quantized *q, wqc_tensor_stats *out);

/* The same statistics of floats made a block at a time (zero-initialise):
 * every block through _first in order, then every block again through
 * _second in order (the mean is needed first), and, for a quantized tensor,
 * its blocks of rows r0..r1-1 through _quantized in order; _end gives
 * exactly what the whole-tensor functions give, for any cut into blocks.
 * threads > 1: the calls share their work out among up to that many
 * threads (OpenMP), with the same result. */
typedef struct wqc_stats_stream {
    uint64_t n, n2;             /* elements through _first, through _second */
    wqc_lane_sum sum, m2, m4;
    float min[8], max[8];       /* the first pass's extremes, by lane */
    int nan;
    int quantized;
    wqc_quant_sums sums;
    int threads;
} wqc_stats_stream;
void wqc_stats_stream_first(wqc_stats_stream *s, const float *w, size_t n);
void wqc_stats_stream_second(wqc_stats_stream *s, const float *w, size_t n);
void wqc_stats_stream_quantized(wqc_stats_stream *s, const float *w, const wqc_quantized *q, uint64_t r0, uint64_t r1);
void wqc_stats_stream_end(const wqc_stats_stream *s, wqc_tensor_stats *out);

/* How far tensor B moved from A (`wqc diff`): the relative L2 change
 * ||B - A|| / ||A||, the cosine, the largest change, in double. From the
 * statistics alone rel is a lower bound (| ||B|| - ||A|| | <= ||B - A||, with
 * the RMS from mean and std) and cosine and max_abs are NaN. */
typedef struct wqc_tensor_change {
    int changed;
    double rel, cosine, max_abs;
} wqc_tensor_change;
void wqc_change_floats(const float *a, const float *b, uint64_t n, wqc_tensor_change *out);
void wqc_change_stats(const wqc_tensor_stats *a, const wqc_tensor_stats *b, wqc_tensor_change *out);

#ifdef __cplusplus
}
#endif
#endif
