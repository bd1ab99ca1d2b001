#include "row_tables.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../side/range_coder.h"
#include "../side/table_code.h"
#include "wqc/entropy.h"
#include "wqc/symbol_model.h"

/* Below these a matrix's rows are too short to tell apart. */
#define COLS_MIN 32
#define VALUES_MIN 16384
/* Row histograms held at once (4 bytes each). */
#define CELLS_MAX (1u << 24)
/* The format's limit (a class is a 3-bit tree symbol), and the most the
 * encoder tries: 8 saves another 0.007% of pylm-22M for 15% more encode time. */
#define CLASSES_MAX 8
#define CLASS_BITS 3
#define CLASSES_TRIED 4
#define ROUNDS 4

/* The units that get a class each: rows, or tiles of tile_rows x tile_cols
 * (the last ones in a row or column of tiles may be smaller). */
typedef struct rows_view {
    uint64_t rows;          /* units */
    uint32_t used;          /* distinct symbols */
    uint8_t symbol[256];    /* dense index -> symbol */
    float *h;               /* units x used counts (exact: below 2^24) */
} rows_view;

typedef struct unit_layout {
    uint64_t rows, cols;            /* the matrix */
    uint64_t tile_rows, tile_cols;  /* a unit; tile_cols = cols for rows */
    uint64_t across, units;         /* units in a row of units, all of them */
} unit_layout;

static unit_layout layout_of(uint64_t rows, uint64_t cols, uint64_t tile_rows, uint64_t tile_cols)
{
    unit_layout u = {rows, cols, tile_rows, tile_cols, (cols + tile_cols - 1) / tile_cols, 0};
    u.units = (rows + tile_rows - 1) / tile_rows * u.across;
    return u;
}

/* The context of the unit classes: a group per row segment of tile_cols. */
static int segment_groups(const unit_layout *u, const uint8_t *cls, wqc_rans_context *ctx)
{
    uint8_t *g = malloc((size_t)(u->rows * u->across));
    if (!g) return 0;
    for (uint64_t r = 0; r < u->rows; r++)
        for (uint64_t j = 0; j < u->across; j++) g[r * u->across + j] = cls[r / u->tile_rows * u->across + j];
    ctx->group_table = g;
    ctx->rows = u->rows, ctx->cols = u->cols, ctx->group_len = u->tile_cols, ctx->ngroups = u->rows * u->across;
    ctx->tile = 0;
    return 1;
}

void wqc_row_tables_write(const wqc_rans_context *ctx, wqc_bytes *out)
{
    static const wqc_rc_uint zero;
    wqc_rc_enc e;
    wqc_rc_uint count = zero;
    wqc_rc_bit tree[1 << CLASS_BITS] = {{0}};
    wqc_rc_enc_init(&e, out);
    wqc_rc_encode_uint(&e, &count, ctx->ntables - 1);
    for (uint64_t r = 0; r < ctx->ngroups; r++) wqc_rc_encode_tree(&e, tree, CLASS_BITS, ctx->group_table[r]);
    for (uint32_t t = 1; t < ctx->ntables; t++)
        wqc_table_encode(&e, ctx->tables[t].freq, ctx->tables[t].alphabet, ctx->tables[t].precision);
    wqc_rc_enc_finish(&e);
}

