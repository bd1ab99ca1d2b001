/* Internal: walks a matrix in the gemv layout (wqc/gemv.h) in symbol order,
 * for decoders that multiply-accumulate as they go (WQC_FORM_DOT). Inside
 * full tiles a vector of V <= T lanes starting at a multiple of V holds one
 * column of V consecutive rows; the tail tile is walked element by element. */
#ifndef WQC_GEMV_DOT_CURSOR_H
#define WQC_GEMV_DOT_CURSOR_H

#include <math.h>
#include <stdint.h>

#include "wqc/rans.h"

typedef struct rans_dot_cursor {
    float *acc;
    const float *x;
    uint64_t cols, tile;
    uint64_t full_rows, full_end;   /* rows in full tiles; first element of the tail tile */
    uint64_t tail_rows;
    uint64_t col_start;             /* first element of the current column of the current tile */
    uint64_t col, row0;             /* that column, the tile's first row */
    float xj;                       /* x[col] */
} rans_dot_cursor;

static inline void rans_dot_seek(rans_dot_cursor *c, const wqc_rans_output *out, uint32_t tile, uint64_t pos)
{
    c->acc = out->dst;
    c->x = out->x;
    c->cols = out->cols;
    c->tile = tile;
    c->full_rows = out->rows / tile * tile;
    c->tail_rows = out->rows - c->full_rows;
    c->full_end = c->full_rows * out->cols;
    c->col = c->row0 = c->col_start = 0;
    c->xj = 0.0f;
    if (pos < c->full_end) {
        uint64_t per_tile = tile * out->cols, t = pos / per_tile;
        c->col = pos % per_tile / tile;
        c->row0 = t * tile;
        c->col_start = t * per_tile + c->col * tile;
        c->xj = c->x[c->col];
    }
}

/* Moves to the column holding pos (< full_end; pos never goes backwards). */
static inline void rans_dot_reach(rans_dot_cursor *c, uint64_t pos)
{
    while (pos >= c->col_start + c->tile) {
        c->col_start += c->tile;
        if (++c->col == c->cols) {
            c->col = 0;
            c->row0 += c->tile;
        }
        c->xj = c->x[c->col];
    }
}

/* The accumulator of element pos (< full_end) after rans_dot_reach. */
static inline float *rans_dot_acc(const rans_dot_cursor *c, uint64_t pos)
{
    return c->acc + c->row0 + (pos - c->col_start);
}

static inline void rans_dot_add(rans_dot_cursor *c, uint64_t pos, uint32_t s)
{
    if (pos < c->full_end) {
        rans_dot_reach(c, pos);
        float *a = rans_dot_acc(c, pos);
        *a = fmaf((float)s, c->xj, *a);
    } else {
        uint64_t at = pos - c->full_end;
        float *a = c->acc + c->full_rows + at % c->tail_rows;
        *a = fmaf((float)s, c->x[at / c->tail_rows], *a);
    }
}

/* True if the vector of v elements at pos is one column of full-tile rows. */
static inline int rans_dot_whole(const rans_dot_cursor *c, uint64_t pos, uint32_t v)
{
    return pos + v <= c->full_end;
}

#endif
