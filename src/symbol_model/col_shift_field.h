/* Internal: the COLUMNS descriptor field (docs/FORMAT.md): a frame's column
 * shifts in the adaptive range coder's bits. */
#ifndef WQC_SYMBOL_MODEL_COL_SHIFT_FIELD_H
#define WQC_SYMBOL_MODEL_COL_SHIFT_FIELD_H

#include "../common/bytes.h"
#include "wqc/symbol_model.h"

/* Most columns a COLUMNS field may describe (a reader's allocation bound). */
#define WQC_COL_SHIFT_COLS_MAX (1ull << 24)

void wqc_col_shifts_write(const int8_t *shift, uint64_t cols, wqc_bytes *out);
/* Bytes wqc_col_shifts_write writes. */
size_t wqc_col_shifts_bytes(const int8_t *shift, uint64_t cols);
/* *out: cols shifts, malloc'd. WQC_ERR_FORMAT when malformed. */
wqc_status wqc_col_shifts_read(const uint8_t *in, size_t len, uint64_t cols, int8_t **out, wqc_error *err);

#endif
