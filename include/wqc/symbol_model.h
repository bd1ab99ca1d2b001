/* wqc/symbol_model.h - how the symbols of a quantized tensor are modelled for rANS.
 *
 * Order-0: one frequency table for every symbol of the tensor.
 * Zero-point contexts: each parameter group (wqc/quant.h) has a zero point
 * z = -offset / scale, the place on its symbol grid where the weight 0 falls.
 * Trained weights quantized per row (min/max) have rows whose zero points
 * differ, and the distribution of a row's symbols shifts and changes shape
 * with it. The decoder knows every group's scale and offset before it
 * decodes a symbol, so z picks the group's table for free:
 *     bin   = floor(R z) clamped to 0 .. R A - 1   (in double precision;
 *             0 for a group whose scale is 0 or whose z is not finite)
 *     table = bin_table[bin]
 * R is the resolution (bins per symbol step) and A the alphabet. Bins whose
 * statistics are alike share a table, chosen by the bytes that saves. */
#ifndef WQC_SYMBOL_MODEL_H
#define WQC_SYMBOL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/quant.h"
#include "wqc/rans.h"
#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WQC_SYMBOL_MODEL_BINS_MAX 256

typedef struct wqc_symbol_model {
    int precision;
    uint32_t alphabet;
    uint32_t resolution;        /* 0: order-0; else zero-point bins per symbol step */
    uint32_t nbins;             /* resolution * alphabet (<= WQC_SYMBOL_MODEL_BINS_MAX); 1 for order-0 */
    uint8_t bin_table[WQC_SYMBOL_MODEL_BINS_MAX];
    uint32_t ntables;           /* 1..WQC_RANS_TABLES_MAX */
    wqc_rans_table *tables;     /* owned */
} wqc_symbol_model;

void wqc_symbol_model_free(wqc_symbol_model *m);
/* Deep copy. */
wqc_status wqc_symbol_model_copy(const wqc_symbol_model *src, wqc_symbol_model *dst, wqc_error *err);

/* Zero-point bins of a tensor at a resolution: R * alphabet, at most
 * WQC_SYMBOL_MODEL_BINS_MAX (0 when the alphabet is too large for R). */
uint32_t wqc_symbol_model_nbins(uint32_t alphabet, uint32_t resolution);
/* The finest resolution up to `resolution` whose bins fit (alphabet <= 256;
 * 0 stays 0): 8-bit symbols take R = 1 where 4-bit ones take 2. */
uint32_t wqc_symbol_model_fit(uint32_t alphabet, uint32_t resolution);

/* A group's zero point -offset / scale in symbol steps, in double; NAN where
 * the scale is 0 or the quotient not finite (the bin rule gives such groups bin 0). */
double wqc_symbol_model_zero_point(float scale, float offset);
/* The zero-point bin of a group with this scale and offset (see above). */
uint32_t wqc_symbol_model_bin(uint32_t nbins, uint32_t resolution, float scale, float offset);

/* Adds q's symbol counts per zero-point bin to counts[bin * 256 + symbol]
 * (nbins * 256 entries; resolution 0 counts everything in bin 0). */
void wqc_symbol_model_count(const wqc_quantized *q, uint32_t resolution, uint64_t *counts);

/* A model from counts per bin (as wqc_symbol_model_count fills them): adjacent bins
 * are merged while that lowers the estimated bytes (payload at the entropy
 * plus the table), down to at most WQC_RANS_TABLES_MAX tables. With `cover`
 * every symbol of the alphabet gets frequency >= 1 in every table, so that
 * tensors the counts did not come from can use the model (a shared model). */
wqc_status wqc_symbol_model_build(const uint64_t *counts, uint32_t resolution, uint32_t alphabet, int precision,
                           int cover, wqc_symbol_model *out, wqc_error *err);

/* Bits of the payload when data with these counts per bin (resolution and
 * alphabet of m) is coded with m: the cross-entropy; +inf when a present
 * symbol has frequency 0 in its table. */
double wqc_symbol_model_cost_bits(const wqc_symbol_model *m, const uint64_t *counts);

/* Bytes of m's description as a .wqc stores it (docs/FORMAT.md). */
size_t wqc_symbol_model_bytes(const wqc_symbol_model *m);

/* The order-0 model of one table, borrowing it (nothing to free): what a
 * stream coded with wqc_rans_encode alone stores as its model. */
wqc_symbol_model wqc_symbol_model_order0(const wqc_rans_table *t);

/* The rANS context that codes q with m (tables borrowed from m; the maps
 * allocated: free them with wqc_symbol_model_context_free). tile: 0 for
 * row-major symbols, else the gemv layout's. col_shift: NULL, or q->cols
 * column shifts (row-major, q->ngroups > 1; wqc_rans_context). */
wqc_status wqc_symbol_model_context(const wqc_symbol_model *m, const wqc_quantized *q, uint32_t tile,
                                    const int8_t *col_shift, wqc_rans_context *ctx, wqc_error *err);
void wqc_symbol_model_context_free(wqc_rans_context *ctx);

/* Column shifts of q at m's resolution (q->ngroups > 1): column c's shift
 * is R times the mean over groups of (symbol - the group's zero point),
 * rounded, within -127..127 (out: q->cols); on up to `threads` threads,
 * the same at any count. */
void wqc_symbol_model_col_shifts(const wqc_quantized *q, uint32_t resolution, int threads, int8_t *out);
/* The finer resolution the encoder also tries with column shifts. */
#define WQC_COL_SHIFT_RESOLUTION 2

/* Counts per bin as wqc_symbol_model_count makes them, each element's bin
 * moved by its column's shift (col_shift NULL: no shifts), on up to
 * `threads` threads. */
void wqc_symbol_model_count_shifted(const wqc_quantized *q, uint32_t resolution, const int8_t *col_shift, int threads,
                                    uint64_t *counts);

/* ---- models shared by the tensors of a file ---------------------------- */

/* Small tensors pay more for their own tables than their statistics differ:
 * a pool gathers the zero-point counts of many tensors and builds one
 * covering model per alphabet, which each of them may use instead. */
typedef struct wqc_model_pool wqc_model_pool;

/* The tensors `wqc encode` pools: quantized, with at most this many elements
 * (above it a tensor's own tables cost under 0.01% of its payload). */
#define WQC_SHARED_TENSOR_MAX (1u << 20)

wqc_status wqc_model_pool_create(int precision, uint32_t resolution, wqc_model_pool **out, wqc_error *err);
/* Adds q's counts (its alphabet's pool). */
wqc_status wqc_model_pool_add(wqc_model_pool *p, const wqc_quantized *q, wqc_error *err);
/* One model per alphabet added, in increasing alphabet order; *models is
 * allocated (free each with wqc_symbol_model_free, then the array). */
wqc_status wqc_model_pool_build(const wqc_model_pool *p, wqc_symbol_model **models, size_t *n, wqc_error *err);
void wqc_model_pool_free(wqc_model_pool *p);

#ifdef __cplusplus
}
#endif
#endif
