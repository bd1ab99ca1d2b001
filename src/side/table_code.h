/* Internal: rANS frequency tables in a few bytes. The alphabet and precision
 * are known to both sides; each frequency but the last is an adaptive Elias
 * gamma integer (its length modelled by the previous frequency's length, as
 * neighbouring symbols of a quantizer have similar counts), and the last is
 * what the others leave of 2^P. */
#ifndef WQC_SIDE_TABLE_CODE_H
#define WQC_SIDE_TABLE_CODE_H

#include <stdint.h>

#include "range_coder.h"
#include "wqc/status.h"

void wqc_table_encode(wqc_rc_enc *e, const uint32_t *freq, uint32_t alphabet, int precision);
/* WQC_ERR_FORMAT when the frequencies do not sum to 2^precision. */
wqc_status wqc_table_decode(wqc_rc_dec *d, uint32_t *freq, uint32_t alphabet, int precision, wqc_error *err);

#endif
