/* Binary16 GEMV: the scalar reference and the dispatch over threads. */
#include "f16_gemv_kernel.h"
#include "row_slices.h"
#include "wqc/dtype.h"

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

typedef struct f16_call {
    f16_gemv_fn run;
    const uint16_t *w;
    uint64_t cols;
    const float *x;
    float *y;
} f16_call;

static void slice(const void *ctx, uint64_t r0, uint64_t r1)
{
    const f16_call *c = ctx;
    c->run(c->w, r0, r1, c->cols, c->x, c->y);
}

void wqc_f16_gemv(wqc_isa isa, const uint16_t *w, uint64_t rows, uint64_t cols, const float *x, float *y,
                  int threads)
{
    f16_call c = {kernel(isa), w, cols, x, y};
    wqc_row_slices(rows, cols, threads, slice, &c);
}
