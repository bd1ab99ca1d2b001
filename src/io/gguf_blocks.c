/* GGUF blocks split into streams and merged back (wqc/gguf.h). Layouts, as
 * ggml defines them:
 *   Q4_0 (32 weights, 18 bytes): f16 d, 16 bytes: weight j in the low nibble
 *        of byte j, weight j + 16 in its high nibble;
 *   Q8_0 (32, 34): f16 d, 32 int8;
 *   Q4_K (256, 144): f16 d, f16 dmin, 12 bytes of 6-bit scales and mins,
 *        128 bytes of nibbles (each 32 bytes: 32 low nibbles, then 32 high);
 *   Q6_K (256, 210): 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits),
 *        16 int8 scales, f16 d; per 128 weights, ql[l] and ql[l + 32]
 *        with the 2-bit fields of qh[l]. */
#include <stdlib.h>
#include <string.h>

#include "wqc/gguf.h"

typedef struct field {
    const char *name;
    uint32_t offset, len;       /* bytes within a block */
    int f16;                    /* F16 values (little-endian) */
} field;

/* The per-block byte fields of each split type, the codes aside. */
static int fields_of(uint32_t type, field *f, uint32_t *nf, uint32_t *codes_at, uint32_t *codes_len)
{
    switch (type) {
    case WQC_GGML_Q4_0: f[0] = (field){"d", 0, 2, 1}; *nf = 1; *codes_at = 2, *codes_len = 16; return 1;
    case WQC_GGML_Q8_0: f[0] = (field){"d", 0, 2, 1}; *nf = 1; *codes_at = 2, *codes_len = 32; return 1;
    case WQC_GGML_Q4_K:
        f[0] = (field){"d+dmin", 0, 4, 1}, f[1] = (field){"scales", 4, 12, 0};
        *nf = 2, *codes_at = 16, *codes_len = 128;
        return 1;
    case WQC_GGML_Q6_K:
        f[0] = (field){"scales", 192, 16, 0}, f[1] = (field){"d", 208, 2, 1};
        *nf = 2, *codes_at = 0, *codes_len = 192;
        return 1;
    default: return 0;
    }
}

