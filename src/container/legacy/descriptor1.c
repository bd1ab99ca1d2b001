/* Format 1's TNSR record body: typed, length-prefixed fields (docs/FORMAT.md).
 * Read only: wqc writes format 2 (descriptor2.c). */
#include <math.h>
#include <stdlib.h>

#include "format1.h"
#include "wqc/gemv.h"

static wqc_status order0_model(wqc_frame *f, wqc_error *err)
{
    wqc_symbol_model *m = &f->model;
    m->precision = f->coded.table.precision;
    m->alphabet = f->coded.table.alphabet;
    m->nbins = m->ntables = 1;
    m->tables = malloc(sizeof *m->tables);
    if (!m->tables) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    m->tables[0] = f->coded.table;
    return WQC_OK;
}

#define BAD(...) wqc_fail(err, WQC_ERR_FORMAT, __VA_ARGS__)

static wqc_status read_shape(wqc_cursor *c, size_t len, wqc_frame *f, wqc_error *err)
{
    uint8_t dtype = wqc_cursor_u8(c), ndim = wqc_cursor_u8(c);
    if (!wqc_cursor_zeros(c, 6) || dtype >= WQC_DTYPE_COUNT || ndim > WQC_MAX_DIMS || len != 8 + 8u * ndim)
        return BAD("bad SHAPE field");
    f->dtype = (wqc_dtype)dtype;
    f->ndim = ndim;
    f->nelem = 1;
    for (int d = 0; d < ndim; d++) {
        f->shape[d] = wqc_cursor_u64(c);
        if (f->shape[d] && f->nelem > WQC_DECODED_MAX / f->shape[d])
            return wqc_fail(err, WQC_ERR_LIMIT, "tensor has more than 2^36 elements");
        f->nelem *= f->shape[d];
    }
    return WQC_OK;
}

static wqc_status read_quant(wqc_cursor *c, size_t len, wqc_frame *f, wqc_error *err)
{
    if (len != 48) return BAD("bad QUANT field");
    wqc_quant_params *p = &f->quant;
    uint8_t method = wqc_cursor_u8(c), bits = wqc_cursor_u8(c), gran = wqc_cursor_u8(c);
    int zero = wqc_cursor_zeros(c, 1);
    p->group_size = wqc_cursor_u32(c);
    p->k = wqc_cursor_f64(c);
    p->step = wqc_cursor_f64(c);
    f->q.rows = wqc_cursor_u64(c);
    f->q.cols = wqc_cursor_u64(c);
    f->q.alphabet = wqc_cursor_u32(c);
    zero &= wqc_cursor_zeros(c, 4);
    if (!zero || method > WQC_QUANT_GIVEN || bits < 1 || bits > 8 || gran > WQC_GRAN_GROUP ||
        (gran == WQC_GRAN_GROUP && p->group_size == 0) || !isfinite(p->k) || !isfinite(p->step) ||
        f->q.alphabet < 1 || f->q.alphabet > (1u << bits))
        return BAD("bad QUANT field");
    p->method = (wqc_quant_method)method;
    p->bits = f->q.bits = bits;
    p->granularity = (wqc_granularity)gran;
    return WQC_OK;
}

/* The group count and length that the quantizer and matrix imply. */
static int groups_consistent(const wqc_frame *f, uint64_t ngroups, uint64_t group_len)
{
    const wqc_quant_params *p = &f->quant;
    uint64_t rows = f->q.rows, cols = f->q.cols;
    if (p->method == WQC_QUANT_AFFINE && p->granularity != WQC_GRAN_TENSOR) {
        uint64_t glen = p->granularity == WQC_GRAN_ROW ? cols : p->group_size;
        uint64_t per_row = glen ? (cols + glen - 1) / glen : 0;
        return group_len == glen && ngroups == rows * per_row;
    }
    if (p->method == WQC_QUANT_SDCLIP) return group_len == cols && ngroups == rows;
    return group_len == cols && ngroups == 1;
}

