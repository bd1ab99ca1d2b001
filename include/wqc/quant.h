/* wqc/quant.h - lossy quantizers from float32 weights to small integer symbols.
 *
 * Every quantizer writes one symbol (uint8) per weight and, per parameter
 * group, a scale and an offset such that the dequantized weight is
 *     w' = offset + scale * q                      (computed in float32)
 * Groups: the whole tensor, one row, or G consecutive weights of a row.
 * A matrix is (rows x cols) in row-major order; a tensor of any other rank is
 * viewed as rows = shape[0], cols = product of the rest (1-D: one row).
 *
 * Rounding: round half up, i.e. floor(x + 0.5), evaluated in float32 after
 * clamping x to the symbol range, so the result is the same on every platform.
 *
 * Methods:
 *  affine  asymmetric min/max: scale = (max - min) / (2^b - 1), offset = min,
 *          q = clamp(round((w - min) / scale), 0, 2^b - 1). A constant group
 *          (max == min) has scale 0 and q = 0, and round-trips exactly.
 *  sdclip  symmetric per row, clipped at c = k * std(row) (population std,
 *          about the row mean). M = 2^(b-1) - 1 levels each side of an exact
 *          zero, 2^b - 1 levels in all: step = c / M,
 *          q = clamp(round(w / step), -M, M) + M, offset = -M * step.
 *          b >= 2. A constant row (std 0) gets scale 0, offset = its value and
 *          q = M everywhere, so it round-trips exactly.
 *  grid    a fixed step D for the whole tensor: q = round(w / D) - min_q with
 *          min_q = min over the tensor of round(w / D); offset = min_q * D,
 *          scale = D. WQC_ERR_RANGE if max_q - min_q + 1 > 256 (the symbols
 *          would need more than 8 bits). `bits` is an output: ceil(log2(range)).
 */
#ifndef WQC_QUANT_H
#define WQC_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wqc_quant_method {
    WQC_QUANT_AFFINE = 0,
    WQC_QUANT_SDCLIP,
    WQC_QUANT_GRID,
    WQC_QUANT_GIVEN             /* symbols supplied by the user (I8/U8 input), never produced by wqc_quantize */
} wqc_quant_method;

typedef enum wqc_granularity {
    WQC_GRAN_TENSOR = 0,
    WQC_GRAN_ROW,
    WQC_GRAN_GROUP
} wqc_granularity;

typedef struct wqc_quant_params {
    wqc_quant_method method;
    int bits;                   /* 1..8 (affine), 2..8 (sdclip); ignored by grid */
    wqc_granularity granularity; /* affine only; sdclip is per row, grid per tensor */
    uint32_t group_size;        /* G for WQC_GRAN_GROUP */
    double k;                   /* sdclip clip multiple of the row std */
    double step;                /* grid step D > 0 */
    int exact_ends;             /* affine's grid ends and sdclip's step in full float32; by default
                                   rounded to bfloat16 (8 significant bits: a third of the bits to
                                   store). Not recorded in a .wqc: for analysis against a textbook
                                   quantizer (analyze --exact-ends). */
} wqc_quant_params;

/* Defaults of the published SDClip recipe. */
#define WQC_SDCLIP_MATRIX_BITS 6
#define WQC_SDCLIP_MATRIX_K 12.85
#define WQC_SDCLIP_EMBED_BITS 8
#define WQC_SDCLIP_EMBED_K 20.0

/* Affine, 4 bits, per row. */
void wqc_quant_params_default(wqc_quant_params *p);

/* Checks ranges: bits, group size, k > 0, step > 0 and finite. */
wqc_status wqc_quant_params_check(const wqc_quant_params *p, wqc_error *err);

/* Quantizer settings given by name as text, as the CLI's options and
 * --rule specs and the Python package's keywords give them:
 *   method affine|sdclip|grid, bits 1..8, granularity tensor|row|group:G,
 *   k (sdclip clip), step (grid step).
 * wqc_quant_setting returns WQC_ERR_INVALID_ARG for a bad value and
 * WQC_ERR_NOT_FOUND for an unknown name, with the message in err.
 * wqc_quant_settings_finish applies the method's defaults (sdclip: 6 bits,
 * k 12.85, unless given) and checks the result; a setting the method does
 * not use (k but for sdclip, step but for grid, granularity but for affine)
 * is WQC_ERR_INVALID_ARG rather than ignored. */
typedef struct wqc_quant_settings {
    wqc_quant_params params;
    int bits_given, k_given, step_given, granularity_given;
} wqc_quant_settings;

void wqc_quant_settings_init(wqc_quant_settings *q);
wqc_status wqc_quant_setting(wqc_quant_settings *q, const char *name, const char *value, wqc_error *err);
wqc_status wqc_quant_settings_finish(wqc_quant_settings *q, wqc_error *err);
/* True when any setting departs from the default quantizer (what lossless
 * storage, which quantizes nothing, must refuse). */
