/* Routing keys: jump consistent hashing (J. Lamping and E. Veach, "A Fast,
 * Minimal Memory, Consistent Hash Algorithm", 2014) keyed by a digest. */
#include "wqc/digest.h"

uint32_t wqc_route(const uint8_t d[WQC_DIGEST_BYTES], uint32_t n)
{
    uint64_t key = 0;
    for (int i = 7; i >= 0; i--) key = key << 8 | d[i];
    /* Walks the places the key jumps to as the count grows: from place b the
     * next jump lands at (b + 1) / u, u uniform in (0, 1] from a 64-bit linear
     * congruential generator seeded by the key, computed as the paper does:
     * (b + 1) * (2^31 / ((key >> 33) + 1)) in double. */
    int64_t place = 0, next = 0;
    while (next < (int64_t)n) {
        place = next;
        key = key * 2862933555777941757ull + 1;
        next = (int64_t)((double)(place + 1) * ((double)(1ull << 31) / (double)((key >> 33) + 1)));
    }
    return (uint32_t)place;
}