static wqc_status read_scales(wqc_cursor *c, size_t len, wqc_frame *f, wqc_error *err)
{
    uint64_t g = wqc_cursor_u64(c), glen = wqc_cursor_u64(c);
    if (len < 16 || g > (len - 16) / 8 || len != 16 + 8 * g || !groups_consistent(f, g, glen))
        return BAD("bad SCALES field");
    f->q.ngroups = g;
    f->q.group_len = glen;
    f->q.scale = malloc(g ? g * sizeof(float) : 1);
    f->q.offset = malloc(g ? g * sizeof(float) : 1);
    if (!f->q.scale || !f->q.offset) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    const uint8_t *s = wqc_cursor_take(c, 4 * g), *o = wqc_cursor_take(c, 4 * g);
    for (uint64_t i = 0; i < g; i++) {
        f->q.scale[i] = wqc_lef32(s + 4 * i);
        f->q.offset[i] = wqc_lef32(o + 4 * i);
        /* No quantizer writes them, and NaN payloads could differ between
         * decoder ISAs: refuse rather than decode them. */
        if (!isfinite(f->q.scale[i]) || !isfinite(f->q.offset[i]))
            return BAD("non-finite scale or offset");
    }
    return WQC_OK;
}

static wqc_status read_rans(wqc_cursor *c, size_t len, wqc_frame *f, wqc_error *err)
{
    wqc_rans_coded *r = &f->coded;
    if (len < 32) return BAD("bad RANS field");
    int precision = wqc_cursor_u8(c);
    int zero = wqc_cursor_zeros(c, 1);
    uint32_t alphabet = wqc_cursor_u16(c);
    r->lanes = wqc_cursor_u32(c);
    r->chunk = wqc_cursor_u32(c);
    zero &= wqc_cursor_zeros(c, 4);
    r->n = wqc_cursor_u64(c);
    r->nchunks = wqc_cursor_u64(c);
    wqc_rans_params p = {precision, r->lanes, r->chunk, 1};
    if (!zero || wqc_rans_params_check(&p, NULL) != WQC_OK || alphabet != f->q.alphabet ||
        r->nchunks != wqc_rans_chunk_count(r->n, r->chunk) || r->nchunks > (len - 32) / 4 ||
        len != 32 + 2 * (uint64_t)alphabet + 4 * r->nchunks)
        return BAD("bad RANS field");
    uint32_t freq[256];
    for (uint32_t s = 0; s < alphabet; s++) freq[s] = wqc_cursor_u16(c);
    wqc_status st = wqc_rans_table_init(&r->table, freq, alphabet, precision, err);
    if (st != WQC_OK) return st;
    r->chunk_bytes = malloc(r->nchunks ? r->nchunks * sizeof(uint32_t) : 1);
    if (!r->chunk_bytes) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; i < r->nchunks; i++) {
        uint64_t n = r->n - i * r->chunk < r->chunk ? r->n - i * r->chunk : r->chunk;
        r->chunk_bytes[i] = wqc_cursor_u32(c);
        if (r->chunk_bytes[i] < 4ull * r->lanes || r->chunk_bytes[i] > wqc_rans_chunk_bound((size_t)n, r->lanes))
            return BAD("chunk %llu has an impossible length", (unsigned long long)i);
    }
    return WQC_OK;
}

/* Cross-field rules once every field is read. */
static wqc_status check_frame(wqc_frame *f, unsigned seen, uint64_t payload_len, uint64_t raw_len,
                              const wqc_record *data, wqc_error *err)
{
    unsigned need = 1u << WQC_FIELD_NAME | 1u << WQC_FIELD_SHAPE | 1u << WQC_FIELD_ENCODING |
                    1u << WQC_FIELD_PAYLOAD;
    if (f->encoding == WQC_ENC_RANS)
        need |= 1u << WQC_FIELD_QUANT | 1u << WQC_FIELD_SCALES | 1u << WQC_FIELD_RANS;
    if ((seen & need) != need) return BAD("tensor descriptor lacks a required field");
    if (f->gemv_tile && f->encoding != WQC_ENC_RANS) return BAD("LAYOUT field on a tensor without symbols");
    if (payload_len != data->body_len) return BAD("payload length does not match its DATA record");
    if (f->encoding == WQC_ENC_RANS) {
        if ((f->q.cols && f->q.rows > UINT64_MAX / f->q.cols) || f->q.rows * f->q.cols != f->nelem ||
            f->coded.n != f->nelem || raw_len != f->nelem)
            return BAD("symbol count does not match the shape");
        if (f->gemv_tile && (f->gemv_tile != f->coded.lanes || wqc_gemv_check(&f->coded, &f->q, NULL) != WQC_OK))
            return BAD("bad LAYOUT field: tiles must be the lanes, scales per tensor or row, chunks whole tiles");
        f->raw_len = raw_len;
        f->quantized = 1;
        f->coded.payload = (uint8_t *)data->body;
        f->coded.payload_len = data->body_len;
        wqc_status st = order0_model(f, err);
        return st == WQC_OK ? wqc_rans_coded_index(&f->coded, err) : st;
    }
    if (raw_len != f->nelem * wqc_dtype_size(f->dtype)) return BAD("decoded size does not match the shape");
    if (f->encoding == WQC_ENC_RAW && payload_len != raw_len) return BAD("raw payload has the wrong size");
    f->payload = data->body;
    f->payload_len = data->body_len;
    f->raw_len = raw_len;
    return WQC_OK;
}

