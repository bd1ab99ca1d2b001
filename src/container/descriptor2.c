/* The format-2 tensor descriptor: typed fields (u8 tag with the critical bit,
 * LEB128 length, value), integers as LEB128 (docs/FORMAT.md). */
#include <math.h>
#include <stdlib.h>

#include "../symbol_model/describe.h"
#include "format.h"
#include "scales.h"
#include "wqc/gemv.h"

static void field(wqc_bytes *b, uint8_t tag, wqc_bytes *value)
{
    wqc_bytes_u8(b, tag);
    wqc_bytes_varint(b, value->len);
    wqc_bytes_put(b, value->data, value->len);
    value->len = 0;
}

/* rows and cols of the matrix view of a shape (wqc/quant.h). */
static void matrix_view(const wqc_frame *f, uint64_t *rows, uint64_t *cols)
{
    *rows = f->ndim >= 2 ? f->shape[0] : 1;
    *cols = 1;
    for (int d = f->ndim >= 2 ? 1 : 0; d < f->ndim; d++) *cols *= f->shape[d];
    if (f->nelem == 0) *rows = *cols = 0;
}

static wqc_status write_rans(const wqc_frame *f, wqc_bytes *v, wqc_error *err)
{
    const wqc_rans_coded *c = &f->coded;
    wqc_bytes_u8(v, (uint8_t)c->table.precision);
    wqc_bytes_varint(v, c->lanes);
    wqc_bytes_varint(v, c->chunk);
    for (uint64_t i = 0; i + 1 < c->nchunks; i++) wqc_bytes_varint(v, c->chunk_bytes[i]);
    if (f->shared_model) {
        wqc_bytes_u8(v, WQC2_MODEL_SHARED);
        wqc_bytes_varint(v, f->shared_model - 1);
        return WQC_OK;
    }
    /* A frame coded with wqc_rans_encode alone: its table is an order-0 model. */
    wqc_symbol_model order0 = {.precision = c->table.precision, .alphabet = c->table.alphabet, .nbins = 1,
                               .ntables = 1, .tables = (wqc_rans_table *)&c->table};
    const wqc_symbol_model *m = f->model.ntables ? &f->model : &order0;
    if (m->alphabet != f->q.alphabet || m->precision != c->table.precision)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s': its model does not fit its symbols", f->name);
    wqc_bytes_u8(v, WQC2_MODEL_INLINE);
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, v);
    wqc_symbol_model_write(&e, m);
    wqc_rc_enc_finish(&e);
    return WQC_OK;
}

wqc_status wqc_descriptor2_write(const wqc_frame *f, wqc_bytes *out, wqc_error *err)
{
    wqc_bytes v = {0};
    wqc_status st = WQC_OK;
    wqc_bytes_u8(&v, (uint8_t)f->dtype);
    wqc_bytes_u8(&v, (uint8_t)f->ndim);
    for (int d = 0; d < f->ndim; d++) wqc_bytes_varint(&v, f->shape[d]);
    field(out, WQC2_FIELD_SHAPE | WQC2_FIELD_CRITICAL, &v);
    wqc_bytes_u8(&v, (uint8_t)f->encoding);
    field(out, WQC2_FIELD_ENCODING | WQC2_FIELD_CRITICAL, &v);
    if (f->quantized) {
        uint64_t rows, cols;
        matrix_view(f, &rows, &cols);
        if (f->q.rows != rows || f->q.cols != cols)
            st = wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s': symbols are not the matrix view of its shape",
                          f->name);
        const wqc_quant_params *p = &f->quant;
        wqc_bytes_u8(&v, (uint8_t)p->method);
        wqc_bytes_u8(&v, (uint8_t)f->q.bits);
        wqc_bytes_u8(&v, (uint8_t)p->granularity);
        wqc_bytes_varint(&v, p->group_size);
        wqc_bytes_varint(&v, f->q.alphabet);
        field(out, WQC2_FIELD_QUANT | WQC2_FIELD_CRITICAL, &v);
        /* k and step as the quantizer had them, when not the defaults. */
        int k = p->k != WQC_SDCLIP_MATRIX_K, step = p->step != 0.0;
        if (k || step) {
            wqc_bytes_u8(&v, (uint8_t)(k | step << 1));
            if (k) wqc_bytes_f64(&v, p->k);
            if (step) wqc_bytes_f64(&v, p->step);
            field(out, WQC2_FIELD_QPARAM, &v);
        }
        if (st == WQC_OK) st = wqc_scales_write(p, &f->q, &v, err);
        field(out, WQC2_FIELD_SCALES | WQC2_FIELD_CRITICAL, &v);
    }
    if (st == WQC_OK && f->encoding == WQC_ENC_RANS) {
        st = write_rans(f, &v, err);
        field(out, WQC2_FIELD_RANS | WQC2_FIELD_CRITICAL, &v);
        if (f->gemv_tile) {
            wqc_bytes_u8(&v, WQC_LAYOUT_GEMV);
            wqc_bytes_varint(&v, f->gemv_tile);
            field(out, WQC2_FIELD_LAYOUT | WQC2_FIELD_CRITICAL, &v);
        }
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
    if (dtype >= WQC_DTYPE_COUNT || ndim > WQC_MAX_DIMS) return BAD("bad SHAPE field");
    f->dtype = (wqc_dtype)dtype;
    f->ndim = ndim;
    f->nelem = 1;
    for (int d = 0; d < ndim; d++) {
        f->shape[d] = wqc_cursor_varint(c);
        if (f->shape[d] && f->nelem > WQC_DECODED_MAX / f->shape[d])
            return wqc_fail(err, WQC_ERR_LIMIT, "tensor has more than 2^36 elements");
        f->nelem *= f->shape[d];
    }
    return c->failed || c->p != c->end ? BAD("bad SHAPE field") : WQC_OK;
}

