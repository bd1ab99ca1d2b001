/* Packed 4-bit: the scalar reference and the dispatch to SIMD paths. */
#include "packed4_kernel.h"

void wqc_packed4_pack(const uint8_t *sym, size_t n, uint8_t *out)
{
    for (size_t i = 0; i + 1 < n; i += 2) out[i / 2] = (uint8_t)(sym[i] | sym[i + 1] << 4);
    if (n & 1) out[n / 2] = sym[n - 1];
}

/* Plain C, kept out of the vectoriser so that the bench shows what scalar
 * code does; SIMD versions are the other paths. */
#if defined(__clang__)
#define NOT_VECTORIZED
#define SCALAR_LOOP _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#define NOT_VECTORIZED __attribute__((optimize("no-tree-vectorize")))
#define SCALAR_LOOP
#endif

NOT_VECTORIZED static void unpack_scalar(const uint8_t *in, size_t n, uint8_t *sym)
{
    SCALAR_LOOP
    for (size_t i = 0; i + 1 < n; i += 2) {
        sym[i] = in[i / 2] & 15;
        sym[i + 1] = in[i / 2] >> 4;
    }
    if (n & 1) sym[n - 1] = in[n / 2] & 15;
}

/* Elements [from, to) of a group with parameters (scale, offset). */
NOT_VECTORIZED static void dequant_scalar(const uint8_t *in, size_t from, size_t to, float scale,
                                          float offset, float *out)
{
    SCALAR_LOOP
    for (size_t i = from; i < to; i++) {
        uint32_t q = (in[i / 2] >> (4 * (i & 1))) & 15;
        out[i] = offset + scale * (float)q;
    }
}

void wqc_packed4_unpack(wqc_isa isa, const uint8_t *in, size_t n, uint8_t *sym)
{
    size_t done = 0;
    if (wqc_isa_available(isa)) {
        switch (isa) {
#if defined(WQC_HAVE_X86_KERNELS)
        case WQC_ISA_AVX2: done = wqc_packed4_unpack_avx2(in, n, sym); break;
        case WQC_ISA_AVX512: done = wqc_packed4_unpack_avx512(in, n, sym); break;
#endif
#if defined(WQC_HAVE_NEON_KERNELS)
        case WQC_ISA_NEON: done = wqc_packed4_unpack_neon(in, n, sym); break;
#endif
        default: break;
        }
    }
    unpack_scalar(in + done / 2, n - done, sym + done);
}

void wqc_packed4_dequantize(wqc_isa isa, const uint8_t *in, size_t n, const wqc_quantized *groups,
                            float *out)
{
    packed4_run_fn run = NULL;
    if (wqc_isa_available(isa)) {
        switch (isa) {
#if defined(WQC_HAVE_X86_KERNELS)
        case WQC_ISA_AVX2: run = wqc_packed4_dequant_avx2; break;
        case WQC_ISA_AVX512: run = wqc_packed4_dequant_avx512; break;
#endif
#if defined(WQC_HAVE_NEON_KERNELS)
        case WQC_ISA_NEON: run = wqc_packed4_dequant_neon; break;
#endif
        default: break;
        }
    }
    /* One run per parameter group; a SIMD path takes the even-aligned middle. */
    rans_group_cursor c;
    rans_group_seek(&c, groups, 0);
    for (size_t i = 0; i < n;) {
        rans_group_reach(&c, i);
        size_t end = c.end < n ? (size_t)c.end : n, at = i;
        if (run && (at & 1)) {
            dequant_scalar(in, at, at + 1, c.scale, c.offset, out);
            at++;
        }
        if (run) at += run(in + at / 2, end - at, c.scale, c.offset, out + at);
        dequant_scalar(in, at, end, c.scale, c.offset, out);
        i = end;
    }
}
