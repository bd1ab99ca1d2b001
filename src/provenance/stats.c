/* Tensor statistics: two passes in double (the mean first, then the
 * central moments), so that a mean near zero is not lost to cancellation;
 * every sum a wqc_lane_sum, so that the figures do not depend on how the
 * floats come (blocks, threads). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/lane_blocks.h"
#include "../common/lane_sum.h"
#include "../common/threads.h"
#include "wqc/stats.h"

static void extremes_empty(wqc_stats_stream *s)
{
    for (int l = 0; l < LANE_COUNT; l++) {
        s->min[l] = INFINITY;
        s->max[l] = -INFINITY;
    }
}

/* Elements i0..i1-1 of one lane block through the first pass: their sum
 * and, per lane, the first of their smallest and largest values. Where
 * elements do not fill a vector, each goes to its lane alone (the same
 * operation). */
static void first_block(wqc_stats_stream *s, const float *w, uint64_t i0, uint64_t i1)
{
#if defined(WQC_HAVE_X86_KERNELS)
    if (wqc_lane_blocks_avx512()) {
        wqc_lane_first_avx512(w, i1 - i0, (int)(i0 & 7), s->sum.lane, s->min, s->max, &s->nan);
        return;
    }
#endif
    lane_pair sum[4];
    lane_quad lo[2], hi[2];
    lane_quad_mask nan[2] = {{0}, {0}};
    lane_get(&s->sum, sum);
    memcpy(lo, s->min, sizeof lo);
    memcpy(hi, s->max, sizeof hi);
    for (uint64_t k = 0, n = i1 - i0; k < n;) {
        if (((i0 + k) & 7) == 0 && n - k >= 8) {
            for (int h = 0; h < 4; h++) sum[h] += lane_widen(w + k + 2 * h);
            for (int h = 0; h < 2; h++) {
                lane_quad v = lane_load(w + k + 4 * h);
                lo[h] = lane_pick(v < lo[h], v, lo[h]);
                hi[h] = lane_pick(v > hi[h], v, hi[h]);
                nan[h] |= v != v;
            }
            k += 8;
        } else {
            int l = (int)((i0 + k) & 7);
            float v = w[k++];
            sum[l / 2][l % 2] += (double)v;
            lo[l / 4][l % 4] = v < lo[l / 4][l % 4] ? v : lo[l / 4][l % 4];
            hi[l / 4][l % 4] = v > hi[l / 4][l % 4] ? v : hi[l / 4][l % 4];
            nan[l / 4][l % 4] |= v != v;
        }
    }
    lane_set(&s->sum, sum);
    memcpy(s->min, lo, sizeof lo);
    memcpy(s->max, hi, sizeof hi);
    for (int l = 0; l < LANE_COUNT; l++) s->nan |= nan[l / 4][l % 4] != 0;
}

/* The second pass's squared and fourth-power deviations from the mean. */
static void second_block(wqc_stats_stream *s, double mean, const float *w, uint64_t i0, uint64_t i1)
{
#if defined(WQC_HAVE_X86_KERNELS)
    if (wqc_lane_blocks_avx512()) {
        wqc_lane_second_avx512(w, i1 - i0, (int)(i0 & 7), mean, s->m2.lane, s->m4.lane);
        return;
    }
#endif
    lane_pair m2[4], m4[4];
    lane_get(&s->m2, m2);
    lane_get(&s->m4, m4);
    for (uint64_t k = 0, n = i1 - i0; k < n;) {
        if (((i0 + k) & 7) == 0 && n - k >= 8) {
            for (int h = 0; h < 4; h++) {
                lane_pair d = lane_widen(w + k + 2 * h) - mean, d2 = d * d;
                m2[h] += d2;
                m4[h] += d2 * d2;
            }
            k += 8;
        } else {
            int l = (int)((i0 + k) & 7);
            double d = (double)w[k++] - mean, d2 = d * d;
            m2[l / 2][l % 2] += d2;
            m4[l / 2][l % 2] += d2 * d2;
        }
    }
    lane_set(&s->m2, m2);
    lane_set(&s->m4, m4);
}

enum { PASS_FIRST, PASS_SECOND, PASS_QUANTIZED };

typedef struct stats_pass {
    int kind;
    double mean;               /* PASS_SECOND */
    const wqc_quantized *q;    /* PASS_QUANTIZED */
} stats_pass;

static void pass_block(wqc_stats_stream *s, const stats_pass *p, const float *w, uint64_t i0, uint64_t i1)
{
    if (p->kind == PASS_FIRST) first_block(s, w, i0, i1);
    else if (p->kind == PASS_SECOND) second_block(s, p->mean, w, i0, i1);
    else wqc_quant_measure_block(w, p->q, i0, i1, &s->sums);
}