int wqc_quant_settings_given(const wqc_quant_settings *q);

/* "affine 4-bit row", "sdclip 6-bit k=12.85", "grid step=0.001"; returns buf. */
const char *wqc_quant_params_describe(const wqc_quant_params *p, char *buf, size_t cap);

typedef struct wqc_quantized {
    uint64_t rows, cols;
    uint8_t *symbols;           /* rows * cols */
    uint64_t ngroups;           /* number of (scale, offset) pairs */
    uint64_t group_len;         /* weights per group along a row (cols, or G; last may be short) */
    float *scale;               /* ngroups */
    float *offset;              /* ngroups */
    int bits;                   /* symbol width b: symbols lie in [0, alphabet) */
    uint32_t alphabet;          /* 2^b (affine), 2^b - 1 (sdclip), range (grid) */
} wqc_quantized;

/* Quantizes w (rows x cols, row-major). `name` only labels errors (may be
 * NULL). WQC_ERR_NONFINITE names the first NaN/Inf and its index. On success
 * `out` owns its arrays: release with wqc_quantized_free. */
/* The same a block of rows at a time, for tensors whose floats are made a
 * block at a time (the symbols are the same): wqc_quantized_alloc sizes q
 * for rows x cols; wqc_quantize_rows quantizes rows r0..r1-1 from w, which
 * holds just those rows, and may be called for blocks in any order. Only
 * for parameters where wqc_quantize_by_rows holds (affine by row or group,
 * sdclip: the others need the whole tensor). */
wqc_status wqc_quantized_alloc(uint64_t rows, uint64_t cols, const wqc_quant_params *p, const char *name,
                               wqc_quantized *q, wqc_error *err);
int wqc_quantize_by_rows(const wqc_quant_params *p);
wqc_status wqc_quantize_rows(const float *w, uint64_t r0, uint64_t r1, const wqc_quant_params *p, const char *name,
                             wqc_quantized *q, wqc_error *err);
wqc_status wqc_quantize(const float *w, uint64_t rows, uint64_t cols, const wqc_quant_params *p,
                        const char *name, wqc_quantized *out, wqc_error *err);
void wqc_quantized_free(wqc_quantized *q);

/* The parameter groups a quantizer gives a rows x cols matrix: how many, and
 * their length along a row (the last of a row may be shorter). */
void wqc_quant_group_layout(const wqc_quant_params *p, uint64_t rows, uint64_t cols, uint64_t *ngroups,
                            uint64_t *group_len);

/* Parameter group of element (row r, column c). */
static inline uint64_t wqc_quantized_group(const wqc_quantized *q, uint64_t r, uint64_t c)
{
    uint64_t per_row = q->group_len ? (q->cols + q->group_len - 1) / q->group_len : 0;
    if (q->ngroups == 1) return 0;
    return r * per_row + c / q->group_len;
}

/* Writes rows * cols dequantized weights to out. */
void wqc_dequantize(const wqc_quantized *q, float *out);

typedef struct wqc_quant_error {
    double mse;                 /* mean of (w - w')^2 */
    double sqnr_db;             /* 10 log10(sum w^2 / sum (w - w')^2); +inf when exact */
    double max_abs;             /* max |w - w'| */
} wqc_quant_error;

/* Error of q against the original weights, without materialising w'. */
void wqc_quant_measure(const float *w, const wqc_quantized *q, wqc_quant_error *out);
/* A sum in double whose value does not depend on how its terms are cut
 * into calls or threads, and whose adds vectorise: the term of element i
 * (its index in the tensor) goes to lane i % 8 of its block of 2^16
 * elements; a block's lanes are added in a fixed tree, then the blocks in
 * order (src/common/lane_sum.h). Zero-initialise. */
typedef struct wqc_lane_sum {
    double lane[8], total;
} wqc_lane_sum;

/* Its sums over rows r0..r1-1 (w holds just those rows), added to *sums:
 * any cut of the rows into calls in order gives wqc_quant_measure's
 * figures exactly. clipped: weights more than half a step beyond their
 * grid's ends. */
typedef struct wqc_quant_sums {
    wqc_lane_sum signal, noise;
    double max_abs;
    uint64_t clipped;
} wqc_quant_sums;
void wqc_quant_measure_rows(const float *w, const wqc_quantized *q, uint64_t r0, uint64_t r1, wqc_quant_sums *sums);
/* The same for elements i0..i1-1 (w holds them) of one block of 2^16, into
 * the lanes only (no block is closed): how threads measure whole blocks. */
void wqc_quant_measure_block(const float *w, const wqc_quantized *q, uint64_t i0, uint64_t i1, wqc_quant_sums *sums);

#ifdef __cplusplus
}
#endif
#endif
