/* Text and JSON renderings of an analyze report. */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "stats_out.h"

#define HIST_BAR_WIDTH 50

static void shape_string(const wqc_tensor *t, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    if (t->ndim == 0) snprintf(buf, cap, "scalar");
    for (int d = 0; d < t->ndim && n < cap; d++)
        n += (size_t)snprintf(buf + n, cap - n, d ? "x%llu" : "%llu", (unsigned long long)t->shape[d]);
}

static void put_padded(FILE *out, const char *name, size_t width)
{
    cli_put_escaped(out, name);
    for (size_t n = cli_escaped_len(name); n < width; n++) fputc(' ', out);
}

static void print_sqnr(FILE *out, double db)
{
    if (isinf(db)) fprintf(out, " %8s", "exact");
    else fprintf(out, " %8.2f", db);
}

static void print_histogram(FILE *out, const analyze_job *j)
{
    const wqc_tensor_analysis *a = &j->result;
    uint64_t max = 0;
    for (uint32_t s = 0; s < a->alphabet; s++) max = a->counts[s] > max ? a->counts[s] : max;
    fprintf(out, "\nhistogram of ");
    cli_put_escaped(out, j->tensor->name);
    fprintf(out, " (%u symbols, H = %.4f bits)\n", a->alphabet, a->entropy_bits);
    for (uint32_t s = 0; s < a->alphabet; s++) {
        double pct = a->nelem ? 100.0 * (double)a->counts[s] / (double)a->nelem : 0.0;
        int bar = max ? (int)((double)a->counts[s] * HIST_BAR_WIDTH / (double)max + 0.5) : 0;
        fprintf(out, "  %3u %7.3f%% |", s, pct);
        for (int b = 0; b < bar; b++) fputc('#', out);
        fputc('\n', out);
    }
}

static void print_bits(FILE *out, double bits, int width)
{
    if (isnan(bits)) fprintf(out, " %*s", width, "-");
    else fprintf(out, " %*.4f", width, bits);
}

static double mode_bits(const wqc_tensor_analysis *a, wqc_mode m)
{
    return a->modes.bytes[m] >= 0 && a->nelem ? (double)a->modes.bytes[m] * 8.0 / (double)a->nelem : NAN;
}

/* Per tensor: what a context model could reach, and what each coding mode
 * takes (bits/weight, descriptions and lane states included). */
static void print_modes(FILE *out, const analyze_report *r, size_t in, size_t width)
{
    if (!r->options->modes) return;
    fprintf(out, "\ncontext entropies and coding modes (bits/weight; H|x: entropy given x with free tables):\n");
    put_padded(out, "tensor", width);
    fprintf(out, "  %7s %7s %7s %7s %7s %8s %8s %8s %8s %8s  %s\n", "H", "H|row", "H|col", "H|prev", "H|zero", "order0",
            "context", "brotli", "zstd", "lzma", "encode picks");
    for (size_t i = 0; i < r->njobs; i++) {
        const analyze_job *j = &r->jobs[i];
        if (j->input != in || j->skip) continue;
        const wqc_tensor_analysis *a = &j->result;
        put_padded(out, j->tensor->name, width);
        fprintf(out, " ");
        print_bits(out, a->entropy_bits, 7);
        print_bits(out, a->conditional.given_row, 7);
        print_bits(out, a->conditional.given_column, 7);
        print_bits(out, a->conditional.given_previous, 7);
        print_bits(out, a->conditional.given_zero_point, 7);
        for (int m = WQC_MODE_ORDER0; m < WQC_MODE_COUNT; m++) print_bits(out, mode_bits(a, (wqc_mode)m), 8);
        fprintf(out, "  %s%s\n", wqc_mode_name(a->modes.chosen),
                a->modes.chosen == WQC_MODE_CONTEXT && a->modes.shared_bytes >= 0 &&
                        a->modes.shared_bytes <= a->modes.bytes[WQC_MODE_CONTEXT]
                    ? " (shared tables)"
                    : "");
    }
}

