/* Internal: an adaptive binary range coder for side information (scales,
 * frequency tables, context maps): small arrays where a static table would
 * cost more than the data. Not for symbols: those go through rANS.
 *
 * Stream: the encoder's `low` register shifted out a byte at a time, most
 * significant first, with carries propagated into the bytes already queued;
 * the decoder reads it back with the same 32-bit range. Probabilities are
 * 12-bit, from Krichevsky-Trofimov counts that halve at a limit, so a model
 * learns in a few observations and keeps adapting. */
#ifndef WQC_SIDE_RANGE_CODER_H
#define WQC_SIDE_RANGE_CODER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/bytes.h"

#define WQC_RC_PROB_BITS 12
/* The encoder leaves out the stream's trailing zero bytes, at most 4. */
#define WQC_RC_TAIL 4

/* A binary model: counts of zeros and ones seen, and P(0) from them less
 * 2048 (computed when the counts change, off the decoder's critical path).
 * Zero-initialise. */
typedef struct wqc_rc_bit {
    uint16_t n0, n1;
    int16_t p0;
} wqc_rc_bit;

typedef struct wqc_rc_enc {
    wqc_bytes *out;
    uint64_t low;           /* 33 bits: bit 32 is a carry into the queued bytes */
    uint32_t range;
    uint8_t cache;          /* last byte not yet written (a carry may still reach it) */
    uint64_t pending;       /* 0xff bytes queued behind the cache */
    int have_cache;
} wqc_rc_enc;

typedef struct wqc_rc_dec {
    const uint8_t *p, *end;
    uint32_t code, range;
    uint64_t overrun;       /* bytes read past the end (as zeros); a whole stream
                               needs at most WQC_RC_TAIL of them */
} wqc_rc_dec;

/* floor((2 n0 + 1) 2^12 / (2 (n0 + n1) + 2)), the KT estimate of P(0) before
 * clamping, for counts n0 + n1 <= 257 (all a model holds). */
uint32_t wqc_rc_kt_prob(uint32_t n0, uint32_t n1);

void wqc_rc_enc_init(wqc_rc_enc *e, wqc_bytes *out);
/* Writes the bytes still held in the registers. */
void wqc_rc_enc_finish(wqc_rc_enc *e);
void wqc_rc_encode(wqc_rc_enc *e, wqc_rc_bit *m, int bit);
/* nbits <= 32 equiprobable bits, most significant first. */
void wqc_rc_encode_direct(wqc_rc_enc *e, uint32_t value, int nbits);

void wqc_rc_dec_init(wqc_rc_dec *d, const uint8_t *p, size_t len);
int wqc_rc_decode(wqc_rc_dec *d, wqc_rc_bit *m);
uint32_t wqc_rc_decode_direct(wqc_rc_dec *d, int nbits);

/* Bit-tree models for values of `bits` bits: 2^bits entries, index 0 unused. */
void wqc_rc_encode_tree(wqc_rc_enc *e, wqc_rc_bit *tree, int bits, uint32_t value);
uint32_t wqc_rc_decode_tree(wqc_rc_dec *d, wqc_rc_bit *tree, int bits);

/* Unsigned integers below 2^62, as Elias gamma with adaptive bits: the bit
 * length L of value + 1 in unary (models len[]), then the L - 1 bits below
 * its leading one, the first adaptive (models top[L]) and the rest direct. */
typedef struct wqc_rc_uint {
    wqc_rc_bit len[64];
    wqc_rc_bit top[65];
} wqc_rc_uint;

void wqc_rc_encode_uint(wqc_rc_enc *e, wqc_rc_uint *m, uint64_t value);
/* UINT64_MAX for a length no encoder writes (a damaged stream). */
uint64_t wqc_rc_decode_uint(wqc_rc_dec *d, wqc_rc_uint *m);

#endif
