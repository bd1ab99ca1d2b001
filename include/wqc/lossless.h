/* wqc/lossless.h - float tensors stored bit-exactly, split into byte streams.
 *
 * Each F32, F16 or BF16 value becomes one "symbol" byte, coded with rANS
 * (the exponent carries 2.5 to 3 bits of information in trained weights),
 * and 1 or 3 "rest" bytes (sign and mantissa, nearly random, stored raw or
 * zstd'd). Bit layout (docs/FORMAT.md):
 *   BF16 s|e8|m7:   symbol = e8,            rest0 = s << 7 | m7
 *   F16  s|e5|m10:  symbol = e5 << 3 | m10 >> 7,  rest0 = s << 7 | (m10 & 0x7f)
 *   F32  s|e8|m23:  symbol = e8,  rest0 = s << 7 | m23 >> 16,  rest1 = m23 >> 8 & 0xff,  rest2 = m23 & 0xff
 *   F8_E4M3, F8_E5M2, F8_E8M0, U8, I8, BOOL:  symbol = the whole byte, no
 *                   rest streams (an 8-bit float's sign, exponent and
 *                   mantissa carry about 6.5 bits together in trained
 *                   weights; U8 tensors hold packed 4-bit floats, MXFP4's
 *                   E2M1 pairs, or E8M0 scales)
 * so that for both 16-bit types v = (rest0 & 0x80) << 8 | symbol << 7 | (rest0 & 0x7f).
 *
 * BF16 has a second layout (encoding split-e8m3), taken where it is smaller:
 * the symbol is the exponent with the top 3 mantissa bits, less a base, so
 * that rANS codes what the exponent says of the mantissa's first bits
 * (trained weights' density falls across each binade: 0.4-0.5% of a BF16
 * checkpoint). The base's window holds 32 exponents (trained weights span
 * 17-27); a value outside it (a zero, an outlier) is an exception, its
 * symbol clamped into the window and its e8 << 3 | m7 >> 4 kept apart:
 *   BF16 s|e8|m7:   symbol = (clamp(e8, base, base + 31) - base) << 3 | m7 >> 4,
 *                   nibbles[k / 2] holds m7 & 15 of value k (value 2j in the low half),
 *                   signs[k / 8] holds s of value k in bit k mod 8,
 *                   exceptions: varint count, then per exception a varint gap
 *                   (its index less the previous one's, less 1; the first: its
 *                   index) and 2 bytes little-endian e8 << 3 | m7 >> 4. */
#ifndef WQC_LOSSLESS_H
#define WQC_LOSSLESS_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/dtype.h"
#include "wqc/isa.h"
#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WQC_SPLIT_REST_MAX 3

/* Whether the split coding covers a dtype: F32, F16, BF16 and every 1-byte dtype. */
int wqc_split_dtype(wqc_dtype dtype);
/* Rest streams of a dtype: 1 for F16/BF16, 3 for F32, 0 for others. */
unsigned wqc_split_rest_count(wqc_dtype dtype);

/* Splits n little-endian values of src into sym[n] and rest[k][n]. */
void wqc_float_split(wqc_dtype dtype, const void *src, size_t n, uint8_t *sym, uint8_t *const *rest);

/* Joins them back into n little-endian values at dst, with the ISA's
 * kernel (every ISA writes the same bytes; the scalar code is the
 * reference). WQC_ERR_UNSUPPORTED for an ISA this CPU lacks, WQC_ERR_INVALID_ARG
 * for a dtype the split coding does not cover. */
wqc_status wqc_float_merge(wqc_dtype dtype, const uint8_t *sym, const uint8_t *const *rest, size_t n, void *dst,
                           wqc_isa isa, wqc_error *err);

/* ---- BF16, split-e8m3 --------------------------------------------------- */

/* Bytes of its first two rest streams for n values: nibbles, then signs. */
uint64_t wqc_e8m3_rest_bytes(unsigned k, uint64_t n);

/* The highest base: every symbol then decodes to an exponent <= 255. */
#define WQC_E8M3_BASE_MAX 224u

/* The base whose window (base .. base + 31, base <= WQC_E8M3_BASE_MAX)
 * holds the most of the n BF16 values; returns how many it leaves out. */
uint64_t wqc_e8m3_window(const void *src, size_t n, unsigned *base);
/* The same from the values' counts per exponent (e8 = 0..255). */
uint64_t wqc_e8m3_window_counts(const uint64_t *exponents, unsigned *base);

/* The symbol of one BF16 value (its exponent clamped into the window). */
unsigned wqc_e8m3_symbol(unsigned bf16, unsigned base);

/* Splits n BF16 values into sym[n], nibbles[(n + 1) / 2] and
 * signs[(n + 7) / 8] (the symbols of exceptions clamped). */
void wqc_e8m3_split(const void *src, size_t n, unsigned base, uint8_t *sym, uint8_t *nibbles, uint8_t *signs);

/* The exceptions stream of n values (*out malloc'd). */
wqc_status wqc_e8m3_exceptions_encode(const void *src, size_t n, unsigned base, uint8_t **out, size_t *len,
                                      wqc_error *err);

/* Exceptions read back: indexes increasing, below the value count. */
typedef struct wqc_e8m3_exceptions {
    size_t count;
    uint64_t *index;
    uint16_t *bits;     /* e8 << 3 | m7 >> 4 */
} wqc_e8m3_exceptions;
/* WQC_ERR_FORMAT for a stream that is malformed, does not end where its
 * last exception does, or names an index >= n. */
wqc_status wqc_e8m3_exceptions_decode(const uint8_t *in, size_t len, uint64_t n, wqc_e8m3_exceptions *out, wqc_error *err);
void wqc_e8m3_exceptions_free(wqc_e8m3_exceptions *x);

/* Joins values first .. first + n - 1 into dst: their symbols at sym[0..n),
 * the rest streams whole (indexed from value 0), then the exceptions among
 * them (x may be NULL: none). Every ISA writes the same bytes; the scalar
 * code is the reference. WQC_ERR_UNSUPPORTED for an ISA this CPU lacks,
 * WQC_ERR_INVALID_ARG for base > WQC_E8M3_BASE_MAX. */
wqc_status wqc_e8m3_merge(const uint8_t *sym, const uint8_t *nibbles, const uint8_t *signs,
                          const wqc_e8m3_exceptions *x, uint64_t first, size_t n, unsigned base, void *dst, wqc_isa isa,
                          wqc_error *err);

#ifdef __cplusplus
}
#endif
#endif
