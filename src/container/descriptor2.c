/* The format-2 tensor descriptor (docs/FORMAT.md): a fixed core (shape,
 * encoding, quantizer, scales, rANS description) with LEB128 integers, then
 * extension fields (u8 tag with the critical bit, LEB128 length, value). */
#include <math.h>
#include <stdlib.h>

#include "../lossless/gguf_peaks.h"
#include "../lossless/row_tables.h"
#include "../symbol_model/col_shift_field.h"
#include "../symbol_model/describe.h"
#include "format.h"
#include "wqc/lossless.h"
#include "wqc/gguf.h"
#include "scales.h"
#include "split_streams.h"
#include "wqc/gemv.h"

void wqc_descriptor_free(wqc_frame *f)
{
    free((char *)f->name);
    free(f->q.scale);
    free(f->q.offset);
    f->coded.payload = NULL; /* the file's bytes */
    f->peak_coded.payload = NULL;
    wqc_rans_coded_free(&f->coded);
    wqc_symbol_model_free(&f->model);
    wqc_rans_coded_free(&f->peak_coded);
    wqc_symbol_model_free(&f->peak_model);
    memset(f, 0, sizeof *f);
}

/* Format 1 has one table per tensor: an order-0 model. */


static void matrix_view(const wqc_frame *f, uint64_t *rows, uint64_t *cols)
{
    wqc_shape_matrix(f->ndim, f->shape, f->nelem, rows, cols);
}

/* The alphabet a quantizer implies, or 0 when the descriptor must say it. */
static uint32_t implied_alphabet(wqc_quant_method method, int bits)
{
    if (method == WQC_QUANT_AFFINE) return 1u << bits;
    if (method == WQC_QUANT_SDCLIP) return (1u << bits) - 1;
    return 0;
}

/* A rANS stream's description: precision, lanes, chunk layout, then its
 * model (a shared model's index, or the model inline: `model` when it has
 * tables, else the stream's order-0 table). */
static wqc_status write_rans_stream(const wqc_rans_coded *c, const wqc_symbol_model *model, uint32_t shared_model,
                                    uint32_t alphabet, const char *name, wqc_bytes *v, wqc_error *err)
{
    wqc_bytes_u8(v, (uint8_t)c->table.precision);
    wqc_bytes_varint(v, c->lanes);
    wqc_bytes_varint(v, c->nchunks > 1 ? c->chunk : 0);
    for (uint64_t i = 0; i + 1 < c->nchunks; i++) wqc_bytes_varint(v, c->chunk_bytes[i]);
    if (shared_model) {
        wqc_bytes_u8(v, WQC2_MODEL_SHARED);
        wqc_bytes_varint(v, shared_model - 1);
        return WQC_OK;
    }
    /* A stream coded with wqc_rans_encode alone: its table is an order-0 model. */
    wqc_symbol_model order0 = wqc_symbol_model_order0(&c->table);
    const wqc_symbol_model *m = model->ntables ? model : &order0;
    if (m->alphabet != alphabet || m->precision != c->table.precision)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s': its model does not fit its symbols", name);
    wqc_bytes_u8(v, WQC2_MODEL_INLINE);
    wqc_bytes d = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &d);
    wqc_symbol_model_write(&e, m);
    wqc_rc_enc_finish(&e);
    wqc_bytes_varint(v, d.len);
    wqc_bytes_put(v, d.data, d.len);
    if (d.failed) v->failed = 1;
    wqc_bytes_free(&d);
    return WQC_OK;
}

static wqc_status write_rans(const wqc_frame *f, wqc_bytes *v, wqc_error *err)
{
    return write_rans_stream(&f->coded, &f->model, f->shared_model, f->q.alphabet, f->name, v, err);
}

/* An extension field: u8 tag (with the critical bit), varint length, value. */
static void field(wqc_bytes *b, uint8_t tag, wqc_bytes *value)
{
    wqc_bytes_u8(b, tag);
    wqc_bytes_varint(b, value->len);
    wqc_bytes_put(b, value->data, value->len);
    value->len = 0;
}

