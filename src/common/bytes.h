/* Internal: little-endian byte builders and readers for the container. */
#ifndef WQC_CONTAINER_BYTES_H
#define WQC_CONTAINER_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A growable output buffer; `failed` is set (and writes stop) on allocation failure. */
typedef struct wqc_bytes {
    uint8_t *data;
    size_t len, cap;
    int failed;
} wqc_bytes;

void wqc_bytes_put(wqc_bytes *b, const void *p, size_t n);
void wqc_bytes_u8(wqc_bytes *b, uint8_t v);
void wqc_bytes_u16(wqc_bytes *b, uint16_t v);
void wqc_bytes_u32(wqc_bytes *b, uint32_t v);
void wqc_bytes_u64(wqc_bytes *b, uint64_t v);
void wqc_bytes_f32(wqc_bytes *b, float v);
void wqc_bytes_f64(wqc_bytes *b, double v);
void wqc_bytes_zeros(wqc_bytes *b, size_t n);
/* LEB128: 7 bits a byte, low first, the top bit set on all but the last (at most 10 bytes). */
void wqc_bytes_varint(wqc_bytes *b, uint64_t v);
/* Stores v as LEB128 at p (room for 10 bytes) and returns its length. */
size_t wqc_varint_store(uint8_t *p, uint64_t v);
void wqc_bytes_free(wqc_bytes *b);

static inline uint16_t wqc_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t wqc_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t wqc_le64(const uint8_t *p)
{
    return (uint64_t)wqc_le32(p) | (uint64_t)wqc_le32(p + 4) << 32;
}
static inline float wqc_lef32(const uint8_t *p)
{
    uint32_t u = wqc_le32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static inline double wqc_lef64(const uint8_t *p)
{
    uint64_t u = wqc_le64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
static inline void wqc_store64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Bounds-checked reading: every take fails once the buffer is exhausted. */
typedef struct wqc_cursor {
    const uint8_t *p, *end;
    int failed;
} wqc_cursor;

const uint8_t *wqc_cursor_take(wqc_cursor *c, size_t n);
uint8_t wqc_cursor_u8(wqc_cursor *c);
uint16_t wqc_cursor_u16(wqc_cursor *c);
uint32_t wqc_cursor_u32(wqc_cursor *c);
uint64_t wqc_cursor_u64(wqc_cursor *c);
double wqc_cursor_f64(wqc_cursor *c);
/* A LEB128 value; fails on more than 10 bytes or a value past 2^64. */
uint64_t wqc_cursor_varint(wqc_cursor *c);
/* True if the next n bytes exist and are all zero (consumes them). */
int wqc_cursor_zeros(wqc_cursor *c, size_t n);

#endif
