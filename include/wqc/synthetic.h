/* wqc/synthetic.h - seeded synthetic weight matrices, so that analyze and
 * bench run with no input file. The same spec gives the same weights on the
 * same platform (the generator is a fixed xoshiro256** stream; the normal
 * deviates go through libm's log and cos). */
#ifndef WQC_SYNTHETIC_H
#define WQC_SYNTHETIC_H

#include <stdint.h>

#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wqc_synthetic_kind {
    WQC_SYNTH_GAUSSIAN = 0, /* N(0, sigma^2) */
    WQC_SYNTH_LAPLACE       /* Laplace with standard deviation sigma (heavy-tailed) */
} wqc_synthetic_kind;

typedef struct wqc_synthetic_spec {
    wqc_synthetic_kind kind;
    uint64_t rows, cols;
    double sigma;           /* default 0.02 */
    uint64_t seed;          /* default 1 */
} wqc_synthetic_spec;

/* Parses "KIND:ROWSxCOLS[:sigma=S][:seed=N]", KIND gaussian or laplace. */
wqc_status wqc_synthetic_parse(const char *text, wqc_synthetic_spec *out, wqc_error *err);

/* Writes spec->rows * spec->cols weights (row-major) to a new malloc'ed array. */
wqc_status wqc_synthetic_generate(const wqc_synthetic_spec *spec, float **out, wqc_error *err);

#ifdef __cplusplus
}
#endif
#endif