wqc_status wqc_descriptor2_write(const wqc_frame *f, wqc_bytes *out, wqc_error *err)
{
    wqc_status st = WQC_OK;
    wqc_bytes_u8(out, (uint8_t)f->dtype);
    wqc_bytes_u8(out, (uint8_t)f->ndim);
    for (int d = 0; d < f->ndim; d++) wqc_bytes_varint(out, f->shape[d]);
    wqc_bytes_u8(out, (uint8_t)(f->encoding | (f->quantized ? WQC2_QUANTIZED : 0)));
    wqc_bytes v = {0};
    const wqc_quant_params *p = &f->quant;
    if (f->quantized) {
        uint64_t rows, cols;
        matrix_view(f, &rows, &cols);
        if (f->q.rows != rows || f->q.cols != cols)
            st = wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s': symbols are not the matrix view of its shape",
                          f->name);
        int explicit_alphabet = implied_alphabet(p->method, f->q.bits) != f->q.alphabet;
        wqc_bytes_u8(out, (uint8_t)(p->method | p->granularity << 2 | (f->q.bits - 1) << 4 | explicit_alphabet << 7));
        wqc_bytes_varint(out, p->group_size);
        if (explicit_alphabet) wqc_bytes_varint(out, f->q.alphabet);
        if (st == WQC_OK) st = wqc_scales_write(p, &f->q, &v, err);
        wqc_bytes_varint(out, v.len);
        wqc_bytes_put(out, v.data, v.len);
        v.len = 0;
    }
    if (st == WQC_OK && f->encoding == WQC_ENC_RANS) st = write_rans(f, out, err);
    if (st == WQC_OK && f->encoding == WQC_ENC_GGUF) {
        /* The ggml type, the codes' rANS payload length and description, then the fields. */
        uint32_t alphabet, nfields, flen[WQC_GGUF_STREAMS_MAX];
        if (!wqc_gguf_layout(f->ggml_type, &alphabet, &nfields, flen))
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s': ggml type %u is not split", f->name, f->ggml_type);
        wqc_bytes_varint(out, f->ggml_type | (f->gguf_peaks ? WQC2_GGUF_PEAKS : 0));
        wqc_bytes_varint(out, f->coded.payload_len);
        if (f->gguf_peaks) {
            wqc_bytes_varint(out, f->gguf_peaks);
            wqc_bytes_varint(out, f->peak_coded.payload_len);
        }
        st = write_rans(f, out, err);
        if (st == WQC_OK && f->gguf_peaks)
            st = write_rans_stream(&f->peak_coded, &f->peak_model, f->peak_shared_model, WQC_GGUF_PEAK_ALPHABET, f->name,
                                   out, err);
        for (uint32_t k = 0; k < nfields; k++) {
            wqc_bytes_u8(out, f->rest_coding[k]);
            wqc_bytes_varint(out, f->rest_len[k]);
        }
    }
    if (st == WQC_OK && wqc_encoding_split(f->encoding)) {
        /* The symbols' rANS payload length and description, (e8m3) the
         * base, then the rest streams. */
        wqc_bytes_varint(out, f->coded.payload_len);
        st = write_rans(f, out, err);
        if (f->encoding == WQC_ENC_SPLIT_E8M3) wqc_bytes_u8(out, f->split_base);
        for (unsigned k = 0; k < split_rest_count(f); k++) {
            wqc_bytes_u8(out, f->rest_coding[k]);
            /* split-e8m3's exceptions: their length even raw. */
            if (f->rest_coding[k] != WQC_ENC_RAW || (f->encoding == WQC_ENC_SPLIT_E8M3 && k == 2))
                wqc_bytes_varint(out, f->rest_len[k]);
        }
    }
    /* Extensions. k and step as the quantizer had them, when not the defaults. */
    int k = f->quantized && p->k != WQC_SDCLIP_MATRIX_K, step = f->quantized && p->step != 0.0;
    if (k || step) {
        wqc_bytes_u8(&v, (uint8_t)(k | step << 1));
        if (k) wqc_bytes_f64(&v, p->k);
        if (step) wqc_bytes_f64(&v, p->step);
        field(out, WQC2_FIELD_QPARAM, &v);
    }
    if (f->encoding == WQC_ENC_RANS && f->gemv_tile) {
        wqc_bytes_u8(&v, WQC_LAYOUT_GEMV);
        wqc_bytes_varint(&v, f->gemv_tile);
        field(out, WQC2_FIELD_LAYOUT | WQC2_FIELD_CRITICAL, &v);
    }
    if (wqc_encoding_split(f->encoding) && f->coded.ctx.ntables > 1 && f->table_tile) {
        wqc_tile_tables_write(&f->coded.ctx, f->table_tile, &v);
        field(out, WQC2_FIELD_TILES | WQC2_FIELD_CRITICAL, &v);
    } else if (wqc_encoding_split(f->encoding) && f->coded.ctx.ntables > 1) {
        wqc_row_tables_write(&f->coded.ctx, &v);
        field(out, WQC2_FIELD_ROWS | WQC2_FIELD_CRITICAL, &v);
    }
    if ((f->encoding == WQC_ENC_RANS || wqc_encoding_split(f->encoding)) && f->coded.ctx.col_shift) {
        wqc_col_shifts_write(f->coded.ctx.col_shift, f->coded.ctx.cols, &v);
        field(out, WQC2_FIELD_COLUMNS | WQC2_FIELD_CRITICAL, &v);
    }
    int failed = v.failed || out->failed;
    wqc_bytes_free(&v);
    if (st != WQC_OK) return st;
    return failed ? wqc_fail(err, WQC_ERR_NOMEM, "out of memory") : WQC_OK;
}

