/* Internal: the merge kernels of wqc_float_merge. Each joins a whole number
 * of vectors from the front and returns how many values it wrote; the
 * scalar code does the rest. */
#ifndef WQC_LOSSLESS_MERGE_KERNEL_H
#define WQC_LOSSLESS_MERGE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/dtype.h"

void wqc_merge_scalar(wqc_dtype dtype, const uint8_t *sym, const uint8_t *const *rest, size_t n, uint8_t *out);
size_t wqc_merge_avx2(wqc_dtype dtype, const uint8_t *sym, const uint8_t *const *rest, size_t n, void *out);
size_t wqc_merge_avx512(wqc_dtype dtype, const uint8_t *sym, const uint8_t *const *rest, size_t n, void *out);

/* split-e8m3 (wqc/lossless.h): values first .. first + n - 1, first a
 * multiple of 8 for the kernels. */
void wqc_e8m3_merge_scalar(const uint8_t *sym, const uint8_t *nibbles, const uint8_t *signs, uint64_t first, size_t n,
                           unsigned base, uint16_t *out);
size_t wqc_e8m3_merge_avx2(const uint8_t *sym, const uint8_t *nibbles, const uint8_t *signs, uint64_t first, size_t n,
                           unsigned base, uint16_t *out);
size_t wqc_e8m3_merge_avx512(const uint8_t *sym, const uint8_t *nibbles, const uint8_t *signs, uint64_t first, size_t n,
                             unsigned base, uint16_t *out);

#endif
