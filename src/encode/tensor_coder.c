/* Choosing and applying a tensor's coding mode (wqc/encode.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/byte_codec.h"
#include "../common/trace.h"
#include "../entropy/byte_probe.h"
#include "../symbol_model/col_shift_field.h"
#include "wqc/encode.h"
#include "wqc/entropy.h"
#include "wqc/gemv.h"

static const char *const mode_names[WQC_MODE_COUNT] = {"auto", "order0", "context", "brotli", "zstd", "lzma"};

const char *wqc_mode_name(wqc_mode m) { return m < WQC_MODE_COUNT ? mode_names[m] : "unknown"; }

wqc_status wqc_mode_from_name(const char *name, wqc_mode *out, wqc_error *err)
{
    for (int m = 0; m < WQC_MODE_COUNT; m++)
        if (strcmp(name, mode_names[m]) == 0) {
            *out = (wqc_mode)m;
            return WQC_OK;
        }
    return wqc_fail(err, WQC_ERR_INVALID_ARG, "unknown mode '%s' (auto, order0, context, brotli, zstd, lzma)", name);
}

wqc_mode wqc_frame_mode(const wqc_frame *f)
{
    switch (f->encoding) {
    case WQC_ENC_RANS: return f->shared_model || f->model.ntables > 1 ? WQC_MODE_CONTEXT : WQC_MODE_ORDER0;
    case WQC_ENC_BROTLI: return WQC_MODE_BROTLI;
    case WQC_ENC_ZSTD: return WQC_MODE_ZSTD;
    case WQC_ENC_LZMA: return WQC_MODE_LZMA;
    default: return WQC_MODE_AUTO;
    }
}

void wqc_encode_options_default(wqc_encode_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = WQC_MODE_AUTO;
    wqc_rans_params_default(&o->rans);
    o->rans.lanes = 0;
    o->resolution = 2;
    o->zstd_level = 15;
    o->brotli_quality = 11;
}

/* A candidate rANS model and its estimated bytes (payload and description). */
typedef struct candidate {
    wqc_symbol_model model;     /* own models; shared ones are borrowed */
    const wqc_symbol_model *use;
    uint32_t shared;            /* k + 1 for shared model k */
    const int8_t *col_shift;    /* NULL, or the column shifts (borrowed) */
    double bytes;
} candidate;

/* A tensor's symbol counts per zero-point bin at one resolution, and the
 * order-0 counts as their sum (counted once, used by every candidate). */
typedef struct bin_counts {
    uint32_t resolution, nbins;
    uint64_t *per_bin;          /* nbins * 256, NULL when the alphabet has no bins at this resolution */
    uint64_t all[256];
} bin_counts;

static wqc_status count_bins(const wqc_quantized *q, uint32_t resolution, int threads, bin_counts *bc, wqc_error *err)
{
    memset(bc, 0, sizeof *bc);
    bc->resolution = resolution = wqc_symbol_model_fit(q->alphabet, resolution);
    bc->nbins = wqc_symbol_model_nbins(q->alphabet, resolution);
    if (resolution == 0 || bc->nbins == 0) {
        wqc_histogram(q->symbols, (size_t)(q->rows * q->cols), bc->all);
        return WQC_OK;
    }
    bc->per_bin = calloc(256 * (size_t)bc->nbins, sizeof *bc->per_bin);
    if (!bc->per_bin) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_symbol_model_count_shifted(q, resolution, NULL, threads, bc->per_bin);
    for (uint32_t b = 0; b < bc->nbins; b++)
        for (int s = 0; s < 256; s++) bc->all[s] += bc->per_bin[256 * (size_t)b + (size_t)s];
    return WQC_OK;
}

/* Builds the tensor's own model from counts per bin (per_bin NULL: order-0 from `all`). */
static wqc_status own_model(const bin_counts *bc, int order0, uint32_t alphabet, int precision, candidate *c,
                            wqc_error *err)
{
    c->bytes = INFINITY;
    if (!order0 && !bc->per_bin) return WQC_OK;
    const uint64_t *counts = order0 ? bc->all : bc->per_bin;
    uint32_t resolution = order0 ? 0 : bc->resolution;
    wqc_status st = wqc_symbol_model_build(counts, resolution, alphabet, precision, 0, &c->model, err);
    if (st == WQC_OK) {
        c->use = &c->model;
        c->bytes = wqc_symbol_model_cost_bits(&c->model, counts) / 8 + (double)wqc_symbol_model_bytes(&c->model);
    }
    return st;
}

