/* STATS body: varint entry count n, then one range-coder stream: per entry
 * the gap to its tensor index (adaptive integer) and its quantized flag (a
 * bit; the count is the tensor's element count, not stored); then five float32 columns (mean, std, min, max, kurtosis)
 * through the float-array coder; then per quantized entry its clipped count,
 * and their SQNRs as one more float32 column. Columns keep like values
 * together, so the float coder's exponent models learn them. min and max
 * are exact; the others are rounded to 20 mantissa bits (rounded()). */
#include <stdlib.h>
#include <string.h>

#include "../side/float_array.h"
#include "../side/range_coder.h"
#include "stats_record.h"

enum { COLUMNS = 5 };

static uint32_t bits_of(double v)
{
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* A float32 pattern rounded (to nearest even) to 20 mantissa bits: a
 * relative error below 2^-21 (5e-7), and 3 bits a value the float-array
 * coder drops. NaN and Inf stay as they are. */
static uint32_t rounded(uint32_t u)
{
    if ((u & 0x7f800000u) == 0x7f800000u) return u;
    return (u + 3 + ((u >> 3) & 1)) & ~7u;
}

static double value_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double *column(wqc_tensor_stats *s, int k)
{
    double *c[COLUMNS] = {&s->mean, &s->std, &s->min, &s->max, &s->kurtosis};
    return c[k];
}

void wqc_stats_record_encode(wqc_bytes *b, const size_t *index, const wqc_tensor_stats *stats, size_t n)
{
    wqc_bytes_varint(b, n);
    uint32_t *bits = malloc((n ? n : 1) * sizeof *bits);
    if (!bits) {
        b->failed = 1;
        return;
    }
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, b);
    wqc_rc_uint gap = {0}, clipped = {0};
    wqc_rc_bit quantized = {0};
    for (size_t i = 0; i < n; i++) {
        wqc_rc_encode_uint(&e, &gap, index[i] - (i ? index[i - 1] + 1 : 0));
        wqc_rc_encode(&e, &quantized, stats[i].quantized != 0);
    }
    for (int k = 0; k < COLUMNS; k++) {
        /* min and max are values of the tensor: exact. */
        int exact = k == 2 || k == 3;
        for (size_t i = 0; i < n; i++) {
            uint32_t u = bits_of(*column((wqc_tensor_stats *)&stats[i], k));
            bits[i] = exact ? u : rounded(u);
        }
        wqc_floats_encode(&e, WQC_DTYPE_F32, bits, n);
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!stats[i].quantized) continue;
        wqc_rc_encode_uint(&e, &clipped, stats[i].clipped);
        bits[m++] = rounded(bits_of(stats[i].sqnr_db));
    }
    wqc_floats_encode(&e, WQC_DTYPE_F32, bits, m);
    wqc_rc_enc_finish(&e);
    free(bits);
}

wqc_status wqc_stats_record_decode(const uint8_t *body, size_t len, size_t count, wqc_tensor_stats *stats,
                                   uint8_t *present, wqc_error *err)
{
    wqc_cursor c = {body, body + len, 0};
    uint64_t n = wqc_cursor_varint(&c);
    if (c.failed || n > count) return wqc_fail(err, WQC_ERR_FORMAT, "malformed STATS record: %llu entries for %zu tensors",
                                               (unsigned long long)n, count);
    size_t *index = malloc((n ? n : 1) * sizeof *index);
    uint32_t *bits = malloc((n ? n : 1) * sizeof *bits);
    wqc_tensor_stats *s = calloc(n ? n : 1, sizeof *s);
    if (!index || !bits || !s) {
        free(index), free(bits), free(s);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, c.p, (size_t)(c.end - c.p));
    wqc_rc_uint gap = {0}, clipped = {0};
    wqc_rc_bit quantized = {0};
    uint64_t next = 0;
    wqc_status st = WQC_OK;
    for (size_t i = 0; i < n && st == WQC_OK; i++) {
        uint64_t g = wqc_rc_decode_uint(&d, &gap);
        if (g >= count - next) st = wqc_fail(err, WQC_ERR_FORMAT, "malformed STATS record: entry for no tensor");
        index[i] = (size_t)(next + g);
        next = index[i] + 1;
        s[i].quantized = wqc_rc_decode(&d, &quantized);
    }
    for (int k = 0; k < COLUMNS && st == WQC_OK; k++) {
        wqc_floats_decode(&d, WQC_DTYPE_F32, bits, (size_t)n);
        for (size_t i = 0; i < n; i++) *column(&s[i], k) = value_of(bits[i]);
    }
    size_t m = 0;
    for (size_t i = 0; i < n && st == WQC_OK; i++)
        if (s[i].quantized) s[i].clipped = wqc_rc_decode_uint(&d, &clipped), m++;
    if (st == WQC_OK) wqc_floats_decode(&d, WQC_DTYPE_F32, bits, m);
    for (size_t i = 0, j = 0; i < n && st == WQC_OK; i++)
        if (s[i].quantized) s[i].sqnr_db = value_of(bits[j++]);
    if (st == WQC_OK && d.overrun > WQC_RC_TAIL) st = wqc_fail(err, WQC_ERR_FORMAT, "malformed STATS record: stream too short");
    for (size_t i = 0; i < n && st == WQC_OK; i++) {
        if (s[i].clipped == UINT64_MAX) st = wqc_fail(err, WQC_ERR_FORMAT, "malformed STATS record: clipped count out of range");
        stats[index[i]] = s[i];
        present[index[i]] = 1;
    }
    free(index), free(bits), free(s);
    return st;
}