static void print_baselines(FILE *out, const analyze_report *r)
{
    const wqc_analysis_summary *s = &r->summary;
    if (!r->options->baselines || s->nelem == 0) return;
    double n = (double)s->nelem;
    fprintf(out, "\nbaselines (bits/weight over the analysed tensors):\n");
    fprintf(out, "  %-30s %8.4f\n", "wqc rANS (estimate)", s->rans_bytes * 8.0 / n);
    fprintf(out, "  zstd -%-2d, byte per symbol      %8.4f\n", r->options->zstd_level,
            (double)s->zstd_bytes * 8.0 / n);
    if (s->zstd_nibble_bytes >= 0)
        fprintf(out, "  zstd -%-2d, packed nibbles       %8.4f\n", r->options->zstd_level,
                (double)s->zstd_nibble_bytes * 8.0 / n);
    fprintf(out, "  brotli -q %-2d, byte per symbol  %8.4f\n", r->options->brotli_quality,
            (double)s->brotli_bytes * 8.0 / n);
    if (s->brotli_nibble_bytes >= 0)
        fprintf(out, "  brotli -q %-2d, packed nibbles   %8.4f\n", r->options->brotli_quality,
                (double)s->brotli_nibble_bytes * 8.0 / n);
    if (s->xz_bytes >= 0) fprintf(out, "  xz -9e, byte per symbol        %8.4f\n", (double)s->xz_bytes * 8.0 / n);
}

void analyze_print_text(FILE *out, const analyze_report *r)
{
    char desc[96], shape[96];
    size_t width = 6;
    for (size_t i = 0; i < r->njobs; i++) {
        size_t n = cli_escaped_len(r->jobs[i].tensor->name);
        width = n > width ? n : width;
    }
    width = width > 60 ? 60 : width;
    const wqc_quant_params *qp = &r->options->quant;
    fprintf(out, "quantizer: %s, rANS table P=%d%s\n", wqc_quant_params_describe(qp, desc, sizeof desc),
            r->options->precision,
            qp->method == WQC_QUANT_GRID ? ""
            : qp->exact_ends            ? " (grid ends in float32: --exact-ends)"
                                        : " (grid ends rounded to bfloat16, as encode stores them; --exact-ends for float32)");
    for (size_t in = 0; in < r->ninputs; in++) {
        fprintf(out, "\ninput: ");
        cli_put_escaped(out, r->inputs[in].label);
        fputc('\n', out);
        put_padded(out, "tensor", width);
        fprintf(out, "  %-14s %-5s %10s %2s %7s %7s %7s %8s %7s %7s %8s\n", "shape", "dtype",
                "weights", "b", "H", "CE", "bits/w", "saving", "ratio", "gauss H", "SQNR dB");
        for (size_t i = 0; i < r->njobs; i++) {
            const analyze_job *j = &r->jobs[i];
            if (j->input != in) continue;
            shape_string(j->tensor, shape, sizeof shape);
            put_padded(out, j->tensor->name, width);
            fprintf(out, "  %-14s %-5s %10llu", shape, wqc_dtype_name(j->tensor->dtype),
                    (unsigned long long)j->tensor->nelem);
            if (j->skip) {
                fprintf(out, "  skipped: %s\n", j->skip);
                continue;
            }
            const wqc_tensor_analysis *a = &j->result;
            fprintf(out, " %2d %7.4f %7.4f %7.4f %7.2f%% %6.3fx", a->bits, a->entropy_bits,
                    a->cross_entropy_bits, a->bits_per_weight, a->saving_percent, a->ratio_vs_packed);
            if (isnan(a->predicted_bits)) fprintf(out, " %7s", "-");
            else fprintf(out, " %7.4f", a->predicted_bits);
            print_sqnr(out, a->error.sqnr_db);
            fputc('\n', out);
        }
        print_modes(out, r, in, width);
    }
    const wqc_analysis_summary *s = &r->summary;
    size_t skipped = 0;
    for (size_t i = 0; i < r->njobs; i++) skipped += r->jobs[i].skip != NULL;
    fprintf(out, "\nsummary: %llu tensors analysed (%llu weights), %zu skipped\n",
            (unsigned long long)s->tensors, (unsigned long long)s->nelem, skipped);
    if (s->nelem) {
        double n = (double)s->nelem;
        fprintf(out, "  entropy        %.4f bits/weight\n", s->entropy_bits_total / n);
        fprintf(out, "  cross-entropy  %.4f bits/weight (P=%d tables)\n",
                s->cross_entropy_bits_total / n, r->options->precision);
        fprintf(out, "  rANS estimate  %.4f bits/weight, %.0f bytes (tables and lane states included)\n",
                wqc_summary_bits_per_weight(s), s->rans_bytes);
        fprintf(out, "  vs packed      %.2f%% smaller than packed %.4g-bit (ratio %.3fx)\n",
                wqc_summary_saving_percent(s), s->packed_bits_total / n,
                s->rans_bytes > 0 ? s->packed_bits_total / (s->rans_bytes * 8.0) : 0.0);
        if (s->predicted_nelem)
            fprintf(out, "  Gaussian model %.4f bits/weight predicted\n",
                    s->predicted_bits_total / (double)s->predicted_nelem);
        if (s->noise > 0) fprintf(out, "  SQNR           %.2f dB\n", wqc_summary_sqnr_db(s));
        static const char *given[4] = {"row", "column", "previous symbol", "zero point"};
        for (int c = 0; c < 4; c++)
            if (s->conditional_nelem[c])
                fprintf(out, "  H given %-15s %.4f bits/weight\n", given[c],
                        s->conditional_bits[c] / (double)s->conditional_nelem[c]);
        if (r->options->modes && s->mode_bytes[WQC_MODE_AUTO] > 0) {
            fprintf(out, "  encode's modes %.4f bits/weight, %.0f bytes of symbols (", s->mode_bytes[WQC_MODE_AUTO] * 8.0 / n,
                    s->mode_bytes[WQC_MODE_AUTO]);
            const char *sep = "";
            for (int m = WQC_MODE_ORDER0; m < WQC_MODE_COUNT; m++)
                if (s->picked[m]) fprintf(out, "%s%s %llu", sep, wqc_mode_name((wqc_mode)m), (unsigned long long)s->picked[m]), sep = ", ";
            fprintf(out, "); order-0 everywhere: %.4f\n",
                    s->mode_tensors[WQC_MODE_ORDER0] == s->tensors ? s->mode_bytes[WQC_MODE_ORDER0] * 8.0 / n : NAN);
        }
    }
    print_baselines(out, r);
    if (r->show_hist)
        for (size_t i = 0; i < r->njobs; i++)
            if (!r->jobs[i].skip) print_histogram(out, &r->jobs[i]);
}

