/* Internal: a byte stream coded with its own order-0 table or with a model
 * the file shares (wqc_encode_options.shared), whichever costs less: small
 * tensors pay more for a table of 256 symbols (GGUF Q8_0 codes, 8-bit
 * floats) than their statistics differ from their neighbours'. */
#ifndef WQC_LOSSLESS_SHARED_TABLE_H
#define WQC_LOSSLESS_SHARED_TABLE_H

#include "wqc/encode.h"

/* Codes sym[0..n) into *out; *shared_model gets 0 (own table) or the
 * shared model's index + 1 (an order-0 model of this alphabet and p's
 * precision), taken when its payload plus a 2-byte reference is smaller
 * than the own payload plus its table. */
wqc_status wqc_code_order0(const uint8_t *sym, uint64_t n, uint32_t alphabet, const wqc_encode_options *o,
                           const wqc_rans_params *p, wqc_rans_coded *out, uint32_t *shared_model, wqc_error *err);

#endif