#define BAD(...) wqc_fail(err, WQC_ERR_FORMAT, __VA_ARGS__)

static wqc_status read_shape(wqc_cursor *c, wqc_frame *f, wqc_error *err)
{
    uint8_t dtype = wqc_cursor_u8(c), ndim = wqc_cursor_u8(c);
    if (dtype >= WQC_DTYPE_COUNT || ndim > WQC_MAX_DIMS) return BAD("bad shape");
    f->dtype = (wqc_dtype)dtype;
    f->ndim = ndim;
    f->nelem = 1;
    for (int d = 0; d < ndim; d++) {
        f->shape[d] = wqc_cursor_varint(c);
        if (f->shape[d] && f->nelem > WQC_DECODED_MAX / f->shape[d])
            return wqc_fail(err, WQC_ERR_LIMIT, "tensor has more than 2^36 elements");
        f->nelem *= f->shape[d];
    }
    return c->failed ? BAD("bad shape") : WQC_OK;
}

static wqc_status read_quant(wqc_cursor *c, wqc_frame *f, wqc_error *err)
{
    wqc_quant_params *p = &f->quant;
    uint8_t packed = wqc_cursor_u8(c);
    unsigned method = packed & 3, gran = packed >> 2 & 3, bits = (packed >> 4 & 7) + 1;
    uint64_t group = wqc_cursor_varint(c);
    uint64_t alphabet = packed & 0x80 ? wqc_cursor_varint(c) : implied_alphabet((wqc_quant_method)method, (int)bits);
    if (c->failed || gran > WQC_GRAN_GROUP || (gran == WQC_GRAN_GROUP && group == 0) || group > UINT32_MAX ||
        alphabet < 1 || alphabet > (1u << bits))
        return BAD("bad quantizer description");
    p->method = (wqc_quant_method)method;
    p->bits = f->q.bits = (int)bits;
    p->granularity = (wqc_granularity)gran;
    p->group_size = (uint32_t)group;
    f->q.alphabet = (uint32_t)alphabet;
    f->quantized = 1;
    return WQC_OK;
}

/* A rANS stream's description (write_rans_stream), read in place, for n symbols of the
 * alphabet in payload_len bytes: the chunk layout into *c, the model into
 * *model (*shared_model: 0 inline, k + 1 for shared model k). */