/* JSON has no inf/NaN: those become null. */
static json_t *number(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static json_t *size_or_null(int64_t v) { return v >= 0 ? json_integer(v) : json_null(); }

static json_t *quantizer_json(const wqc_analysis_options *o)
{
    static const char *methods[] = {"affine", "sdclip", "grid"};
    static const char *grans[] = {"tensor", "row", "group"};
    const wqc_quant_params *p = &o->quant;
    json_t *q = json_object();
    json_object_set_new(q, "method", json_string(methods[p->method]));
    if (p->method != WQC_QUANT_GRID) json_object_set_new(q, "bits", json_integer(p->bits));
    if (p->method != WQC_QUANT_GRID) json_object_set_new(q, "grid_ends", json_string(p->exact_ends ? "float32" : "bfloat16"));
    if (p->method == WQC_QUANT_AFFINE) {
        json_object_set_new(q, "granularity", json_string(grans[p->granularity]));
        if (p->granularity == WQC_GRAN_GROUP) json_object_set_new(q, "group_size", json_integer(p->group_size));
    }
    if (p->method == WQC_QUANT_SDCLIP) {
        json_object_set_new(q, "k", json_real(p->k));
        json_object_set_new(q, "closed_form_entropy_bits",
                            json_real(wqc_sdclip_entropy_closed_form(p->bits, p->k)));
    }
    if (p->method == WQC_QUANT_GRID) json_object_set_new(q, "step", json_real(p->step));
    json_object_set_new(q, "precision", json_integer(o->precision));
    return q;
}

static json_t *tensor_json(const analyze_report *r, const analyze_job *j)
{
    const wqc_tensor *t = j->tensor;
    json_t *o = json_object(), *shape = json_array();
    for (int d = 0; d < t->ndim; d++) json_array_append_new(shape, json_integer((json_int_t)t->shape[d]));
    json_object_set_new(o, "input", json_string(r->inputs[j->input].label));
    /* Names are bytes from the file: json_stringn_nocheck would emit invalid
     * UTF-8, so fall back to null when the name is not valid UTF-8. */
    json_t *name = json_string(t->name);
    json_object_set_new(o, "name", name ? name : json_null());
    json_object_set_new(o, "shape", shape);
    json_object_set_new(o, "dtype", json_string(wqc_dtype_name(t->dtype)));
    json_object_set_new(o, "elements", json_integer((json_int_t)t->nelem));
    if (j->skip) {
        json_object_set_new(o, "skipped", json_string(j->skip));
        return o;
    }
    const wqc_tensor_analysis *a = &j->result;
    json_object_set_new(o, "quantized", json_boolean(a->quantized));
    json_object_set_new(o, "rows", json_integer((json_int_t)a->rows));
    json_object_set_new(o, "cols", json_integer((json_int_t)a->cols));
    json_object_set_new(o, "bits", json_integer(a->bits));
    json_object_set_new(o, "alphabet", json_integer(a->alphabet));
    json_object_set_new(o, "entropy_bits", number(a->entropy_bits));
    json_object_set_new(o, "cross_entropy_bits", number(a->cross_entropy_bits));
    json_object_set_new(o, "predicted_gaussian_bits", number(a->predicted_bits));
    json_object_set_new(o, "table_bytes", json_integer((json_int_t)a->table_bytes));
    json_object_set_new(o, "rans_bytes_estimate", number(a->rans_bytes));
    json_object_set_new(o, "bits_per_weight", number(a->bits_per_weight));
    json_object_set_new(o, "saving_percent", number(a->saving_percent));
    json_object_set_new(o, "ratio_vs_packed", number(a->ratio_vs_packed));
    json_object_set_new(o, "sqnr_db", number(a->error.sqnr_db));
    json_object_set_new(o, "mse", number(a->error.mse));
    json_object_set_new(o, "max_abs_error", number(a->error.max_abs));
    json_t *stats = json_object();
    json_object_set_new(stats, "min", number(a->w_min));
    json_object_set_new(stats, "max", number(a->w_max));
    json_object_set_new(stats, "mean", number(a->w_mean));
    json_object_set_new(stats, "std", number(a->w_std));
    json_object_set_new(o, "weights", stats);
    json_t *hist = json_array(), *freq = json_array();
    for (uint32_t s = 0; s < a->alphabet; s++) {
        json_array_append_new(hist, json_integer((json_int_t)a->counts[s]));
        json_array_append_new(freq, json_integer(a->freq[s]));
    }
    json_object_set_new(o, "histogram", hist);
    json_object_set_new(o, "frequencies", freq);
    if (r->options->baselines) {
        json_t *b = json_object();
        json_object_set_new(b, "zstd_bytes", size_or_null(a->baselines.zstd_bytes));
        json_object_set_new(b, "zstd_nibble_bytes", size_or_null(a->baselines.zstd_nibble_bytes));
        json_object_set_new(b, "brotli_bytes", size_or_null(a->baselines.brotli_bytes));
        json_object_set_new(b, "brotli_nibble_bytes", size_or_null(a->baselines.brotli_nibble_bytes));
        json_object_set_new(b, "xz_bytes", size_or_null(a->baselines.xz_bytes));
        json_object_set_new(o, "baselines", b);
    }
    json_t *c = json_object();
    json_object_set_new(c, "row", number(a->conditional.given_row));
    json_object_set_new(c, "column", number(a->conditional.given_column));
    json_object_set_new(c, "previous", number(a->conditional.given_previous));
    json_object_set_new(c, "zero_point", number(a->conditional.given_zero_point));
    json_object_set_new(o, "conditional_entropy_bits", c);
    if (r->options->modes) {
        json_t *m = json_object();
        for (int k = WQC_MODE_ORDER0; k < WQC_MODE_COUNT; k++)
            json_object_set_new(m, wqc_mode_name((wqc_mode)k), size_or_null(a->modes.bytes[k]));
        json_object_set_new(m, "context_shared", size_or_null(a->modes.shared_bytes));
        json_object_set_new(m, "pick", json_string(wqc_mode_name(a->modes.chosen)));
        json_object_set_new(o, "mode_bytes", m);
    }
    return o;
}

static json_t *summary_json(const analyze_report *r)
{
    const wqc_analysis_summary *s = &r->summary;
    double n = (double)s->nelem;
    json_t *o = json_object();
    json_object_set_new(o, "tensors", json_integer((json_int_t)s->tensors));
    json_object_set_new(o, "elements", json_integer((json_int_t)s->nelem));
    json_object_set_new(o, "entropy_bits", number(n ? s->entropy_bits_total / n : NAN));
    json_object_set_new(o, "cross_entropy_bits", number(n ? s->cross_entropy_bits_total / n : NAN));
    json_object_set_new(o, "predicted_gaussian_bits",
                        number(s->predicted_nelem ? s->predicted_bits_total / (double)s->predicted_nelem : NAN));
    json_object_set_new(o, "rans_bytes_estimate", number(s->rans_bytes));
    json_object_set_new(o, "bits_per_weight", number(n ? wqc_summary_bits_per_weight(s) : NAN));
    json_object_set_new(o, "packed_bits_per_weight", number(n ? s->packed_bits_total / n : NAN));
    json_object_set_new(o, "saving_percent", number(n ? wqc_summary_saving_percent(s) : NAN));
    json_object_set_new(o, "sqnr_db", number(wqc_summary_sqnr_db(s)));
    if (r->options->baselines) {
        json_object_set_new(o, "zstd_bytes", size_or_null(s->zstd_bytes));
        json_object_set_new(o, "zstd_nibble_bytes", size_or_null(s->zstd_nibble_bytes));
        json_object_set_new(o, "brotli_bytes", size_or_null(s->brotli_bytes));
        json_object_set_new(o, "brotli_nibble_bytes", size_or_null(s->brotli_nibble_bytes));
        json_object_set_new(o, "xz_bytes", size_or_null(s->xz_bytes));
    }
    if (r->options->modes) {
        json_object_set_new(o, "mode_bytes", number(s->mode_bytes[WQC_MODE_AUTO]));
        json_t *picked = json_object();
        for (int k = WQC_MODE_ORDER0; k < WQC_MODE_COUNT; k++)
            json_object_set_new(picked, wqc_mode_name((wqc_mode)k), json_integer((json_int_t)s->picked[k]));
        json_object_set_new(o, "picked", picked);
    }
    json_t *gates = json_object();
    json_object_set_new(gates, "max_bits", number(r->max_bits));
    json_object_set_new(gates, "min_saving", number(r->min_saving));
    json_object_set_new(gates, "passed", json_boolean(!r->gate_failed));
    json_object_set_new(o, "gates", gates);
    return o;
}

int analyze_print_json(FILE *out, const analyze_report *r)
{
    json_t *root = cli_json_document("wqc.analyze/1"), *inputs = json_array(), *tensors = json_array();
    if (!root || !inputs || !tensors) return -1;
    json_object_set_new(root, "quantizer", quantizer_json(r->options));
    for (size_t i = 0; i < r->ninputs; i++) json_array_append_new(inputs, json_string(r->inputs[i].label));
    json_object_set_new(root, "inputs", inputs);
    for (size_t i = 0; i < r->njobs; i++) json_array_append_new(tensors, tensor_json(r, &r->jobs[i]));
    json_object_set_new(root, "tensors", tensors);
    json_object_set_new(root, "summary", summary_json(r));
    int rc = json_dumpf(root, out, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) == 0 ? 0 : -1;
    if (rc == 0 && fputc('\n', out) == EOF) rc = -1;
    json_decref(root);
    return rc;
}