/* Codes of one block from its packed bytes, or back (pack = 1). */
static void block_codes(uint32_t type, uint8_t *packed, uint8_t *codes, int pack)
{
    switch (type) {
    case WQC_GGML_Q4_0:
        for (int j = 0; j < 16; j++) {
            if (pack) packed[j] = (uint8_t)(codes[j] | codes[j + 16] << 4);
            else codes[j] = packed[j] & 15, codes[j + 16] = packed[j] >> 4;
        }
        break;
    case WQC_GGML_Q8_0:
        if (pack) memcpy(packed, codes, 32);
        else memcpy(codes, packed, 32);
        break;
    case WQC_GGML_Q4_K:
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                uint8_t *b = packed + 32 * c + l, *lo = codes + 64 * c + l, *hi = lo + 32;
                if (pack) *b = (uint8_t)(*lo | *hi << 4);
                else *lo = *b & 15, *hi = *b >> 4;
            }
        break;
    case WQC_GGML_Q6_K:
        for (int h = 0; h < 2; h++) {
            uint8_t *ql = packed + 64 * h, *qh = packed + 128 + 32 * h, *q = codes + 128 * h;
            for (int l = 0; l < 32; l++) {
                if (pack) {
                    ql[l] = (uint8_t)((q[l] & 15) | (q[l + 64] & 15) << 4);
                    ql[l + 32] = (uint8_t)((q[l + 32] & 15) | (q[l + 96] & 15) << 4);
                    qh[l] = (uint8_t)(q[l] >> 4 | (q[l + 32] >> 4) << 2 | (q[l + 64] >> 4) << 4 | (q[l + 96] >> 4) << 6);
                } else {
                    q[l] = (uint8_t)((ql[l] & 15) | (qh[l] & 3) << 4);
                    q[l + 32] = (uint8_t)((ql[l + 32] & 15) | (qh[l] >> 2 & 3) << 4);
                    q[l + 64] = (uint8_t)((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4);
                    q[l + 96] = (uint8_t)((ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4);
                }
            }
        }
        break;
    }
}

int wqc_gguf_layout(uint32_t type, uint32_t *alphabet, uint32_t *nfields, uint32_t field_len[WQC_GGUF_STREAMS_MAX])
{
    field f[3];
    uint32_t nf, codes_at, codes_len;
    if (!fields_of(type, f, &nf, &codes_at, &codes_len)) return 0;
    *alphabet = type == WQC_GGML_Q8_0 ? 256 : type == WQC_GGML_Q6_K ? 64 : 16;
    *nfields = nf;
    for (uint32_t k = 0; k < nf; k++) field_len[k] = f[k].len;
    return 1;
}

uint32_t wqc_gguf_field_halves(uint32_t type, uint32_t k)
{
    field f[3];
    uint32_t nf, codes_at, codes_len;
    return fields_of(type, f, &nf, &codes_at, &codes_len) && k < nf && f[k].f16 ? f[k].len / 2 : 0;
}

wqc_status wqc_gguf_split(uint32_t type, const uint8_t *data, uint64_t nbytes, wqc_gguf_stream *out, size_t *n,
                          wqc_error *err)
{
    memset(out, 0, WQC_GGUF_STREAMS_MAX * sizeof *out);
    field f[3];
    uint32_t nf, codes_at, codes_len, bw, bb;
    if (!fields_of(type, f, &nf, &codes_at, &codes_len) || !wqc_ggml_type_block(type, &bw, &bb) || nbytes % bb) {
        out[0] = (wqc_gguf_stream){"bytes", 256, 0, malloc(nbytes ? (size_t)nbytes : 1), nbytes, 0};
        *n = 1;
        if (!out[0].data) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        memcpy(out[0].data, data, (size_t)nbytes);
        return WQC_OK;
    }
    uint64_t blocks = nbytes / bb;
    out[0] = (wqc_gguf_stream){"codes", type == WQC_GGML_Q8_0 ? 256 : type == WQC_GGML_Q6_K ? 64 : 16, 1,
                               malloc((size_t)(blocks * bw) + 1), blocks * bw, 0};
    int ok = out[0].data != NULL;
    for (uint32_t k = 0; k < nf; k++) {
        out[1 + k] = (wqc_gguf_stream){f[k].name, 256, 0, malloc((size_t)(blocks * f[k].len) + 1), blocks * f[k].len,
                                       f[k].f16 ? f[k].len / 2 : 0};
        ok = ok && out[1 + k].data;
    }
    *n = 1 + nf;
    if (!ok) {
        wqc_gguf_streams_free(out, *n);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    for (uint64_t b = 0; b < blocks; b++) {
        const uint8_t *block = data + b * bb;
        block_codes(type, (uint8_t *)block + codes_at, out[0].data + b * bw, 0);
        for (uint32_t k = 0; k < nf; k++) memcpy(out[1 + k].data + b * f[k].len, block + f[k].offset, f[k].len);
    }
    (void)codes_len;
    return WQC_OK;
}

void wqc_gguf_merge(uint32_t type, const wqc_gguf_stream *s, size_t n, uint8_t *out, uint64_t nbytes)
{
    field f[3];
    uint32_t nf, codes_at, codes_len, bw, bb;
    if (n == 1 || !fields_of(type, f, &nf, &codes_at, &codes_len) || !wqc_ggml_type_block(type, &bw, &bb)) {
        memcpy(out, s[0].data, (size_t)nbytes);
        return;
    }
    for (uint64_t b = 0; b < nbytes / bb; b++) {
        uint8_t *block = out + b * bb;
        block_codes(type, block + codes_at, s[0].data + b * bw, 1);
        for (uint32_t k = 0; k < nf; k++) memcpy(block + f[k].offset, s[1 + k].data + b * f[k].len, f[k].len);
    }
}

void wqc_gguf_streams_free(wqc_gguf_stream *s, size_t n)
{
    for (size_t i = 0; i < n; i++) free(s[i].data), s[i].data = NULL;
}
