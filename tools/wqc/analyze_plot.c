/* analyze --plot: the symbol histograms as a grid, and the rate-distortion
 * curves with their bounds, as SVG (svg.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "output.h"
#include "svg.h"

enum { GRID_COLS = 4, CELL_W = 260, CELL_H = 160 };

/* Ends the chart and writes it to path, replacing a previous plot (a
 * plot is redrawn at will). Returns the exit status. */
static int plot_finish(svg *s, const char *path)
{
    char *doc;
    size_t len;
    if (!svg_end(s, &doc, &len)) {
        cli_error("%s: cannot build the SVG", path);
        return WQC_EXIT_ERROR;
    }
    cli_out out;
    int rc = WQC_EXIT_ERROR;
    if (cli_out_open(&out, path, 1)) {
        wqc_error err;
        wqc_error_clear(&err);
        rc = cli_out_finish(&out, cli_out_sink(&out, doc, len, &err), &err);
    }
    free(doc);
    return rc;
}

static int by_size_desc(const void *a, const void *b)
{
    const analyze_job *x = *(const analyze_job *const *)a, *y = *(const analyze_job *const *)b;
    if (x->result.nelem != y->result.nelem) return x->result.nelem < y->result.nelem ? 1 : -1;
    return x < y ? -1 : x > y; /* ties keep the file's order */
}

static void histogram_cell(svg *s, double x, double y, const analyze_job *j)
{
    const wqc_tensor_analysis *a = &j->result;
    uint64_t peak = 1;
    for (uint32_t k = 0; k < a->alphabet; k++) peak = a->counts[k] > peak ? a->counts[k] : peak;
    svg_axes ax = {x + 34, y + 30, CELL_W - 46, CELL_H - 58, -0.5, a->alphabet - 0.5, 0, (double)peak / (double)a->nelem};
    char title[64];
    size_t len = strlen(j->tensor->name);
    snprintf(title, sizeof title, "%s%s", len > 38 ? "..." : "", j->tensor->name + (len > 38 ? len - 38 : 0));
    svg_rect(s, ax.x0, ax.y0, ax.w, ax.h, "#f7f7f7");
    double bw = ax.w / a->alphabet;
    for (uint32_t k = 0; k < a->alphabet; k++) {
        double f = (double)a->counts[k] / (double)a->nelem, top = svg_py(&ax, f);
        svg_rect(s, ax.x0 + k * bw + bw * 0.08, top, bw * 0.84 > 0.5 ? bw * 0.84 : 0.5, ax.y0 + ax.h - top, svg_color(0));
    }
    svg_line(s, ax.x0, ax.y0 + ax.h, ax.x0 + ax.w, ax.y0 + ax.h, "#444444", 1, 0);
    svg_text(s, x + CELL_W / 2.0, y + 12, 10, "middle", "%s", title);
    svg_text(s, x + CELL_W / 2.0, y + 24, 9, "middle", "%llu weights, H = %.3f bits, %d-bit",
             (unsigned long long)a->nelem, a->entropy_bits, a->bits);
    svg_text(s, ax.x0 - 3, ax.y0 + 8, 8, "end", "%.2g", ax.ymax);
    svg_text(s, ax.x0, ax.y0 + ax.h + 11, 8, "start", "0");
    svg_text(s, ax.x0 + ax.w, ax.y0 + ax.h + 11, 8, "end", "%u", a->alphabet - 1);
}

int plot_histograms(const char *path, const analyze_job *jobs, size_t njobs)
{
    const analyze_job **list = calloc(njobs + 1, sizeof *list);
    if (!list) {
        cli_error("out of memory");
        return WQC_EXIT_ERROR;
    }
    size_t n = 0;
    for (size_t i = 0; i < njobs; i++)
        if (!jobs[i].skip && jobs[i].status == WQC_OK && jobs[i].result.alphabet) list[n++] = &jobs[i];
    qsort(list, n, sizeof *list, by_size_desc);
    size_t rows = (n + GRID_COLS - 1) / GRID_COLS;
    svg s;
    if (!svg_begin(&s, GRID_COLS * CELL_W, 40 + (rows ? rows : 1) * CELL_H)) {
        free(list);
        cli_error("%s: cannot build the SVG", path);
        return WQC_EXIT_ERROR;
    }
    svg_text(&s, GRID_COLS * CELL_W / 2.0, 24, 14, "middle", "symbol histograms (share of weights per symbol), largest tensors first");
    for (size_t i = 0; i < n; i++) histogram_cell(&s, (double)(i % GRID_COLS) * CELL_W, 40 + (double)(i / GRID_COLS) * CELL_H, list[i]);
    if (n == 0) svg_text(&s, GRID_COLS * CELL_W / 2.0, 80, 12, "middle", "no tensor was analysed");
    free(list);
    return plot_finish(&s, path);
}

/* Quantizers of one family share a curve: affine by granularity, sdclip by k. */
static int same_family(const wqc_quant_params *a, const wqc_quant_params *b)
{
    if (a->method != b->method) return 0;
    if (a->method == WQC_QUANT_SDCLIP) return a->k == b->k;
    return a->granularity == b->granularity && a->group_size == b->group_size;
}

