/* Q4_0 GEMV: quantizers, the scalar reference, and the dispatch to SIMD
 * row kernels over threads. */
#include <math.h>

#include "q4_0_kernel.h"
#include "wqc/dtype.h"

#ifdef _OPENMP
#include <omp.h>
#endif

wqc_status wqc_q4_0_quantize(const float *w, uint64_t rows, uint64_t cols, wqc_q4_0_block *out, wqc_error *err)
{
    if (cols % WQC_Q4_0_BLOCK)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "Q4_0 needs a multiple of 32 columns, got %llu",
                        (unsigned long long)cols);
    for (uint64_t b = 0; b < rows * cols / WQC_Q4_0_BLOCK; b++) {
        const float *v = w + b * WQC_Q4_0_BLOCK;
        float m = 0.0f;
        for (int j = 0; j < WQC_Q4_0_BLOCK; j++)
            if (fabsf(v[j]) > fabsf(m)) m = v[j];
        float d = m / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        uint8_t q[WQC_Q4_0_BLOCK];
        for (int j = 0; j < WQC_Q4_0_BLOCK; j++) {
            int t = (int)(v[j] * id + 8.5f);
            q[j] = (uint8_t)(t > 15 ? 15 : t < 0 ? 0 : t);
        }
        out[b].d = wqc_f32_to_f16(d);
        for (int j = 0; j < 16; j++) out[b].qs[j] = (uint8_t)(q[j] | q[j + 16] << 4);
    }
    return WQC_OK;
}

void wqc_q8_quantize(const float *x, uint64_t cols, wqc_q8_block *out)
{
    for (uint64_t b = 0; b < cols / 32; b++) {
        const float *v = x + 32 * b;
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(v[j]));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) {
            out[b].qs[j] = (int8_t)lrintf(v[j] * id);
            sum += out[b].qs[j];
        }
        out[b].d = d;
        out[b].sum = sum;
    }
}

static void f32_scalar(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const float *x, float *y)
{
    for (uint64_t r = r0; r < r1; r++) {
        float acc = 0.0f;
        for (uint64_t b = 0; b < nb; b++) {
            const wqc_q4_0_block *k = &w[r * nb + b];
            const float *v = x + 32 * b;
            float s = 0.0f;
            for (int j = 0; j < 16; j++)
                s += (float)((k->qs[j] & 15) - 8) * v[j] + (float)((k->qs[j] >> 4) - 8) * v[j + 16];
            acc += wqc_f16_to_f32(k->d) * s;
        }
        y[r] = acc;
    }
}

static void q8_scalar(const wqc_q4_0_block *w, uint64_t r0, uint64_t r1, uint64_t nb, const wqc_q8_block *x,
                      float *y)
{
    for (uint64_t r = r0; r < r1; r++) {
        float acc = 0.0f;
        for (uint64_t b = 0; b < nb; b++) {
            const wqc_q4_0_block *k = &w[r * nb + b];
            int32_t s = 0;
            for (int j = 0; j < 16; j++) s += (k->qs[j] & 15) * x[b].qs[j] + (k->qs[j] >> 4) * x[b].qs[j + 16];
            acc += wqc_f16_to_f32(k->d) * x[b].d * (float)(s - 8 * x[b].sum);
        }
        y[r] = acc;
    }
}

static q4_0_f32_fn f32_kernel(wqc_isa isa)
{
    if (!wqc_isa_available(isa)) return f32_scalar;
    switch (isa) {
#if defined(WQC_HAVE_X86_KERNELS)
    case WQC_ISA_AVX2: return wqc_q4_0_f32_avx2;
    case WQC_ISA_AVX512: return wqc_q4_0_f32_avx512;
#endif
#if defined(WQC_HAVE_NEON_KERNELS)
    case WQC_ISA_NEON: return wqc_q4_0_f32_neon;
#endif
    default: return f32_scalar;
    }
}

static q4_0_q8_fn q8_kernel(wqc_isa isa)
{
    if (!wqc_isa_available(isa)) return q8_scalar;
    switch (isa) {
#if defined(WQC_HAVE_X86_KERNELS)
    case WQC_ISA_AVX2: return wqc_q4_0_q8_avx2;
    case WQC_ISA_AVX512: return wqc_q4_0_q8_avx512;
#endif
#if defined(WQC_HAVE_NEON_KERNELS)
    case WQC_ISA_NEON: return wqc_q4_0_q8_neon;
#endif
    default: return q8_scalar;
    }
}

static int thread_count(int threads, uint64_t rows)
{
#ifdef _OPENMP
    int n = threads > 0 ? threads : omp_get_num_procs();
#else
    (void)threads;
    int n = 1;
#endif
    return (uint64_t)n > rows ? (rows ? (int)rows : 1) : n;
}

/* Rows in slices of 16, so that threads never share a cache line of y;
 * exactly one of f32 and q8 is set. */
#define SLICE 16u

static void run_slices(q4_0_f32_fn f32, q4_0_q8_fn q8, const wqc_q4_0_block *w, uint64_t rows, uint64_t cols,
                       const float *x, const wqc_q8_block *x8, float *y, int threads)
{
    uint64_t nb = cols / WQC_Q4_0_BLOCK, slices = (rows + SLICE - 1) / SLICE;
    int n = thread_count(threads, slices);
    (void)n;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(n) if (n > 1)
#endif
    for (uint64_t s = 0; s < slices; s++) {
        uint64_t r0 = s * SLICE, r1 = r0 + SLICE < rows ? r0 + SLICE : rows;
        if (f32) f32(w, r0, r1, nb, x, y);
        else q8(w, r0, r1, nb, x8, y);
    }
}

void wqc_q4_0_gemv_f32(wqc_isa isa, const wqc_q4_0_block *w, uint64_t rows, uint64_t cols, const float *x,
                       float *y, int threads)
{
    run_slices(f32_kernel(isa), NULL, w, rows, cols, x, NULL, y, threads);
}

void wqc_q4_0_gemv_q8(wqc_isa isa, const wqc_q4_0_block *w, uint64_t rows, uint64_t cols, const wqc_q8_block *x,
                      float *y, int threads)
{
    run_slices(NULL, q8_kernel(isa), w, rows, cols, NULL, x, y, threads);
}
