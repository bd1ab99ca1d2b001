/* Q4_0 GEMV: quantizers, the scalar reference, and the dispatch to SIMD
 * row kernels over threads (row_slices.h). */
#include <math.h>

#include "q4_0_kernel.h"
#include "row_slices.h"
#include "wqc/dtype.h"

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

/* One product: exactly one of f32 and q8 is set. */
typedef struct q4_0_call {
    q4_0_f32_fn f32;
    q4_0_q8_fn q8;
    const wqc_q4_0_block *w;
    uint64_t nb;
    const float *x;
    const wqc_q8_block *x8;
    float *y;
} q4_0_call;

static void slice(const void *ctx, uint64_t r0, uint64_t r1)
{
    const q4_0_call *c = ctx;
    if (c->f32) c->f32(c->w, r0, r1, c->nb, c->x, c->y);
    else c->q8(c->w, r0, r1, c->nb, c->x8, c->y);
}

void wqc_q4_0_gemv_f32(wqc_isa isa, const wqc_q4_0_block *w, uint64_t rows, uint64_t cols, const float *x,
                       float *y, int threads)
{
    q4_0_call c = {.f32 = f32_kernel(isa), .w = w, .nb = cols / WQC_Q4_0_BLOCK, .x = x, .y = y};
    wqc_row_slices(rows, cols, threads, slice, &c);
}

void wqc_q4_0_gemv_q8(wqc_isa isa, const wqc_q4_0_block *w, uint64_t rows, uint64_t cols, const wqc_q8_block *x,
                      float *y, int threads)
{
    q4_0_call c = {.q8 = q8_kernel(isa), .w = w, .nb = cols / WQC_Q4_0_BLOCK, .x8 = x, .y = y};
    wqc_row_slices(rows, cols, threads, slice, &c);
}
