/* AVX2 context kernel: each vector's lanes start at their tables' slots
 * (decode_avx2_step.h). */
#include "decode_avx2_step.h"

size_t wqc_rans_kernel_context_avx2(rans_kernel_ctx *k) { return kernel(k, 1); }
