/* Scalar rANS encoder: symbols are coded backwards, words written backwards
 * from the end of the output buffer, then moved behind the final states. */
#include <stdlib.h>
#include <string.h>

#include "context_cursor.h"
#include "wqc/rans.h"

size_t wqc_rans_chunk_bound(size_t n, uint32_t lanes) { return 4 * (size_t)lanes + 2 * n; }

static void store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* Per symbol of a table: the renormalisation bound (x must stay below
 * f * 2^(32-P) before coding so the result fits 32 bits; 64-bit since for
 * f = 2^P it is 2^32 itself), and x / f by multiplication: with
 * l = ceil(log2 f) and m = floor(2^32 (2^l - f) / f) + 1,
 * x / f = (x + (x * m >> 32)) >> l for every 32-bit x (Granlund and
 * Montgomery, 1994). Coding is then x' = (q << P) + (x - q f) + cum =
 * x + q (2^P - f) + cum. */
typedef struct enc_symbol {
    uint64_t limit;
    uint32_t mult, shift, cum, spare; /* spare = 2^P - f */
} enc_symbol;

static void enc_symbols(const wqc_rans_table *t, enc_symbol *out)
{
    const int p = t->precision;
    for (uint32_t s = 0; s < t->alphabet; s++) {
        uint32_t f = t->freq[s], l = 0;
        enc_symbol *e = &out[s];
        memset(e, 0, sizeof *e);
        e->limit = (uint64_t)f << (32 - p);
        if (f == 0) continue;
        while ((1u << l) < f) l++;
        e->mult = (uint32_t)((((uint64_t)1 << 32) * ((1ull << l) - f)) / f + 1);
        e->shift = l;
        e->cum = t->cum[s];
        e->spare = (1u << p) - f;
    }
}

/* Codes sym[0..n) with enc[table[i] * alphabet + sym[i]] (table NULL: all 0). */
static inline __attribute__((always_inline)) wqc_status encode_rounds(const enc_symbol *enc, uint32_t alphabet, const uint8_t *table, uint32_t lanes,
                                const uint8_t *sym, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                                wqc_error *err)
{
    uint32_t state[WQC_RANS_LANES_MAX];
    for (uint32_t l = 0; l < lanes; l++) state[l] = WQC_RANS_STATE_LOW;
    /* Words go downwards from the end; 2 bytes each. */
    uint8_t *w = out + cap;
    uint32_t lane = n ? (uint32_t)((n - 1) % lanes) : 0;
    for (size_t i = n; i-- > 0;) {
        uint32_t s = sym[i], x = state[lane];
        if (s >= alphabet || enc[(table ? table[i] * alphabet : 0) + s].limit == 0)
            return wqc_fail(err, WQC_ERR_RANGE, "symbol %u at position %zu is not in the table", s, i);
        const enc_symbol *e = &enc[(table ? table[i] * alphabet : 0) + s];
        /* Branch-free renormalisation: the word is stored either way and
         * kept only when the state was too large. */
        uint32_t big = x >= e->limit;
        w[-2] = (uint8_t)x, w[-1] = (uint8_t)(x >> 8);
        w -= 2 * big;
        x >>= 16 * big;
        uint32_t q = (uint32_t)((x + ((uint64_t)x * e->mult >> 32)) >> e->shift);
        state[lane] = x + q * e->spare + e->cum;
        lane = lane ? lane - 1 : lanes - 1;
    }
    size_t words = (size_t)(out + cap - w);
    memmove(out + 4 * (size_t)lanes, w, words);
    for (uint32_t l = 0; l < lanes; l++) store_le32(out + 4 * l, state[l]);
    *out_len = 4 * (size_t)lanes + words;
    return WQC_OK;
}

static wqc_status check_chunk_args(uint32_t lanes, size_t n, size_t cap, wqc_error *err)
{
    if (!wqc_rans_lanes_valid(lanes))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "lanes must be 1, 2, 4 or a multiple of 8 up to %d, got %u",
                        WQC_RANS_LANES_MAX, lanes);
    size_t bound = wqc_rans_chunk_bound(n, lanes);
    if (cap < bound)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "output buffer of %zu bytes is below the bound %zu",
                        cap, bound);
    return WQC_OK;
}

wqc_status wqc_rans_encode_chunk(const wqc_rans_table *t, uint32_t lanes, const uint8_t *sym,
                                 size_t n, uint8_t *out, size_t cap, size_t *out_len,
                                 wqc_error *err)
{
    wqc_status st = check_chunk_args(lanes, n, cap, err);
    if (st != WQC_OK) return st;
    enc_symbol enc[256];
    enc_symbols(t, enc);
    return encode_rounds(enc, t->alphabet, NULL, lanes, sym, n, out, cap, out_len, err);
}

wqc_status wqc_rans_encode_chunk_context(const wqc_rans_context *ctx, uint32_t lanes, const uint8_t *sym,
                                         uint64_t pos, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                                         wqc_error *err)
{
    wqc_status st = check_chunk_args(lanes, n, cap, err);
    if (st == WQC_OK) st = wqc_rans_context_check(ctx, err);
    if (st != WQC_OK) return st;
    uint32_t alphabet = ctx->tables[0].alphabet;
    enc_symbol *enc = malloc((size_t)ctx->ntables * alphabet * sizeof *enc);
    uint8_t *table = malloc(n ? n : 1);
    if (!enc || !table) {
        free(enc);
        free(table);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    for (uint32_t t = 0; t < ctx->ntables; t++) enc_symbols(&ctx->tables[t], enc + (size_t)t * alphabet);
    rans_context_cursor c;
    rans_context_seek(&c, ctx, pos);
    for (size_t i = 0; i < n;) {
        uint32_t t = rans_context_table(&c, pos + i);
        /* In row-major order a whole group's run shares the table. */
        size_t run = ctx->tile ? 1 : ctx->ngroups == 1 ? n - i : (size_t)(c.groups.end - (pos + i));
        if (run > n - i) run = n - i;
        memset(table + i, (int)t, run);
        i += run;
    }
    st = encode_rounds(enc, alphabet, table, lanes, sym, n, out, cap, out_len, err);
    free(enc);
    free(table);
    return st;
}