static wqc_status read_rans_stream(wqc_cursor *cur, const wqc_symbol_model *shared, size_t nshared, uint32_t alphabet,
                                   uint64_t n, uint64_t payload_len, wqc_rans_coded *c, wqc_symbol_model *model,
                                   uint32_t *shared_model, wqc_error *err)
{
    int precision = wqc_cursor_u8(cur);
    uint64_t lanes = wqc_cursor_varint(cur), chunk = wqc_cursor_varint(cur);
    /* 0: the stream is one chunk (its length then says nothing more). */
    if (chunk == 0) chunk = n < WQC_RANS_CHUNK_MIN ? WQC_RANS_CHUNK_MIN : n;
    wqc_rans_params p = {precision, (uint32_t)lanes, (uint32_t)(chunk > UINT32_MAX ? 0 : chunk), 1};
    if (cur->failed || lanes > UINT32_MAX || wqc_rans_params_check(&p, NULL) != WQC_OK)
        return BAD("bad rANS description");
    c->lanes = (uint32_t)lanes;
    c->chunk = (uint32_t)chunk;
    c->n = n;
    c->nchunks = wqc_rans_chunk_count(c->n, c->chunk);
    if (c->nchunks > (uint64_t)(cur->end - cur->p) + 1) return BAD("bad rANS description: more chunks than bytes");
    c->chunk_bytes = malloc(c->nchunks ? c->nchunks * sizeof(uint32_t) : 1);
    if (!c->chunk_bytes) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    uint64_t sum = 0;
    for (uint64_t i = 0; i < c->nchunks; i++) {
        uint64_t k = c->n - i * c->chunk < c->chunk ? c->n - i * c->chunk : c->chunk;
        uint64_t bytes = i + 1 < c->nchunks ? wqc_cursor_varint(cur) : payload_len - sum;
        if (cur->failed || sum > payload_len || bytes < 4ull * c->lanes ||
            bytes > wqc_rans_chunk_bound((size_t)k, c->lanes))
            return BAD("chunk %llu has an impossible length", (unsigned long long)i);
        c->chunk_bytes[i] = (uint32_t)bytes;
        sum += bytes;
    }
    if (sum != payload_len) return BAD("chunk lengths do not add up to the payload");
    int source = wqc_cursor_u8(cur);
    if (source == WQC2_MODEL_SHARED) {
        uint64_t k = wqc_cursor_varint(cur);
        if (cur->failed || k >= nshared) return BAD("bad rANS description: no shared model %llu", (unsigned long long)k);
        if (shared[k].alphabet != alphabet || shared[k].precision != precision)
            return BAD("shared model %llu does not fit the tensor's alphabet or precision", (unsigned long long)k);
        *shared_model = (uint32_t)k + 1;
        return wqc_symbol_model_copy(&shared[k], model, err);
    }
    if (source != WQC2_MODEL_INLINE) return BAD("bad rANS description: unknown model source");
    uint64_t len = wqc_cursor_varint(cur);
    const uint8_t *m = len <= (uint64_t)(cur->end - cur->p) ? wqc_cursor_take(cur, (size_t)len) : NULL;
    if (!m) return BAD("bad rANS description: truncated model");
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, m, (size_t)len);
    return wqc_symbol_model_read(&d, alphabet, precision, model, err);
}

static wqc_status read_rans(wqc_cursor *cur, const wqc_symbol_model *shared, size_t nshared, uint64_t payload_len,
                            wqc_frame *f, wqc_error *err)
{
    /* A GGUF frame's codes leave its block peaks out. */
    return read_rans_stream(cur, shared, nshared, f->q.alphabet, f->nelem - f->gguf_peaks, payload_len, &f->coded,
                            &f->model, &f->shared_model, err);
}

/* A GGUF frame's peak symbols, one a block: their description after the
 * codes', their payload after the codes' sym_len bytes. */
static wqc_status read_peaks(wqc_cursor *cur, const wqc_symbol_model *shared, size_t nshared, const uint8_t *payload,
                             uint64_t sym_len, uint64_t peaks_len, wqc_frame *f, wqc_error *err)
{
    wqc_rans_coded *c = &f->peak_coded;
    wqc_status st = read_rans_stream(cur, shared, nshared, WQC_GGUF_PEAK_ALPHABET, f->nelem / WQC_GGUF_PEAK_BLOCK,
                                     peaks_len, c, &f->peak_model, &f->peak_shared_model, err);
    if (st != WQC_OK) return st;
    if (f->peak_model.ntables != 1) return BAD("peak symbols with a context model");
    c->table = f->peak_model.tables[0];
    c->payload = (uint8_t *)payload + sym_len;
    c->payload_len = peaks_len;
    return wqc_rans_coded_index(c, err);
}

