#include <stdlib.h>
#include <string.h>

#include "decode_kernel.h"
#include "wqc/entropy.h"
#include "wqc/rans.h"

wqc_status wqc_rans_table_init(wqc_rans_table *t, const uint32_t *freq, uint32_t alphabet,
                               int precision, wqc_error *err)
{
    if (precision < WQC_PRECISION_MIN || precision > WQC_PRECISION_MAX)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "rANS precision must be %d..%d, got %d",
                        WQC_PRECISION_MIN, WQC_PRECISION_MAX, precision);
    if (alphabet < 1 || alphabet > 256)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "rANS alphabet must be 1..256, got %u", alphabet);
    t->precision = precision;
    t->alphabet = alphabet;
    uint64_t sum = 0;
    for (uint32_t s = 0; s < 256; s++) {
        t->freq[s] = s < alphabet ? freq[s] : 0;
        t->cum[s] = (uint32_t)sum;
        sum += t->freq[s];
        if (sum > (1u << precision)) break;
    }
    t->cum[256] = (uint32_t)sum;
    if (sum != (1u << precision))
        return wqc_fail(err, WQC_ERR_FORMAT, "frequency table sums to %llu, not 2^%d",
                        (unsigned long long)sum, precision);
    return WQC_OK;
}

wqc_status wqc_rans_dtable_init(wqc_rans_dtable *d, const wqc_rans_table *t, wqc_error *err)
{
    size_t slots = (size_t)1 << t->precision;
    int packable = t->alphabet <= RANS_PACKED_MAX_ALPHABET && t->precision <= RANS_PACKED_MAX_PRECISION;
    d->precision = t->precision;
    d->alphabet = t->alphabet;
    memcpy(d->freq, t->freq, sizeof d->freq);
    memcpy(d->cum, t->cum, sizeof d->cum);
    d->symbol = calloc(slots + 4, 1);
    d->entry = malloc(slots * sizeof *d->entry);
    d->packed = packable ? malloc(slots * sizeof *d->packed) : NULL;
    if (!d->symbol || !d->entry || (packable && !d->packed)) {
        wqc_rans_dtable_free(d);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    for (uint32_t s = 0; s < t->alphabet; s++) {
        for (uint32_t i = 0; i < t->freq[s]; i++) {
            uint32_t slot = t->cum[s] + i;
            d->symbol[slot] = (uint8_t)s;
            d->entry[slot] = t->freq[s] | (i << 16);
            if (packable) d->packed[slot] = t->freq[s] | i << 14 | s << 28;
        }
    }
    return WQC_OK;
}

void wqc_rans_dtable_free(wqc_rans_dtable *d)
{
    free(d->symbol);
    free(d->entry);
    free(d->packed);
    d->symbol = NULL;
    d->entry = NULL;
    d->packed = NULL;
}
