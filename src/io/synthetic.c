#include "wqc/synthetic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 2^31 weights: far above any benchmark here, below what a 32-bit size_t holds. */
#define SYNTH_MAX_ELEMENTS (1ull << 31)

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** */
static uint64_t rng_next(rng *r)
{
    uint64_t result = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return result;
}

/* Uniform in (0, 1): 53 random bits, never 0. */
static double rng_open01(rng *r) { return ((double)(rng_next(r) >> 11) + 0.5) * 0x1p-53; }

wqc_status wqc_synthetic_parse(const char *text, wqc_synthetic_spec *out, wqc_error *err)
{
    memset(out, 0, sizeof *out);
    out->sigma = 0.02;
    out->seed = 1;
    const char *colon = strchr(text, ':');
    size_t klen = colon ? (size_t)(colon - text) : strlen(text);
    if (klen == 8 && strncmp(text, "gaussian", 8) == 0) out->kind = WQC_SYNTH_GAUSSIAN;
    else if (klen == 7 && strncmp(text, "laplace", 7) == 0) out->kind = WQC_SYNTH_LAPLACE;
    else
        return wqc_fail(err, WQC_ERR_INVALID_ARG,
                        "synthetic spec '%s': kind must be gaussian or laplace", text);
    if (!colon)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "synthetic spec '%s': missing ':ROWSxCOLS'", text);
    char *end;
    const char *p = colon + 1;
    if (*p < '0' || *p > '9') goto bad_shape;
    out->rows = strtoull(p, &end, 10);
    if (*end != 'x' || end[1] < '0' || end[1] > '9') goto bad_shape;
    out->cols = strtoull(end + 1, &end, 10);
    if (out->rows == 0 || out->cols == 0 || out->rows > SYNTH_MAX_ELEMENTS ||
        out->cols > SYNTH_MAX_ELEMENTS / out->rows)
        return wqc_fail(err, WQC_ERR_INVALID_ARG,
                        "synthetic spec '%s': shape must be non-empty and at most 2^31 weights", text);
    while (*end == ':') {
        p = end + 1;
        if (strncmp(p, "sigma=", 6) == 0) {
            out->sigma = strtod(p + 6, &end);
            if (end == p + 6 || !(out->sigma > 0) || !isfinite(out->sigma))
                return wqc_fail(err, WQC_ERR_INVALID_ARG, "synthetic spec '%s': bad sigma", text);
        } else if (strncmp(p, "seed=", 5) == 0) {
            if (p[5] < '0' || p[5] > '9')
                return wqc_fail(err, WQC_ERR_INVALID_ARG, "synthetic spec '%s': bad seed", text);
            out->seed = strtoull(p + 5, &end, 10);
        } else {
            return wqc_fail(err, WQC_ERR_INVALID_ARG,
                            "synthetic spec '%s': unknown option (sigma=, seed=)", text);
        }
    }
    if (*end != '\0')
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "synthetic spec '%s': unexpected '%s'", text, end);
    return WQC_OK;
bad_shape:
    return wqc_fail(err, WQC_ERR_INVALID_ARG, "synthetic spec '%s': shape must be ROWSxCOLS", text);
}

wqc_status wqc_synthetic_generate(const wqc_synthetic_spec *spec, float **out, wqc_error *err)
{
    uint64_t n = spec->rows * spec->cols;
    *out = NULL;
    float *w = malloc((size_t)n * sizeof *w);
    if (!w) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for %llu synthetic weights",
                            (unsigned long long)n);
    rng r;
    uint64_t x = spec->seed;
    for (int i = 0; i < 4; i++) r.s[i] = splitmix64(&x);
    const double two_pi = 6.28318530717958647692;
    if (spec->kind == WQC_SYNTH_GAUSSIAN) {
        /* Box-Muller, both deviates used. */
        for (uint64_t i = 0; i < n; i += 2) {
            double rad = spec->sigma * sqrt(-2.0 * log(rng_open01(&r)));
            double ang = two_pi * rng_open01(&r);
            w[i] = (float)(rad * cos(ang));
            if (i + 1 < n) w[i + 1] = (float)(rad * sin(ang));
        }
    } else {
        /* Laplace with scale b = sigma / sqrt(2): -b * sign(u) * log(1 - 2|u|). */
        double b = spec->sigma / sqrt(2.0);
        for (uint64_t i = 0; i < n; i++) {
            double u = rng_open01(&r) - 0.5;
            w[i] = (float)(u < 0 ? b * log(1.0 + 2.0 * u) : -b * log(1.0 - 2.0 * u));
        }
    }
    *out = w;
    return WQC_OK;
}
