/* A small SVG writer for the programs' charts (wqc analyze --plot,
 * wqc-llama sweep): drawn into a memory stream (open_memstream), then handed
 * to the caller whole. Needs nothing but the C library. */
#ifndef WQC_TOOLS_SVG_H
#define WQC_TOOLS_SVG_H

#include <stdio.h>

typedef struct svg {
    FILE *f;
    char *buf;
    size_t len;
} svg;

int svg_begin(svg *s, double width, double height);
void svg_rect(svg *s, double x, double y, double w, double h, const char *fill);
void svg_line(svg *s, double x1, double y1, double x2, double y2, const char *stroke, double width, int dashed);
/* Text with XML special characters escaped; anchor "start", "middle" or "end". */
void svg_text(svg *s, double x, double y, double size, const char *anchor, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void svg_circle(svg *s, double x, double y, double r, const char *fill);
/* A polyline through n points. */
void svg_polyline(svg *s, const double *xs, const double *ys, int n, const char *stroke, double width);
/* Ends the document: *doc (malloc'ed, free it) holds its *len bytes.
 * Returns 0 (nothing to free) when it could not be built. */
int svg_end(svg *s, char **doc, size_t *len);
/* Writes a document to path through a temporary file and a rename; 0 on failure (errno set). */
int svg_write(const char *path, const char *doc, size_t len);

/* The colour of series i (a palette readable on white). */
const char *svg_color(int i);

/* Axes of a chart: data ranges mapped into a plot box, with ticks and labels. */
typedef struct svg_axes {
    double x0, y0, w, h;            /* the plot box in pixels (y0 at the top) */
    double xmin, xmax, ymin, ymax;
} svg_axes;
void svg_draw_axes(svg *s, const svg_axes *a, const char *xlabel, const char *ylabel, const char *title);
double svg_px(const svg_axes *a, double x);
double svg_py(const svg_axes *a, double y);

#endif
