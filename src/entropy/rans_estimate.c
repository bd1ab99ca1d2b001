#include "wqc/entropy.h"

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
