/* Binary16 GEMV: the scalar reference and the dispatch over threads. */
#include "f16_gemv_kernel.h"
#include "wqc/dtype.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static void scalar(const uint16_t *w, uint64_t r0, uint64_t r1, uint64_t cols, const float *x, float *y)
{
    for (uint64_t r = r0; r < r1; r++) {
        float acc = 0.0f;
        for (uint64_t j = 0; j < cols; j++) acc += wqc_f16_to_f32(w[r * cols + j]) * x[j];
        y[r] = acc;
    }
}

static f16_gemv_fn kernel(wqc_isa isa)
{
    if (!wqc_isa_available(isa)) return scalar;
    switch (isa) {
#if defined(WQC_HAVE_X86_KERNELS)
    case WQC_ISA_AVX2: return wqc_f16_gemv_avx2;
    case WQC_ISA_AVX512: return wqc_f16_gemv_avx512;
#endif
#if defined(WQC_HAVE_NEON_KERNELS)
    case WQC_ISA_NEON: return wqc_f16_gemv_neon;
#endif
    default: return scalar;
    }
}

/* Rows in slices of 16, so that threads never share a cache line of y. */
#define SLICE 16u

void wqc_f16_gemv(wqc_isa isa, const uint16_t *w, uint64_t rows, uint64_t cols, const float *x, float *y,
                  int threads)
{
    f16_gemv_fn run = kernel(isa);
    uint64_t slices = (rows + SLICE - 1) / SLICE;
#ifdef _OPENMP
    int n = threads > 0 ? threads : omp_get_num_procs();
    if ((uint64_t)n > slices) n = slices ? (int)slices : 1;
#pragma omp parallel for schedule(static) num_threads(n) if (n > 1)
#else
    (void)threads;
#endif
    for (uint64_t s = 0; s < slices; s++) run(w, s * SLICE, s * SLICE + SLICE < rows ? s * SLICE + SLICE : rows, cols, x, y);
}
