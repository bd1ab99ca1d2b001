#include "table_code.h"

#include <string.h>

/* Models by the bit length (0..16) of the previous frequency. */
typedef struct table_models {
    wqc_rc_uint by_prev[17];
} table_models;

static int bit_length(uint32_t v) { return v ? 32 - __builtin_clz(v) : 0; }

void wqc_table_encode(wqc_rc_enc *e, const uint32_t *freq, uint32_t alphabet, int precision)
{
    static table_models zero;
    table_models m = zero;
    (void)precision;
    uint32_t prev = 0;
    for (uint32_t s = 0; s + 1 < alphabet; s++) {
        wqc_rc_encode_uint(e, &m.by_prev[bit_length(prev)], freq[s]);
        prev = freq[s];
    }
}

wqc_status wqc_table_decode(wqc_rc_dec *d, uint32_t *freq, uint32_t alphabet, int precision, wqc_error *err)
{
    static table_models zero;
    table_models m = zero;
    const uint64_t total = 1ull << precision;
    uint64_t sum = 0;
    uint32_t prev = 0;
    for (uint32_t s = 0; s + 1 < alphabet; s++) {
        uint64_t f = wqc_rc_decode_uint(d, &m.by_prev[bit_length(prev)]);
        if (f > total - sum) return wqc_fail(err, WQC_ERR_FORMAT, "frequency table sums past 2^%d", precision);
        freq[s] = prev = (uint32_t)f;
        sum += f;
    }
    freq[alphabet - 1] = (uint32_t)(total - sum);
    return WQC_OK;
}
