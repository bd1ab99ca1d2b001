#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/analysis.h"
#include "wqc/rans.h"

void wqc_analysis_options_default(wqc_analysis_options *o)
{
    wqc_quant_params_default(&o->quant);
    o->precision = WQC_PRECISION_DEFAULT;
    o->baselines = 0;
    o->zstd_level = 19;
    o->brotli_quality = 11;
    o->modes = 1;
    o->shared = NULL;
    o->nshared = 0;
}

static void weight_stats(const float *w, uint64_t n, wqc_tensor_analysis *a)
{
    double sum = 0.0, ss = 0.0, lo = INFINITY, hi = -INFINITY;
    for (uint64_t i = 0; i < n; i++) {
        sum += w[i];
        lo = w[i] < lo ? w[i] : lo;
        hi = w[i] > hi ? w[i] : hi;
    }
    double mean = n ? sum / (double)n : 0.0;
    for (uint64_t i = 0; i < n; i++) ss += (w[i] - mean) * (w[i] - mean);
    a->w_mean = mean;
    a->w_std = n ? sqrt(ss / (double)n) : 0.0;
    a->w_min = n ? lo : 0.0;
    a->w_max = n ? hi : 0.0;
}

/* An I8/U8 tensor is taken as the user's own symbols: v - min (one group,
 * scale 1, offset min, as encode stores them). */
static wqc_status given_symbols(const wqc_tensor *t, const float *w, uint64_t rows, uint64_t cols, wqc_quantized *q,
                                wqc_error *err)
{
    memset(q, 0, sizeof *q);
    q->symbols = malloc(t->nelem ? (size_t)t->nelem : 1);
    q->scale = malloc(sizeof(float));
    q->offset = malloc(sizeof(float));
    if (!q->symbols || !q->scale || !q->offset) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", t->name);
    q->rows = rows;
    q->cols = cols;
    q->ngroups = 1;
    q->group_len = cols;
    float lo = 255.0f, hi = -128.0f;
    for (uint64_t i = 0; i < t->nelem; i++) {
        lo = w[i] < lo ? w[i] : lo;
        hi = w[i] > hi ? w[i] : hi;
    }
    if (t->nelem == 0) lo = hi = 0.0f;
    for (uint64_t i = 0; i < t->nelem; i++) q->symbols[i] = (uint8_t)(w[i] - lo);
    q->scale[0] = 1.0f;
    q->offset[0] = lo;
    q->alphabet = (uint32_t)(hi - lo) + 1;
    q->bits = 1;
    while ((1u << q->bits) < q->alphabet) q->bits++;
    return WQC_OK;
}

/* What each coding mode would take, and the one encode picks (as it would
 * code the tensor: auto, the default rANS parameters, the shared models). */
static wqc_status measure_modes(const wqc_tensor *t, const wqc_analysis_options *o, const wqc_quantized *q,
                                wqc_tensor_analysis *a, wqc_error *err)
{
    wqc_frame f;
    wqc_frame_init(&f, t);
    f.quantized = 1;
    f.quant = o->quant;
    f.q = *q;
    wqc_encode_options eo;
    wqc_encode_options_default(&eo);
    eo.rans.precision = o->precision;
    eo.zstd_level = o->zstd_level;
    eo.brotli_quality = o->brotli_quality;
    eo.shared = o->shared;
    eo.nshared = o->nshared;
    eo.estimate_only = 1;
    void *scratch = NULL;
    wqc_status st = wqc_encode_symbols(&f, &eo, &a->modes, &scratch, err);
    free(scratch);
    return st;
}

