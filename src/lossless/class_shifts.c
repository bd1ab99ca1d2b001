#include "class_shifts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../symbol_model/col_shift_field.h"
#include "row_tables.h"
#include "wqc/entropy.h"

/* Bins (and tables); shifts run from -(BINS - 1) to BINS - 1. */
#define BINS 4
#define SHIFTS (2 * BINS - 1)
#define ROUNDS 4
/* Below these the columns are too short, or too few, to tell apart. */
#define ROWS_MIN 32
#define COLS_MIN 32
#define VALUES_MIN 16384
/* Lloyd's rounds run on about this many rows spread over the matrix; the
 * rows' bins are then chosen once over all of them. */
#define SAMPLE_ROWS 256
/* A non-zero shift costs about this many bits of the COLUMNS field. */
#define SHIFT_BITS 3.0

/* Shifts padded to 8 for the per-column sums. */
#define SHIFT_SLOTS 8
_Static_assert(SHIFT_SLOTS >= SHIFTS, "a column's sums hold every shift");

typedef struct shift_model {
    const uint8_t *sym;
    uint64_t rows, cols, step; /* rows r with r % step == 0 are visited */
    uint32_t used;
    uint8_t dense[256], symbol[256];
    uint8_t *bin;      /* rows */
    int8_t *shift;     /* cols */
    float *by_shift;   /* cols x SHIFT_SLOTS: a column's bits under each shift */
    uint64_t counts[BINS][256];
    /* A symbol's bits under each table, arranged for the two steps:
     * in a row of bin b, under each shift; in a column of shift s, in each bin. */
    float bits_by_shift[BINS][256][SHIFT_SLOTS];
    float bits_by_bin[SHIFTS][256][BINS];
} shift_model;

static inline int clamp_bin(int b)
{
    return b < 0 ? 0 : b >= BINS ? BINS - 1 : b;
}

/* The tables' counts under the current bins and shifts. */
static void count_tables(shift_model *m)
{
    memset(m->counts, 0, sizeof m->counts);
    for (uint64_t r = 0; r < m->rows; r += m->step) {
        const uint8_t *s = m->sym + r * m->cols;
        int b = m->bin[r];
        for (uint64_t c = 0; c < m->cols; c++) m->counts[clamp_bin(b + m->shift[c])][m->dense[s[c]]]++;
    }
}

/* The tables' bits per symbol from their counts. */
static void tables_of(shift_model *m)
{
    float bits[BINS][256];
    for (int t = 0; t < BINS; t++) {
        uint64_t n = 0;
        for (uint32_t j = 0; j < m->used; j++) n += m->counts[t][j];
        for (uint32_t j = 0; j < m->used; j++)
            bits[t][j] = (float)-log2(((double)m->counts[t][j] + 0.5) / ((double)n + 0.5 * m->used));
    }
    for (int b = 0; b < BINS; b++)
        for (uint32_t j = 0; j < m->used; j++)
            for (int k = 0; k < SHIFT_SLOTS; k++)
                m->bits_by_shift[b][j][k] = k < SHIFTS ? bits[clamp_bin(b + k - (BINS - 1))][j] : 0.0f;
    for (int k = 0; k < SHIFTS; k++)
        for (uint32_t j = 0; j < m->used; j++)
            for (int b = 0; b < BINS; b++) m->bits_by_bin[k][j][b] = bits[clamp_bin(b + k - (BINS - 1))][j];
}

/* Each column to the shift that codes it in the fewest bits (ties: the
 * smaller shift). Returns the columns moved. */
