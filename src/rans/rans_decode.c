/* Scalar reference rANS decoder. */
#include "wqc/rans.h"

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

wqc_status wqc_rans_decode_chunk(const wqc_rans_dtable *d, uint32_t lanes, const uint8_t *in,
                                 size_t len, uint8_t *sym, size_t n, wqc_error *err)
{
    if (lanes < 8 || lanes > WQC_RANS_LANES_MAX || lanes % 8)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "lanes must be a multiple of 8 in 8..%d, got %u",
                        WQC_RANS_LANES_MAX, lanes);
    if (len < 4 * (size_t)lanes)
        return wqc_fail(err, WQC_ERR_FORMAT, "rANS chunk of %zu bytes is shorter than its %u states",
                        len, lanes);
    uint32_t state[WQC_RANS_LANES_MAX];
    for (uint32_t l = 0; l < lanes; l++) {
        state[l] = load_le32(in + 4 * l);
        if (state[l] < WQC_RANS_STATE_LOW)
            return wqc_fail(err, WQC_ERR_FORMAT, "rANS lane %u starts in an invalid state", l);
    }
    const uint8_t *w = in + 4 * (size_t)lanes, *end = in + len;
    const uint32_t mask = (1u << d->precision) - 1;
    const int p = d->precision;
    size_t i = 0;
    /* Rounds where every lane may read a word without running past the end. */
    while (n - i >= lanes && (size_t)(end - w) >= 2 * (size_t)lanes) {
        for (uint32_t l = 0; l < lanes; l++) {
            uint32_t x = state[l], slot = x & mask, e = d->entry[slot];
            sym[i + l] = d->symbol[slot];
            x = (e & 0xffff) * (x >> p) + (e >> 16);
            if (x < WQC_RANS_STATE_LOW) {
                x = (x << 16) | w[0] | (uint32_t)w[1] << 8;
                w += 2;
            }
            state[l] = x;
        }
        i += lanes;
    }
    for (; i < n; i++) {
        uint32_t l = (uint32_t)(i % lanes);
        uint32_t x = state[l], slot = x & mask, e = d->entry[slot];
        sym[i] = d->symbol[slot];
        x = (e & 0xffff) * (x >> p) + (e >> 16);
        if (x < WQC_RANS_STATE_LOW) {
            if (end - w < 2)
                return wqc_fail(err, WQC_ERR_FORMAT, "rANS stream ends early at symbol %zu", i);
            x = (x << 16) | w[0] | (uint32_t)w[1] << 8;
            w += 2;
        }
        state[l] = x;
    }
    if (w != end)
        return wqc_fail(err, WQC_ERR_FORMAT, "rANS stream has %zu bytes left after the last symbol",
                        (size_t)(end - w));
    for (uint32_t l = 0; l < lanes; l++)
        if (state[l] != WQC_RANS_STATE_LOW)
            return wqc_fail(err, WQC_ERR_FORMAT, "rANS lane %u does not end in the initial state", l);
    return WQC_OK;
}
