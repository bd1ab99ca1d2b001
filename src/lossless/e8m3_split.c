/* BF16's split-e8m3 layout (wqc/lossless.h): the scalar split and merge,
 * and the choice of kernel (SIMD kernels in merge_avx2.c and merge_avx512.c). */
#include "merge_kernel.h"
#include "wqc/lossless.h"

uint64_t wqc_e8m3_rest_bytes(unsigned k, uint64_t n)
{
    return k == 0 ? (n + 1) / 2 : (n + 7) / 8;
}

int wqc_e8m3_window(const void *src, size_t n, unsigned *base)
{
    const uint8_t *p = src;
    unsigned lo = 255, hi = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned e = ((unsigned)p[2 * i + 1] << 1 | p[2 * i] >> 7) & 0xff;
        lo = e < lo ? e : lo;
        hi = e > hi ? e : hi;
    }
    *base = lo < WQC_E8M3_BASE_MAX ? lo : WQC_E8M3_BASE_MAX;
    return n == 0 || hi - *base <= 31;
}

void wqc_e8m3_split(const void *src, size_t n, unsigned base, uint8_t *sym, uint8_t *nibbles, uint8_t *signs)
{
    const uint8_t *p = src;
    for (size_t j = 0; j < wqc_e8m3_rest_bytes(0, n); j++) nibbles[j] = 0;
    for (size_t j = 0; j < wqc_e8m3_rest_bytes(1, n); j++) signs[j] = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)p[2 * i] | (unsigned)p[2 * i + 1] << 8;
        sym[i] = (uint8_t)((v >> 4 & 0x7ff) - 8 * base);
        nibbles[i / 2] |= (uint8_t)((v & 15) << (4 * (i & 1)));
        signs[i / 8] |= (uint8_t)((v >> 15) << (i & 7));
    }
}

static uint16_t e8m3_value(const uint8_t *sym, const uint8_t *nibbles, const uint8_t *signs, uint64_t k, unsigned add)
{
    unsigned nib = nibbles[k / 2] >> (4 * (k & 1)) & 15, s = signs[k / 8] >> (k & 7) & 1;
    return (uint16_t)(s << 15 | (*sym + add) << 4 | nib);
}

void wqc_e8m3_merge_scalar(const uint8_t *sym, const uint8_t *nibbles, const uint8_t *signs, uint64_t first, size_t n,
                           unsigned base, uint16_t *out)
{
    const unsigned add = 8 * base;
    size_t i = 0;
    for (; i < n && (first + i) % 8; i++) out[i] = e8m3_value(sym + i, nibbles, signs, first + i, add);
    /* A sign byte and 4 nibble bytes a step. */
    for (; i + 8 <= n; i += 8) {
        uint64_t k = first + i;
        unsigned sb = signs[k / 8];
        const uint8_t *nb = nibbles + k / 2;
        for (unsigned j = 0; j < 8; j++)
            out[i + j] = (uint16_t)((sb >> j & 1) << 15 | (sym[i + j] + add) << 4 | (nb[j / 2] >> (4 * (j & 1)) & 15));
    }
    for (; i < n; i++) out[i] = e8m3_value(sym + i, nibbles, signs, first + i, add);
}

wqc_status wqc_e8m3_merge(const uint8_t *sym, const uint8_t *nibbles, const uint8_t *signs, uint64_t first, size_t n,
                          unsigned base, void *dst, wqc_isa isa, wqc_error *err)
{
    if (!wqc_isa_available(isa))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "no %s merge on this CPU or build", wqc_isa_name(isa));
    if (base > WQC_E8M3_BASE_MAX) return wqc_fail(err, WQC_ERR_INVALID_ARG, "split-e8m3 base %u is above %u", base, WQC_E8M3_BASE_MAX);
    uint16_t *out = dst;
    /* The kernels start on a whole byte of signs. */
    size_t head = (size_t)((8 - first % 8) % 8), done;
    if (head > n) head = n;
    wqc_e8m3_merge_scalar(sym, nibbles, signs, first, head, base, out);
    done = head;
#ifdef WQC_HAVE_X86_KERNELS
    if (isa == WQC_ISA_AVX512) done += wqc_e8m3_merge_avx512(sym + head, nibbles, signs, first + head, n - head, base, out + head);
    else if (isa == WQC_ISA_AVX2) done += wqc_e8m3_merge_avx2(sym + head, nibbles, signs, first + head, n - head, base, out + head);
#endif
    wqc_e8m3_merge_scalar(sym + done, nibbles, signs, first + done, n - done, base, out + done);
    return WQC_OK;
}
