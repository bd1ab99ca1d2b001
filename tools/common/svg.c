#include "svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

int svg_begin(svg *s, double width, double height)
{
    memset(s, 0, sizeof *s);
    s->f = open_memstream(&s->buf, &s->len);
    if (!s->f) return 0;
    fprintf(s->f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
            "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n",
            width, height, width, height, width, height);
    return 1;
}

void svg_rect(svg *s, double x, double y, double w, double h, const char *fill)
{
    fprintf(s->f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n", x, y, w, h, fill);
}

void svg_line(svg *s, double x1, double y1, double x2, double y2, const char *stroke, double width, int dashed)
{
    fprintf(s->f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"%.2f\"%s/>\n", x1,
            y1, x2, y2, stroke, width, dashed ? " stroke-dasharray=\"6 4\"" : "");
}

void svg_text(svg *s, double x, double y, double size, const char *anchor, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(s->f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" text-anchor=\"%s\" fill=\"#222222\">", x, y, size,
            anchor);
    for (const unsigned char *p = (const unsigned char *)buf; *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", s->f); break;
        case '>': fputs("&gt;", s->f); break;
        case '&': fputs("&amp;", s->f); break;
        case '"': fputs("&quot;", s->f); break;
        default: fputc(*p < 0x20 || *p >= 0x7f ? '?' : *p, s->f); /* names are data: ASCII only */
        }
    }
    fputs("</text>\n", s->f);
}

void svg_circle(svg *s, double x, double y, double r, const char *fill)
{
    fprintf(s->f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"%s\"/>\n", x, y, r, fill);
}

void svg_polyline(svg *s, const double *xs, const double *ys, int n, const char *stroke, double width)
{
    fprintf(s->f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\" points=\"", stroke, width);
    for (int i = 0; i < n; i++) fprintf(s->f, "%s%.2f,%.2f", i ? " " : "", xs[i], ys[i]);
    fputs("\"/>\n", s->f);
}

int svg_end(svg *s, char **doc, size_t *len)
{
    fputs("</svg>\n", s->f);
    int ok = fclose(s->f) == 0;
    s->f = NULL;
    if (!ok) free(s->buf);
    *doc = ok ? s->buf : NULL;
    *len = ok ? s->len : 0;
    s->buf = NULL;
    return ok;
}

/* Written to a temporary file beside path, then renamed over it. */
int svg_write(const char *path, const char *doc, size_t len)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp) return 0;
    snprintf(tmp, n + 16, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(doc, 1, len, f) == len;
    ok = f && fclose(f) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) remove(tmp);
    free(tmp);
    return ok;
}

const char *svg_color(int i)
{
    static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                          "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
    return palette[(unsigned)i % (sizeof palette / sizeof *palette)];
}

double svg_px(const svg_axes *a, double x) { return a->x0 + (x - a->xmin) / (a->xmax - a->xmin) * a->w; }
double svg_py(const svg_axes *a, double y) { return a->y0 + a->h - (y - a->ymin) / (a->ymax - a->ymin) * a->h; }

/* A tick step of 1, 2 or 5 times a power of ten giving about n ticks. */
static double tick_step(double span, int n)
{
    double raw = span / n, p = pow(10.0, floor(log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

void svg_draw_axes(svg *s, const svg_axes *a, const char *xlabel, const char *ylabel, const char *title)
{
    svg_rect(s, a->x0, a->y0, a->w, a->h, "#f7f7f7");
    double xs = tick_step(a->xmax - a->xmin, 8), ys = tick_step(a->ymax - a->ymin, 6);
    for (double x = ceil(a->xmin / xs) * xs; x <= a->xmax + 1e-9 * xs; x += xs) {
        svg_line(s, svg_px(a, x), a->y0, svg_px(a, x), a->y0 + a->h, "#dddddd", 1, 0);
        svg_text(s, svg_px(a, x), a->y0 + a->h + 14, 10, "middle", "%g", fabs(x) < 1e-12 ? 0.0 : x);
    }
    for (double y = ceil(a->ymin / ys) * ys; y <= a->ymax + 1e-9 * ys; y += ys) {
        svg_line(s, a->x0, svg_py(a, y), a->x0 + a->w, svg_py(a, y), "#dddddd", 1, 0);
        svg_text(s, a->x0 - 5, svg_py(a, y) + 3, 10, "end", "%g", fabs(y) < 1e-12 ? 0.0 : y);
    }
    svg_line(s, a->x0, a->y0 + a->h, a->x0 + a->w, a->y0 + a->h, "#444444", 1, 0);
    svg_line(s, a->x0, a->y0, a->x0, a->y0 + a->h, "#444444", 1, 0);
    if (xlabel) svg_text(s, a->x0 + a->w / 2, a->y0 + a->h + 30, 11, "middle", "%s", xlabel);
    if (ylabel) {
        fprintf(s->f, "<g transform=\"translate(%.2f %.2f) rotate(-90)\">\n", a->x0 - 38, a->y0 + a->h / 2);
        svg_text(s, 0, 0, 11, "middle", "%s", ylabel);
        fputs("</g>\n", s->f);
    }
    if (title) svg_text(s, a->x0 + a->w / 2, a->y0 - 8, 12, "middle", "%s", title);
}
