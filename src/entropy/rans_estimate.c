#include "wqc/entropy.h"
#include "wqc/rans.h"

size_t wqc_freq_table_bytes(const uint32_t *freq, size_t alphabet)
{
    size_t bytes = 1;
    for (size_t i = 0; i < alphabet; i++) {
        uint32_t f = freq[i];
        do {
            bytes++;
            f >>= 7;
        } while (f);
    }
    return bytes;
}

double wqc_rans_size_estimate(uint64_t n, double cross_entropy_bits, size_t table_bytes,
                              uint32_t lanes, uint64_t chunk)
{
    uint64_t chunks = chunk ? (n + chunk - 1) / chunk : 1;
    return (double)n * cross_entropy_bits / 8.0 + 4.0 * lanes * (double)chunks + (double)table_bytes;
}

wqc_status wqc_order0_estimate_counts(const uint64_t *counts, size_t alphabet, uint64_t n, int precision,
                                      uint32_t *freq, wqc_order0_estimate *out, wqc_error *err)
{
    wqc_status st = wqc_freq_normalize(counts, alphabet, precision, freq, err);
    if (st != WQC_OK) return st;
    out->cross_entropy_bits = wqc_cross_entropy_bits(counts, freq, alphabet, 1u << precision);
    out->table_bytes = wqc_freq_table_bytes(freq, alphabet);
    out->bytes = wqc_rans_size_estimate(n, out->cross_entropy_bits, out->table_bytes, wqc_rans_lanes_auto(n, (uint32_t)alphabet),
                                        WQC_RANS_CHUNK_DEFAULT_CODEC);
    return WQC_OK;
}