static wqc_status read_quant(wqc_cursor *c, wqc_frame *f, wqc_error *err)
{
    wqc_quant_params *p = &f->quant;
    uint8_t method = wqc_cursor_u8(c), bits = wqc_cursor_u8(c), gran = wqc_cursor_u8(c);
    uint64_t group = wqc_cursor_varint(c), alphabet = wqc_cursor_varint(c);
    if (c->failed || c->p != c->end || method > WQC_QUANT_GIVEN || bits < 1 || bits > 8 || gran > WQC_GRAN_GROUP ||
        (gran == WQC_GRAN_GROUP && group == 0) || group > UINT32_MAX || alphabet < 1 || alphabet > (1u << bits))
        return BAD("bad QUANT field");
    p->method = (wqc_quant_method)method;
    p->bits = f->q.bits = bits;
    p->granularity = (wqc_granularity)gran;
    p->group_size = (uint32_t)group;
    f->q.alphabet = (uint32_t)alphabet;
    f->quantized = 1;
    return WQC_OK;
}

typedef struct rans_field {
    const uint8_t *value;
    uint64_t len;
} rans_field;

/* The RANS field, once QUANT, SCALES and LAYOUT are known. */
static wqc_status read_rans(rans_field r, const wqc_symbol_model *shared, size_t nshared, uint64_t payload_len,
                            wqc_frame *f, wqc_error *err)
{
    wqc_rans_coded *c = &f->coded;
    wqc_cursor cur = {r.value, r.value + r.len, 0};
    int precision = wqc_cursor_u8(&cur);
    uint64_t lanes = wqc_cursor_varint(&cur), chunk = wqc_cursor_varint(&cur);
    wqc_rans_params p = {precision, (uint32_t)lanes, (uint32_t)chunk, 1};
    if (cur.failed || lanes > UINT32_MAX || chunk > UINT32_MAX || wqc_rans_params_check(&p, NULL) != WQC_OK)
        return BAD("bad RANS field");
    c->lanes = (uint32_t)lanes;
    c->chunk = (uint32_t)chunk;
    c->n = f->nelem;
    c->nchunks = wqc_rans_chunk_count(c->n, c->chunk);
    if (c->nchunks > r.len) return BAD("bad RANS field: more chunks than bytes");
    c->chunk_bytes = malloc(c->nchunks ? c->nchunks * sizeof(uint32_t) : 1);
    if (!c->chunk_bytes) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    uint64_t sum = 0;
    for (uint64_t i = 0; i < c->nchunks; i++) {
        uint64_t n = c->n - i * c->chunk < c->chunk ? c->n - i * c->chunk : c->chunk;
        uint64_t bytes = i + 1 < c->nchunks ? wqc_cursor_varint(&cur) : payload_len - sum;
        if (cur.failed || sum > payload_len || bytes < 4ull * c->lanes ||
            bytes > wqc_rans_chunk_bound((size_t)n, c->lanes))
            return BAD("chunk %llu has an impossible length", (unsigned long long)i);
        c->chunk_bytes[i] = (uint32_t)bytes;
        sum += bytes;
    }
    if (sum != payload_len) return BAD("chunk lengths do not add up to the payload");
    int source = wqc_cursor_u8(&cur);
    wqc_status st;
    if (source == WQC2_MODEL_SHARED) {
        uint64_t k = wqc_cursor_varint(&cur);
        if (cur.failed || cur.p != cur.end || k >= nshared) return BAD("bad RANS field: no shared model %llu", (unsigned long long)k);
        if (shared[k].alphabet != f->q.alphabet || shared[k].precision != precision)
            return BAD("shared model %llu does not fit the tensor's alphabet or precision", (unsigned long long)k);
        f->shared_model = (uint32_t)k + 1;
        st = wqc_symbol_model_copy(&shared[k], &f->model, err);
    } else if (source == WQC2_MODEL_INLINE && !cur.failed) {
        wqc_rc_dec d;
        wqc_rc_dec_init(&d, cur.p, (size_t)(cur.end - cur.p));
        st = wqc_symbol_model_read(&d, f->q.alphabet, precision, &f->model, err);
    } else {
        return BAD("bad RANS field: unknown model source");
    }
    if (st != WQC_OK) return st;
    c->table = f->model.tables[0];
    if (f->model.ntables > 1) {
        wqc_rans_context ctx;
        st = wqc_symbol_model_context(&f->model, &f->q, f->gemv_tile, &ctx, err);
        if (st != WQC_OK) return st;
        c->ctx = ctx;
        c->ctx.tables = malloc(ctx.ntables * sizeof *ctx.tables);
        if (!c->ctx.tables) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        memcpy(c->ctx.tables, f->model.tables, ctx.ntables * sizeof *ctx.tables);
    }
    if (f->gemv_tile && (f->gemv_tile != c->lanes || wqc_gemv_check(c, &f->q, NULL) != WQC_OK))
        return BAD("bad LAYOUT field: tiles must be the lanes, scales per tensor or row, chunks whole tiles");
    return WQC_OK;
}

