/* The gemv symbol order (wqc/gemv.h): tiles of T rows, column-major inside. */
#include <stdlib.h>

#include "wqc/gemv.h"

/* Moves every element between row-major order and the tiled order. */
static void reorder(const uint8_t *src, uint8_t *dst, uint64_t rows, uint64_t cols, uint32_t tile, int to_tiled)
{
    uint64_t at = 0;
    for (uint64_t r0 = 0; r0 < rows; r0 += tile) {
        uint64_t t = rows - r0 < tile ? rows - r0 : tile;
        for (uint64_t j = 0; j < cols; j++)
            for (uint64_t i = 0; i < t; i++, at++) {
                uint64_t rm = (r0 + i) * cols + j;
                if (to_tiled) dst[at] = src[rm];
                else dst[rm] = src[at];
            }
    }
}

void wqc_gemv_tile(const uint8_t *row_major, uint64_t rows, uint64_t cols, uint32_t tile, uint8_t *tiled)
{
    reorder(row_major, tiled, rows, cols, tile, 1);
}

void wqc_gemv_untile(const uint8_t *tiled, uint64_t rows, uint64_t cols, uint32_t tile, uint8_t *row_major)
{
    reorder(tiled, row_major, rows, cols, tile, 0);
}

uint32_t wqc_gemv_chunk(uint64_t cols, uint32_t tile, uint32_t want)
{
    uint64_t per_tile = cols * tile;
    if (per_tile == 0) return want < WQC_RANS_CHUNK_MIN ? WQC_RANS_CHUNK_MIN : want;
    if (per_tile > WQC_RANS_CHUNK_MAX) return 0;
    uint64_t m = (want + per_tile / 2) / per_tile;
    if (m == 0) m = 1;
    while (m * per_tile < WQC_RANS_CHUNK_MIN) m++;
    while (m > 1 && m * per_tile > WQC_RANS_CHUNK_MAX) m--;
    return (uint32_t)(m * per_tile);
}

static int per_row_or_tensor(const wqc_quantized *q)
{
    return q->ngroups == 1 || (q->ngroups == q->rows && q->group_len == q->cols);
}

wqc_status wqc_gemv_check(const wqc_rans_coded *c, const wqc_quantized *q, wqc_error *err)
{
    if (!per_row_or_tensor(q))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "the gemv layout needs per-tensor or per-row scales");
    if (c->n != q->rows * q->cols) return wqc_fail(err, WQC_ERR_FORMAT, "gemv layout: symbol count is not rows x cols");
    uint64_t per_tile = q->cols * c->lanes;
    if (c->nchunks > 1 && (per_tile == 0 || c->chunk % per_tile != 0))
        return wqc_fail(err, WQC_ERR_FORMAT, "gemv layout: chunks of %u symbols do not hold whole tiles of %u rows",
                        c->chunk, c->lanes);
    return WQC_OK;
}

wqc_status wqc_gemv_encode(const wqc_quantized *q, const wqc_rans_params *p, wqc_rans_coded *c, wqc_error *err)
{
    if (!per_row_or_tensor(q))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "the gemv layout needs per-tensor or per-row scales, not groups");
    wqc_rans_params gp = *p;
    gp.chunk = wqc_gemv_chunk(q->cols, p->lanes, p->chunk);
    if (gp.chunk == 0)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "rows of %llu columns are too long for the gemv layout",
                        (unsigned long long)q->cols);
    uint64_t n = q->rows * q->cols;
    uint8_t *tiled = malloc(n ? (size_t)n : 1);
    if (!tiled) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_gemv_tile(q->symbols, q->rows, q->cols, p->lanes, tiled);
    wqc_status st = wqc_rans_encode(tiled, n, q->alphabet, &gp, c, err);
    free(tiled);
    return st;
}