static const wqc_symbol_model *shared_for(const wqc_encode_options *o, const wqc_quantized *q, uint32_t *index)
{
    for (size_t i = 0; i < o->nshared; i++)
        if (o->shared[i].alphabet == q->alphabet && o->shared[i].precision == o->rans.precision) {
            *index = (uint32_t)i + 1;
            return &o->shared[i];
        }
    return NULL;
}

/* rANS-codes sym (coding order) with m. */
static wqc_status rans_code(const uint8_t *sym, const wqc_frame *f, const candidate *c, uint32_t tile,
                            const wqc_rans_params *p, wqc_rans_coded *out, wqc_error *err)
{
    const wqc_symbol_model *m = c->use;
    if (m->ntables == 1) return wqc_rans_encode_table(sym, f->nelem, &m->tables[0], p, out, err);
    wqc_rans_context ctx;
    wqc_status st = wqc_symbol_model_context(m, &f->q, tile, c->col_shift, &ctx, err);
    if (st == WQC_OK) st = wqc_rans_encode_context(sym, f->nelem, &ctx, p, out, err);
    wqc_symbol_model_context_free(&ctx);
    return st;
}

/* Descriptor bytes of a COLUMNS field holding these shifts. */
static double col_shift_field_bytes(const int8_t *shift, uint64_t cols)
{
    size_t len = wqc_col_shifts_bytes(shift, cols);
    return (double)len + 1.0 + (len < 128 ? 1 : len < 16384 ? 2 : 3);
}

/* Column shifts worth counting: some column of q sits a bin or more off
 * its rows' zero points. NULL otherwise (or without memory). */
static int8_t *col_shifts(const wqc_quantized *q, uint32_t resolution, int threads)
{
    if (resolution == 0 || q->ngroups < 2 || q->cols > WQC_COL_SHIFT_COLS_MAX) return NULL;
    int8_t *shift = malloc((size_t)q->cols);
    if (!shift) return NULL;
    wqc_symbol_model_col_shifts(q, resolution, threads, shift);
    for (uint64_t c = 0; c < q->cols; c++)
        if (shift[c]) return shift;
    free(shift);
    return NULL;
}

/* The context candidates with column shifts, at the model's resolution
 * and at a finer one (a shift of half a symbol pays where columns sit
 * between bins): out[2k] the own model, out[2k + 1] the shared one (when
 * `shared` is a candidate of that resolution). shift[k] gets the shifts
 * (the caller frees them), NULL where no column moves. */
static wqc_status shifted_candidates(const wqc_quantized *q, const bin_counts *own, const candidate *shared,
                                     const wqc_rans_params *p, int8_t *shift[2], candidate *out, wqc_error *err)
{
    const uint32_t resolution[2] = {own->resolution, WQC_COL_SHIFT_RESOLUTION};
    wqc_status st = WQC_OK;
    for (int k = 0; k < 2 && st == WQC_OK; k++) {
        uint32_t res = wqc_symbol_model_fit(q->alphabet, resolution[k]), nbins = wqc_symbol_model_nbins(q->alphabet, res);
        if ((k && res == own->resolution) || !nbins || !(shift[k] = col_shifts(q, res, p->threads))) continue;
        bin_counts shifted = {.resolution = res, .nbins = nbins};
        memcpy(shifted.all, own->all, sizeof own->all);
        shifted.per_bin = calloc(256 * (size_t)nbins, sizeof *shifted.per_bin);
        if (!shifted.per_bin) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        double field = col_shift_field_bytes(shift[k], q->cols);
        wqc_symbol_model_count_shifted(q, res, shift[k], p->threads, shifted.per_bin);
        candidate *mine = &out[2 * k], *theirs = &out[2 * k + 1];
        st = own_model(&shifted, 0, q->alphabet, p->precision, mine, err);
        mine->bytes += field;
        mine->col_shift = shift[k];
        if (st == WQC_OK && shared && shared->use->resolution == res) {
            *theirs = *shared;
            theirs->col_shift = shift[k];
            theirs->bytes = wqc_symbol_model_cost_bits(shared->use, shifted.per_bin) / 8 + 2 + field;
        }
        free(shifted.per_bin);
    }
    return st;
}

