/* Internal: the AVX2 build of XXH3 (xxh3_avx2.c), for xxh3.c. */
#ifndef WQC_COMMON_XXH3_KERNEL_H
#define WQC_COMMON_XXH3_KERNEL_H

#include <stddef.h>
#include <stdint.h>

uint64_t wqc_xxh3_avx2(const void *p, size_t n, uint64_t seed);
void *wqc_xxh3_avx2_start(uint64_t seed);
void wqc_xxh3_avx2_add(void *state, const void *p, size_t n);
uint64_t wqc_xxh3_avx2_end(void *state);

#endif
