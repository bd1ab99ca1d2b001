/* Zero-point bins, per-bin counts and the rANS context of a model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/threads.h"
#include "wqc/entropy.h"
#include "describe.h"
#include "wqc/symbol_model.h"

void wqc_symbol_model_free(wqc_symbol_model *m)
{
    free(m->tables);
    m->tables = NULL;
    m->ntables = 0;
}

wqc_status wqc_symbol_model_copy(const wqc_symbol_model *src, wqc_symbol_model *dst, wqc_error *err)
{
    *dst = *src;
    dst->tables = malloc(src->ntables * sizeof *dst->tables);
    if (!dst->tables) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    memcpy(dst->tables, src->tables, src->ntables * sizeof *dst->tables);
    return WQC_OK;
}

uint32_t wqc_symbol_model_nbins(uint32_t alphabet, uint32_t resolution)
{
    if (resolution == 0) return 1;
    uint64_t n = (uint64_t)alphabet * resolution;
    return n <= WQC_SYMBOL_MODEL_BINS_MAX ? (uint32_t)n : 0;
}

uint32_t wqc_symbol_model_fit(uint32_t alphabet, uint32_t resolution)
{
    while (resolution > 1 && !wqc_symbol_model_nbins(alphabet, resolution)) resolution--;
    return resolution;
}

uint32_t wqc_symbol_model_bin(uint32_t nbins, uint32_t resolution, float scale, float offset)
{
    if (resolution == 0 || nbins <= 1) return 0;
    double z = wqc_symbol_model_zero_point(scale, offset);
    if (isnan(z)) return 0;
    double b = floor(z * (double)resolution);
    return b < 0.0 ? 0 : b >= (double)nbins ? nbins - 1 : (uint32_t)b;
}

double wqc_symbol_model_zero_point(float scale, float offset)
{
    double z = -(double)offset / (double)scale;
    return scale == 0.0f || !isfinite(z) ? NAN : z;
}

void wqc_symbol_model_count(const wqc_quantized *q, uint32_t resolution, uint64_t *counts)
{
    wqc_symbol_model_count_shifted(q, resolution, NULL, 1, counts);
}

/* Rows r0..r1-1 of q counted into counts, straight. */
static void count_rows_direct(const wqc_quantized *q, uint32_t resolution, uint32_t nbins, const int8_t *col_shift,
                              uint64_t r0, uint64_t r1, uint64_t *counts)
{
    uint64_t glen = q->ngroups == 1 || q->group_len == 0 ? q->cols : q->group_len;
    uint64_t per_row = glen ? (q->cols + glen - 1) / glen : 0;
    for (uint64_t r = r0; r < r1 && glen; r++) {
        for (uint64_t c = 0, j = 0; c < q->cols; c += glen, j++) {
            uint64_t g = q->ngroups == 1 ? 0 : r * per_row + j;
            uint64_t len = q->cols - c < glen ? q->cols - c : glen;
            int32_t b = (int32_t)wqc_symbol_model_bin(nbins, resolution, q->scale[g], q->offset[g]);
            const uint8_t *s = q->symbols + r * q->cols + c;
            for (uint64_t i = 0; i < len; i++) {
                int32_t m = col_shift ? b + col_shift[c + i] : b;
                m = m < 0 ? 0 : m >= (int32_t)nbins ? (int32_t)nbins - 1 : m;
                counts[256 * (size_t)m + s[i]]++;
            }
        }
    }
}

/* Bin x symbol cells small enough for four sub-counts of them (64 KiB). */
enum { COUNT_CELLS_MAX = 4096 };

/* The same into four interleaved sub-counts of (bin, symbol < alphabet, as
 * every quantized tensor's are), so that repeats of one cell do not wait on
 * each other's store; added to counts every 2^30 elements at most (32-bit
 * cells). */
static void count_rows(const wqc_quantized *q, uint32_t resolution, uint32_t nbins, const int8_t *col_shift,
                       uint64_t r0, uint64_t r1, uint64_t *counts)
{
    size_t cells = (size_t)nbins * q->alphabet;
    uint32_t *sub = cells <= COUNT_CELLS_MAX && q->cols ? calloc(4 * cells, sizeof *sub) : NULL;
    if (!sub) {
        count_rows_direct(q, resolution, nbins, col_shift, r0, r1, counts);
        return;
    }
    uint64_t glen = q->ngroups == 1 || q->group_len == 0 ? q->cols : q->group_len;
    uint64_t per_row = (q->cols + glen - 1) / glen, rows_per_flush = ((uint64_t)1 << 30) / q->cols + 1;
    for (uint64_t f0 = r0; f0 < r1; f0 += rows_per_flush) {
        uint64_t f1 = r1 - f0 < rows_per_flush ? r1 : f0 + rows_per_flush;
        for (uint64_t r = f0; r < f1; r++) {
            for (uint64_t c = 0, j = 0; c < q->cols; c += glen, j++) {
                uint64_t g = q->ngroups == 1 ? 0 : r * per_row + j;
                uint64_t len = q->cols - c < glen ? q->cols - c : glen, i = 0;
                int32_t b = (int32_t)wqc_symbol_model_bin(nbins, resolution, q->scale[g], q->offset[g]);
                const uint8_t *s = q->symbols + r * q->cols + c;
                if (!col_shift) {
                    uint32_t *h = sub + (size_t)b * q->alphabet;
                    for (; i + 4 <= len; i += 4)
                        for (size_t k = 0; k < 4; k++) h[k * cells + s[i + k]]++;
                } else {
                    const int8_t *shift = col_shift + c;
                    for (; i + 4 <= len; i += 4)
                        for (size_t k = 0; k < 4; k++) {
                            int32_t m = b + shift[i + k];
                            m = m < 0 ? 0 : m >= (int32_t)nbins ? (int32_t)nbins - 1 : m;
                            sub[k * cells + (size_t)m * q->alphabet + s[i + k]]++;
                        }
                }
                for (; i < len; i++) {
                    int32_t m = col_shift ? b + col_shift[c + i] : b;
                    m = m < 0 ? 0 : m >= (int32_t)nbins ? (int32_t)nbins - 1 : m;
                    sub[(i & 3) * cells + (size_t)m * q->alphabet + s[i]]++;
                }
            }
        }
        for (size_t m = 0; m < nbins; m++)
            for (size_t x = 0; x < q->alphabet; x++) {
                size_t at = m * q->alphabet + x;
                counts[256 * m + x] += (uint64_t)sub[at] + sub[cells + at] + sub[2 * cells + at] + sub[3 * cells + at];
            }
        memset(sub, 0, 4 * cells * sizeof *sub);
    }
    free(sub);
}

