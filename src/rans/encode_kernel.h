/* Internal: the contract between the chunk encoder (rans_encode.c) and the
 * per-ISA encoder kernels.
 *
 * Per table entry (table t, symbol s at t * alphabet + s), in arrays so
 * that vector code can look them up: bound = f * 2^(32-P) - 1 (a state above
 * it is renormalised before coding, so that the result fits 32 bits), and
 * x / f by multiplication: with l = ceil(log2 f) and
 * mult = floor(2^32 (2^l - f) / f) + 1, q = x / f = (x + (x * mult >> 32)) >> l
 * for every 32-bit x (Granlund and Montgomery, 1994). Coding is then
 * x' = (q << P) + (x - q f) + cum = x + q * spare + cum with spare = 2^P - f.
 * A symbol the table cannot code has spare = RANS_ENC_ABSENT. */
#ifndef WQC_RANS_ENCODE_KERNEL_H
#define WQC_RANS_ENCODE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/isa.h"

#define RANS_ENC_ABSENT UINT32_MAX

typedef struct rans_enc_table {
    uint32_t entries, alphabet;
    uint32_t *bound, *mult, *shift, *cum, *spare;
} rans_enc_table;

/* Codes the whole rounds r = rounds - 1 down to 0 of a chunk: lane l codes
 * symbol i = r * lanes + l with entry (table ? table[i] * alphabet : 0) +
 * sym[i], the lanes of a round from the last to the first, as the scalar
 * encoder does. state[lanes] is updated; each renormalisation word goes
 * below *w, which moves down 2 bytes per word (the kernel may also scribble
 * up to 32 bytes below the final *w, never below out + 4 * lanes of a
 * buffer of the chunk bound). Returns 0, leaving states and words undefined,
 * when a symbol is outside the alphabet or absent from its table (the scalar
 * encoder then reports it); and 0 for lane counts it does not handle,
 * untouched, with *handled = 0. */
typedef int (*rans_enc_kernel_fn)(const rans_enc_table *t, const uint8_t *table, uint32_t lanes, const uint8_t *sym,
                                  size_t rounds, uint32_t *state, uint8_t **w, int *handled);
int wqc_rans_enc_kernel_avx2(const rans_enc_table *t, const uint8_t *table, uint32_t lanes, const uint8_t *sym,
                             size_t rounds, uint32_t *state, uint8_t **w, int *handled);
int wqc_rans_enc_kernel_avx512(const rans_enc_table *t, const uint8_t *table, uint32_t lanes, const uint8_t *sym,
                               size_t rounds, uint32_t *state, uint8_t **w, int *handled);

#endif
