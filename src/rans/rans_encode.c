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
    for (size_t i = 0; i < n; i++)
        if (sym[i] >= t->alphabet || t->freq[sym[i]] == 0)
            return wqc_fail(err, WQC_ERR_RANGE, "symbol %u at position %zu is not in the table", sym[i],
                            i);
    uint32_t state[WQC_RANS_LANES_MAX];
    for (uint32_t l = 0; l < lanes; l++) state[l] = WQC_RANS_STATE_LOW;
    const int p = t->precision;
    /* x must stay below f * 2^(32-P) before coding so the result fits 32 bits
     * (64-bit: for f = 2^P the bound is 2^32 itself). */
    uint64_t limit[256];
    for (uint32_t s = 0; s < t->alphabet; s++) limit[s] = (uint64_t)t->freq[s] << (32 - p);
    /* Words go downwards from the end; 2 bytes each. */
    uint8_t *w = out + cap;
    for (size_t i = n; i-- > 0;) {
        uint32_t lane = (uint32_t)(i % lanes);
        uint32_t f = t->freq[sym[i]], x = state[lane];
        if (x >= limit[sym[i]]) {
            w -= 2;
            w[0] = (uint8_t)x, w[1] = (uint8_t)(x >> 8);
            x >>= 16;
        }
        state[lane] = ((x / f) << p) + (x % f) + t->cum[sym[i]];
    }
    size_t words = (size_t)(out + cap - w);
    memmove(out + 4 * (size_t)lanes, w, words);
    for (uint32_t l = 0; l < lanes; l++) store_le32(out + 4 * l, state[l]);
    *out_len = 4 * (size_t)lanes + words;
    return WQC_OK;
}
