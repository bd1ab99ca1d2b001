/* Internal: which table of a rANS context (wqc/rans.h) codes each element,
 * walking the tensor in coding order: row-major through the parameter
 * groups, or the gemv layout's tiles, where lane i of a round is row i of
 * the tile and so has its own table. */
#ifndef WQC_RANS_CONTEXT_CURSOR_H
#define WQC_RANS_CONTEXT_CURSOR_H

#include <stdint.h>

#include "../quant/group_cursor.h"
#include "wqc/rans.h"

typedef struct rans_context_cursor {
    const wqc_rans_context *ctx;
    rans_group_cursor groups;               /* row-major order */
    uint64_t per_tile, full_end, full_rows, tail_rows;  /* gemv layout */
} rans_context_cursor;

static inline void rans_context_seek(rans_context_cursor *c, const wqc_rans_context *ctx, uint64_t pos)
{
    c->ctx = ctx;
    c->groups.table = 0;
    c->groups.scales = c->groups.offsets = NULL;
    c->groups.tables = ctx->group_table;
    rans_group_start(&c->groups, ctx->cols, ctx->group_len, ctx->ngroups, ctx->tile ? 0 : pos);
    c->per_tile = (uint64_t)ctx->tile * ctx->cols;
    c->full_rows = ctx->tile ? ctx->rows / ctx->tile * ctx->tile : 0;
    c->full_end = c->full_rows * ctx->cols;
    c->tail_rows = ctx->rows - c->full_rows;
}

/* Row of element pos in the gemv layout. */
static inline uint64_t rans_context_tiled_row(const rans_context_cursor *c, uint64_t pos)
{
    if (pos < c->full_end) return pos / c->per_tile * c->ctx->tile + pos % c->per_tile % c->ctx->tile;
    return c->full_rows + (pos - c->full_end) % c->tail_rows;
}

/* Table of bin b moved by a column's shift. */
static inline uint32_t rans_context_shifted(const wqc_rans_context *ctx, uint32_t b, int8_t shift)
{
    int32_t s = (int32_t)b + shift;
    return ctx->bin_table[s < 0 ? 0 : s >= (int32_t)ctx->nbins ? ctx->nbins - 1 : (uint32_t)s];
}

/* Column of element pos, once the cursor has reached it (row-major). */
static inline uint64_t rans_context_col(const rans_context_cursor *c, uint64_t pos)
{
    return pos - (c->groups.row_end - c->ctx->cols);
}

/* Table of element pos; in row-major order pos never goes backwards. */
static inline uint32_t rans_context_table(rans_context_cursor *c, uint64_t pos)
{
    if (c->ctx->col_shift) {
        rans_group_reach(&c->groups, pos);
        return rans_context_shifted(c->ctx, c->groups.table, c->ctx->col_shift[rans_context_col(c, pos)]);
    }
    if (c->ctx->ngroups == 1) return c->ctx->group_table[0];
    if (c->ctx->tile) return c->ctx->group_table[rans_context_tiled_row(c, pos)];
    rans_group_reach(&c->groups, pos);
    return c->groups.table;
}

/* True, with the table, when elements pos..pos+v all use one table because
 * they lie in one group (row-major order only; the gemv layout says no). */
static inline int rans_context_uniform(rans_context_cursor *c, uint64_t pos, uint32_t v, uint32_t *table)
{
    if (c->ctx->col_shift) return 0;
    if (c->ctx->ngroups == 1) {
        *table = c->ctx->group_table[0];
        return 1;
    }
    if (c->ctx->tile) return 0;
    rans_group_reach(&c->groups, pos);
    *table = c->groups.table;
    return pos + v <= c->groups.end;
}

/* With column shifts: true when elements pos..pos+v lie in one group, with
 * the group's bin and the shifts of their columns. */
static inline __attribute__((always_inline)) int rans_context_shift_span(rans_context_cursor *c, uint64_t pos, uint32_t v,
                                                                          uint32_t *bin, const int8_t **shift)
{
    rans_group_reach(&c->groups, pos);
    if (pos + v > c->groups.end) return 0;
    *bin = c->groups.table;
    *shift = c->ctx->col_shift + rans_context_col(c, pos);
    return 1;
}

/* The first slots of the tables of the columns from `shift` on (pointers
 * into ctx->col_shift) in a group of bin `bin`, precomputed (shift_base). */
static inline const uint32_t *rans_shift_bases(const wqc_rans_dtable *d, uint32_t bin, const int8_t *shift)
{
    return d->shift_base + (size_t)bin * d->context->cols + (size_t)(shift - d->context->col_shift);
}

/* The table of each of elements pos..pos+v. */
static inline void rans_context_lanes(rans_context_cursor *c, uint64_t pos, uint32_t v, uint32_t *table)
{
    if (c->ctx->tile && c->ctx->ngroups > 1 && pos < c->full_end && pos % c->per_tile % c->ctx->tile + v <= c->ctx->tile) {
        const uint8_t *t = c->ctx->group_table + rans_context_tiled_row(c, pos);
        for (uint32_t l = 0; l < v; l++) table[l] = t[l];
        return;
    }
    uint32_t bin;
    const int8_t *shift;
    if (c->ctx->col_shift && rans_context_shift_span(c, pos, v, &bin, &shift)) {
        for (uint32_t l = 0; l < v; l++) table[l] = rans_context_shifted(c->ctx, bin, shift[l]);
        return;
    }
    for (uint32_t l = 0; l < v; l++) table[l] = rans_context_table(c, pos + l);
}

#endif
