/* Internal: walks the parameter groups of a quantized tensor in element
 * order, for decoders that dequantize as they go (the group's scale and
 * offset) or pick a table per group (a rANS context). Groups are numbered in
 * that order and each covers one run of a row. */
#ifndef WQC_QUANT_GROUP_CURSOR_H
#define WQC_QUANT_GROUP_CURSOR_H

#include <stdint.h>

#include "wqc/quant.h"

typedef struct rans_group_cursor {
    uint64_t cols, group_len, ngroups;
    const float *scales, *offsets;  /* NULL when not wanted */
    const uint8_t *tables;          /* NULL when not wanted */
    uint64_t g;         /* current group */
    uint64_t end;       /* first element past the current run */
    uint64_t row_end;   /* first element past the current row */
    float scale, offset;
    uint32_t table;
} rans_group_cursor;

static inline void rans_group_load(rans_group_cursor *c)
{
    uint64_t g = c->g < c->ngroups ? c->g : c->ngroups - 1;
    c->scale = c->scales ? c->scales[g] : 0.0f;
    c->offset = c->offsets ? c->offsets[g] : 0.0f;
    if (c->tables) c->table = c->tables[g];
}

/* Positions the cursor at pos of a cols-wide matrix with ngroups groups of group_len. */
static inline void rans_group_start(rans_group_cursor *c, uint64_t cols, uint64_t group_len, uint64_t ngroups,
                                    uint64_t pos)
{
    c->cols = cols;
    c->group_len = group_len;
    c->ngroups = ngroups;
    if (ngroups <= 1 || cols == 0) {
        c->g = 0;
        c->end = c->row_end = UINT64_MAX;
    } else {
        uint64_t r = pos / cols, col = pos % cols, per_row = (cols + group_len - 1) / group_len;
        uint64_t stop = (col / group_len + 1) * group_len;
        c->g = r * per_row + col / group_len;
        c->row_end = (r + 1) * cols;
        c->end = r * cols + (stop < cols ? stop : cols);
    }
    rans_group_load(c);
}

/* For dequantization: scales and offsets of q. */
static inline void rans_group_seek(rans_group_cursor *c, const wqc_quantized *q, uint64_t pos)
{
    c->scales = q->scale;
    c->offsets = q->offset;
    c->tables = NULL;
    c->table = 0;
    rans_group_start(c, q->cols, q->group_len, q->ngroups, pos);
}

static inline void rans_group_next(rans_group_cursor *c)
{
    uint64_t start = c->end;
    if (start == c->row_end) c->row_end += c->cols;
    uint64_t left = c->row_end - start;
    c->end = start + (c->group_len < left ? c->group_len : left);
    c->g++;
    rans_group_load(c);
}

/* Moves the cursor to the group holding pos (pos never goes backwards). */
static inline void rans_group_reach(rans_group_cursor *c, uint64_t pos)
{
    while (pos >= c->end) rans_group_next(c);
}

/* Scale and offset of each of elements pos..pos+count, for a vector of
 * elements that straddles groups. */
static inline void rans_group_lanes(rans_group_cursor *c, uint64_t pos, int count, float *scale, float *offset)
{
    for (int l = 0; l < count; l++) {
        rans_group_reach(c, pos + (uint64_t)l);
        scale[l] = c->scale;
        offset[l] = c->offset;
    }
}

/* The dequantized value of symbol s, exactly as wqc_dequantize computes it. */
static inline float rans_dequant(const rans_group_cursor *c, uint32_t s)
{
    return c->offset + c->scale * (float)s;
}

#endif