static void pass_close(wqc_stats_stream *s, const stats_pass *p)
{
    if (p->kind == PASS_FIRST) {
        lane_sum_close(&s->sum);
    } else if (p->kind == PASS_SECOND) {
        lane_sum_close(&s->m2);
        lane_sum_close(&s->m4);
    } else {
        lane_sum_close(&s->sums.signal);
        lane_sum_close(&s->sums.noise);
    }
}

/* Elements i0..i1-1 on this thread, a block closed wherever one ends. */
static void pass_serial(wqc_stats_stream *s, const stats_pass *p, const float *w, uint64_t i0, uint64_t i1)
{
    for (uint64_t i = i0; i < i1;) {
        uint64_t end = lane_block_end(i, i1);
        pass_block(s, p, w + (i - i0), i, end);
        i = end;
        if (lane_block_start(i)) pass_close(s, p);
    }
}

/* Block `part` (its lanes only, summed on another thread) closed into s as
 * if s had summed it: the same bits. */
static void pass_merge(wqc_stats_stream *s, const stats_pass *p, const wqc_stats_stream *part)
{
    if (p->kind == PASS_FIRST) {
        for (int l = 0; l < LANE_COUNT; l++) {
            s->sum.lane[l] = part->sum.lane[l];
            /* A tie keeps the earlier value, as one thread's pass does. */
            s->min[l] = part->min[l] < s->min[l] ? part->min[l] : s->min[l];
            s->max[l] = part->max[l] > s->max[l] ? part->max[l] : s->max[l];
        }
        s->nan |= part->nan;
    } else if (p->kind == PASS_SECOND) {
        memcpy(s->m2.lane, part->m2.lane, sizeof s->m2.lane);
        memcpy(s->m4.lane, part->m4.lane, sizeof s->m4.lane);
    } else {
        memcpy(s->sums.signal.lane, part->sums.signal.lane, sizeof s->sums.signal.lane);
        memcpy(s->sums.noise.lane, part->sums.noise.lane, sizeof s->sums.noise.lane);
        if (part->sums.max_abs > s->sums.max_abs) s->sums.max_abs = part->sums.max_abs;
        s->sums.clipped += part->sums.clipped;
    }
    pass_close(s, p);
}

/* Elements i0..i1-1: the whole blocks among them on up to s->threads
 * threads, each into a stream of its own, then closed into s in order. */
static void pass_range(wqc_stats_stream *s, const stats_pass *p, const float *w, uint64_t i0, uint64_t i1)
{
    uint64_t a = lane_block_start(i0) ? i0 : lane_block_end(i0, i1), nb = (i1 - a) / LANE_BLOCK;
    int threads = s->threads > 1 ? wqc_threads_for_work(s->threads, i1 - i0) : 1;
    wqc_stats_stream *parts = threads > 1 && nb > 1 ? calloc((size_t)nb, sizeof *parts) : NULL;
    if (!parts) {
        pass_serial(s, p, w, i0, i1);
        return;
    }
    pass_serial(s, p, w, i0, a);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
#endif
    for (uint64_t k = 0; k < nb; k++) {
        uint64_t b0 = a + k * LANE_BLOCK;
        extremes_empty(&parts[k]);
        pass_block(&parts[k], p, w + (b0 - i0), b0, b0 + LANE_BLOCK);
    }
    for (uint64_t k = 0; k < nb; k++) pass_merge(s, p, &parts[k]);
    free(parts);
    uint64_t b = a + nb * LANE_BLOCK;
    pass_serial(s, p, w + (b - i0), b, i1);
}

void wqc_stats_stream_first(wqc_stats_stream *s, const float *w, size_t n)
{
    if (s->n == 0) extremes_empty(s);
    const stats_pass p = {PASS_FIRST, 0.0, NULL};
    pass_range(s, &p, w, s->n, s->n + n);
    s->n += n;
}

static double stream_mean(const wqc_stats_stream *s) { return s->n ? lane_sum_value(&s->sum) / (double)s->n : 0.0; }

void wqc_stats_stream_second(wqc_stats_stream *s, const float *w, size_t n)
{
    const stats_pass p = {PASS_SECOND, stream_mean(s), NULL};
    pass_range(s, &p, w, s->n2, s->n2 + n);
    s->n2 += n;
}

void wqc_stats_stream_quantized(wqc_stats_stream *s, const float *w, const wqc_quantized *q, uint64_t r0, uint64_t r1)
{
    const stats_pass p = {PASS_QUANTIZED, 0.0, q};
    pass_range(s, &p, w, r0 * q->cols, r1 * q->cols);
    s->quantized = 1;
}

