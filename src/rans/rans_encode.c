/* rANS chunk encoder: symbols are coded backwards, words written backwards
 * from the end of the output buffer, then moved behind the final states.
 * The scalar code is the reference; SIMD kernels code the whole rounds. */
#include <stdlib.h>
#include <string.h>

#include "context_cursor.h"
#include "encode_kernel.h"
#include "wqc/rans.h"

size_t wqc_rans_chunk_bound(size_t n, uint32_t lanes) { return 4 * (size_t)lanes + 2 * n; }

static void store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* Entries of tables[0..ntables) (encode_kernel.h), padded to whole vectors. */
static wqc_status enc_table_make(const wqc_rans_table *tables, uint32_t ntables, rans_enc_table *e, wqc_error *err)
{
    uint32_t alphabet = tables[0].alphabet, entries = ntables * alphabet, padded = (entries + 15) / 16 * 16;
    uint32_t *mem = calloc(5 * (size_t)padded, sizeof *mem);
    if (!mem) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    *e = (rans_enc_table){entries, alphabet, mem, mem + padded, mem + 2 * padded, mem + 3 * padded, mem + 4 * padded};
    for (uint32_t i = 0; i < padded; i++) e->spare[i] = RANS_ENC_ABSENT;
    for (uint32_t t = 0; t < ntables; t++) {
        const int p = tables[t].precision;
        for (uint32_t s = 0; s < alphabet; s++) {
            uint32_t f = tables[t].freq[s], l = 0, i = t * alphabet + s;
            if (f == 0) continue;
            while ((1u << l) < f) l++;
            e->bound[i] = (uint32_t)(((uint64_t)f << (32 - p)) - 1);
            e->mult[i] = (uint32_t)((((uint64_t)1 << 32) * ((1ull << l) - f)) / f + 1);
            e->shift[i] = l;
            e->cum[i] = tables[t].cum[s];
            e->spare[i] = (1u << p) - f;
        }
    }
    return WQC_OK;
}

static rans_enc_kernel_fn enc_kernel(wqc_isa isa)
{
#ifdef WQC_HAVE_X86_KERNELS
    if (isa == WQC_ISA_AVX512) return wqc_rans_enc_kernel_avx512;
    if (isa == WQC_ISA_AVX2) return wqc_rans_enc_kernel_avx2;
#endif
    (void)isa;
    return NULL;
}

/* Symbols i = n - 1 down to `stop` with lanes i mod lanes (the scalar
 * reference). Returns the first uncodable position + 1, or 0. */
static size_t scalar_rounds(const rans_enc_table *e, const uint8_t *table, uint32_t lanes, const uint8_t *sym,
                            size_t n, size_t stop, uint32_t *state, uint8_t **wp)
{
    uint8_t *w = *wp;
    uint32_t lane = n ? (uint32_t)((n - 1) % lanes) : 0;
    for (size_t i = n; i-- > stop;) {
        uint32_t s = sym[i], x = state[lane];
        size_t k = (table ? (size_t)table[i] * e->alphabet : 0) + s;
        if (s >= e->alphabet || e->spare[k] == RANS_ENC_ABSENT) return i + 1;
        /* Branch-free renormalisation: the word is stored either way and
         * kept only when the state was too large. */
        uint32_t big = x > e->bound[k];
        w[-2] = (uint8_t)x, w[-1] = (uint8_t)(x >> 8);
        w -= 2 * big;
        x >>= 16 * big;
        uint32_t q = (uint32_t)((x + ((uint64_t)x * e->mult[k] >> 32)) >> e->shift[k]);
        state[lane] = x + q * e->spare[k] + e->cum[k];
        lane = lane ? lane - 1 : lanes - 1;
    }
    *wp = w;
    return 0;
}

/* Codes sym[0..n) with e (entry table[i] * alphabet + sym[i]; table NULL:
 * one table): the partial last round by the scalar code, the whole rounds
 * below it by the ISA's kernel where there is one, all by the scalar code
 * again to name the symbol when the kernel finds one it cannot code. */
