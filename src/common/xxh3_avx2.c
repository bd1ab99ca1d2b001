/* libxxhash's XXH3 compiled into this file for AVX2 (its header-only mode:
 * every function static and renamed, so nothing clashes with the shared
 * library). Called only after a run-time CPU check (xxh3.c). */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "xxh3_kernel.h"

uint64_t wqc_xxh3_avx2(const void *p, size_t n, uint64_t seed) { return XXH3_64bits_withSeed(p, n, seed); }

void *wqc_xxh3_avx2_start(uint64_t seed)
{
    XXH3_state_t *s = XXH3_createState();
    if (s && XXH3_64bits_reset_withSeed(s, seed) != XXH_OK) {
        XXH3_freeState(s);
        s = NULL;
    }
    return s;
}

void wqc_xxh3_avx2_add(void *state, const void *p, size_t n) { XXH3_64bits_update(state, p, n); }

uint64_t wqc_xxh3_avx2_end(void *state)
{
    uint64_t h = XXH3_64bits_digest(state);
    XXH3_freeState(state);
    return h;
}