wqc_status wqc_analyze_tensor(const wqc_tensor *t, const wqc_analysis_options *o,
                              wqc_tensor_analysis *a, wqc_error *err)
{
    memset(a, 0, sizeof *a);
    a->nelem = t->nelem;
    wqc_tensor_matrix(t, &a->rows, &a->cols);
    if (!wqc_dtype_is_float(t->dtype) && t->dtype != WQC_DTYPE_I8 && t->dtype != WQC_DTYPE_U8)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': dtype %s is not analysed", t->name,
                        wqc_dtype_name(t->dtype));

    float *w = NULL;
    wqc_quantized q;
    memset(&q, 0, sizeof q);
    wqc_status st = wqc_tensor_to_f32(t, &w, err);
    if (st != WQC_OK) return st;
    a->quantized = wqc_dtype_is_float(t->dtype);
    if (a->quantized) st = wqc_quantize(w, a->rows, a->cols, &o->quant, t->name, &q, err);
    else st = given_symbols(t, w, a->rows, a->cols, &q, err);
    if (st != WQC_OK) goto done;
    weight_stats(w, t->nelem, a);

    a->bits = q.bits;
    a->alphabet = q.alphabet;
    wqc_histogram(q.symbols, (size_t)t->nelem, a->counts);
    a->entropy_bits = wqc_entropy_bits(a->counts, a->alphabet);
    wqc_order0_estimate e;
    st = wqc_order0_estimate_counts(a->counts, a->alphabet, t->nelem, o->precision, a->freq, &e, err);
    if (st != WQC_OK) goto done;
    a->cross_entropy_bits = e.cross_entropy_bits;
    a->table_bytes = e.table_bytes;
    a->rans_bytes = e.bytes;
    a->bits_per_weight = t->nelem ? a->rans_bytes * 8.0 / (double)t->nelem : 0.0;
    a->saving_percent = t->nelem ? 100.0 * (1.0 - a->bits_per_weight / a->bits) : 0.0;
    a->ratio_vs_packed = a->bits_per_weight > 0 ? a->bits / a->bits_per_weight : 0.0;
    if (a->quantized) {
        wqc_quant_measure(w, &q, &a->error);
        a->predicted_bits = wqc_gaussian_predicted_entropy(w, &q);
    } else {
        a->error.sqnr_db = INFINITY;
        a->predicted_bits = NAN;
    }
    a->baselines.zstd_bytes = a->baselines.zstd_nibble_bytes = -1;
    a->baselines.brotli_bytes = a->baselines.brotli_nibble_bytes = -1;
    a->baselines.xz_bytes = -1;
    if (o->baselines)
        st = wqc_baselines_measure(q.symbols, (size_t)t->nelem, a->bits, o->zstd_level,
                                   o->brotli_quality, &a->baselines, err);
    if (st == WQC_OK) st = wqc_conditional_entropies(&q, &a->conditional, err);
    if (st == WQC_OK && o->modes) st = measure_modes(t, o, &q, a, err);
done:
    wqc_quantized_free(&q);
    free(w);
    return st;
}

void wqc_analysis_summary_init(wqc_analysis_summary *s)
{
    memset(s, 0, sizeof *s);
    s->zstd_bytes = s->zstd_nibble_bytes = s->brotli_bytes = s->brotli_nibble_bytes = s->xz_bytes = -1;
}

/* A baseline total is defined only while every tensor has that figure. */
static void add_baseline(int64_t *total, int64_t v, int first)
{
    if (first) *total = v;
    else if (*total >= 0) *total = v >= 0 ? *total + v : -1;
}

void wqc_analysis_summary_add(wqc_analysis_summary *s, const wqc_tensor_analysis *a)
{
    int first = s->tensors == 0;
    double n = (double)a->nelem;
    s->tensors++;
    s->nelem += a->nelem;
    s->entropy_bits_total += n * a->entropy_bits;
    s->cross_entropy_bits_total += n * a->cross_entropy_bits;
    if (!isnan(a->predicted_bits)) {
        s->predicted_bits_total += n * a->predicted_bits;
        s->predicted_nelem += a->nelem;
    }
    s->rans_bytes += a->rans_bytes;
    s->packed_bits_total += n * a->bits;
    if (a->quantized) {
        /* Recover the sums from the per-tensor figures: noise = n * mse,
         * signal = n * (std^2 + mean^2). */
        s->noise += n * a->error.mse;
        s->signal += n * (a->w_std * a->w_std + a->w_mean * a->w_mean);
    }
    add_baseline(&s->zstd_bytes, a->baselines.zstd_bytes, first);
    add_baseline(&s->zstd_nibble_bytes, a->baselines.zstd_nibble_bytes, first);
    add_baseline(&s->brotli_bytes, a->baselines.brotli_bytes, first);
    add_baseline(&s->brotli_nibble_bytes, a->baselines.brotli_nibble_bytes, first);
    add_baseline(&s->xz_bytes, a->baselines.xz_bytes, first);
    const double cond[4] = {a->conditional.given_row, a->conditional.given_column, a->conditional.given_previous,
                            a->conditional.given_zero_point};
    for (int i = 0; i < 4; i++)
        if (!isnan(cond[i])) {
            s->conditional_bits[i] += n * cond[i];
            s->conditional_nelem[i] += a->nelem;
        }
    for (int m = 1; m < WQC_MODE_COUNT; m++)
        if (a->modes.bytes[m] >= 0) {
            s->mode_bytes[m] += (double)a->modes.bytes[m];
            s->mode_tensors[m]++;
        }
    if (a->modes.chosen != WQC_MODE_AUTO && a->modes.bytes[a->modes.chosen] >= 0) {
        s->picked[a->modes.chosen]++;
        s->mode_bytes[WQC_MODE_AUTO] += (double)a->modes.bytes[a->modes.chosen];
    }
}

double wqc_summary_bits_per_weight(const wqc_analysis_summary *s)
{
    return s->nelem ? s->rans_bytes * 8.0 / (double)s->nelem : 0.0;
}

double wqc_summary_saving_percent(const wqc_analysis_summary *s)
{
    return s->packed_bits_total > 0 ? 100.0 * (1.0 - s->rans_bytes * 8.0 / s->packed_bits_total) : 0.0;
}

double wqc_summary_sqnr_db(const wqc_analysis_summary *s)
{
    return s->noise > 0 ? 10.0 * log10(s->signal / s->noise) : INFINITY;
}