static int is_float(wqc_dtype d) { return d == WQC_DTYPE_F32 || d == WQC_DTYPE_F16 || d == WQC_DTYPE_BF16; }

/* Cross-field rules and the parts that need several fields. */
static wqc_status finish(wqc_frame *f, unsigned seen, rans_field scales, rans_field rans, const uint8_t *payload,
                         uint64_t payload_len, const wqc_symbol_model *shared, size_t nshared, wqc_error *err)
{
    unsigned need = 1u << WQC2_FIELD_SHAPE | 1u << WQC2_FIELD_ENCODING;
    if (f->quantized) need |= 1u << WQC2_FIELD_SCALES;
    if (f->encoding == WQC_ENC_RANS) need |= 1u << WQC2_FIELD_QUANT | 1u << WQC2_FIELD_RANS;
    if ((seen & need) != need) return BAD("tensor descriptor lacks a required field");
    if (!f->quantized && (seen & (1u << WQC2_FIELD_SCALES | 1u << WQC2_FIELD_QPARAM)))
        return BAD("SCALES without QUANT");
    if ((f->gemv_tile || (seen & 1u << WQC2_FIELD_RANS)) && f->encoding != WQC_ENC_RANS)
        return BAD("RANS or LAYOUT field on a tensor not coded with rANS");
    if (f->encoding == WQC_ENC_FLOATS && (f->quantized || !is_float(f->dtype)))
        return BAD("float coding of a tensor that is not a float tensor");
    if (f->quantized) {
        uint64_t rows, cols;
        matrix_view(f, &rows, &cols);
        f->q.rows = rows;
        f->q.cols = cols;
        wqc_quant_group_layout(&f->quant, rows, cols, &f->q.ngroups, &f->q.group_len);
        wqc_status st = wqc_scales_read(scales.value, (size_t)scales.len, &f->quant, &f->q, err);
        for (uint64_t g = 0; st == WQC_OK && g < f->q.ngroups; g++)
            /* No quantizer writes them, and NaN payloads could differ between
             * decoder ISAs: refuse rather than decode them. */
            if (!isfinite(f->q.scale[g]) || !isfinite(f->q.offset[g])) return BAD("non-finite scale or offset");
        if (st != WQC_OK) return st;
        f->raw_len = f->nelem;
    } else {
        f->raw_len = f->nelem * wqc_dtype_size(f->dtype);
    }
    if (f->encoding == WQC_ENC_RANS) {
        wqc_status st = read_rans(rans, shared, nshared, payload_len, f, err);
        if (st != WQC_OK) return st;
        f->coded.payload = (uint8_t *)payload;
        f->coded.payload_len = payload_len;
        return wqc_rans_coded_index(&f->coded, err);
    }
    if (f->encoding == WQC_ENC_RAW && payload_len != f->raw_len) return BAD("raw payload has the wrong size");
    f->payload = payload;
    f->payload_len = payload_len;
    return WQC_OK;
}

