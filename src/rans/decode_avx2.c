/* AVX2 order-0 kernel (decode_avx2_step.h), and the renormalisation's
 * permutation table that both AVX2 kernels read. */
#include "decode_avx2_step.h"

__attribute__((visibility("hidden"))) uint32_t wqc_avx2_expand_index[256];

__attribute__((constructor)) static void init_expand_index(void)
{
    for (uint32_t m = 0; m < 256; m++) {
        uint32_t idx = 0, rank = 0;
        for (uint32_t l = 0; l < V; l++)
            if (m >> l & 1) idx |= (rank++) << (4 * l);
        wqc_avx2_expand_index[m] = idx;
    }
}

size_t wqc_rans_kernel_avx2(rans_kernel_ctx *k) { return kernel(k, 0); }