static uint64_t shift_columns(shift_model *m)
{
    memset(m->by_shift, 0, (size_t)(m->cols * SHIFT_SLOTS) * sizeof *m->by_shift);
    for (uint64_t r = 0; r < m->rows; r += m->step) {
        const uint8_t *s = m->sym + r * m->cols;
        const float(*bits)[SHIFT_SLOTS] = m->bits_by_shift[m->bin[r]];
        for (uint64_t c = 0; c < m->cols; c++) {
            float *restrict acc = m->by_shift + c * SHIFT_SLOTS;
            const float *restrict add = bits[m->dense[s[c]]];
            for (int k = 0; k < SHIFT_SLOTS; k++) acc[k] += add[k];
        }
    }
    uint64_t moved = 0;
    for (uint64_t c = 0; c < m->cols; c++) {
        const float *acc = m->by_shift + c * SHIFT_SLOTS;
        int best_s = 0;
        float best = INFINITY;
        for (int k = 0; k < SHIFTS; k++) {
            int s = (k + 1) / 2 * (k & 1 ? -1 : 1); /* 0, -1, 1, -2, 2, ... */
            float bits = acc[s + BINS - 1] + (s ? (float)SHIFT_BITS : 0.0f);
            if (bits < best) best = bits, best_s = s;
        }
        moved += best_s != m->shift[c];
        m->shift[c] = (int8_t)best_s;
    }
    return moved;
}

/* Each row to the bin that codes it in the fewest bits. */
static uint64_t bin_rows(shift_model *m)
{
    uint64_t moved = 0;
    for (uint64_t r = 0; r < m->rows; r += m->step) {
        const uint8_t *s = m->sym + r * m->cols;
        float acc[BINS] = {0};
        for (uint64_t c = 0; c < m->cols; c++) {
            const float *add = m->bits_by_bin[m->shift[c] + BINS - 1][m->dense[s[c]]];
            for (int b = 0; b < BINS; b++) acc[b] += add[b];
        }
        int best_b = m->bin[r];
        float best = acc[best_b];
        for (int b = 0; b < BINS; b++)
            if (acc[b] < best) best = acc[b], best_b = b;
        moved += best_b != m->bin[r];
        m->bin[r] = (uint8_t)best_b;
    }
    return moved;
}

/* Starting point: the columns by rank of their mean symbol into BINS
 * shifts 0..BINS-1, every row in bin 0. */
static int start_by_columns(shift_model *m)
{
    wqc_ranked *order = malloc((size_t)m->cols * sizeof *order);
    if (!order) return 0;
    for (uint64_t c = 0; c < m->cols; c++) order[c] = (wqc_ranked){0, c};
    for (uint64_t r = 0; r < m->rows; r += m->step)
        for (uint64_t c = 0; c < m->cols; c++) order[c].mean += m->dense[m->sym[r * m->cols + c]];
    qsort(order, (size_t)m->cols, sizeof *order, wqc_ranked_by_mean);
    for (uint64_t i = 0; i < m->cols; i++) m->shift[order[i].at] = (int8_t)(i * BINS / m->cols);
    memset(m->bin, 0, (size_t)m->rows);
    free(order);
    return 1;
}

static uint64_t sum_of(const uint64_t *counts, uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t j = 0; j < n; j++) sum += counts[j];
    return sum;
}

/* The share of the visited symbols' order-0 entropy that the tables of
 * their own counts save (what tables and fields cost left out). */
static double start_saving(const shift_model *m)
{
    uint64_t all[256] = {0};
    double bits = 0, n = 0;
    for (int t = 0; t < BINS; t++) {
        for (uint32_t j = 0; j < m->used; j++) all[j] += m->counts[t][j];
        bits += wqc_entropy_bits(m->counts[t], m->used) * (double)sum_of(m->counts[t], m->used);
    }
    n = (double)sum_of(all, m->used);
    double order0 = wqc_entropy_bits(all, m->used) * n;
    return order0 > 0 ? 1.0 - bits / order0 : 0.0;
}

/* The COLUMNS and ROWS fields' bytes and the payload's for the current
 * model, freq (BINS tables) out. An empty bin takes the whole matrix's
 * table (it codes nothing, but the format has a table for every bin). */