/* A split frame's COLUMNS field: shifts over the bins of its ROWS field,
 * each bin its own table. */
static wqc_status split_shifts(wqc_frame *f, int8_t *col_shift, wqc_error *err)
{
    wqc_rans_context *ctx = &f->coded.ctx;
    if (ctx->ntables < 2 || f->table_tile || ctx->ngroups != ctx->rows || ctx->group_len != ctx->cols) {
        free(col_shift);
        return BAD("COLUMNS field of a split frame without a ROWS field");
    }
    ctx->bin_table = malloc(ctx->ntables);
    if (!ctx->bin_table) {
        free(col_shift);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    for (uint32_t b = 0; b < ctx->ntables; b++) ctx->bin_table[b] = (uint8_t)b;
    ctx->nbins = ctx->ntables;
    ctx->col_shift = col_shift;
    return wqc_rans_context_check(ctx, err) == WQC_OK ? WQC_OK : wqc_fail_context(err, WQC_ERR_FORMAT, "bad COLUMNS field");
}

/* What the rANS description needs from the rest: the tables ready to decode
 * (a context when the model has several), the layout checked. */
static wqc_status ready_rans(wqc_frame *f, const uint8_t *payload, uint64_t payload_len, wqc_error *err)
{
    wqc_rans_coded *c = &f->coded;
    c->table = f->model.tables[0];
    int8_t *col_shift = c->ctx.col_shift;
    c->ctx.col_shift = NULL;
    if (col_shift && wqc_encoding_split(f->encoding)) {
        wqc_status st = split_shifts(f, col_shift, err);
        if (st != WQC_OK) return st;
        col_shift = NULL;
    }
    if (col_shift && (f->model.ntables < 2 || f->gemv_tile || f->q.ngroups < 2)) {
        free(col_shift);
        return BAD("COLUMNS field without a context model of groups, or with LAYOUT");
    }
    if (f->model.ntables > 1) {
        wqc_rans_context ctx;
        wqc_status st = wqc_symbol_model_context(&f->model, &f->q, f->gemv_tile, col_shift, &ctx, err);
        free(col_shift);
        if (st != WQC_OK) return st;
        c->ctx = ctx;
        c->ctx.tables = malloc(ctx.ntables * sizeof *ctx.tables);
        if (!c->ctx.tables) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        memcpy(c->ctx.tables, f->model.tables, ctx.ntables * sizeof *ctx.tables);
    }
    if (f->gemv_tile && (f->gemv_tile != c->lanes || wqc_gemv_check(c, &f->q, NULL) != WQC_OK))
        return BAD("bad LAYOUT field: tiles must be the lanes, scales per tensor or row, chunks whole tiles");
    c->payload = (uint8_t *)payload;
    c->payload_len = payload_len;
    return wqc_rans_coded_index(c, err);
}


static wqc_status read_scales(const uint8_t *in, uint64_t len, wqc_frame *f, wqc_error *err)
{
    uint64_t rows, cols;
    matrix_view(f, &rows, &cols);
    f->q.rows = rows;
    f->q.cols = cols;
    wqc_quant_group_layout(&f->quant, rows, cols, &f->q.ngroups, &f->q.group_len);
    wqc_status st = wqc_scales_read(in, (size_t)len, &f->quant, &f->q, err);
    for (uint64_t g = 0; st == WQC_OK && g < f->q.ngroups; g++)
        /* No quantizer writes them, and NaN payloads could differ between
         * decoder ISAs: refuse rather than decode them. */
        if (!isfinite(f->q.scale[g]) || !isfinite(f->q.offset[g])) return BAD("non-finite scale or offset");
    return st;
}

/* The rest streams of a SPLIT tensor: a coding byte each (and a length
 * unless raw, whose length is the element count), filling the payload after
 * the symbols' sym_len bytes exactly. */
static wqc_status read_rest(wqc_cursor *c, uint64_t sym_len, uint64_t payload_len, wqc_frame *f, wqc_error *err)
{
    uint64_t at = sym_len;
    if (f->encoding == WQC_ENC_SPLIT_E8M3) {
        f->split_base = wqc_cursor_u8(c);
        if (c->failed || f->split_base > WQC_E8M3_BASE_MAX) return BAD("bad split-e8m3 description: base");
    }
    for (unsigned k = 0; k < split_rest_count(f); k++) {
        /* split-e8m3's exceptions: raw, their length given. */
        int exceptions = f->encoding == WQC_ENC_SPLIT_E8M3 && k == 2;
        uint8_t coding = wqc_cursor_u8(c);
        uint64_t len = coding == WQC_ENC_RAW && !exceptions ? split_rest_bytes(f, k) : wqc_cursor_varint(c);
        if (c->failed || (coding != WQC_ENC_RAW && (coding != WQC_ENC_ZSTD || exceptions)) || len > payload_len - at)
            return BAD("bad split description: rest stream %u", k);
        f->rest_coding[k] = coding;
        f->rest_len[k] = len;
        at += len;
    }
    return at == payload_len ? WQC_OK : BAD("split streams do not add up to the payload");
}

/* A GGUF frame's description after its encoding byte: the ggml type (and
 * the peaks flag), the codes' length, with peaks their count and their
 * stream's length (before the rANS descriptions), then its fields. */
static wqc_status read_gguf_head(wqc_cursor *c, uint64_t payload_len, wqc_frame *f, uint64_t *sym_len,
                                 uint64_t *peaks_len, wqc_error *err)
{
    uint64_t word = wqc_cursor_varint(c), type = word & (WQC2_GGUF_PEAKS - 1);
    uint32_t alphabet, nfields, flen[WQC_GGUF_STREAMS_MAX], bw, bb;
    if (!c->failed && word >= 2 * WQC2_GGUF_PEAKS)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': GGUF frame flags %llu (written by a newer wqc?)", f->name,
                        (unsigned long long)(word / WQC2_GGUF_PEAKS));
    int peaks = (word & WQC2_GGUF_PEAKS) != 0;
    if (c->failed || !wqc_gguf_layout((uint32_t)type, &alphabet, &nfields, flen) ||
        !wqc_ggml_type_block((uint32_t)type, &bw, &bb) || (peaks && !wqc_gguf_has_peaks((uint32_t)type)))
        return BAD("bad GGUF description: ggml type");
    if (f->quantized || f->dtype != WQC_DTYPE_U8 || f->nelem % bw) return BAD("bad GGUF description: shape");
    f->ggml_type = (uint32_t)type;
    f->q.alphabet = alphabet;
    *sym_len = wqc_cursor_varint(c);
    if (peaks) {
        f->gguf_peaks = wqc_cursor_varint(c);
        *peaks_len = wqc_cursor_varint(c);
        if (c->failed || f->gguf_peaks == 0 || f->gguf_peaks > f->nelem / bw || *sym_len > payload_len ||
            *peaks_len > payload_len - *sym_len)
            return BAD("bad GGUF description: peaks");
    }
    return c->failed || *sym_len > payload_len ? BAD("bad GGUF description") : WQC_OK;
}