static wqc_status parse_fields(const uint8_t *body, uint64_t len, const wqc_record *data, wqc_frame *f,
                               wqc_error *err)
{
    memset(f, 0, sizeof *f);
    wqc_cursor c = {body, body + len, 0};
    unsigned seen = 0;
    uint64_t payload_len = 0, raw_len = 0;
    wqc_status st = WQC_OK;
    while (st == WQC_OK && c.p < c.end) {
        uint16_t tag = wqc_cursor_u16(&c), flags = wqc_cursor_u16(&c);
        uint32_t flen = wqc_cursor_u32(&c);
        const uint8_t *value = wqc_cursor_take(&c, flen);
        if (!value || (flags & ~WQC_FIELD_CRITICAL)) return BAD("truncated or malformed descriptor field");
        if (tag < 32 && (seen & (1u << tag))) return BAD("descriptor field %u repeated", tag);
        if (tag < 32) seen |= 1u << tag;
        wqc_cursor v = {value, value + flen, 0};
        switch (tag) {
        case WQC_FIELD_NAME: {
            if (flen == 0 || memchr(value, 0, flen)) return BAD("bad NAME field");
            char *name = malloc(flen + 1);
            if (!name) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            memcpy(name, value, flen);
            name[flen] = '\0';
            f->name = name;
            break;
        }
        case WQC_FIELD_SHAPE: st = read_shape(&v, flen, f, err); break;
        case WQC_FIELD_ENCODING: {
            uint8_t e = wqc_cursor_u8(&v);
            if (flen != 8 || !wqc_cursor_zeros(&v, 7) || e > WQC_ENC_RANS) return BAD("bad ENCODING field");
            f->encoding = (wqc_encoding)e;
            break;
        }
        case WQC_FIELD_QUANT: st = read_quant(&v, flen, f, err); break;
        case WQC_FIELD_SCALES:
            if (!(seen & (1u << WQC_FIELD_QUANT))) return BAD("SCALES before QUANT");
            st = read_scales(&v, flen, f, err);
            break;
        case WQC_FIELD_RANS:
            if (!(seen & (1u << WQC_FIELD_QUANT))) return BAD("RANS before QUANT");
            st = read_rans(&v, flen, f, err);
            break;
        case WQC_FIELD_LAYOUT: {
            uint8_t layout = wqc_cursor_u8(&v);
            int zero = wqc_cursor_zeros(&v, 3);
            f->gemv_tile = wqc_cursor_u32(&v);
            if (flen != 8 || !zero || layout != WQC_LAYOUT_GEMV || f->gemv_tile == 0) return BAD("bad LAYOUT field");
            break;
        }
        case WQC_FIELD_PAYLOAD:
            if (flen != 16) return BAD("bad PAYLOAD field");
            payload_len = wqc_cursor_u64(&v);
            raw_len = wqc_cursor_u64(&v);
            break;
        default:
            if (flags & WQC_FIELD_CRITICAL)
                return wqc_fail(err, WQC_ERR_UNSUPPORTED, "unknown critical descriptor field %u", tag);
        }
    }
    if (st != WQC_OK) return st;
    return check_frame(f, seen, payload_len, raw_len, data, err);
}

wqc_status wqc_descriptor_read(const uint8_t *body, uint64_t len, const wqc_record *data, wqc_frame *f,
                               wqc_error *err)
{
    wqc_status st = parse_fields(body, len, data, f, err);
    if (st != WQC_OK) wqc_descriptor_free(f);
    return st;
}
