/* wqc_quantize(): allocation and dispatch; dequantization and error metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/lane_blocks.h"
#include "../common/lane_sum.h"
#include "methods.h"

wqc_status wqc_quant_nonfinite(const float *w, uint64_t n, uint64_t base, const char *name,
                               wqc_error *err)
{
    for (uint64_t i = 0; i < n; i++) {
        if (!isfinite(w[i]))
            return wqc_fail(err, WQC_ERR_NONFINITE, "tensor '%s': %s at element %llu",
                            name ? name : "", isnan(w[i]) ? "NaN" : "infinity",
                            (unsigned long long)(base + i));
    }
    return WQC_OK;
}

wqc_status wqc_quantized_alloc(uint64_t rows, uint64_t cols, const wqc_quant_params *p, const char *name,
                               wqc_quantized *q, wqc_error *err)
{
    memset(q, 0, sizeof *q);
    wqc_status st = wqc_quant_params_check(p, err);
    if (st != WQC_OK) return st;
    if (cols != 0 && rows > UINT64_MAX / cols)
        return wqc_fail(err, WQC_ERR_LIMIT, "tensor '%s' is too large", name ? name : "");
    uint64_t n = rows * cols;
    q->rows = rows;
    q->cols = cols;
    q->bits = p->bits;
    wqc_quant_group_layout(p, rows, cols, &q->ngroups, &q->group_len);
    if (p->method == WQC_QUANT_AFFINE) q->alphabet = 1u << p->bits;
    if (p->method == WQC_QUANT_SDCLIP) q->alphabet = (1u << p->bits) - 1;
    if (n > SIZE_MAX || q->ngroups > SIZE_MAX / sizeof(float))
        return wqc_fail(err, WQC_ERR_LIMIT, "tensor '%s' is too large", name ? name : "");
    q->symbols = malloc(n ? (size_t)n : 1);
    q->scale = calloc(q->ngroups ? (size_t)q->ngroups : 1, sizeof(float));
    q->offset = calloc(q->ngroups ? (size_t)q->ngroups : 1, sizeof(float));
    if (!q->symbols || !q->scale || !q->offset) {
        wqc_quantized_free(q);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory quantizing '%s'", name ? name : "");
    }
    return WQC_OK;
}

int wqc_quantize_by_rows(const wqc_quant_params *p)
{
    return p->method == WQC_QUANT_SDCLIP || (p->method == WQC_QUANT_AFFINE && p->granularity != WQC_GRAN_TENSOR);
}

wqc_status wqc_quantize_rows(const float *w, uint64_t r0, uint64_t r1, const wqc_quant_params *p, const char *name,
                             wqc_quantized *q, wqc_error *err)
{
    if (p->method == WQC_QUANT_SDCLIP) return wqc_quantize_sdclip(w, p, name, q, r0, r1, err);
    return wqc_quantize_affine(w, p, name, q, r0, r1, err);
}

wqc_status wqc_quantize(const float *w, uint64_t rows, uint64_t cols, const wqc_quant_params *p,
                        const char *name, wqc_quantized *q, wqc_error *err)
{
    wqc_status st = wqc_quantized_alloc(rows, cols, p, name, q, err);
    if (st != WQC_OK) return st;
    switch (p->method) {
    case WQC_QUANT_AFFINE: st = wqc_quantize_affine(w, p, name, q, 0, rows, err); break;
    case WQC_QUANT_SDCLIP: st = wqc_quantize_sdclip(w, p, name, q, 0, rows, err); break;
    case WQC_QUANT_GRID: st = wqc_quantize_grid(w, p, name, q, err); break;
    case WQC_QUANT_GIVEN: break; /* rejected by wqc_quant_params_check */
    }
    if (st != WQC_OK) wqc_quantized_free(q);
    return st;
}

void wqc_quant_group_layout(const wqc_quant_params *p, uint64_t rows, uint64_t cols, uint64_t *ngroups,
                            uint64_t *group_len)
{
    *ngroups = 1;
    *group_len = cols;
    if (p->method == WQC_QUANT_SDCLIP) {
        *ngroups = rows;
    } else if (p->method == WQC_QUANT_AFFINE && p->granularity == WQC_GRAN_ROW) {
        *ngroups = cols ? rows : 0;
    } else if (p->method == WQC_QUANT_AFFINE && p->granularity == WQC_GRAN_GROUP) {
        *group_len = p->group_size;
        *ngroups = rows * (p->group_size ? (cols + p->group_size - 1) / p->group_size : 0);
    }
}

void wqc_quantized_free(wqc_quantized *q)
{
    free(q->symbols);
    free(q->scale);
    free(q->offset);
    memset(q, 0, sizeof *q);
}


void wqc_dequantize(const wqc_quantized *q, float *out)
{
    for (uint64_t r = 0; r < q->rows; r++) {
        for (uint64_t c = 0; c < q->cols; c++) {
            uint64_t g = wqc_quantized_group(q, r, c), i = r * q->cols + c;
            out[i] = q->offset[g] + q->scale[g] * (float)q->symbols[i];
        }
    }
}

/* Elements i..end-1 of one group (scale s, offset o) in one lane block, a
 * vector of eight lanes at a time where they line up, else one element in
 * its lane (the same operations). lo, hi: the grid's reach, its ends
 * widened by half a step. */
