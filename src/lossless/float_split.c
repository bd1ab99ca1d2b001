/* Splitting floats into a symbol byte and rest bytes, and joining them
 * (the scalar reference; SIMD kernels in merge_avx2.c and merge_avx512.c). */
#include <string.h>

#include "merge_kernel.h"
#include "wqc/lossless.h"

int wqc_split_dtype(wqc_dtype dtype)
{
    return wqc_split_rest_count(dtype) > 0 || wqc_dtype_size(dtype) == 1;
}

unsigned wqc_split_rest_count(wqc_dtype dtype)
{
    return dtype == WQC_DTYPE_F32 ? 3 : dtype == WQC_DTYPE_F16 || dtype == WQC_DTYPE_BF16 ? 1 : 0;
}

void wqc_float_split(wqc_dtype dtype, const void *src, size_t n, uint8_t *sym, uint8_t *const *rest)
{
    const uint8_t *p = src;
    if (wqc_dtype_size(dtype) == 1) {
        memcpy(sym, src, n);
        return;
    }
    if (dtype == WQC_DTYPE_F32) {
        for (size_t i = 0; i < n; i++) {
            uint32_t v = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
                         (uint32_t)p[4 * i + 3] << 24;
            sym[i] = (uint8_t)(v >> 23);
            rest[0][i] = (uint8_t)((v >> 24 & 0x80) | (v >> 16 & 0x7f));
            rest[1][i] = (uint8_t)(v >> 8);
            rest[2][i] = (uint8_t)v;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
        sym[i] = (uint8_t)(v >> 7);
        rest[0][i] = (uint8_t)((v >> 8 & 0x80) | (v & 0x7f));
    }
}

void wqc_merge_scalar(wqc_dtype dtype, const uint8_t *sym, const uint8_t *const *rest, size_t n, uint8_t *out)
{
    if (wqc_dtype_size(dtype) == 1) {
        memcpy(out, sym, n);
        return;
    }
    if (dtype == WQC_DTYPE_F32) {
        for (size_t i = 0; i < n; i++) {
            uint32_t r0 = rest[0][i];
            uint32_t v = (r0 & 0x80) << 24 | (uint32_t)sym[i] << 23 | (r0 & 0x7f) << 16 | (uint32_t)rest[1][i] << 8 |
                         rest[2][i];
            out[4 * i] = (uint8_t)v, out[4 * i + 1] = (uint8_t)(v >> 8);
            out[4 * i + 2] = (uint8_t)(v >> 16), out[4 * i + 3] = (uint8_t)(v >> 24);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t r0 = rest[0][i], v = (r0 & 0x80) << 8 | (uint32_t)sym[i] << 7 | (r0 & 0x7f);
        out[2 * i] = (uint8_t)v, out[2 * i + 1] = (uint8_t)(v >> 8);
    }
}

wqc_status wqc_float_merge(wqc_dtype dtype, const uint8_t *sym, const uint8_t *const *rest, size_t n, void *dst,
                           wqc_isa isa, wqc_error *err)
{
    if (!wqc_split_dtype(dtype))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "dtype %s is not split into streams", wqc_dtype_name(dtype));
    if (!wqc_isa_available(isa))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "no %s merge on this CPU or build", wqc_isa_name(isa));
    size_t done = 0;
    if (!wqc_split_rest_count(dtype)) isa = WQC_ISA_SCALAR; /* a copy */
#ifdef WQC_HAVE_X86_KERNELS
    if (isa == WQC_ISA_AVX512) done = wqc_merge_avx512(dtype, sym, rest, n, dst);
    else if (isa == WQC_ISA_AVX2) done = wqc_merge_avx2(dtype, sym, rest, n, dst);
#endif
    const uint8_t *tail_rest[WQC_SPLIT_REST_MAX];
    for (unsigned k = 0; k < wqc_split_rest_count(dtype); k++) tail_rest[k] = rest[k] + done;
    wqc_merge_scalar(dtype, sym + done, tail_rest, n - done, (uint8_t *)dst + done * wqc_dtype_size(dtype));
    return WQC_OK;
}
