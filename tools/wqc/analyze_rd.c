/* analyze --rd: rate-distortion points of a sweep of quantizers, per tensor
 * and for the model, against the Gaussian ECSQ line (wqc/analysis.h). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "stats_out.h"

#define SWEEP_MAX 512

static void print_table(const char *title, uint64_t rows, uint64_t cols, const wqc_rd_point *pts, size_t n)
{
    printf("\n== %s", title);
    if (rows) printf(" (%llu x %llu)", (unsigned long long)rows, (unsigned long long)cols);
    printf("\n%-26s %9s %9s %9s %9s %9s %8s %6s\n", "quantizer", "H b/w", "coded b/w", "scales", "SQNR dB", "line dB",
           "gap dB", "front");
    for (size_t i = 0; i < n; i++) {
        char desc[64];
        wqc_quant_params_describe(&pts[i].quant, desc, sizeof desc);
        double scales = pts[i].nelem ? pts[i].scale_bytes * 8.0 / (double)pts[i].nelem : 0.0;
        printf("%-26s %9.4f %9.4f %9.4f %9.3f %9.3f %+8.3f %6s\n", desc, pts[i].entropy_bits, wqc_rd_coded_bits(&pts[i]),
               scales, pts[i].sqnr_db, wqc_rd_ecsq_line_db(pts[i].entropy_bits), wqc_rd_gap_db(&pts[i]),
               wqc_rd_on_front(pts, n, i) ? "*" : "");
    }
}

static json_t *points_json(const wqc_rd_point *pts, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const wqc_rd_point *p = &pts[i];
        json_t *o = json_object();
        char desc[64];
        json_object_set_new(o, "quantizer", json_string(wqc_quant_params_describe(&p->quant, desc, sizeof desc)));
        json_object_set_new(o, "method", json_string(p->quant.method == WQC_QUANT_SDCLIP ? "sdclip" : "affine"));
        json_object_set_new(o, "bits", json_integer(p->quant.bits));
        if (p->quant.method == WQC_QUANT_SDCLIP) json_object_set_new(o, "k", json_real(p->quant.k));
        else {
            const char *g = p->quant.granularity == WQC_GRAN_TENSOR ? "tensor" : p->quant.granularity == WQC_GRAN_ROW ? "row" : "group";
            json_object_set_new(o, "granularity", json_string(g));
            if (p->quant.granularity == WQC_GRAN_GROUP) json_object_set_new(o, "group_size", json_integer(p->quant.group_size));
        }
        double coded = wqc_rd_coded_bits(p);
        json_object_set_new(o, "entropy_bits", json_real(p->entropy_bits));
        json_object_set_new(o, "coded_bits", json_real(coded));
        json_object_set_new(o, "scale_bits", json_real(p->nelem ? p->scale_bytes * 8.0 / (double)p->nelem : 0.0));
        json_object_set_new(o, "sqnr_db", cli_json_number(p->sqnr_db));
        json_object_set_new(o, "line_db", json_real(wqc_rd_ecsq_line_db(p->entropy_bits)));
        json_object_set_new(o, "gap_db", cli_json_number(wqc_rd_gap_db(p)));
        json_object_set_new(o, "gap_coded_db", cli_json_number(p->sqnr_db - wqc_rd_ecsq_line_db(coded)));
        json_object_set_new(o, "pareto", json_boolean(wqc_rd_on_front(pts, n, i)));
        json_array_append_new(list, o);
    }
    return list;
}

static int print_json(const rd_result *r)
{
    json_t *root = cli_json_document("wqc.analyze-rd/1"), *line = json_object(), *tensors = json_array();
    json_object_set_new(line, "db_per_bit", json_real(WQC_RD_DB_PER_BIT));
    json_object_set_new(line, "ecsq_gap_db", json_real(WQC_RD_ECSQ_GAP_DB));
    json_object_set_new(line, "formula", json_string("SQNR = 6.0206 * bits - 1.5330 dB (Gaussian, entropy-coded uniform quantizer)"));
    json_object_set_new(root, "line", line);
    for (size_t t = 0; t < r->ntensors; t++) {
        json_t *o = json_object(), *name = json_string(r->tensors[t].name);
        json_object_set_new(o, "name", name ? name : json_null());
        json_object_set_new(o, "rows", json_integer((json_int_t)r->tensors[t].rows));
        json_object_set_new(o, "cols", json_integer((json_int_t)r->tensors[t].cols));
        json_object_set_new(o, "points", points_json(r->tensors[t].points, r->npoints));
        json_array_append_new(tensors, o);
    }
    json_object_set_new(root, "tensors", tensors);
    json_object_set_new(root, "model", points_json(r->model, r->ntensors ? r->npoints : 0));
    int rc = json_dumpf(root, stdout, JSON_INDENT(1)) == 0 && fputc('\n', stdout) != EOF ? 0 : -1;
    json_decref(root);
    return rc;
}

int analyze_rd(const rd_options *o, const analyze_job *jobs, size_t njobs, const analyze_input *inputs)
{
    (void)inputs;
    rd_result r = {0};
    r.params = calloc(SWEEP_MAX, sizeof *r.params);
    r.tensors = calloc(njobs + 1, sizeof *r.tensors);
    if (!r.params || !r.tensors) {
        free(r.params), free(r.tensors);
        cli_error("out of memory");
        return WQC_EXIT_ERROR;
    }
    r.npoints = wqc_rd_sweep(o->bits_lo, o->bits_hi, o->ks, o->nk, r.params, SWEEP_MAX);
    if (r.npoints > SWEEP_MAX) r.npoints = SWEEP_MAX;
    r.model = calloc(r.npoints + 1, sizeof *r.model);
    int rc = r.model ? WQC_EXIT_OK : WQC_EXIT_ERROR;
    for (size_t j = 0; rc == WQC_EXIT_OK && j < njobs; j++) {
        const wqc_tensor *t = jobs[j].tensor;
        if (jobs[j].skip || !wqc_dtype_is_float(t->dtype)) continue;
        rd_tensor *rt = &r.tensors[r.ntensors];
        rt->name = t->name;
        wqc_tensor_matrix(t, &rt->rows, &rt->cols);
        rt->points = calloc(r.npoints + 1, sizeof *rt->points);
        float *w = NULL;
        wqc_error err;
        wqc_error_clear(&err);
        wqc_status st = rt->points ? wqc_tensor_to_f32(t, &w, &err) : wqc_fail(&err, WQC_ERR_NOMEM, "out of memory");
        if (st != WQC_OK) {
            rc = cli_file_error(t->name, st, &err);
            free(rt->points);
            break;
        }
        r.ntensors++;
        wqc_status first_error = WQC_OK;
        wqc_error point_err;
        wqc_error_clear(&point_err);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads((int)o->threads)
#endif
        for (size_t i = 0; i < r.npoints; i++) {
            wqc_error e;
            wqc_error_clear(&e);
            wqc_status s = wqc_rd_measure(w, rt->rows, rt->cols, &r.params[i], o->precision, &rt->points[i], &e);
            if (s != WQC_OK) {
#ifdef _OPENMP
#pragma omp critical
#endif
                if (first_error == WQC_OK) first_error = s, point_err = e;
            }
        }
        free(w);
        if (first_error != WQC_OK) {
            rc = cli_file_error(t->name, first_error, &point_err);
            break;
        }
        for (size_t i = 0; i < r.npoints; i++) wqc_rd_accumulate(&r.model[i], &rt->points[i]);
    }
    if (rc == WQC_EXIT_OK && r.ntensors == 0) {
        cli_error("--rd: no float tensor to sweep (see --min-elements, --vectors, --tensors)");
        rc = WQC_EXIT_ERROR;
    }
    if (rc == WQC_EXIT_OK && o->json) {
        if (print_json(&r) != 0) rc = WQC_EXIT_ERROR;
    } else if (rc == WQC_EXIT_OK && !o->quiet) {
        printf("rate-distortion: bits/weight (order-0 entropy H, and coded as encode stores it, scales\n"
               "included) against SQNR; gap = SQNR - (6.02 H - 1.53 dB), the distance to entropy-coded\n"
               "uniform scalar quantization of a Gaussian; front: not beaten in both coded size and SQNR\n");
        for (size_t t = 0; t < r.ntensors; t++)
            print_table(r.tensors[t].name, r.tensors[t].rows, r.tensors[t].cols, r.tensors[t].points, r.npoints);
        if (r.ntensors > 1) print_table("model (all tensors above)", 0, 0, r.model, r.npoints);
    }
    if (rc == WQC_EXIT_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        cli_error("cannot write to stdout");
        rc = WQC_EXIT_ERROR;
    }
    if (rc == WQC_EXIT_OK && o->plot) rc = plot_rd(o->plot, &r);
    for (size_t t = 0; t < r.ntensors; t++) free(r.tensors[t].points);
    free(r.tensors);
    free(r.params);
    free(r.model);
    return rc;
}
