#include "wqc/entropy.h"

/* Four interleaved sub-histograms break the store-to-load dependency when the
 * same symbol repeats; blocks keep every 32-bit counter below 2^32. */
void wqc_histogram(const uint8_t *sym, size_t n, uint64_t counts[256])
{
    enum { BLOCK = 1u << 30 };
    uint32_t sub[4][256];
    while (n > 0) {
        size_t len = n < BLOCK ? n : BLOCK, i = 0;
        for (int t = 0; t < 4; t++)
            for (int s = 0; s < 256; s++) sub[t][s] = 0;
        for (; i + 4 <= len; i += 4) {
            sub[0][sym[i]]++;
            sub[1][sym[i + 1]]++;
            sub[2][sym[i + 2]]++;
            sub[3][sym[i + 3]]++;
        }
        for (; i < len; i++) sub[0][sym[i]]++;
        for (int s = 0; s < 256; s++)
            counts[s] += (uint64_t)sub[0][s] + sub[1][s] + sub[2][s] + sub[3][s];
        sym += len;
        n -= len;
    }
}
