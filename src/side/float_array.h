/* Internal: lossless coding of small arrays of floats (scales, offsets, kept
 * norm weights) by their bit patterns, with the adaptive range coder.
 *
 * Per value: a flag and a 2-bit index when it repeats one of the last four
 * distinct values; else its sign and exponent as one adaptive bit-tree symbol
 * and its mantissa bits as they are, less the low bits that are zero in every
 * value of the array (a float32 array of bfloat16-exact values costs 7
 * mantissa bits a value, not 23). */
#ifndef WQC_SIDE_FLOAT_ARRAY_H
#define WQC_SIDE_FLOAT_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "range_coder.h"
#include "wqc/status.h"
#include "wqc/dtype.h"

/* Codes bits[0..n) (F32, F16 or BF16 patterns, one per uint32) into e. */
void wqc_floats_encode(wqc_rc_enc *e, wqc_dtype dtype, const uint32_t *bits, size_t n);
/* Decodes n patterns. Never fails by itself: a damaged stream gives wrong
 * values and shows in the decoder's overrun or the record checksum. */
void wqc_floats_decode(wqc_rc_dec *d, wqc_dtype dtype, uint32_t *bits, size_t n);

/* Size in bytes of a stream holding only this array (for choosing forms). */
size_t wqc_floats_cost(wqc_dtype dtype, const uint32_t *bits, size_t n);

#endif
