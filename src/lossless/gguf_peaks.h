/* Internal: block peaks of GGUF codes. ggml's Q8_0 and Q4_0 quantizers set
 * a block's scale from its largest weight, so that weight always gets the
 * same code (Q8_0: +127 or -127; Q4_0: 0, the scale taking the sign). A
 * frame with peaks (docs/FORMAT.md, "gguf") codes, per block, a peak symbol
 * (where the block's first such code lies, and its sign) and leaves that
 * code out of the codes: the other 31 codes then no longer pay for a symbol
 * that each block has exactly once. */
#ifndef WQC_LOSSLESS_GGUF_PEAKS_H
#define WQC_LOSSLESS_GGUF_PEAKS_H

#include <stdint.h>

#include "wqc/status.h"

#define WQC_GGUF_PEAK_BLOCK 32
/* Peak symbols: position | negative << 5, or NONE for a block without one. */
#define WQC_GGUF_PEAK_NONE 64
#define WQC_GGUF_PEAK_ALPHABET 65
/* Room the inverse may write past codes[n] and read past rest[n - npeaks]. */
#define WQC_GGUF_PEAK_SLACK 32

/* 1 for the ggml types whose blocks have peak codes. */
int wqc_gguf_has_peaks(uint32_t type);

/* Takes each block's first peak out of codes[n] (whole blocks): the other
 * codes, in order, into rest (n bytes room, or codes itself), a peak
 * symbol per block into sym[n / 32]. Returns the blocks with a peak; rest
 * then holds n less that many codes. */
uint64_t wqc_gguf_peaks_take(uint32_t type, const uint8_t *codes, uint64_t n, uint8_t *rest, uint8_t *sym);

/* The inverse, into codes[n] (plus WQC_GGUF_PEAK_SLACK bytes of room) from
 * rest (n - npeaks codes, plus WQC_GGUF_PEAK_SLACK readable bytes) and the
 * peak symbols. WQC_ERR_FORMAT when a symbol is out of range (or signed,
 * for Q4_0) or the symbols give other than npeaks peaks. */
wqc_status wqc_gguf_peaks_put(uint32_t type, const uint8_t *sym, uint64_t npeaks, const uint8_t *rest, uint8_t *codes,
                              uint64_t n, wqc_error *err);

#endif