wqc_status wqc_descriptor2_read(const uint8_t *desc, uint64_t len, const uint8_t *payload, uint64_t payload_len,
                                const wqc_symbol_model *shared, size_t nshared, wqc_frame *f, wqc_error *err)
{
    wqc_cursor c = {desc, desc + len, 0};
    unsigned seen = 0;
    rans_field scales = {0}, rans = {0};
    f->quant.k = WQC_SDCLIP_MATRIX_K;
    f->quant.step = 0.0;
    wqc_status st = WQC_OK;
    while (st == WQC_OK && c.p < c.end) {
        uint8_t tag = wqc_cursor_u8(&c), id = tag & ~WQC2_FIELD_CRITICAL;
        uint64_t flen = wqc_cursor_varint(&c);
        const uint8_t *value = flen <= (uint64_t)(c.end - c.p) ? wqc_cursor_take(&c, (size_t)flen) : NULL;
        if (c.failed || !value) return BAD("truncated or malformed descriptor field");
        if (id < 32 && (seen & (1u << id))) return BAD("descriptor field %u repeated", id);
        if (id < 32) seen |= 1u << id;
        wqc_cursor v = {value, value + flen, 0};
        switch (id) {
        case WQC2_FIELD_SHAPE: st = read_shape(&v, f, err); break;
        case WQC2_FIELD_ENCODING: {
            uint8_t e = wqc_cursor_u8(&v);
            if (flen != 1 || e > WQC_ENC_FLOATS) return BAD("bad ENCODING field");
            f->encoding = (wqc_encoding)e;
            break;
        }
        case WQC2_FIELD_QUANT: st = read_quant(&v, f, err); break;
        case WQC2_FIELD_QPARAM: {
            uint8_t mask = wqc_cursor_u8(&v);
            if (mask & 1) f->quant.k = wqc_cursor_f64(&v);
            if (mask & 2) f->quant.step = wqc_cursor_f64(&v);
            if (v.failed || v.p != v.end || mask > 3 || !isfinite(f->quant.k) || !isfinite(f->quant.step))
                return BAD("bad QPARAM field");
            break;
        }
        case WQC2_FIELD_SCALES: scales = (rans_field){value, flen}; break;
        case WQC2_FIELD_RANS: rans = (rans_field){value, flen}; break;
        case WQC2_FIELD_LAYOUT: {
            uint8_t layout = wqc_cursor_u8(&v);
            uint64_t tile = wqc_cursor_varint(&v);
            if (v.failed || v.p != v.end || layout != WQC_LAYOUT_GEMV || tile == 0 || tile > WQC_RANS_LANES_MAX)
                return BAD("bad LAYOUT field");
            f->gemv_tile = (uint32_t)tile;
            break;
        }
        default:
            if (tag & WQC2_FIELD_CRITICAL)
                return wqc_fail(err, WQC_ERR_UNSUPPORTED, "unknown critical descriptor field %u", id);
        }
    }
    if (st != WQC_OK) return st;
    return finish(f, seen, scales, rans, payload, payload_len, shared, nshared, err);
}
