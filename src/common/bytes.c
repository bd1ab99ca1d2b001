#include "bytes.h"

#include <stdlib.h>
#include <string.h>

#include "wqc/tensor_io.h"

wqc_status wqc_memory_sink(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    wqc_memory_out *m = ctx;
    wqc_bytes b = {.data = m->data, .len = m->len, .cap = m->cap};
    wqc_bytes_put(&b, buf, len);
    m->data = b.data, m->len = b.len, m->cap = b.cap;
    return b.failed ? wqc_fail(err, WQC_ERR_NOMEM, "out of memory: %zu bytes in memory", m->len + len) : WQC_OK;
}

wqc_status wqc_buffer_sink(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    wqc_buffer_out *o = ctx;
    if (len > (size_t)(o->end - o->at))
        return wqc_fail(err, WQC_ERR_FORMAT, "decoded %zu bytes more than the output holds", len - (size_t)(o->end - o->at));
    memcpy(o->at, buf, len);
    o->at += len;
    return WQC_OK;
}

void wqc_bytes_put(wqc_bytes *b, const void *p, size_t n)
{
    if (b->failed) return;
    if (n > SIZE_MAX - b->len) {
        b->failed = 1;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
}

void wqc_bytes_u8(wqc_bytes *b, uint8_t v) { wqc_bytes_put(b, &v, 1); }

void wqc_bytes_u16(wqc_bytes *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    wqc_bytes_put(b, x, 2);
}

void wqc_bytes_u32(wqc_bytes *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    wqc_bytes_put(b, x, 4);
}

void wqc_bytes_u64(wqc_bytes *b, uint64_t v)
{
    uint8_t x[8];
    wqc_store64(x, v);
    wqc_bytes_put(b, x, 8);
}

void wqc_bytes_f32(wqc_bytes *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    wqc_bytes_u32(b, u);
}

void wqc_bytes_f64(wqc_bytes *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    wqc_bytes_u64(b, u);
}

void wqc_bytes_zeros(wqc_bytes *b, size_t n)
{
    static const uint8_t zero[64];
    while (n > 0) {
        size_t k = n < sizeof zero ? n : sizeof zero;
        wqc_bytes_put(b, zero, k);
        n -= k;
    }
}

void wqc_bytes_free(wqc_bytes *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

const uint8_t *wqc_cursor_take(wqc_cursor *c, size_t n)
{
    if (c->failed || (size_t)(c->end - c->p) < n) {
        c->failed = 1;
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    return p;
}

uint8_t wqc_cursor_u8(wqc_cursor *c)
{
    const uint8_t *p = wqc_cursor_take(c, 1);
    return p ? p[0] : 0;
}

uint16_t wqc_cursor_u16(wqc_cursor *c)
{
    const uint8_t *p = wqc_cursor_take(c, 2);
    return p ? wqc_le16(p) : 0;
}

uint32_t wqc_cursor_u32(wqc_cursor *c)
{
    const uint8_t *p = wqc_cursor_take(c, 4);
    return p ? wqc_le32(p) : 0;
}

uint64_t wqc_cursor_u64(wqc_cursor *c)
{
    const uint8_t *p = wqc_cursor_take(c, 8);
    return p ? wqc_le64(p) : 0;
}

double wqc_cursor_f64(wqc_cursor *c)
{
    const uint8_t *p = wqc_cursor_take(c, 8);
    return p ? wqc_lef64(p) : 0.0;
}

int wqc_cursor_zeros(wqc_cursor *c, size_t n)
{
    const uint8_t *p = wqc_cursor_take(c, n);
    if (!p) return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

void wqc_bytes_varint(wqc_bytes *b, uint64_t v)
{
    uint8_t x[10];
    size_t n = wqc_varint_store(x, v);
    wqc_bytes_put(b, x, n);
}

size_t wqc_varint_store(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

uint64_t wqc_cursor_varint(wqc_cursor *c)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        const uint8_t *p = wqc_cursor_take(c, 1);
        if (!p) return 0;
        /* The tenth byte may only hold bit 63. */
        if (shift == 63 && *p > 1) break;
        v |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p & 0x80)) return v;
    }
    c->failed = 1;
    return 0;
}
