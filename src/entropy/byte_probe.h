/* Internal: when general-purpose coders (common/byte_codec.h) may beat an
 * order-0 coder on a byte stream. */
#ifndef WQC_ENTROPY_BYTE_PROBE_H
#define WQC_ENTROPY_BYTE_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* Signs of structure general-purpose coders exploit and an order-0 coder
 * does not, measured on WQC_PROBE_BYTES of a stream (all of a shorter one,
 * else slices spread from its start to its end):
 *   repeats      the share of positions inside long repeats (k-grams of at
 *                least 48 bits of order-0 information seen earlier);
 *   order1_gain  1 - H(X | previous byte) / H(X), both bias-corrected;
 *                only for streams of 1-byte elements (in wider ones the
 *                previous byte is mostly the same value's other byte). */
#define WQC_PROBE_BYTES (256u << 10)
typedef struct wqc_byte_structure {
    double repeats, order1_gain;
} wqc_byte_structure;
void wqc_byte_probe(const uint8_t *src, size_t n, size_t element_size, wqc_byte_structure *out);
/* Whether the peers are worth running on a stream with this structure. */
int wqc_byte_structured(const wqc_byte_structure *s);

#endif
