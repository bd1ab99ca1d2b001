/* Scalar rANS encoder: symbols are coded backwards, words written backwards
 * from the end of the output buffer, then moved behind the final states. */
#include <string.h>

#include "wqc/rans.h"

static int lanes_valid(uint32_t lanes)
{
    return lanes >= 8 && lanes <= WQC_RANS_LANES_MAX && lanes % 8 == 0;
}

size_t wqc_rans_chunk_bound(size_t n, uint32_t lanes) { return 4 * (size_t)lanes + 2 * n; }

static void store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

wqc_status wqc_rans_encode_chunk(const wqc_rans_table *t, uint32_t lanes, const uint8_t *sym,
                                 size_t n, uint8_t *out, size_t cap, size_t *out_len,
                                 wqc_error *err)
{
    if (!lanes_valid(lanes))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "lanes must be a multiple of 8 in 8..%d, got %u",
                        WQC_RANS_LANES_MAX, lanes);
    size_t bound = wqc_rans_chunk_bound(n, lanes);
    if (cap < bound)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "output buffer of %zu bytes is below the bound %zu",
                        cap, bound);
    uint32_t state[WQC_RANS_LANES_MAX];
    for (uint32_t l = 0; l < lanes; l++) state[l] = WQC_RANS_STATE_LOW;
    const int p = t->precision;
    /* Per symbol: the renormalisation bound (x must stay below f * 2^(32-P)
     * before coding so the result fits 32 bits; 64-bit since for f = 2^P it
     * is 2^32 itself), and x / f by multiplication: with l = ceil(log2 f) and
     * m = floor(2^32 (2^l - f) / f) + 1, x / f = (x + (x * m >> 32)) >> l for
     * every 32-bit x (Granlund and Montgomery, 1994). */
    uint64_t limit[256] = {0};
    uint32_t mult[256] = {0}, shift[256] = {0}, bias[256] = {0};
    for (uint32_t s = 0; s < t->alphabet; s++) {
        uint32_t f = t->freq[s], l = 0;
        limit[s] = (uint64_t)f << (32 - p);
        if (f == 0) continue;
        while ((1u << l) < f) l++;
        mult[s] = (uint32_t)((((uint64_t)1 << 32) * ((1ull << l) - f)) / f + 1);
        shift[s] = l;
        /* x' = (q << P) + (x - q f) + cum = x + q (2^P - f) + cum */
        bias[s] = t->cum[s];
    }
    /* Words go downwards from the end; 2 bytes each. */
    uint8_t *w = out + cap;
    uint32_t lane = n ? (uint32_t)((n - 1) % lanes) : 0;
    for (size_t i = n; i-- > 0;) {
        uint32_t s = sym[i], x = state[lane];
        if (t->freq[s] == 0)
            return wqc_fail(err, WQC_ERR_RANGE, "symbol %u at position %zu is not in the table", s, i);
        /* Branch-free renormalisation: the word is stored either way and
         * kept only when the state was too large. */
        uint32_t big = x >= limit[s];
        w[-2] = (uint8_t)x, w[-1] = (uint8_t)(x >> 8);
        w -= 2 * big;
        x >>= 16 * big;
        uint32_t q = (uint32_t)((x + ((uint64_t)x * mult[s] >> 32)) >> shift[s]);
        state[lane] = x + q * ((1u << p) - t->freq[s]) + bias[s];
        lane = lane ? lane - 1 : lanes - 1;
    }
    size_t words = (size_t)(out + cap - w);
    memmove(out + 4 * (size_t)lanes, w, words);
    for (uint32_t l = 0; l < lanes; l++) store_le32(out + 4 * l, state[l]);
    *out_len = 4 * (size_t)lanes + words;
    return WQC_OK;
}
