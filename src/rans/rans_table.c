#include <stdlib.h>
#include <string.h>

#include "decode_kernel.h"
#include "wqc/entropy.h"
#include "wqc/rans.h"

wqc_status wqc_rans_table_init(wqc_rans_table *t, const uint32_t *freq, uint32_t alphabet,
                               int precision, wqc_error *err)
{
    if (precision < WQC_PRECISION_MIN || precision > WQC_PRECISION_MAX)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "rANS precision must be %d..%d, got %d",
                        WQC_PRECISION_MIN, WQC_PRECISION_MAX, precision);
    if (alphabet < 1 || alphabet > 256)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "rANS alphabet must be 1..256, got %u", alphabet);
    t->precision = precision;
    t->alphabet = alphabet;
    uint64_t sum = 0;
    for (uint32_t s = 0; s < 256; s++) {
        t->freq[s] = s < alphabet ? freq[s] : 0;
        t->cum[s] = (uint32_t)sum;
        sum += t->freq[s];
        if (sum > (1u << precision)) break;
    }
    t->cum[256] = (uint32_t)sum;
    if (sum != (1u << precision))
        return wqc_fail(err, WQC_ERR_FORMAT, "frequency table sums to %llu, not 2^%d",
                        (unsigned long long)sum, precision);
    return WQC_OK;
}

/* Bins x columns of precomputed column bases (16 MiB at most). */
#define SHIFT_BASES_MAX (1u << 22)

/* Fills the slots of table t at its place in d's arrays. */
static void fill_slots(wqc_rans_dtable *d, const wqc_rans_table *t, size_t base)
{
    /* An array at a time, so that each loop vectorises (a decode sets up a
     * table per parameter group: 7% of a 4-bit model's decode on one thread). */
    for (uint32_t s = 0; s < t->alphabet; s++) {
        uint32_t f = t->freq[s];
        size_t at = base + t->cum[s];
        memset(d->symbol + at, (int)s, f);
        for (uint32_t i = 0; i < f; i++) d->entry[at + i] = f | i << 16;
        if (d->packed)
            for (uint32_t i = 0; i < f; i++) d->packed[at + i] = f | i << 14 | s << 28;
        if (d->packed8)
            for (uint32_t i = 0; i < f; i++) d->packed8[at + i] = (f - 1) | i << 12 | s << 24;
    }
}

/* Symbols starting inside each bucket of table t, frequency 0 too: the
 * owner of a slot is the bucket's first owner plus the starts at or below
 * it. Returns the fewest starts a bucket may hold for the rest (dense
 * buckets) to fit the slot table; 4 if none do. */
static uint32_t bucket_starts(const wqc_rans_dtable *d, const wqc_rans_table *t, size_t base, uint8_t *starts)
{
    const uint32_t width = 1u << (d->precision - RANS_BUCKET_BITS);
    for (uint32_t b = 0; b < RANS_BUCKETS; b++) {
        uint32_t first = b * width, n = 0;
        for (uint32_t s = d->symbol[base + first] + 1u; s < t->alphabet && t->cum[s] < first + width; s++) n++;
        starts[b] = (uint8_t)n;
    }
    uint32_t most = 0;
    for (; most <= 3; most++) {
        uint32_t dense = 0;
        for (uint32_t b = 0; b < RANS_BUCKETS; b++) dense += starts[b] > most ? width : 0;
        if (dense <= RANS_BUCKETS) break;
    }
    return most;
}

static void fill_buckets_of(wqc_rans_buckets *out, const wqc_rans_dtable *d, const wqc_rans_table *t, size_t base,
                            const uint8_t *starts, uint32_t most)
{
    const uint32_t width = 1u << (d->precision - RANS_BUCKET_BITS);
    const uint8_t *symbol = d->symbol + base;
    memset(out->start, 255, sizeof out->start);
    memset(out->slots, 0, sizeof out->slots);
    for (uint32_t s = 0; s < 16; s++) out->fc[s] = s < t->alphabet ? t->freq[s] | t->cum[s] << 16 : 0;
    uint32_t place = 0;
    for (uint32_t b = 0; b < RANS_BUCKETS; b++) {
        uint32_t first = b * width;
        if (starts[b] > most) {
            out->first[b] = (uint8_t)(0x80u | place);
            memcpy(out->slots + place, symbol + first, width);
            place += width;
            continue;
        }
        out->first[b] = symbol[first];
        for (uint32_t k = 0, s = symbol[first] + 1u; k < starts[b]; k++, s++)
            out->start[k][b] = (uint8_t)(t->cum[s] - first - 1);
    }
    out->dense = place;
}

/* The bucket tables of tables[0..n) (at most 16 symbols), from d's filled
 * slots: every table takes the most starts any of them needs. */
static void fill_buckets(wqc_rans_dtable *d, const wqc_rans_table *tables, uint32_t n)
{
    uint8_t(*starts)[RANS_BUCKETS] = malloc(n * sizeof *starts);
    d->buckets = malloc(n * sizeof *d->buckets);
    uint32_t most = 0;
    for (uint32_t t = 0; starts && t < n && most <= 3; t++) {
        uint32_t m = bucket_starts(d, &tables[t], (size_t)t << d->precision, starts[t]);
        most = m > most ? m : most;
    }
    if (!starts || !d->buckets || most > 3) {
        /* Without them (or out of memory) the decoders search instead. */
        free(d->buckets);
        d->buckets = NULL;
    } else {
        for (uint32_t t = 0; t < n; t++) fill_buckets_of(&d->buckets[t], d, &tables[t], (size_t)t << d->precision, starts[t], most);
        d->bucket_starts = most;
    }
    free(starts);
}

