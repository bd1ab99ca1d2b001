/* wqc/packed.h - plain packed 4-bit storage, the baseline entropy coding
 * must beat: two symbols per byte, element 2k in the low nibble and 2k+1 in
 * the high one (the same layout as the decoder's WQC_FORM_NIBBLES). Unpack
 * and dequantize have a scalar reference and SIMD paths chosen like the
 * rANS decoders (wqc/isa.h); every path gives the same bytes. */
#ifndef WQC_PACKED_H
#define WQC_PACKED_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/isa.h"
#include "wqc/quant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Packs n symbols (each < 16) into (n + 1) / 2 bytes; an odd last byte has a
 * zero high nibble. */
void wqc_packed4_pack(const uint8_t *sym, size_t n, uint8_t *out);

/* Unpacks n symbols. An unavailable isa runs the scalar code. */
void wqc_packed4_unpack(wqc_isa isa, const uint8_t *in, size_t n, uint8_t *sym);

/* n dequantized weights offset + scale * q (float32, groups as in
 * wqc_dequantize). An unavailable isa runs the scalar code. */
void wqc_packed4_dequantize(wqc_isa isa, const uint8_t *in, size_t n, const wqc_quantized *groups,
                            float *out);

#ifdef __cplusplus
}
#endif
#endif