static void quantization_end(const wqc_stats_stream *s, wqc_tensor_stats *out)
{
    double signal = lane_sum_value(&s->sums.signal), noise = lane_sum_value(&s->sums.noise);
    out->quantized = s->quantized;
    out->clipped = s->sums.clipped;
    out->sqnr_db = noise > 0.0 ? 10.0 * log10(signal / noise) : INFINITY;
}

/* The lanes' extremes, lane 0 first (a tie keeps the lower lane). */
static double extreme(const float *lane, int largest)
{
    float e = lane[0];
    for (int l = 1; l < LANE_COUNT; l++) e = (largest ? lane[l] > e : lane[l] < e) ? lane[l] : e;
    return e;
}

void wqc_stats_stream_end(const wqc_stats_stream *m, wqc_tensor_stats *out)
{
    double n = (double)m->n, mean = stream_mean(m);
    double var = m->n ? lane_sum_value(&m->m2) / n : 0.0;
    *out = (wqc_tensor_stats){.count = m->n, .mean = mean, .std = sqrt(var)};
    if (m->n) {
        out->min = m->nan ? NAN : extreme(m->min, 0);
        out->max = m->nan ? NAN : extreme(m->max, 1);
    }
    out->kurtosis = var > 0.0 ? (lane_sum_value(&m->m4) / n) / (var * var) - 3.0 : var == 0.0 ? 0.0 : var;
    if (m->quantized) quantization_end(m, out);
}

void wqc_stats_floats(const float *w, uint64_t n, wqc_tensor_stats *out)
{
    wqc_stats_stream m = {0};
    wqc_stats_stream_first(&m, w, (size_t)n);
    wqc_stats_stream_second(&m, w, (size_t)n);
    wqc_stats_stream_end(&m, out);
}

wqc_status wqc_stats_tensor(const wqc_tensor *t, int threads, wqc_tensor_stats *out, wqc_error *err)
{
    if (!wqc_dtype_is_float(t->dtype))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': dtype %s is not a float type", t->name,
                        wqc_dtype_name(t->dtype));
    /* A lane block a thread converted at once, then summed on the threads
     * (chunks of whole blocks: the same figures as one thread's). */
    if (threads < 1) threads = 1;
    size_t chunk = (size_t)threads * LANE_BLOCK, size = wqc_dtype_size(t->dtype);
    float *buf = malloc(chunk * sizeof *buf);
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_stats_stream m = {.threads = threads};
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t at = 0; at < t->nelem; at += chunk) {
            size_t n = t->nelem - at < chunk ? (size_t)(t->nelem - at) : chunk;
            int blocks = (int)((n + LANE_BLOCK - 1) / LANE_BLOCK);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (blocks > 1)
#endif
            for (int b = 0; b < blocks; b++) {
                size_t from = (size_t)b * LANE_BLOCK, len = n - from < LANE_BLOCK ? n - from : LANE_BLOCK;
                wqc_convert_to_f32(t->dtype, t->data + (at + from) * size, len, buf + from);
            }
            if (pass == 0) wqc_stats_stream_first(&m, buf, n);
            else wqc_stats_stream_second(&m, buf, n);
        }
    }
    free(buf);
    wqc_stats_stream_end(&m, out);
    return WQC_OK;
}

void wqc_stats_quantization(const float *w, const wqc_quantized *q, wqc_tensor_stats *out)
{
    wqc_stats_stream s = {0};
    wqc_stats_stream_quantized(&s, w, q, 0, q->rows);
    quantization_end(&s, out);
}

void wqc_change_floats(const float *a, const float *b, uint64_t n, wqc_tensor_change *out)
{
    double aa = 0, bb = 0, ab = 0, dd = 0, mx = 0;
    for (uint64_t i = 0; i < n; i++) {
        double x = a[i], y = b[i], d = y - x;
        aa += x * x, bb += y * y, ab += x * y, dd += d * d;
        if (fabs(d) > mx || d != d) mx = fabs(d);
    }
    out->rel = aa > 0 ? sqrt(dd / aa) : dd > 0 ? INFINITY : 0.0;
    out->cosine = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : aa == bb ? 1.0 : 0.0;
    out->max_abs = mx;
    out->changed = dd != 0 || mx != 0 || memcmp(a, b, (size_t)n * sizeof *a) != 0;
}

void wqc_change_stats(const wqc_tensor_stats *a, const wqc_tensor_stats *b, wqc_tensor_change *out)
{
    double ra = sqrt(a->mean * a->mean + a->std * a->std), rb = sqrt(b->mean * b->mean + b->std * b->std);
    out->rel = ra > 0 ? fabs(rb - ra) / ra : rb > 0 ? INFINITY : 0.0;
    out->cosine = out->max_abs = NAN;
    out->changed = a->mean != b->mean || a->std != b->std || a->min != b->min || a->max != b->max ||
                   a->kurtosis != b->kurtosis;
}