/* Bytes of the chunk lengths a descriptor stores (LEB128 each but the last). */
static double chunk_list_bytes(const wqc_rans_coded *c)
{
    double b = 0;
    for (uint64_t i = 0; i + 1 < c->nchunks; i++) b += c->chunk_bytes[i] < 128 ? 1 : c->chunk_bytes[i] < 16384 ? 2 : 3;
    return b;
}

uint64_t wqc_frame_symbol_bytes(const wqc_frame *f)
{
    if (f->encoding != WQC_ENC_RANS) return f->payload_len;
    const wqc_rans_context *ctx = &f->coded.ctx;
    return f->coded.payload_len + (uint64_t)chunk_list_bytes(&f->coded) +
           (f->shared_model ? 2u : (uint64_t)wqc_symbol_model_bytes(&f->model)) +
           (ctx->col_shift ? (uint64_t)col_shift_field_bytes(ctx->col_shift, ctx->cols) : 0u);
}

/* Tries a general-purpose coder on the symbols; keeps it in f when smaller
 * than `best` (only its size when estimating). */
static wqc_status try_bytes(wqc_frame *f, wqc_encoding codec, int level, int estimate_only, double *best,
                            void **scratch, int64_t *size, wqc_error *err)
{
    uint8_t *buf;
    size_t len;
    wqc_status st = wqc_byte_compress(codec, level, f->q.symbols, (size_t)f->nelem, &buf, &len, err);
    if (st != WQC_OK) return st;
    *size = (int64_t)len;
    if ((double)len < *best && estimate_only) {
        *best = (double)len;
        f->encoding = codec;
        free(buf);
    } else if ((double)len < *best) {
        free(*scratch);
        *scratch = buf;
        *best = (double)len;
        f->encoding = codec;
        f->payload = buf;
        f->payload_len = len;
    } else {
        free(buf);
    }
    return WQC_OK;
}

