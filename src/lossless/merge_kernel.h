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

#endif