static double model_bytes(shift_model *m, const uint64_t *total, int precision, uint32_t freq[][256])
{
    count_tables(m);
    double bytes = 0, tb = 0;
    for (int t = 0; t < BINS; t++) {
        uint64_t full[256] = {0}, n = 0;
        for (uint32_t j = 0; j < m->used; j++) full[m->symbol[j]] = m->counts[t][j], n += m->counts[t][j];
        double bits = wqc_class_table_bits(n ? full : total, precision, freq[t], &tb);
        bytes += n ? bits / 8 : 0.0;
        if (t == 0) bytes += tb; /* the frame's model; the others are in the ROWS field */
    }
    return bytes + wqc_class_map_bytes(m->bin, m->rows, BINS, freq, precision) +
           (double)wqc_col_shifts_bytes(m->shift, m->cols);
}

int wqc_class_shifts(const uint8_t *sym, uint64_t rows, uint64_t cols, int precision, double keep, double beat,
                     wqc_rans_context *ctx, double *saved)
{
    if (rows < ROWS_MIN || cols < COLS_MIN || rows * cols < VALUES_MIN || cols > WQC_COL_SHIFT_COLS_MAX) return 0;
    /* Its tables (60 KiB) on the heap: encode threads' stacks are small. */
    shift_model *m = calloc(1, sizeof *m);
    if (!m) return 0;
    m->sym = sym, m->rows = rows, m->cols = cols, m->step = rows > 2 * SAMPLE_ROWS ? rows / SAMPLE_ROWS : 1;
    uint64_t total[256] = {0}, n = rows * cols;
    for (uint64_t i = 0; i < n; i++) total[sym[i]]++;
    for (int s = 0; s < 256; s++)
        if (total[s]) m->dense[s] = (uint8_t)m->used, m->symbol[m->used++] = (uint8_t)s;
    if (m->used < 2) {
        free(m);
        return 0;
    }
    uint32_t(*freq)[256] = malloc(BINS * sizeof *freq);
    m->bin = malloc((size_t)rows), m->shift = malloc((size_t)cols);
    m->by_shift = malloc((size_t)(cols * SHIFT_SLOTS) * sizeof *m->by_shift);
    int found = 0;
    if (!freq || !m->bin || !m->shift || !m->by_shift || !start_by_columns(m)) goto done;
    double table0, base = wqc_class_table_bits(total, precision, freq[0], &table0) / 8 + table0;
    count_tables(m);
    /* Where the columns ranked by their mean save under half the bar, the
     * rounds are not run. */
    if (start_saving(m) < 0.5 * keep) goto done;
    for (int round = 0; round < ROUNDS; round++) {
        tables_of(m);
        uint64_t moved = shift_columns(m);
        count_tables(m);
        tables_of(m);
        moved += bin_rows(m);
        count_tables(m);
        if (!moved) break;
    }
    /* Every row's bin under the sample's tables. */
    tables_of(m);
    m->step = 1;
    bin_rows(m);
    double bytes = model_bytes(m, total, precision, freq);
    if (base - bytes - beat < 64 || base - bytes - beat < keep * base) goto done;
    memset(ctx, 0, sizeof *ctx);
    ctx->tables = calloc(BINS, sizeof *ctx->tables);
    ctx->bin_table = malloc(BINS);
    if (!ctx->tables || !ctx->bin_table) {
        free(ctx->tables), free(ctx->bin_table);
        goto done;
    }
    for (int t = 0; t < BINS; t++) {
        wqc_rans_table_init(&ctx->tables[t], freq[t], 256, precision, NULL);
        ctx->bin_table[t] = (uint8_t)t;
    }
    ctx->ntables = ctx->nbins = BINS;
    ctx->group_table = m->bin, m->bin = NULL;
    ctx->col_shift = m->shift, m->shift = NULL;
    ctx->rows = rows, ctx->cols = cols, ctx->group_len = cols, ctx->ngroups = rows;
    *saved = base - bytes;
    found = 1;
done:
    free(freq), free(m->bin), free(m->shift), free(m->by_shift), free(m);
    return found;
}