wqc_status wqc_encode_symbols(wqc_frame *f, const wqc_encode_options *o, wqc_mode_sizes *sizes, void **scratch,
                              wqc_error *err)
{
    wqc_mode_sizes local;
    if (!sizes) sizes = &local;
    for (int m = 0; m < WQC_MODE_COUNT; m++) sizes->bytes[m] = -1;
    sizes->shared_bytes = -1;
    *scratch = NULL;
    if (!f->quantized || !f->q.symbols) return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' has no symbols", f->name);
    if (o->gemv && (o->mode == WQC_MODE_BROTLI || o->mode == WQC_MODE_ZSTD || o->mode == WQC_MODE_LZMA))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "the gemv layout needs a rANS mode");
    wqc_rans_params p = o->rans;
    /* The gemv layout's tiles are the lanes: 8 to 32 rows, for the SIMD products. */
    p.lanes = wqc_rans_lanes_for(p.lanes, f->nelem, o->gemv ? WQC_RANS_SEARCHED_ALPHABET : f->q.alphabet);
    if (o->gemv && p.lanes < 8 && !o->rans.lanes) p.lanes = 8;
    uint32_t tile = 0;
    if (o->gemv) {
        tile = p.lanes;
        p.chunk = wqc_gemv_chunk(f->q.cols, tile, p.chunk);
        if (p.chunk == 0)
            return wqc_fail(err, WQC_ERR_UNSUPPORTED, "rows of %llu columns are too long for the gemv layout",
                            (unsigned long long)f->q.cols);
        if (wqc_gemv_check(&(wqc_rans_coded){.n = f->nelem, .lanes = p.lanes, .chunk = p.chunk, .nchunks = 1}, &f->q,
                           err) != WQC_OK)
            return WQC_ERR_UNSUPPORTED;
    }
    wqc_status st = wqc_rans_params_check(&p, err);
    if (st != WQC_OK) return st;
    double lane_bytes = 4.0 * p.lanes * (double)wqc_rans_chunk_count(f->nelem, p.chunk);

    /* The rANS candidates: own order-0, own context, the shared model, and
     * both context models again with column shifts at two resolutions. */
    enum { CANDIDATES = 7 };
    candidate c[CANDIDATES];
    memset(c, 0, sizeof c);
    int rans_wanted = o->mode == WQC_MODE_AUTO || o->mode == WQC_MODE_ORDER0 || o->mode == WQC_MODE_CONTEXT;
    const wqc_symbol_model *shared = rans_wanted && o->mode != WQC_MODE_ORDER0 ? shared_for(o, &f->q, &c[2].shared) : NULL;
    bin_counts own = {0}, other = {0};
    int8_t *shift[2] = {NULL, NULL};
    for (int i = 0; i < CANDIDATES; i++) c[i].bytes = INFINITY;
    WQC_TRACE("count bins", 0);
    if (rans_wanted) st = count_bins(&f->q, o->mode == WQC_MODE_ORDER0 ? 0 : o->resolution, p.threads, &own, err);
    else wqc_histogram(f->q.symbols, (size_t)f->nelem, own.all);
    WQC_TRACE("counted bins", 0);
    sizes->entropy_bits = wqc_entropy_bits(own.all, f->q.alphabet);
    if (st == WQC_OK && rans_wanted && o->mode != WQC_MODE_CONTEXT) st = own_model(&own, 1, f->q.alphabet, p.precision, &c[0], err);
    if (st == WQC_OK && rans_wanted && o->mode != WQC_MODE_ORDER0 && f->q.ngroups > 1)
        st = own_model(&own, 0, f->q.alphabet, p.precision, &c[1], err);
    if (st == WQC_OK && shared) {
        /* The shared model's resolution, counted again only if it differs. */
        const bin_counts *sc = &own;
        if (shared->resolution != own.resolution || (shared->resolution && !own.per_bin))
            st = count_bins(&f->q, shared->resolution, p.threads, &other, err), sc = &other;
        if (st == WQC_OK) {
            c[2].use = shared;
            c[2].bytes = wqc_symbol_model_cost_bits(shared, sc->per_bin ? sc->per_bin : sc->all) / 8 + 2;
        }
    }
    if (st == WQC_OK && isfinite(c[1].bytes) && !tile)
        st = shifted_candidates(&f->q, &own, c[2].use ? &c[2] : NULL, &p, shift, &c[3], err);
    WQC_TRACE("shifted", 0);
    free(own.per_bin);
    free(other.per_bin);
    if (st == WQC_OK && o->mode == WQC_MODE_CONTEXT && !isfinite(c[1].bytes) && !isfinite(c[2].bytes)) {
        /* Nothing to condition on: one table. */
        st = count_bins(&f->q, 0, p.threads, &own, err);
        if (st == WQC_OK) st = own_model(&own, 1, f->q.alphabet, p.precision, &c[0], err);
    }
    if (isfinite(c[0].bytes)) sizes->bytes[WQC_MODE_ORDER0] = (int64_t)llround(c[0].bytes + lane_bytes);
    double ctx_best = INFINITY, shared_best = INFINITY;
    for (int i = 1; i < CANDIDATES; i++) {
        ctx_best = fmin(ctx_best, c[i].bytes);
        if (c[i].shared) shared_best = fmin(shared_best, c[i].bytes);
    }
    if (isfinite(ctx_best)) sizes->bytes[WQC_MODE_CONTEXT] = (int64_t)llround(ctx_best + lane_bytes);
    if (isfinite(shared_best)) sizes->shared_bytes = (int64_t)llround(shared_best + lane_bytes);

    int pick = -1;
    for (int i = 0; i < CANDIDATES; i++)
        if (c[i].use && isfinite(c[i].bytes) && (pick < 0 || c[i].bytes < c[pick].bytes)) pick = i;
    /* Auto keeps order-0, whose decoder is faster, unless a context saves enough. */
    if (o->mode == WQC_MODE_AUTO && pick > 0 && c[0].use &&
        c[pick].bytes + lane_bytes > (1.0 - WQC_CONTEXT_MIN_SAVING) * (c[0].bytes + lane_bytes))
        pick = 0;
    double best = INFINITY;
    if (st == WQC_OK && pick >= 0 && o->estimate_only) {
        best = c[pick].bytes + lane_bytes;
        f->encoding = WQC_ENC_RANS;
        sizes->chosen = pick == 0 ? WQC_MODE_ORDER0 : WQC_MODE_CONTEXT;
    } else if (st == WQC_OK && pick >= 0) {
        const uint8_t *sym = f->q.symbols;
        uint8_t *tiled = NULL;
        if (tile) {
            tiled = malloc(f->nelem ? (size_t)f->nelem : 1);
            if (!tiled) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            else wqc_gemv_tile(f->q.symbols, f->q.rows, f->q.cols, tile, tiled), sym = tiled;
        }
        WQC_TRACE("rans code", pick);
        if (st == WQC_OK) st = rans_code(sym, f, &c[pick], tile, &p, &f->coded, err);
        WQC_TRACE("rans coded", pick);
        free(tiled);
        if (st == WQC_OK) {
            f->encoding = WQC_ENC_RANS;
            f->gemv_tile = tile;
            f->shared_model = c[pick].shared;
            if (!c[pick].shared) {
                f->model = c[pick].model;
                memset(&c[pick].model, 0, sizeof c[pick].model);
            }
            best = (double)wqc_frame_symbol_bytes(f);
            sizes->chosen = pick == 0 ? WQC_MODE_ORDER0 : WQC_MODE_CONTEXT;
            /* What the chosen mode writes, not its estimate. */
            sizes->bytes[sizes->chosen] = (int64_t)best;
            if (c[pick].shared) sizes->shared_bytes = (int64_t)best;
        }
    }
    for (int i = 0; i < CANDIDATES; i++) wqc_symbol_model_free(&c[i].model);
    free(shift[0]);
    free(shift[1]);

    /* The general-purpose coders: the one asked for, or in auto mode all
     * three peers where the probe finds structure they exploit (long
     * repeats, the previous symbol's information) and rANS does not. */
    wqc_encoding was = f->encoding;
    static const wqc_mode gp_mode[3] = {WQC_MODE_ZSTD, WQC_MODE_BROTLI, WQC_MODE_LZMA};
    if (st == WQC_OK && (o->mode == WQC_MODE_BROTLI || o->mode == WQC_MODE_ZSTD || o->mode == WQC_MODE_LZMA)) {
        wqc_encoding codec = o->mode == WQC_MODE_BROTLI ? WQC_ENC_BROTLI : o->mode == WQC_MODE_ZSTD ? WQC_ENC_ZSTD : WQC_ENC_LZMA;
        int level = o->mode == WQC_MODE_BROTLI ? o->brotli_quality : o->mode == WQC_MODE_ZSTD ? o->zstd_level : WQC_GP_LZMA_LEVEL;
        st = try_bytes(f, codec, level, o->estimate_only, &best, scratch, &sizes->bytes[o->mode], err);
    } else if (st == WQC_OK && o->mode == WQC_MODE_AUTO && !tile && f->nelem >= 256 && f->nelem <= WQC_MODE_GP_MAX) {
        wqc_byte_structure probe;
        wqc_byte_probe(f->q.symbols, (size_t)f->nelem, 1, &probe);
        size_t len = isfinite(best) ? (size_t)best : SIZE_MAX, gp[3];
        uint8_t *buf = NULL;
        wqc_encoding codec = f->encoding;
        if (wqc_byte_structured(&probe)) {
            st = wqc_byte_compress_best(f->q.symbols, (size_t)f->nelem, &codec, &buf, &len, gp, err);
            for (int i = 0; st == WQC_OK && i < 3; i++) sizes->bytes[gp_mode[i]] = (int64_t)gp[i];
        }
        if (st == WQC_OK && buf) {
            best = (double)len;
            f->encoding = codec;
            if (o->estimate_only) {
                free(buf);
            } else {
                free(*scratch);
                *scratch = buf;
                f->payload = buf;
                f->payload_len = len;
            }
        }
    }
    if (st == WQC_OK && f->encoding != was && was == WQC_ENC_RANS) {
        /* A general-purpose coder won: drop the rANS coding. */
        wqc_rans_coded_free(&f->coded);
        wqc_symbol_model_free(&f->model);
        f->shared_model = 0;
    }
    if (st == WQC_OK && f->encoding != WQC_ENC_RANS) sizes->chosen = wqc_frame_mode(f);
    if (st != WQC_OK || o->estimate_only) {
        wqc_encoded_free(f);
        free(*scratch);
        *scratch = NULL;
    }
    return st;
}

void wqc_encoded_free(wqc_frame *f)
{
    /* A split or GGUF frame's symbol chunks lie in its payload, the caller's scratch. */
    if (wqc_encoding_split(f->encoding) || f->encoding == WQC_ENC_GGUF) f->coded.payload = NULL;
    if (f->gguf_peaks) f->peak_coded.payload = NULL;
    wqc_rans_coded_free(&f->coded);
    wqc_symbol_model_free(&f->model);
    wqc_rans_coded_free(&f->peak_coded);
    wqc_symbol_model_free(&f->peak_model);
}