void wqc_symbol_model_count_shifted(const wqc_quantized *q, uint32_t resolution, const int8_t *col_shift, int threads,
                                    uint64_t *counts)
{
    uint32_t nbins = wqc_symbol_model_nbins(q->alphabet, resolution);
    if (nbins == 0) return;
    threads = q->rows < 2 || threads < 1 ? 1 : wqc_threads_for_work(threads, q->rows * q->cols);
    if ((uint64_t)threads > q->rows) threads = (int)q->rows;
    /* Counts are integers: threads count row ranges apart and add up. */
    size_t size = 256 * (size_t)nbins;
    uint64_t *part = threads > 1 ? calloc((size_t)(threads - 1) * size, sizeof *part) : NULL;
    if (!part) threads = 1;
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
#endif
    for (int t = 0; t < threads; t++)
        count_rows(q, resolution, nbins, col_shift, q->rows * (uint64_t)t / (uint64_t)threads,
                   q->rows * (uint64_t)(t + 1) / (uint64_t)threads, t ? part + (size_t)(t - 1) * size : counts);
    for (int t = 1; t < threads; t++)
        for (size_t i = 0; i < size; i++) counts[i] += part[(size_t)(t - 1) * size + i];
    free(part);
}

double wqc_symbol_model_cost_bits(const wqc_symbol_model *m, const uint64_t *counts)
{
    double bits = 0.0;
    for (uint32_t b = 0; b < m->nbins; b++) {
        const uint64_t *h = counts + 256 * (size_t)b;
        uint64_t n = 0;
        for (uint32_t s = 0; s < m->alphabet; s++) n += h[s];
        if (n == 0) continue;
        const wqc_rans_table *t = &m->tables[m->bin_table[b]];
        double ce = wqc_cross_entropy_bits(h, t->freq, m->alphabet, 1u << m->precision);
        if (!isfinite(ce)) return INFINITY;
        bits += ce * (double)n;
    }
    return bits;
}

wqc_status wqc_symbol_model_context(const wqc_symbol_model *m, const wqc_quantized *q, uint32_t tile,
                                    const int8_t *col_shift, wqc_rans_context *ctx, wqc_error *err)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->group_table = malloc(q->ngroups ? (size_t)q->ngroups : 1);
    if (col_shift) {
        ctx->col_shift = malloc(q->cols ? (size_t)q->cols : 1);
        ctx->bin_table = malloc(m->nbins);
    }
    if (!ctx->group_table || (col_shift && (!ctx->col_shift || !ctx->bin_table))) {
        wqc_symbol_model_context_free(ctx);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    for (uint64_t g = 0; g < q->ngroups; g++) {
        uint32_t b = wqc_symbol_model_bin(m->nbins, m->resolution, q->scale[g], q->offset[g]);
        ctx->group_table[g] = col_shift ? (uint8_t)b : m->bin_table[b];
    }
    if (col_shift) {
        memcpy(ctx->col_shift, col_shift, (size_t)q->cols);
        memcpy(ctx->bin_table, m->bin_table, m->nbins);
        ctx->nbins = m->nbins;
    }
    ctx->ntables = m->ntables;
    ctx->tables = m->tables;
    ctx->rows = q->rows;
    ctx->cols = q->cols;
    ctx->group_len = q->group_len;
    ctx->ngroups = q->ngroups;
    ctx->tile = tile;
    return WQC_OK;
}

void wqc_symbol_model_context_free(wqc_rans_context *ctx)
{
    free(ctx->group_table);
    free(ctx->col_shift);
    free(ctx->bin_table);
    ctx->group_table = NULL;
    ctx->col_shift = NULL;
    ctx->bin_table = NULL;
}

wqc_symbol_model wqc_symbol_model_order0(const wqc_rans_table *t)
{
    return (wqc_symbol_model){.precision = t->precision, .alphabet = t->alphabet, .nbins = 1, .ntables = 1,
                              .tables = (wqc_rans_table *)t};
}

size_t wqc_symbol_model_bytes(const wqc_symbol_model *m)
{
    wqc_bytes b = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &b);
    wqc_symbol_model_write(&e, m);
    wqc_rc_enc_finish(&e);
    size_t len = b.failed ? SIZE_MAX : b.len;
    wqc_bytes_free(&b);
    return len;
}