static wqc_status read_gguf_fields(wqc_cursor *c, uint64_t sym_len, uint64_t payload_len, wqc_frame *f,
                                   wqc_error *err)
{
    uint32_t alphabet, nfields, flen[WQC_GGUF_STREAMS_MAX], bw, bb;
    wqc_gguf_layout(f->ggml_type, &alphabet, &nfields, flen);
    wqc_ggml_type_block(f->ggml_type, &bw, &bb);
    uint64_t at = sym_len + f->peak_coded.payload_len, blocks = f->nelem / bw;
    for (uint32_t k = 0; k < nfields; k++) {
        uint8_t coding = wqc_cursor_u8(c);
        uint64_t len = wqc_cursor_varint(c);
        int known = coding == WQC_FIELD_RAW || coding == WQC_FIELD_ZSTD ||
                    ((coding == WQC_FIELD_HALVES || coding == WQC_FIELD_HALVES_RANS) &&
                     wqc_gguf_field_halves(f->ggml_type, k));
        if (c->failed || !known || len > payload_len - at || (coding == WQC_FIELD_RAW && len != blocks * flen[k]))
            return BAD("bad GGUF description: field %u", k);
        f->rest_coding[k] = coding;
        f->rest_len[k] = len;
        at += len;
    }
    return at == payload_len ? WQC_OK : BAD("GGUF streams do not add up to the payload");
}

