/* Internal: strict number parsing for settings given as text (the whole
 * string must be the number, within [lo, hi]). */
#ifndef WQC_COMMON_PARSE_H
#define WQC_COMMON_PARSE_H

#include <errno.h>
#include <stdlib.h>

static inline int wqc_parse_long(const char *text, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static inline int wqc_parse_double(const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= lo && v <= hi)) return 0;
    *out = v;
    return 1;
}

#endif
