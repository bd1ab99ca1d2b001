/* Internal: classes of rows (or tiles), each with its own rANS table, for
 * the symbol bytes of a split frame (a matrix's exponents, FP8 values):
 * rows of different scale have different symbol statistics, which one
 * order-0 table averages away. Rows are grouped by a few rounds of Lloyd's
 * algorithm (each row to the table that codes it in the fewest bits, each
 * table rebuilt from its rows), 2, 4 or 8 classes, and kept where the
 * payload they save pays for the extra tables and the rows' class map. */
#ifndef WQC_LOSSLESS_ROW_TABLES_H
#define WQC_LOSSLESS_ROW_TABLES_H

#include "../common/bytes.h"
#include "wqc/rans.h"

/* Fills ctx (tables and group_table malloc'd: the caller frees both) and
 * returns 1 when row classes pay for the rows x cols symbols: they save
 * 64 bytes and the share `keep` of the order-0 coding (*saved: the bytes,
 * estimated); else 0 with ctx untouched. */
int wqc_row_tables(const uint8_t *sym, uint64_t rows, uint64_t cols, int precision, double keep, wqc_rans_context *ctx,
                   double *saved);

/* The same with a class per tile of tile x tile symbols (FP8 checkpoints
 * scale each 128 x 128 block on its own): ctx's groups are then the tiles'
 * row segments (group_len = tile). */
int wqc_tile_tables(const uint8_t *sym, uint64_t rows, uint64_t cols, uint32_t tile, int precision, double keep,
                    wqc_rans_context *ctx, double *saved);

/* Bits of coding counts[0..256) with their normalised table (freq out),
 * and in *table_bytes the table's bytes as a model description. */
double wqc_class_table_bits(const uint64_t *counts, int precision, uint32_t *freq, double *table_bytes);
/* The ROWS field's bytes for these classes of rows (k tables of freq). */
double wqc_class_map_bytes(const uint8_t *cls, uint64_t rows, uint32_t k, uint32_t freq[][256], int precision);

/* Units (rows, columns) ranked by a mean: qsort's comparison, ties by index. */
typedef struct wqc_ranked {
    double mean;
    uint64_t at;
} wqc_ranked;
int wqc_ranked_by_mean(const void *a, const void *b);

/* The ROWS descriptor field's value (docs/FORMAT.md): the table count, each
 * row's table, and tables 1..ntables-1 (table 0 is the frame's model). */
void wqc_row_tables_write(const wqc_rans_context *ctx, wqc_bytes *out);
/* Reads it for a rows x cols matrix into ctx (tables[0] = *table0; tables
 * and group_table malloc'd). WQC_ERR_FORMAT when malformed. */
wqc_status wqc_row_tables_read(const uint8_t *in, size_t len, const wqc_rans_table *table0, uint64_t rows, uint64_t cols,
                               wqc_rans_context *ctx, wqc_error *err);

/* The TILES field's value: varint tile, then a ROWS value over the tiles
 * (in row-major order of tiles). */
void wqc_tile_tables_write(const wqc_rans_context *ctx, uint32_t tile, wqc_bytes *out);
wqc_status wqc_tile_tables_read(const uint8_t *in, size_t len, const wqc_rans_table *table0, uint64_t rows,
                                uint64_t cols, wqc_rans_context *ctx, uint32_t *tile, wqc_error *err);

#endif
