/* F16 fields with the adaptive range coder or rANS (half_field.h). */
#include "half_field.h"

#include <stdlib.h>
#include <string.h>

#include "range_coder.h"
#include "table_code.h"
#include "wqc/rans.h"

wqc_status wqc_half_field_encode(const uint8_t *field, size_t len, uint32_t halves, wqc_bytes *out, wqc_error *err)
{
    if (halves < 1 || halves > WQC_HALF_FIELD_MAX || len % (2 * halves))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "F16 field of %zu bytes, %u values a block", len, halves);
    wqc_rc_bit tree[WQC_HALF_FIELD_MAX][256];
    memset(tree, 0, sizeof tree);
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, out);
    for (size_t i = 0, v = 0; i < len; i += 2, v++) {
        wqc_rc_encode_tree(&e, tree[v % halves], 8, field[i + 1]);
        wqc_rc_encode_direct(&e, field[i], 8);
    }
    wqc_rc_enc_finish(&e);
    return out->failed ? wqc_fail(err, WQC_ERR_NOMEM, "out of memory") : WQC_OK;
}

wqc_status wqc_half_field_decode(const uint8_t *in, size_t in_len, uint32_t halves, uint8_t *field, size_t len,
                                 wqc_error *err)
{
    if (halves < 1 || halves > WQC_HALF_FIELD_MAX || len % (2 * halves))
        return wqc_fail(err, WQC_ERR_FORMAT, "F16 field of %zu bytes, %u values a block", len, halves);
    wqc_rc_bit tree[WQC_HALF_FIELD_MAX][256];
    memset(tree, 0, sizeof tree);
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, in, in_len);
    for (size_t i = 0, v = 0; i < len; i += 2, v++) {
        field[i + 1] = (uint8_t)wqc_rc_decode_tree(&d, tree[v % halves], 8);
        field[i] = (uint8_t)wqc_rc_decode_direct(&d, 8);
    }
    if (d.overrun > WQC_RC_TAIL) return wqc_fail(err, WQC_ERR_FORMAT, "F16 field stream ends early");
    return WQC_OK;
}

/* Codec 3: u8 precision, varint lanes, varint T and T bytes of range-coded
 * table, the high bytes' rANS payload (one chunk), then the low bytes. */
wqc_status wqc_half_rans_encode(const uint8_t *field, size_t len, wqc_bytes *out, wqc_error *err)
{
    size_t n = len / 2;
    if (n == 0 || len % 2 || n > WQC_RANS_CHUNK_MAX)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "F16 field of %zu bytes", len);
    uint8_t *high = malloc(n);
    if (!high) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) high[i] = field[2 * i + 1];
    wqc_rans_params p;
    wqc_rans_params_default(&p);
    p.lanes = wqc_rans_lanes_for(p.lanes, n, 256);
    p.chunk = n < WQC_RANS_CHUNK_MIN ? WQC_RANS_CHUNK_MIN : (uint32_t)n;
    p.threads = 1;
    wqc_rans_coded c = {0};
    wqc_status st = wqc_rans_encode(high, n, 256, &p, &c, err);
    free(high);
    if (st != WQC_OK) return st;
    wqc_bytes table = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &table);
    wqc_table_encode(&e, c.table.freq, 256, c.table.precision);
    wqc_rc_enc_finish(&e);
    wqc_bytes_u8(out, (uint8_t)c.table.precision);
    wqc_bytes_varint(out, c.lanes);
    wqc_bytes_varint(out, table.len);
    wqc_bytes_put(out, table.data, table.len);
    wqc_bytes_put(out, c.payload, (size_t)c.payload_len);
    for (size_t i = 0; i < n; i++) wqc_bytes_u8(out, field[2 * i]);
    int failed = table.failed;
    wqc_bytes_free(&table);
    wqc_rans_coded_free(&c);
    return out->failed || failed ? wqc_fail(err, WQC_ERR_NOMEM, "out of memory") : WQC_OK;
}

wqc_status wqc_half_rans_decode(const uint8_t *in, size_t in_len, uint8_t *field, size_t len, wqc_isa isa,
                                wqc_error *err)
{
    size_t n = len / 2;
    wqc_cursor cur = {in, in + in_len, 0};
    int precision = wqc_cursor_u8(&cur);
    uint64_t lanes = wqc_cursor_varint(&cur), tlen = wqc_cursor_varint(&cur);
    const uint8_t *table = tlen <= (uint64_t)(cur.end - cur.p) ? wqc_cursor_take(&cur, (size_t)tlen) : NULL;
    wqc_rans_params p = {precision, (uint32_t)lanes, n < WQC_RANS_CHUNK_MIN ? WQC_RANS_CHUNK_MIN : (uint32_t)n, 1};
    size_t left = (size_t)(cur.end - cur.p);
    if (cur.failed || !table || n == 0 || len % 2 || n > WQC_RANS_CHUNK_MAX || lanes > WQC_RANS_LANES_MAX ||
        wqc_rans_params_check(&p, NULL) != WQC_OK || left < n || left - n < 4 * lanes ||
        left - n > wqc_rans_chunk_bound(n, (uint32_t)lanes))
        return wqc_fail(err, WQC_ERR_FORMAT, "bad F16 field stream");
    uint32_t freq[256], chunk_bytes = (uint32_t)(left - n);
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, table, (size_t)tlen);
    wqc_rans_coded c = {.lanes = (uint32_t)lanes, .chunk = p.chunk, .n = n, .nchunks = 1,
                        .chunk_bytes = &chunk_bytes, .payload = (uint8_t *)cur.p, .payload_len = chunk_bytes};
    wqc_status st = wqc_table_decode(&d, freq, 256, precision, err);
    if (st == WQC_OK && d.overrun > WQC_RC_TAIL) st = wqc_fail(err, WQC_ERR_FORMAT, "F16 field table ends early");
    if (st == WQC_OK) st = wqc_rans_table_init(&c.table, freq, 256, precision, err);
    if (st == WQC_OK) st = wqc_rans_coded_index(&c, err);
    /* The high bytes into the field's second half, then spread out. */
    wqc_rans_output o = {.form = WQC_FORM_SYMBOLS, .dst = field + n};
    if (st == WQC_OK) st = wqc_rans_decode_to(&c, &o, 1, isa, err);
    free(c.offset);
    if (st != WQC_OK) return st;
    const uint8_t *low = cur.p + chunk_bytes;
    for (size_t i = 0; i < n; i++) {
        field[2 * i + 1] = field[n + i];
        field[2 * i] = low[i];
    }
    return WQC_OK;
}
