/* BF16's split-e8m3 layout (wqc/lossless.h): the window, the scalar split
 * and merge, the exceptions stream, and the choice of merge kernel (SIMD
 * kernels in merge_avx2.c and merge_avx512.c). */
#include <stdlib.h>

#include "../common/bytes.h"
#include "merge_kernel.h"
#include "wqc/lossless.h"

#define WINDOW 32u

static unsigned bf16_at(const uint8_t *p, size_t i)
{
    return wqc_le16(p + 2 * i);
}

uint64_t wqc_e8m3_rest_bytes(unsigned k, uint64_t n)
{
    return k == 0 ? (n + 1) / 2 : (n + 7) / 8;
}

uint64_t wqc_e8m3_window_counts(const uint64_t *h, unsigned *base)
{
    uint64_t in = 0, best, n = 0;
    for (unsigned e = 0; e < 256; e++) n += h[e];
    *base = 0;
    for (unsigned e = 0; e < WINDOW; e++) in += h[e];
    best = in;
    for (unsigned b = 1; b <= WQC_E8M3_BASE_MAX; b++) {
        in += h[b + WINDOW - 1] - h[b - 1];
        if (in > best) best = in, *base = b;
    }
    return n - best;
}

uint64_t wqc_e8m3_window(const void *src, size_t n, unsigned *base)
{
    uint64_t h[256] = {0};
    for (size_t i = 0; i < n; i++) h[bf16_at(src, i) >> 7 & 0xff]++;
    return wqc_e8m3_window_counts(h, base);
}

/* Inline in the split's loop (as a call it was 7% of a lossless encode). */
static inline unsigned e8m3_symbol(unsigned v, unsigned base)
{
    unsigned e = v >> 7 & 0xff;
    e = e < base ? base : e > base + WINDOW - 1 ? base + WINDOW - 1 : e;
    return (e - base) << 3 | (v >> 4 & 7);
}

unsigned wqc_e8m3_symbol(unsigned v, unsigned base) { return e8m3_symbol(v, base); }

void wqc_e8m3_split(const void *src, size_t n, unsigned base, uint8_t *sym, uint8_t *nibbles, uint8_t *signs)
{
    const uint8_t *p = src;
    size_t i = 0;
    /* 8 values a step: a sign byte and 4 nibble bytes, written once. */
    for (; i + 8 <= n; i += 8) {
        unsigned sb = 0;
        for (unsigned j = 0; j < 8; j++) {
            unsigned v = bf16_at(p, i + j);
            sym[i + j] = (uint8_t)e8m3_symbol(v, base);
            sb |= (v >> 15) << j;
        }
        for (unsigned j = 0; j < 4; j++)
            nibbles[i / 2 + j] = (uint8_t)((p[2 * (i + 2 * j)] & 15) | (p[2 * (i + 2 * j + 1)] & 15) << 4);
        signs[i / 8] = (uint8_t)sb;
    }
    if (i == n) return;
    for (size_t j = i / 2; j < wqc_e8m3_rest_bytes(0, n); j++) nibbles[j] = 0;
    signs[i / 8] = 0;
    for (; i < n; i++) {
        unsigned v = bf16_at(p, i);
        sym[i] = (uint8_t)e8m3_symbol(v, base);
        nibbles[i / 2] |= (uint8_t)((v & 15) << (4 * (i & 1)));
        signs[i / 8] |= (uint8_t)((v >> 15) << (i & 7));
    }
}

wqc_status wqc_e8m3_exceptions_encode(const void *src, size_t n, unsigned base, uint8_t **out, size_t *len,
                                      wqc_error *err)
{
    wqc_bytes b = {0};
    size_t count = 0, last = 0;
    for (size_t i = 0; i < n; i++) count += (bf16_at(src, i) >> 7 & 0xff) - base >= WINDOW;
    wqc_bytes_varint(&b, count);
    for (size_t i = 0; i < n; i++) {
        unsigned v = bf16_at(src, i);
        if ((v >> 7 & 0xff) - base < WINDOW) continue;
        wqc_bytes_varint(&b, i - last);
        wqc_bytes_u16(&b, (uint16_t)(v >> 4 & 0x7ff));
        last = i + 1;
    }
    if (b.failed) {
        wqc_bytes_free(&b);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    *out = b.data;
    *len = b.len;
    return WQC_OK;
}

wqc_status wqc_e8m3_exceptions_decode(const uint8_t *in, size_t len, uint64_t n, wqc_e8m3_exceptions *out, wqc_error *err)
{
    memset(out, 0, sizeof *out);
    wqc_cursor c = {in, in + len, 0};
    uint64_t count = wqc_cursor_varint(&c), next = 0;
    /* Each exception takes at least 3 bytes. */
    if (c.failed || count > (uint64_t)(c.end - c.p) / 3 || count > n)
        return wqc_fail(err, WQC_ERR_FORMAT, "bad split-e8m3 exceptions: count");
    out->index = malloc(count ? (size_t)count * sizeof *out->index : 1);
    out->bits = malloc(count ? (size_t)count * sizeof *out->bits : 1);
    if (!out->index || !out->bits) {
        wqc_e8m3_exceptions_free(out);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    for (uint64_t k = 0; k < count; k++) {
        uint64_t gap = wqc_cursor_varint(&c);
        uint16_t bits = wqc_cursor_u16(&c);
        if (c.failed || gap >= n - next || bits > 0x7ff) {
            wqc_e8m3_exceptions_free(out);
            return wqc_fail(err, WQC_ERR_FORMAT, "bad split-e8m3 exceptions: exception %llu", (unsigned long long)k);
        }
        out->index[k] = next + gap;
        out->bits[k] = bits;
        next = out->index[k] + 1;
    }
    out->count = (size_t)count;
    if (c.p != c.end) {
        wqc_e8m3_exceptions_free(out);
        return wqc_fail(err, WQC_ERR_FORMAT, "bad split-e8m3 exceptions: bytes left over");
    }
    return WQC_OK;
}

void wqc_e8m3_exceptions_free(wqc_e8m3_exceptions *x)
{
    free(x->index);
    free(x->bits);
    memset(x, 0, sizeof *x);
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

/* The exceptions among values first .. first + n - 1 put back: the first at
 * or after `first` by bisection. */
static void patch(const wqc_e8m3_exceptions *x, uint64_t first, size_t n, uint16_t *out)
{
    size_t lo = 0, hi = x->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->index[mid] < first) lo = mid + 1;
        else hi = mid;
    }
    for (size_t k = lo; k < x->count && x->index[k] < first + n; k++) {
        uint16_t *v = out + (x->index[k] - first);
        *v = (uint16_t)((*v & 0x800f) | x->bits[k] << 4);
    }
}

wqc_status wqc_e8m3_merge(const uint8_t *sym, const uint8_t *nibbles, const uint8_t *signs,
                          const wqc_e8m3_exceptions *x, uint64_t first, size_t n, unsigned base, void *dst, wqc_isa isa,
                          wqc_error *err)
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
    if (x && x->count) patch(x, first, n, out);
    return WQC_OK;
}
