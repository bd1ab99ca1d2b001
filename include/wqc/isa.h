/* wqc/isa.h - instruction sets of the rANS decoders and their run-time choice.
 *
 * Every ISA decodes the same stream to bit-identical output; the scalar
 * decoder is the reference. The active ISA is the best one the CPU supports
 * unless the environment variable WQC_ISA=scalar|avx2|avx512|neon names one;
 * naming an ISA the CPU (or this build) lacks is an error, never a silent
 * fallback. */
#ifndef WQC_ISA_H
#define WQC_ISA_H

#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wqc_isa {
    WQC_ISA_SCALAR = 0,
    WQC_ISA_AVX2,
    WQC_ISA_AVX512,
    WQC_ISA_NEON,
    WQC_ISA_COUNT
} wqc_isa;

/* "scalar", "avx2", "avx512", "neon". */
const char *wqc_isa_name(wqc_isa isa);
wqc_status wqc_isa_from_name(const char *name, wqc_isa *out, wqc_error *err);

/* Compiled into this build and supported by the CPU. */
int wqc_isa_available(wqc_isa isa);

/* The fastest available ISA. */
wqc_isa wqc_isa_best(void);

/* WQC_ISA when set (an error if unknown or unavailable), else wqc_isa_best(). */
wqc_status wqc_isa_from_env(wqc_isa *out, wqc_error *err);

/* wqc_isa_from_env, resolved once per process; an invalid WQC_ISA falls back
 * to the best ISA here (the CLI checks the variable up front and refuses). */
wqc_isa wqc_isa_active(void);

#ifdef __cplusplus
}
#endif
#endif
