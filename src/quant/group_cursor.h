/* Internal: walks the (scale, offset) groups of a quantized tensor in element
 * order, for decoders that dequantize as they go. Groups are numbered in that
 * order and each covers one run of a row. */
#ifndef WQC_QUANT_GROUP_CURSOR_H
#define WQC_QUANT_GROUP_CURSOR_H

#include <stdint.h>

#include "wqc/quant.h"

typedef struct rans_group_cursor {
    const wqc_quantized *q;
    uint64_t g;         /* current group */
    uint64_t end;       /* first element past the current run */
    uint64_t row_end;   /* first element past the current row */
    float scale, offset;
} rans_group_cursor;

static inline void rans_group_load(rans_group_cursor *c)
{
    uint64_t g = c->g < c->q->ngroups ? c->g : c->q->ngroups - 1;
    c->scale = c->q->scale[g];
    c->offset = c->q->offset[g];
}

static inline void rans_group_seek(rans_group_cursor *c, const wqc_quantized *q, uint64_t pos)
{
    c->q = q;
    if (q->ngroups <= 1 || q->cols == 0) {
        c->g = 0;
        c->end = c->row_end = UINT64_MAX;
    } else {
        uint64_t r = pos / q->cols, col = pos % q->cols, per_row = (q->cols + q->group_len - 1) / q->group_len;
        uint64_t stop = (col / q->group_len + 1) * q->group_len;
        c->g = r * per_row + col / q->group_len;
        c->row_end = (r + 1) * q->cols;
        c->end = r * q->cols + (stop < q->cols ? stop : q->cols);
    }
    rans_group_load(c);
}

static inline void rans_group_next(rans_group_cursor *c)
{
    uint64_t start = c->end;
    if (start == c->row_end) c->row_end += c->q->cols;
    uint64_t left = c->row_end - start;
    c->end = start + (c->q->group_len < left ? c->q->group_len : left);
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