/* The extension fields after the core. */
static wqc_status read_extensions(wqc_cursor *c, wqc_frame *f, wqc_error *err)
{
    unsigned seen = 0;
    while (c->p < c->end) {
        uint8_t tag = wqc_cursor_u8(c), id = tag & ~WQC2_FIELD_CRITICAL;
        uint64_t flen = wqc_cursor_varint(c);
        const uint8_t *value = flen <= (uint64_t)(c->end - c->p) ? wqc_cursor_take(c, (size_t)flen) : NULL;
        if (c->failed || !value) return BAD("truncated or malformed descriptor field");
        if (id < 32 && (seen & (1u << id))) return BAD("descriptor field %u repeated", id);
        if (id < 32) seen |= 1u << id;
        wqc_cursor v = {value, value + flen, 0};
        if (id == WQC2_FIELD_QPARAM && f->quantized) {
            uint8_t mask = wqc_cursor_u8(&v);
            if (mask & 1) f->quant.k = wqc_cursor_f64(&v);
            if (mask & 2) f->quant.step = wqc_cursor_f64(&v);
            if (v.failed || v.p != v.end || mask > 3 || !isfinite(f->quant.k) || !isfinite(f->quant.step))
                return BAD("bad QPARAM field");
        } else if (id == WQC2_FIELD_LAYOUT && f->encoding == WQC_ENC_RANS) {
            uint8_t layout = wqc_cursor_u8(&v);
            uint64_t tile = wqc_cursor_varint(&v);
            if (v.failed || v.p != v.end || layout != WQC_LAYOUT_GEMV || tile == 0 || tile > WQC_RANS_LANES_MAX)
                return BAD("bad LAYOUT field");
            f->gemv_tile = (uint32_t)tile;
        } else if ((id == WQC2_FIELD_ROWS || id == WQC2_FIELD_TILES) && wqc_encoding_split(f->encoding)) {
            uint64_t rows, cols;
            matrix_view(f, &rows, &cols);
            if (f->model.ntables != 1 || f->coded.ctx.ntables || f->coded.ctx.col_shift)
                return BAD("ROWS or TILES field beside a context model, or after COLUMNS");
            wqc_status st = id == WQC2_FIELD_ROWS
                                ? wqc_row_tables_read(value, (size_t)flen, &f->model.tables[0], rows, cols, &f->coded.ctx, err)
                                : wqc_tile_tables_read(value, (size_t)flen, &f->model.tables[0], rows, cols, &f->coded.ctx,
                                                       &f->table_tile, err);
            if (st != WQC_OK) return st;
        } else if (id == WQC2_FIELD_COLUMNS && (f->encoding == WQC_ENC_RANS || wqc_encoding_split(f->encoding))) {
            uint64_t rows, cols;
            matrix_view(f, &rows, &cols);
            /* Held here until ready_rans makes the context. */
            wqc_status st = wqc_col_shifts_read(value, (size_t)flen, cols, &f->coded.ctx.col_shift, err);
            if (st != WQC_OK) return st;
        } else if (tag & WQC2_FIELD_CRITICAL) {
            return wqc_fail(err, WQC_ERR_UNSUPPORTED, "unknown critical descriptor field %u", id);
        }
    }
    return WQC_OK;
}