static void family_name(const wqc_quant_params *p, char *buf, size_t cap)
{
    if (p->method == WQC_QUANT_SDCLIP) snprintf(buf, cap, "sdclip k=%g", p->k);
    else if (p->granularity == WQC_GRAN_GROUP) snprintf(buf, cap, "affine group:%u", p->group_size);
    else snprintf(buf, cap, "affine %s", p->granularity == WQC_GRAN_TENSOR ? "tensor" : "row");
}

static void rd_panel(svg *s, const svg_axes *ax, const rd_result *r, const wqc_rd_point *pts, int coded, const char *title)
{
    svg_draw_axes(s, ax, coded ? "bits/weight as coded (scales included)" : "bits/weight (entropy of the symbols)",
                  "SQNR (dB)", title);
    /* D(R) = 6.02 R (dashed) and the ECSQ line 1.53 dB below it: straight
     * lines, drawn between their first and last points inside the box. */
    for (int line = 0; line < 2; line++) {
        double x1 = NAN, y1 = NAN, x2 = NAN, y2 = NAN;
        for (int i = 0; i <= 400; i++) {
            double b = ax->xmin + (ax->xmax - ax->xmin) * i / 400.0;
            double db = line == 0 ? WQC_RD_DB_PER_BIT * b : wqc_rd_ecsq_line_db(b);
            if (db < ax->ymin || db > ax->ymax) continue;
            if (isnan(x1)) x1 = svg_px(ax, b), y1 = svg_py(ax, db);
            x2 = svg_px(ax, b), y2 = svg_py(ax, db);
        }
        if (!isnan(x1)) svg_line(s, x1, y1, x2, y2, line == 0 ? "#555555" : "#000000", 1.2, line == 0);
    }
    int fam = 0;
    for (size_t i = 0; i < r->npoints; fam++) {
        size_t end = i;
        while (end < r->npoints && same_family(&r->params[end], &r->params[i])) end++;
        double xs[64], ys[64];
        int n = 0;
        for (size_t k = i; k < end && n < 64; k++) {
            double b = coded ? wqc_rd_coded_bits(&pts[k]) : pts[k].entropy_bits, q = pts[k].sqnr_db;
            if (!isfinite(q) || b < ax->xmin || b > ax->xmax || q < ax->ymin || q > ax->ymax) continue;
            xs[n] = svg_px(ax, b), ys[n] = svg_py(ax, q), n++;
        }
        if (n > 1) svg_polyline(s, xs, ys, n, svg_color(fam), 1.5);
        for (int k = 0; k < n; k++) svg_circle(s, xs[k], ys[k], 2.6, svg_color(fam));
        i = end;
    }
}

int plot_rd(const char *path, const rd_result *r)
{
    const wqc_rd_point *pts = r->ntensors == 1 ? r->tensors[0].points : r->model;
    double xmax = 1, ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < r->npoints; i++) {
        double c = wqc_rd_coded_bits(&pts[i]);
        if (c > xmax) xmax = c;
        if (isfinite(pts[i].sqnr_db)) {
            ymin = fmin(ymin, pts[i].sqnr_db);
            ymax = fmax(ymax, pts[i].sqnr_db);
        }
    }
    if (!isfinite(ymin)) ymin = 0, ymax = 50;
    ymin = floor(fmin(ymin, 0.0) / 5) * 5, ymax = ceil((ymax + 2) / 5) * 5;
    xmax = ceil(xmax + 0.25);
    enum { W = 1080, H = 470 };
    svg s;
    if (!svg_begin(&s, W, H)) {
        cli_error("%s: cannot build the SVG", path);
        return WQC_EXIT_ERROR;
    }
    svg_text(&s, W / 2.0, 22, 14, "middle", "rate-distortion of %s",
             r->ntensors == 1 ? r->tensors[0].name : "the model (all analysed tensors)");
    svg_axes left = {60, 60, 380, 330, 0, xmax, ymin, ymax}, right = {510, 60, 380, 330, 0, xmax, ymin, ymax};
    rd_panel(&s, &left, r, pts, 0, "against the order-0 entropy");
    rd_panel(&s, &right, r, pts, 1, "against what encode stores");
    /* Legend: the bounds, then one entry per family. */
    double lx = 910, ly = 70;
    svg_line(&s, lx, ly, lx + 22, ly, "#555555", 1.2, 1);
    svg_text(&s, lx + 28, ly + 4, 10, "start", "D(R) = 6.02 R");
    ly += 16;
    svg_line(&s, lx, ly, lx + 22, ly, "#000000", 1.2, 0);
    svg_text(&s, lx + 28, ly + 4, 10, "start", "ECSQ: 6.02 R - 1.53");
    int fam = 0;
    for (size_t i = 0; i < r->npoints; fam++) {
        char name[48];
        family_name(&r->params[i], name, sizeof name);
        ly += 16;
        svg_line(&s, lx, ly, lx + 22, ly, svg_color(fam), 2, 0);
        svg_circle(&s, lx + 11, ly, 2.6, svg_color(fam));
        svg_text(&s, lx + 28, ly + 4, 10, "start", "%s", name);
        size_t end = i;
        while (end < r->npoints && same_family(&r->params[end], &r->params[i])) end++;
        i = end;
    }
    svg_text(&s, lx, ly + 24, 9, "start", "points: bits %d..%d", r->params[0].bits, r->params[r->npoints ? r->npoints - 1 : 0].bits);
    return plot_finish(&s, path);
}
