/* Internal: byte fields of F16 values (GGUF blocks' d, dmin) with the
 * adaptive range coder: per value, its high byte (sign, exponent, top two
 * mantissa bits: a few bits of information) through an adaptive bit tree of
 * its position in the block, its low byte as 8 direct bits (nearly uniform).
 * Beats zstd on such fields by a fifth: its literals mix both bytes. */
#ifndef WQC_SIDE_HALF_FIELD_H
#define WQC_SIDE_HALF_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "../common/bytes.h"
#include "wqc/isa.h"
#include "wqc/status.h"

/* Most F16 values a block's field holds. */
#define WQC_HALF_FIELD_MAX 2

/* Codes len bytes (a whole number of blocks of `halves` values) into out. */
wqc_status wqc_half_field_encode(const uint8_t *field, size_t len, uint32_t halves, wqc_bytes *out, wqc_error *err);
/* Decodes len bytes from in[0..in_len); a stream that ends early is damage. */
wqc_status wqc_half_field_decode(const uint8_t *in, size_t in_len, uint32_t halves, uint8_t *field, size_t len,
                                 wqc_error *err);

/* The same fields for speed: the high bytes as one order-0 rANS stream (a
 * static table; about 20 times faster to decode than the adaptive bits,
 * for the price of the table), the low bytes as they are. */
wqc_status wqc_half_rans_encode(const uint8_t *field, size_t len, wqc_bytes *out, wqc_error *err);
wqc_status wqc_half_rans_decode(const uint8_t *in, size_t in_len, uint8_t *field, size_t len, wqc_isa isa,
                                wqc_error *err);

#endif