wqc_status wqc_descriptor2_read(const uint8_t *desc, uint64_t len, const uint8_t *payload, uint64_t payload_len,
                                const wqc_symbol_model *shared, size_t nshared, wqc_frame *f, wqc_error *err)
{
    wqc_cursor c = {desc, desc + len, 0};
    f->quant.k = WQC_SDCLIP_MATRIX_K;
    f->quant.step = 0.0;
    wqc_status st = read_shape(&c, f, err);
    if (st != WQC_OK) return st;
    uint8_t enc = wqc_cursor_u8(&c);
    f->encoding = (wqc_encoding)(enc & ~WQC2_QUANTIZED);
    if (c.failed) return BAD("bad encoding");
    if (f->encoding > WQC_ENC_SPLIT_E8M3)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "unknown encoding %u (written by a newer wqc?)", (unsigned)f->encoding);
    const uint8_t *scales = NULL;
    uint64_t scales_len = 0;
    if (enc & WQC2_QUANTIZED) {
        st = read_quant(&c, f, err);
        if (st != WQC_OK) return st;
        scales_len = wqc_cursor_varint(&c);
        scales = scales_len <= (uint64_t)(c.end - c.p) ? wqc_cursor_take(&c, (size_t)scales_len) : NULL;
        if (!scales) return BAD("truncated scales");
    }
    if (f->encoding == WQC_ENC_RANS && !f->quantized) return BAD("rANS coding of a tensor that is not quantized");
    if (f->encoding == WQC_ENC_FLOATS && (f->quantized || !wqc_dtype_is_float(f->dtype)))
        return BAD("float coding of a tensor that is not a float tensor");
    if ((f->encoding == WQC_ENC_SPLIT) && (f->quantized || !wqc_split_dtype(f->dtype)))
        return BAD("split coding of a tensor that is not a float tensor");
    if (f->encoding == WQC_ENC_SPLIT_E8M3 && (f->quantized || f->dtype != WQC_DTYPE_BF16))
        return BAD("split-e8m3 coding of a tensor that is not BF16");
    uint64_t sym_len = payload_len, peaks_len = 0;
    /* SPLIT and GGUF: a rANS symbol stream of sym_len bytes, then more streams. */
    int streams = wqc_encoding_split(f->encoding) || f->encoding == WQC_ENC_GGUF;
    if (f->encoding == WQC_ENC_GGUF) {
        st = read_gguf_head(&c, payload_len, f, &sym_len, &peaks_len, err);
        if (st != WQC_OK) return st;
    }
    if (wqc_encoding_split(f->encoding)) {
        f->q.alphabet = 256;
        sym_len = wqc_cursor_varint(&c);
        if (c.failed || sym_len > payload_len) return BAD("bad split description");
    }
    if (f->encoding == WQC_ENC_RANS || streams) st = read_rans(&c, shared, nshared, sym_len, f, err);
    if (st == WQC_OK && wqc_encoding_split(f->encoding)) st = read_rest(&c, sym_len, payload_len, f, err);
    if (st == WQC_OK && f->gguf_peaks) st = read_peaks(&c, shared, nshared, payload, sym_len, peaks_len, f, err);
    if (st == WQC_OK && f->encoding == WQC_ENC_GGUF) st = read_gguf_fields(&c, sym_len, payload_len, f, err);
    if (st == WQC_OK) st = read_extensions(&c, f, err);
    if (st == WQC_OK && f->quantized) st = read_scales(scales, scales_len, f, err);
    if (st != WQC_OK) return st;
    f->raw_len = f->encoding == WQC_ENC_GGUF ? wqc_gguf_tensor_bytes(f->ggml_type, f->nelem)
                 : f->quantized              ? f->nelem
                                             : f->nelem * wqc_dtype_size(f->dtype);
    if (f->encoding == WQC_ENC_RANS) return ready_rans(f, payload, payload_len, err);
    if (streams) {
        if (f->model.ntables != 1)
            return BAD("%s coding with a context model", wqc_encoding_name(f->encoding));
        st = ready_rans(f, payload, sym_len, err);
    }
    if (st != WQC_OK) return st;
    if (f->encoding == WQC_ENC_RAW && payload_len != f->raw_len) return BAD("raw payload has the wrong size");
    f->payload = payload;
    f->payload_len = payload_len;
    return WQC_OK;
}
