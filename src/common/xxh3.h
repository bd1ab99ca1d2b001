/* Internal: XXH3-64 (libxxhash) through its AVX2 kernel where the CPU has
 * AVX2. Debian's shared library is built for SSE2, whatever the CPU: 16
 * GB/s on Zen 4 against 38 GB/s for the same library's header compiled for
 * AVX2 (XXH_INLINE_ALL, xxh3_avx2.c). The hashes are the library's. */
#ifndef WQC_COMMON_XXH3_H
#define WQC_COMMON_XXH3_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/isa.h"

typedef struct wqc_xxh3_state {
    void *state;
    int avx2;
} wqc_xxh3_state;

/* XXH3_64bits_withSeed of p[0..n). */
uint64_t wqc_xxh3(const void *p, size_t n, uint64_t seed);
/* The same hash of data that arrives in pieces: start (0 when out of
 * memory), add, then end, which frees the state. */
int wqc_xxh3_start(wqc_xxh3_state *h, uint64_t seed);
void wqc_xxh3_add(wqc_xxh3_state *h, const void *p, size_t n);
uint64_t wqc_xxh3_end(wqc_xxh3_state *h);
/* With a given ISA's kernel (tests): WQC_ISA_AVX2 or anything else for the
 * library's own; 0 when that ISA is not available. */
int wqc_xxh3_start_isa(wqc_xxh3_state *h, uint64_t seed, wqc_isa isa);
uint64_t wqc_xxh3_isa(const void *p, size_t n, uint64_t seed, wqc_isa isa);

#endif
