/* Internal: the lane-sum loops of the statistics (provenance/stats.c) and
 * of the quantization error (quant/quantize.c) built for AVX-512 (one
 * register of eight doubles a lane set), where the baseline build takes
 * four SSE2 or NEON pairs. Each lane takes the same IEEE operations in
 * either, so the figures are bit for bit the same (test_provenance). Lanes
 * are arrays of eight in memory; elements 0..n-1 start at lane `lane0`
 * (their index mod 8). Called where wqc_lane_blocks_avx512() says, in
 * x86-64 builds (WQC_HAVE_X86_KERNELS) only. */
#ifndef WQC_COMMON_LANE_BLOCKS_H
#define WQC_COMMON_LANE_BLOCKS_H

#include <stdint.h>

/* Whether the AVX-512 loops run: the decoders' ISA choice (WQC_ISA) is AVX-512. */
int wqc_lane_blocks_avx512(void);

/* The first pass: sum, the first smallest and largest value a lane, NaN seen. */
void wqc_lane_first_avx512(const float *w, uint64_t n, int lane0, double *sum, float *lo, float *hi, int *nan);
/* The second pass: squared and fourth-power deviations from mean. */
void wqc_lane_second_avx512(const float *w, uint64_t n, int lane0, double mean, double *m2, double *m4);
/* One quantization group's run: signal, noise, the largest |error| and the
 * values outside [lo, hi], of w against offset o + scale s * sym. */
void wqc_lane_measure_avx512(const float *w, const uint8_t *sym, uint64_t n, int lane0, float s, float o, double lo,
                             double hi, double *signal, double *noise, double *most, int64_t *clipped);

#endif
