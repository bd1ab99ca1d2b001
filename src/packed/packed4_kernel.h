/* Internal: per-ISA packed 4-bit kernels. Each handles a prefix of its input
 * (a multiple of its vector width, starting on an even element) and returns
 * how many elements it did; the scalar code finishes. */
#ifndef WQC_PACKED4_KERNEL_H
#define WQC_PACKED4_KERNEL_H

#include "../quant/group_cursor.h"
#include "wqc/packed.h"

typedef size_t (*packed4_run_fn)(const uint8_t *in, size_t n, float scale, float offset, float *out);

size_t wqc_packed4_unpack_avx2(const uint8_t *in, size_t n, uint8_t *sym);
size_t wqc_packed4_unpack_avx512(const uint8_t *in, size_t n, uint8_t *sym);
size_t wqc_packed4_unpack_neon(const uint8_t *in, size_t n, uint8_t *sym);
size_t wqc_packed4_dequant_avx2(const uint8_t *in, size_t n, float scale, float offset, float *out);
size_t wqc_packed4_dequant_avx512(const uint8_t *in, size_t n, float scale, float offset, float *out);
size_t wqc_packed4_dequant_neon(const uint8_t *in, size_t n, float scale, float offset, float *out);

#endif
