/* wqc/gemv.h - y = W x straight from a coded matrix, and the layout that
 * makes it possible.
 *
 * The gemv layout (docs/FORMAT.md, LAYOUT field) orders the symbols of a
 * rows x cols matrix in tiles of T rows, T = the coder's lane count: inside
 * a full tile, element (row t*T + i, column j) is symbol j*T + i of the tile,
 * so lane i of the coder carries row i and one decoding round yields column
 * j for T rows at once. The last rows % T rows form a tail tile ordered the
 * same way with T' = rows % T. Chunks hold whole tiles, so threads work on
 * disjoint row ranges.
 *
 * The fused product decodes each round into per-row accumulators,
 * acc_r = fma(q_rj, x_j, acc_r) over j in order, and applies the row's
 * scale and offset once: y_r = scale_r * acc_r + offset_r * sum_j x_j.
 * Every ISA runs the same sequence of fused multiply-adds, so all give the
 * same bits. No symbol is written to memory, except those of the tail tile's
 * partial vectors. */
#ifndef WQC_GEMV_H
#define WQC_GEMV_H

#include <stdint.h>

#include "wqc/isa.h"
#include "wqc/quant.h"
#include "wqc/rans.h"
#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reorders a row-major rows x cols matrix of symbols into the gemv layout of
 * tile rows (tiled) and back (untile). */
void wqc_gemv_tile(const uint8_t *row_major, uint64_t rows, uint64_t cols, uint32_t tile, uint8_t *tiled);
void wqc_gemv_untile(const uint8_t *tiled, uint64_t rows, uint64_t cols, uint32_t tile, uint8_t *row_major);

/* 256 Ki symbols: a 4096-column matrix gives 64 chunks of 2 tiles per 4096
 * rows, enough for 16 threads with 4 chunks in flight each, for 0.16% of
 * lane states (32 lanes, 2.5 bits/weight). */
#define WQC_GEMV_CHUNK_DEFAULT (1u << 18)

/* Chunk length for the gemv layout: a whole number of tiles (tile x cols
 * symbols) near `want`, at least WQC_RANS_CHUNK_MIN. 0 when one tile is
 * longer than WQC_RANS_CHUNK_MAX. */
uint32_t wqc_gemv_chunk(uint64_t cols, uint32_t tile, uint32_t want);

/* Codes q (rows x cols symbols, row-major) in the gemv layout with tiles of
 * p->lanes rows; the chunk length is wqc_gemv_chunk(cols, lanes, p->chunk).
 * WQC_ERR_UNSUPPORTED for group granularity (scales must be per tensor or
 * per row). */
wqc_status wqc_gemv_encode(const wqc_quantized *q, const wqc_rans_params *p, wqc_rans_coded *c,
                           wqc_error *err);

/* Checks that c and q describe a matrix in the gemv layout (the rules a
 * reader applies to the LAYOUT field). */
wqc_status wqc_gemv_check(const wqc_rans_coded *c, const wqc_quantized *q, wqc_error *err);

/* A coded matrix ready for repeated products: the decoding tables are built
 * once. c and q must outlive it. */
typedef struct wqc_gemv wqc_gemv;
wqc_status wqc_gemv_prepare(const wqc_rans_coded *c, const wqc_quantized *q, wqc_gemv **out, wqc_error *err);
/* y[rows] = W x[cols]. threads <= 0: all cores. Damaged streams give the
 * same error as wqc_rans_decode_to, and y is then undefined. */
wqc_status wqc_gemv_run(const wqc_gemv *g, const float *x, float *y, int threads, wqc_isa isa, wqc_error *err);
void wqc_gemv_free(wqc_gemv *g);

#ifdef __cplusplus
}
#endif
#endif