static void measure_run(const float *w, const uint8_t *sym, uint64_t i, uint64_t end, float s, float o, double lo,
                        double hi, lane_pair *signal, lane_pair *noise, lane_pair *most, lane_pair_mask *clipped)
{
    const lane_pair_mask magnitude = {INT64_MAX, INT64_MAX};
    for (uint64_t k = 0, n = end - i; k < n;) {
        if (((i + k) & 7) == 0 && n - k >= 8) {
            for (int h = 0; h < 4; h++) {
                const float *x = w + k + 2 * h;
                const uint8_t *y = sym + k + 2 * h;
                lane_pair v = lane_widen(x);
                lane_pair d = v - (lane_pair){(double)(o + s * (float)y[0]), (double)(o + s * (float)y[1])};
                lane_pair a = (lane_pair)((lane_pair_mask)d & magnitude);
                signal[h] += v * v;
                noise[h] += d * d;
                most[h] = lane_pick_pair(a > most[h], a, most[h]);
                clipped[h] -= (v < lo) | (v > hi);
            }
            k += 8;
        } else {
            int l = (int)((i + k) & 7);
            double v = w[k], d = v - (double)(o + s * (float)sym[k]);
            signal[l / 2][l % 2] += v * v;
            noise[l / 2][l % 2] += d * d;
            most[l / 2][l % 2] = fabs(d) > most[l / 2][l % 2] ? fabs(d) : most[l / 2][l % 2];
            clipped[l / 2][l % 2] += v < lo || v > hi;
            k++;
        }
    }
}

/* The run of one group from element i (before i1) and its grid: scale,
 * offset, and its reach (its ends widened by half a step). */
typedef struct group_run {
    uint64_t end;
    float s, o;
    double lo, hi;
} group_run;

static group_run run_at(const wqc_quantized *q, uint64_t i, uint64_t i1)
{
    uint64_t each = q->group_len && q->ngroups > 1 ? q->group_len : q->cols;
    uint64_t r = i / q->cols, c = i % q->cols, g = wqc_quantized_group(q, r, c);
    uint64_t end = q->ngroups == 1 ? i1 : r * q->cols + (c / each + 1) * each;
    if (end > r * q->cols + q->cols) end = r * q->cols + q->cols;
    if (end > i1) end = i1;
    double st = q->scale[g], lo = q->offset[g], hi = lo + st * (double)(q->alphabet - 1);
    if (st < 0) {
        double t = lo;
        lo = hi;
        hi = t;
        st = -st;
    }
    return (group_run){end, q->scale[g], q->offset[g], lo - st / 2, hi + st / 2};
}

/* The lanes' largest |error| and clipped counts into sums. */
static void sums_fold(wqc_quant_sums *sums, const double *most, const int64_t *clipped)
{
    for (int l = 0; l < LANE_COUNT; l++) {
        if (most[l] > sums->max_abs) sums->max_abs = most[l];
        sums->clipped += (uint64_t)clipped[l];
    }
}

void wqc_quant_measure_block(const float *w, const wqc_quantized *q, uint64_t i0, uint64_t i1, wqc_quant_sums *sums)
{
    double most[LANE_COUNT] = {0};
    int64_t clipped[LANE_COUNT] = {0};
#if defined(WQC_HAVE_X86_KERNELS)
    if (wqc_lane_blocks_avx512()) {
        for (uint64_t i = i0; i < i1;) {
            group_run g = run_at(q, i, i1);
            wqc_lane_measure_avx512(w + (i - i0), q->symbols + i, g.end - i, (int)(i & 7), g.s, g.o, g.lo, g.hi,
                                    sums->signal.lane, sums->noise.lane, most, clipped);
            i = g.end;
        }
        sums_fold(sums, most, clipped);
        return;
    }
#endif
    lane_pair signal[4], noise[4], most_pairs[4] = {{0}, {0}, {0}, {0}};
    lane_pair_mask clipped_pairs[4] = {{0}, {0}, {0}, {0}};
    lane_get(&sums->signal, signal);
    lane_get(&sums->noise, noise);
    for (uint64_t i = i0; i < i1;) {
        group_run g = run_at(q, i, i1);
        measure_run(w + (i - i0), q->symbols + i, i, g.end, g.s, g.o, g.lo, g.hi, signal, noise, most_pairs,
                    clipped_pairs);
        i = g.end;
    }
    lane_set(&sums->signal, signal);
    lane_set(&sums->noise, noise);
    memcpy(most, most_pairs, sizeof most);
    memcpy(clipped, clipped_pairs, sizeof clipped);
    sums_fold(sums, most, clipped);
}

void wqc_quant_measure_rows(const float *w, const wqc_quantized *q, uint64_t r0, uint64_t r1, wqc_quant_sums *sums)
{
    uint64_t i0 = r0 * q->cols, i1 = r1 * q->cols;
    for (uint64_t i = i0; i < i1;) {
        uint64_t end = lane_block_end(i, i1);
        wqc_quant_measure_block(w + (i - i0), q, i, end, sums);
        i = end;
        if (lane_block_start(i)) {
            lane_sum_close(&sums->signal);
            lane_sum_close(&sums->noise);
        }
    }
}

void wqc_quant_measure(const float *w, const wqc_quantized *q, wqc_quant_error *out)
{
    wqc_quant_sums sums = {0};
    wqc_quant_measure_rows(w, q, 0, q->rows, &sums);
    uint64_t n = q->rows * q->cols;
    double signal = lane_sum_value(&sums.signal), noise = lane_sum_value(&sums.noise);
    out->mse = n ? noise / (double)n : 0.0;
    out->max_abs = sums.max_abs;
    out->sqnr_db = noise > 0.0 ? 10.0 * log10(signal / noise) : INFINITY;
}