static wqc_status dtable_alloc(wqc_rans_dtable *d, const wqc_rans_table *t0, uint32_t ntables, wqc_error *err)
{
    size_t slots = (size_t)ntables << t0->precision;
    int packable = t0->alphabet <= RANS_PACKED_MAX_ALPHABET && t0->precision <= RANS_PACKED_MAX_PRECISION;
    int packable8 = !packable && t0->precision <= RANS_PACKED8_MAX_PRECISION;
    memset(d, 0, sizeof *d);
    d->precision = t0->precision;
    d->alphabet = t0->alphabet;
    d->ntables = ntables;
    memcpy(d->freq, t0->freq, sizeof d->freq);
    memcpy(d->cum, t0->cum, sizeof d->cum);
    d->symbol = calloc(slots + 4, 1);
    d->entry = malloc(slots * sizeof *d->entry);
    d->packed = packable ? malloc(slots * sizeof *d->packed) : NULL;
    d->packed8 = packable8 ? malloc(slots * sizeof *d->packed8) : NULL;
    if (!d->symbol || !d->entry || (packable && !d->packed) || (packable8 && !d->packed8)) {
        wqc_rans_dtable_free(d);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    return WQC_OK;
}

wqc_status wqc_rans_dtable_init(wqc_rans_dtable *d, const wqc_rans_table *t, wqc_error *err)
{
    wqc_status st = dtable_alloc(d, t, 1, err);
    if (st != WQC_OK) return st;
    fill_slots(d, t, 0);
    if (d->alphabet <= WQC_RANS_SEARCHED_ALPHABET) fill_buckets(d, t, 1);
    return WQC_OK;
}

wqc_status wqc_rans_dtable_init_context(wqc_rans_dtable *d, const wqc_rans_context *ctx, wqc_error *err)
{
    wqc_status st = wqc_rans_context_check(ctx, err);
    if (st == WQC_OK) st = dtable_alloc(d, &ctx->tables[0], ctx->ntables, err);
    if (st != WQC_OK) return st;
    for (uint32_t t = 0; t < ctx->ntables; t++) fill_slots(d, &ctx->tables[t], (size_t)t << d->precision);
    if (d->alphabet <= WQC_RANS_SEARCHED_ALPHABET) fill_buckets(d, ctx->tables, ctx->ntables);
    for (uint32_t b = 0; ctx->col_shift && b < ctx->nbins; b++) d->bin_base[b] = (uint32_t)ctx->bin_table[b] << d->precision;
    /* Each bin's column bases at once, where they are few: SIMD decoders
     * load a vector's bases instead of clamping and looking up each lane's. */
    if (ctx->col_shift && (uint64_t)ctx->nbins * ctx->cols <= SHIFT_BASES_MAX &&
        (d->shift_base = malloc((size_t)ctx->nbins * (size_t)ctx->cols * sizeof *d->shift_base)))
        for (uint32_t b = 0; b < ctx->nbins; b++)
            for (uint64_t c = 0; c < ctx->cols; c++)
                d->shift_base[b * ctx->cols + c] = rans_context_shifted(ctx, b, ctx->col_shift[c]) << d->precision;
    d->context = ctx;
    return WQC_OK;
}

wqc_status wqc_rans_context_check(const wqc_rans_context *ctx, wqc_error *err)
{
    if (ctx->ntables < 1 || ctx->ntables > WQC_RANS_TABLES_MAX || !ctx->tables || !ctx->group_table)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "a context needs 1..%d tables and a table per group",
                        WQC_RANS_TABLES_MAX);
    for (uint32_t t = 1; t < ctx->ntables; t++)
        if (ctx->tables[t].precision != ctx->tables[0].precision || ctx->tables[t].alphabet != ctx->tables[0].alphabet)
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "context tables differ in precision or alphabet");
    uint32_t below = ctx->col_shift ? ctx->nbins : ctx->ntables;
    if (ctx->col_shift && (ctx->tile || ctx->ngroups < 2 || !ctx->bin_table || ctx->nbins < 1 || ctx->nbins > 256))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "column shifts need groups, 1..256 bins with a table each, and no tiles");
    for (uint32_t b = 0; ctx->col_shift && b < ctx->nbins; b++)
        if (ctx->bin_table[b] >= ctx->ntables)
            return wqc_fail(err, WQC_ERR_FORMAT, "bin %u names table %u of %u", b, ctx->bin_table[b], ctx->ntables);
    for (uint64_t g = 0; g < ctx->ngroups; g++)
        if (ctx->group_table[g] >= below)
            return wqc_fail(err, WQC_ERR_FORMAT, "group %llu names %s %u of %u", (unsigned long long)g,
                            ctx->col_shift ? "bin" : "table", ctx->group_table[g], below);
    uint64_t per_row = ctx->group_len ? (ctx->cols + ctx->group_len - 1) / ctx->group_len : 0;
    int geometry = ctx->ngroups == 1 || (ctx->group_len && ctx->ngroups == ctx->rows * per_row);
    if (ctx->tile) geometry &= ctx->ngroups == 1 || (ctx->ngroups == ctx->rows && ctx->group_len == ctx->cols);
    if (!geometry || ctx->ngroups == 0)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "context groups do not match a %llux%llu matrix",
                        (unsigned long long)ctx->rows, (unsigned long long)ctx->cols);
    return WQC_OK;
}

void wqc_rans_dtable_free(wqc_rans_dtable *d)
{
    free(d->symbol);
    free(d->entry);
    free(d->packed);
    free(d->packed8);
    free(d->shift_base);
    free(d->buckets);
    d->buckets = NULL;
    d->symbol = NULL;
    d->entry = NULL;
    d->packed = NULL;
    d->packed8 = NULL;
    d->shift_base = NULL;
}