wqc_status wqc_row_tables_read(const uint8_t *in, size_t len, const wqc_rans_table *table0, uint64_t rows, uint64_t cols,
                               wqc_rans_context *ctx, wqc_error *err)
{
    memset(ctx, 0, sizeof *ctx);
    static const wqc_rc_uint zero;
    wqc_rc_dec d;
    wqc_rc_uint count = zero;
    wqc_rc_bit tree[1 << CLASS_BITS] = {{0}};
    wqc_rc_dec_init(&d, in, len);
    uint64_t ntables = wqc_rc_decode_uint(&d, &count) + 1;
    /* A row's class takes at least a small fraction of a byte: the map of
     * more rows than 64 x the value's bytes cannot be in it. */
    if (ntables < 2 || ntables > CLASSES_MAX || rows == 0 || rows > 64 * (uint64_t)len + 64)
        return wqc_fail(err, WQC_ERR_FORMAT, "bad ROWS field");
    ctx->tables = calloc((size_t)ntables, sizeof *ctx->tables);
    ctx->group_table = malloc((size_t)rows);
    if (!ctx->tables || !ctx->group_table) {
        free(ctx->tables), free(ctx->group_table);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    ctx->ntables = (uint32_t)ntables;
    ctx->rows = rows, ctx->cols = cols, ctx->group_len = cols, ctx->ngroups = rows;
    ctx->tables[0] = *table0;
    wqc_status st = WQC_OK;
    for (uint64_t r = 0; r < rows; r++) ctx->group_table[r] = (uint8_t)wqc_rc_decode_tree(&d, tree, CLASS_BITS);
    for (uint32_t t = 1; st == WQC_OK && t < ctx->ntables; t++) {
        uint32_t freq[256];
        st = wqc_table_decode(&d, freq, table0->alphabet, table0->precision, err);
        if (st == WQC_OK) st = wqc_rans_table_init(&ctx->tables[t], freq, table0->alphabet, table0->precision, err);
    }
    if (st == WQC_OK && d.overrun > WQC_RC_TAIL) st = wqc_fail(err, WQC_ERR_FORMAT, "ROWS field is truncated");
    if (st == WQC_OK) st = wqc_rans_context_check(ctx, err);
    if (st != WQC_OK) {
        free(ctx->tables), free(ctx->group_table);
        memset(ctx, 0, sizeof *ctx);
        return wqc_fail_context(err, WQC_ERR_FORMAT, "bad ROWS field");
    }
    return WQC_OK;
}

double wqc_class_table_bits(const uint64_t *counts, int precision, uint32_t *freq, double *table_bytes)
{
    uint64_t total = 0;
    for (int s = 0; s < 256; s++) total += counts[s];
    if (wqc_freq_normalize(counts, 256, precision, freq, NULL) != WQC_OK) return INFINITY;
    wqc_rans_table t;
    if (wqc_rans_table_init(&t, freq, 256, precision, NULL) != WQC_OK) return INFINITY;
    wqc_symbol_model m = wqc_symbol_model_order0(&t);
    *table_bytes = (double)wqc_symbol_model_bytes(&m);
    return wqc_cross_entropy_bits(counts, freq, 256, 1u << precision) * (double)total;
}

int wqc_ranked_by_mean(const void *a, const void *b)
{
    const wqc_ranked *x = a, *y = b;
    return x->mean < y->mean ? -1 : x->mean > y->mean ? 1 : x->at < y->at ? -1 : x->at > y->at;
}

/* Lloyd's rounds from classes by rank of the rows' mean symbol (0 rounds:
 * those classes); cls[rows] out, and the counts per class (k x 256). */
static void lloyd(const rows_view *v, uint32_t k, int rounds, uint8_t *cls, uint64_t *counts)
{
    float *logp = malloc((size_t)k * v->used * sizeof *logp);
    wqc_ranked *order = malloc((size_t)v->rows * sizeof *order);
    if (!logp || !order) {
        memset(cls, 0, (size_t)v->rows);
        goto counts;
    }
    for (uint64_t r = 0; r < v->rows; r++) {
        double s = 0, count = 0;
        for (uint32_t j = 0; j < v->used; j++) s += (double)v->h[r * v->used + j] * (double)j, count += v->h[r * v->used + j];
        order[r] = (wqc_ranked){count > 0 ? s / count : 0, r};
    }
    qsort(order, (size_t)v->rows, sizeof *order, wqc_ranked_by_mean);
    for (uint64_t i = 0; i < v->rows; i++) cls[order[i].at] = (uint8_t)(i * k / v->rows);
    for (int round = 0; round < rounds; round++) {
        uint64_t n[CLASSES_MAX] = {0}, *c = calloc((size_t)k * v->used, sizeof *c);
        if (!c) break;
        for (uint64_t r = 0; r < v->rows; r++)
            for (uint32_t j = 0; j < v->used; j++) c[cls[r] * v->used + j] += (uint64_t)v->h[r * v->used + j];
        for (uint32_t t = 0; t < k; t++) {
            for (uint32_t j = 0; j < v->used; j++) n[t] += c[t * v->used + j];
            for (uint32_t j = 0; j < v->used; j++)
                logp[t * v->used + j] = (float)log2(((double)c[t * v->used + j] + 0.5) / ((double)n[t] + 0.5 * v->used));
        }
        free(c);
        uint64_t moved = 0;
        for (uint64_t r = 0; r < v->rows; r++) {
            float best = INFINITY;
            uint8_t at = cls[r];
            const float *hr = v->h + r * v->used;
            for (uint32_t t = 0; t < k; t++) {
                const float *lp = logp + t * v->used;
                /* Four sums: independent chains the CPU overlaps. */
                float part[4] = {0, 0, 0, 0};
                uint32_t j = 0;
                for (; j + 4 <= v->used; j += 4)
                    for (int q = 0; q < 4; q++) part[q] -= hr[j + q] * lp[j + q];
                for (; j < v->used; j++) part[0] -= hr[j] * lp[j];
                float bits = (part[0] + part[1]) + (part[2] + part[3]);
                if (bits < best) best = bits, at = (uint8_t)t;
            }
            moved += at != cls[r];
            cls[r] = at;
        }
        if (!moved) break;
    }
counts:
    memset(counts, 0, (size_t)k * 256 * sizeof *counts);
    for (uint64_t r = 0; r < v->rows; r++)
        for (uint32_t j = 0; j < v->used; j++) counts[cls[r] * 256 + v->symbol[j]] += (uint64_t)v->h[r * v->used + j];
    free(logp), free(order);
}

double wqc_class_map_bytes(const uint8_t *cls, uint64_t rows, uint32_t k, uint32_t freq[][256], int precision)
{
    wqc_rans_table *t = calloc(k, sizeof *t);
    if (!t) return INFINITY;
    for (uint32_t j = 0; j < k; j++) wqc_rans_table_init(&t[j], freq[j], 256, precision, NULL);
    wqc_rans_context ctx = {.ntables = k, .tables = t, .group_table = (uint8_t *)cls, .rows = rows, .ngroups = rows};
    wqc_bytes b = {0};
    wqc_row_tables_write(&ctx, &b);
    double bytes = b.failed ? INFINITY : (double)b.len;
    wqc_bytes_free(&b);
    free(t);
    return bytes;
}

/* Classes of the units of u where they pay (see row_tables.h). */
static int unit_tables(const uint8_t *sym, const unit_layout *u, int precision, double keep, wqc_rans_context *ctx,
                       double *saved)
{
    uint64_t rows = u->rows, cols = u->cols, units = u->units;
    /* A tile holds thousands of symbols: one makes a class; a row may not. */
    uint64_t per_class = u->tile_rows > 1 ? 1 : 4;
    /* A unit's counts are exact in float below 2^24. */
    if (units < 2 * per_class || u->tile_cols < COLS_MIN || u->tile_rows * u->tile_cols >= (1u << 24) ||
        rows * cols < VALUES_MIN)
        return 0;
    uint64_t total[256] = {0};
    wqc_histogram(sym, (size_t)(rows * cols), total);
    rows_view v = {.rows = units};
    for (int s = 0; s < 256; s++)
        if (total[s]) v.symbol[v.used++] = (uint8_t)s;
    if (units * v.used > CELLS_MAX || v.used < 2) return 0;
    v.h = calloc((size_t)(units * v.used), sizeof *v.h);
    uint8_t *cls = malloc((size_t)units), *best_cls = malloc((size_t)units);
    uint64_t *counts = malloc(CLASSES_MAX * 256 * sizeof *counts);
    uint32_t(*freq)[256] = malloc(CLASSES_MAX * sizeof *freq), (*best_freq)[256] = malloc(CLASSES_MAX * sizeof *best_freq);
    int found = 0;
    if (!v.h || !cls || !best_cls || !counts || !freq || !best_freq) goto done;
    /* Each row's part of a unit counted as integers first (four interleaved
     * sub-counts: one float increment a symbol waited on the last), then
     * added to the unit's floats, exactly (counts below 2^24). */
    for (uint64_t r = 0; r < rows; r++) {
        float *row_units = v.h + r / u->tile_rows * u->across * v.used;
        for (uint64_t c0 = 0; c0 < cols; c0 += u->tile_cols) {
            uint64_t h[256] = {0};
            wqc_histogram(sym + r * cols + c0, (size_t)(cols - c0 < u->tile_cols ? cols - c0 : u->tile_cols), h);
            float *unit = row_units + c0 / u->tile_cols * v.used;
            for (uint32_t k = 0; k < v.used; k++) unit[k] += (float)h[v.symbol[k]];
        }
    }
    double table0, base = wqc_class_table_bits(total, precision, freq[0], &table0) / 8 + table0, best = base;
    uint32_t best_k = 1;
    /* Two halves by rank first: units that differ in scale show there, and
     * where they save under half the bar, Lloyd's rounds are not run. */
    for (uint32_t k = 2, rounds = 0; k <= CLASSES_TRIED && k * per_class <= units; k = rounds ? 2 * k : k, rounds = ROUNDS) {
        lloyd(&v, k, (int)rounds, cls, counts);
        /* Empty classes dropped, the others renumbered. */
        uint32_t kept = 0, renum[CLASSES_MAX];
        for (uint32_t t = 0; t < k; t++) {
            uint64_t m = 0;
            for (int s = 0; s < 256; s++) m += counts[t * 256 + s];
            renum[t] = kept;
            if (m) memmove(counts + kept * 256, counts + t * 256, 256 * sizeof *counts), kept++;
        }
        if (kept < 2) continue;
        for (uint64_t r = 0; r < units; r++) cls[r] = (uint8_t)renum[cls[r]];
        double bytes = 0, tb = 0;
        for (uint32_t t = 0; t < kept; t++) {
            bytes += wqc_class_table_bits(counts + t * 256, precision, freq[t], &tb) / 8;
            if (t == 0) bytes += tb; /* table 0 is the frame's model; the others are in the map's bytes */
        }
        bytes += wqc_class_map_bytes(cls, units, kept, freq, precision);
        if (!rounds && base - bytes < 0.5 * keep * base) break;
        if (bytes < best) {
            best = bytes, best_k = kept;
            memcpy(best_cls, cls, (size_t)units);
            memcpy(best_freq, freq, kept * sizeof *freq);
        }
    }
    if (best_k < 2 || base - best < 64 || base - best < keep * base) goto done;
    memset(ctx, 0, sizeof *ctx);
    ctx->tables = calloc(best_k, sizeof *ctx->tables);
    if (!ctx->tables) goto done;
    if (!segment_groups(u, best_cls, ctx)) {
        free(ctx->tables);
        goto done;
    }
    for (uint32_t t = 0; t < best_k; t++) wqc_rans_table_init(&ctx->tables[t], best_freq[t], 256, precision, NULL);
    ctx->ntables = best_k;
    *saved = base - best;
    found = 1;
done:
    free(v.h), free(cls), free(best_cls), free(counts), free(freq), free(best_freq);
    return found;
}

int wqc_row_tables(const uint8_t *sym, uint64_t rows, uint64_t cols, int precision, double keep, wqc_rans_context *ctx,
                   double *saved)
{
    unit_layout u = layout_of(rows, cols, 1, cols);
    return unit_tables(sym, &u, precision, keep, ctx, saved);
}

int wqc_tile_tables(const uint8_t *sym, uint64_t rows, uint64_t cols, uint32_t tile, int precision, double keep,
                    wqc_rans_context *ctx, double *saved)
{
    if (tile == 0 || rows <= tile || cols <= tile) return 0;
    unit_layout u = layout_of(rows, cols, tile, tile);
    return unit_tables(sym, &u, precision, keep, ctx, saved);
}

void wqc_tile_tables_write(const wqc_rans_context *ctx, uint32_t tile, wqc_bytes *out)
{
    /* The segments' classes back to one a tile. */
    unit_layout u = layout_of(ctx->rows, ctx->cols, tile, tile);
    uint8_t *cls = malloc(u.units ? (size_t)u.units : 1);
    if (!cls) {
        out->failed = 1;
        return;
    }
    for (uint64_t t = 0; t < u.units; t++) cls[t] = ctx->group_table[t / u.across * tile * u.across + t % u.across];
    wqc_rans_context by_tile = *ctx;
    by_tile.group_table = cls, by_tile.ngroups = u.units;
    wqc_bytes_varint(out, tile);
    wqc_row_tables_write(&by_tile, out);
    free(cls);
}

wqc_status wqc_tile_tables_read(const uint8_t *in, size_t len, const wqc_rans_table *table0, uint64_t rows,
                                uint64_t cols, wqc_rans_context *ctx, uint32_t *tile, wqc_error *err)
{
    memset(ctx, 0, sizeof *ctx);
    wqc_cursor c = {in, in + len, 0};
    uint64_t t = wqc_cursor_varint(&c);
    if (c.failed || t == 0 || t >= rows || t >= cols || t > UINT32_MAX)
        return wqc_fail(err, WQC_ERR_FORMAT, "bad TILES field: tiles of %llu", (unsigned long long)t);
    unit_layout u = layout_of(rows, cols, t, t);
    wqc_rans_context by_tile;
    wqc_status st = wqc_row_tables_read(c.p, (size_t)(c.end - c.p), table0, u.units, t * t, &by_tile, err);
    if (st != WQC_OK) return wqc_fail_context(err, st, "TILES field");
    uint8_t *per_tile = by_tile.group_table;
    int ok = segment_groups(&u, per_tile, &by_tile);
    free(per_tile);
    if (!ok) {
        free(by_tile.tables);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    *ctx = by_tile;
    *tile = (uint32_t)t;
    return WQC_OK;
}
