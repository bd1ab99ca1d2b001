/* Internal: rows x columns classes for the symbol bytes of a split frame.
 * In trained matrices whole columns (input channels) differ in scale as
 * rows do, so an element's table is chosen by both: each row has a bin and
 * each column a shift, and element (r, c) takes the table of bin
 * clamp(bin[r] + shift[c]) of 4 bins ordered by scale. Bins and shifts come
 * from a few rounds of Lloyd's algorithm (each column to its best shift,
 * each row to its best bin, the tables rebuilt). The frame stores the bins
 * and tables as its ROWS field and the shifts as its COLUMNS field. */
#ifndef WQC_LOSSLESS_CLASS_SHIFTS_H
#define WQC_LOSSLESS_CLASS_SHIFTS_H

#include "wqc/rans.h"

/* Fills ctx (tables, group_table, col_shift and bin_table malloc'd: the
 * caller frees them) and returns 1 when the model pays for the rows x cols
 * symbols: against the order-0 coding it saves 64 bytes and the share
 * `keep` of that coding more than `beat` bytes (what another model saves:
 * the shifts cost decode speed), *saved the bytes, estimated; else 0 with
 * ctx untouched. */
int wqc_class_shifts(const uint8_t *sym, uint64_t rows, uint64_t cols, int precision, double keep, double beat,
                     wqc_rans_context *ctx, double *saved);

#endif