static wqc_status encode_rounds(const rans_enc_table *e, const uint8_t *table, uint32_t lanes, const uint8_t *sym,
                                size_t n, uint8_t *out, size_t cap, size_t *out_len, wqc_isa isa, wqc_error *err)
{
    uint32_t state[WQC_RANS_LANES_MAX];
    for (uint32_t l = 0; l < lanes; l++) state[l] = WQC_RANS_STATE_LOW;
    /* Words go downwards from the end; 2 bytes each. */
    uint8_t *w = out + cap;
    rans_enc_kernel_fn kernel = enc_kernel(isa);
    size_t whole = kernel ? n / lanes * lanes : 0, bad = scalar_rounds(e, table, lanes, sym, n, whole, state, &w);
    if (!bad && whole) {
        int handled = 1;
        if (!kernel(e, table, lanes, sym, whole / lanes, state, &w, &handled)) {
            if (handled) { /* a symbol it cannot code: find it */
                for (uint32_t l = 0; l < lanes; l++) state[l] = WQC_RANS_STATE_LOW;
                w = out + cap;
                bad = scalar_rounds(e, table, lanes, sym, n, 0, state, &w);
            } else {
                bad = scalar_rounds(e, table, lanes, sym, whole, 0, state, &w);
            }
        }
    }
    if (bad)
        return wqc_fail(err, WQC_ERR_RANGE, "symbol %u at position %zu is not in the table", sym[bad - 1], bad - 1);
    size_t words = (size_t)(out + cap - w);
    memmove(out + 4 * (size_t)lanes, w, words);
    for (uint32_t l = 0; l < lanes; l++) store_le32(out + 4 * l, state[l]);
    *out_len = 4 * (size_t)lanes + words;
    return WQC_OK;
}

static wqc_status check_chunk_args(uint32_t lanes, size_t n, size_t cap, wqc_isa isa, wqc_error *err)
{
    if (!wqc_isa_available(isa))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "no %s encoder on this CPU or build", wqc_isa_name(isa));
    if (!wqc_rans_lanes_valid(lanes))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "lanes must be 1, 2, 4 or a multiple of 8 up to %d, got %u",
                        WQC_RANS_LANES_MAX, lanes);
    size_t bound = wqc_rans_chunk_bound(n, lanes);
    if (cap < bound)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "output buffer of %zu bytes is below the bound %zu",
                        cap, bound);
    return WQC_OK;
}

wqc_status wqc_rans_encode_chunk_isa(const wqc_rans_table *t, uint32_t lanes, const uint8_t *sym, size_t n,
                                     uint8_t *out, size_t cap, size_t *out_len, wqc_isa isa, wqc_error *err)
{
    wqc_status st = check_chunk_args(lanes, n, cap, isa, err);
    rans_enc_table e = {0};
    if (st == WQC_OK) st = enc_table_make(t, 1, &e, err);
    if (st != WQC_OK) return st;
    st = encode_rounds(&e, NULL, lanes, sym, n, out, cap, out_len, isa, err);
    free(e.bound);
    return st;
}

wqc_status wqc_rans_encode_chunk(const wqc_rans_table *t, uint32_t lanes, const uint8_t *sym,
                                 size_t n, uint8_t *out, size_t cap, size_t *out_len,
                                 wqc_error *err)
{
    return wqc_rans_encode_chunk_isa(t, lanes, sym, n, out, cap, out_len, wqc_isa_active(), err);
}

wqc_status wqc_rans_encode_chunk_context_isa(const wqc_rans_context *ctx, uint32_t lanes, const uint8_t *sym,
                                             uint64_t pos, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                                             wqc_isa isa, wqc_error *err)
{
    wqc_status st = check_chunk_args(lanes, n, cap, isa, err);
    if (st == WQC_OK) st = wqc_rans_context_check(ctx, err);
    rans_enc_table e = {0};
    if (st == WQC_OK) st = enc_table_make(ctx->tables, ctx->ntables, &e, err);
    if (st != WQC_OK) return st;
    uint8_t *table = malloc(n ? n : 1);
    if (!table) {
        free(e.bound);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    rans_context_cursor c;
    rans_context_seek(&c, ctx, pos);
    for (size_t i = 0; i < n;) {
        if (ctx->col_shift && !ctx->tile) {
            /* A group's run: its bin moved by each column's shift. */
            rans_group_reach(&c.groups, pos + i);
            size_t run = (size_t)(c.groups.end - (pos + i));
            if (run > n - i) run = n - i;
            uint32_t bin = c.groups.table;
            const int8_t *shift = ctx->col_shift + rans_context_col(&c, pos + i);
            for (size_t l = 0; l < run; l++) table[i + l] = (uint8_t)rans_context_shifted(ctx, bin, shift[l]);
            i += run;
            continue;
        }
        uint32_t t = rans_context_table(&c, pos + i);
        /* In row-major order a whole group's run shares the table. */
        size_t run = ctx->tile ? 1 : ctx->ngroups == 1 ? n - i : (size_t)(c.groups.end - (pos + i));
        if (run > n - i) run = n - i;
        memset(table + i, (int)t, run);
        i += run;
    }
    st = encode_rounds(&e, table, lanes, sym, n, out, cap, out_len, isa, err);
    free(e.bound);
    free(table);
    return st;
}

wqc_status wqc_rans_encode_chunk_context(const wqc_rans_context *ctx, uint32_t lanes, const uint8_t *sym,
                                         uint64_t pos, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                                         wqc_error *err)
{
    return wqc_rans_encode_chunk_context_isa(ctx, lanes, sym, pos, n, out, cap, out_len, wqc_isa_active(), err);
}
