/* Tensor statistics: two passes in double (the mean first, then the
 * central moments), so that a mean near zero is not lost to cancellation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/stats.h"

#define BLOCK 65536

static void first_pass(wqc_stats_stream *m, const float *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = w[i];
        m->sum += v;
        if (v < m->min || m->n + i == 0) m->min = v;
        if (v > m->max || m->n + i == 0) m->max = v;
        if (v != v) m->min = m->max = v;
    }
    m->n += n;
}

static void second_pass(wqc_stats_stream *m, double mean, const float *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double d = (double)w[i] - mean, d2 = d * d;
        m->m2 += d2;
        m->m4 += d2 * d2;
    }
}

void wqc_stats_stream_first(wqc_stats_stream *s, const float *w, size_t n) { first_pass(s, w, n); }

void wqc_stats_stream_second(wqc_stats_stream *s, const float *w, size_t n)
{
    second_pass(s, s->n ? s->sum / (double)s->n : 0.0, w, n);
}

void wqc_stats_stream_quantized(wqc_stats_stream *s, const float *w, const wqc_quantized *q, uint64_t r0, uint64_t r1)
{
    wqc_quant_measure_rows(w, q, r0, r1, &s->sums);
    for (uint64_t r = r0; r < r1; r++) {
        for (uint64_t c = 0; c < q->cols; c++) {
            uint64_t g = wqc_quantized_group(q, r, c);
            /* The grid's reach: its ends, widened by half a step. */
            double st = q->scale[g], lo = q->offset[g], hi = lo + st * (double)(q->alphabet - 1);
            double v = w[(r - r0) * q->cols + c];
            if (st < 0) {
                double t = lo;
                lo = hi;
                hi = t;
                st = -st;
            }
            if (v < lo - st / 2 || v > hi + st / 2) s->clipped++;
        }
    }
    s->quantized = 1;
}

static void quantization_end(const wqc_stats_stream *s, wqc_tensor_stats *out)
{
    out->quantized = s->quantized;
    out->clipped = s->clipped;
    out->sqnr_db = s->sums.noise > 0.0 ? 10.0 * log10(s->sums.signal / s->sums.noise) : INFINITY;
}

void wqc_stats_stream_end(const wqc_stats_stream *m, wqc_tensor_stats *out)
{
    double n = (double)m->n, mean = m->n ? m->sum / n : 0.0;
    double var = m->n ? m->m2 / n : 0.0;
    *out = (wqc_tensor_stats){.count = m->n, .mean = mean, .std = sqrt(var), .min = m->min, .max = m->max};
    out->kurtosis = var > 0.0 ? (m->m4 / n) / (var * var) - 3.0 : var == 0.0 ? 0.0 : var;
    if (m->quantized) quantization_end(m, out);
}

void wqc_stats_floats(const float *w, uint64_t n, wqc_tensor_stats *out)
{
    wqc_stats_stream m = {0};
    wqc_stats_stream_first(&m, w, (size_t)n);
    wqc_stats_stream_second(&m, w, (size_t)n);
    wqc_stats_stream_end(&m, out);
}

wqc_status wqc_stats_tensor(const wqc_tensor *t, wqc_tensor_stats *out, wqc_error *err)
{
    if (!wqc_dtype_is_float(t->dtype))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': dtype %s is not a float type", t->name,
                        wqc_dtype_name(t->dtype));
    float *buf = malloc(BLOCK * sizeof *buf);
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    size_t size = wqc_dtype_size(t->dtype);
    wqc_stats_stream m = {0};
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t at = 0; at < t->nelem; at += BLOCK) {
            size_t n = t->nelem - at < BLOCK ? (size_t)(t->nelem - at) : BLOCK;
            wqc_convert_to_f32(t->dtype, t->data + at * size, n, buf);
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
