/* `wqc bench`: the codecs it races and how each one is driven. */
#ifndef WQC_TOOLS_BENCH_CODECS_H
#define WQC_TOOLS_BENCH_CODECS_H

#include <stdint.h>

#include "wqc/wqc.h"

/* One quantized tensor of the input. */
typedef struct bench_item {
    const char *name;
    wqc_quantized q;            /* symbols and groups */
    uint64_t n;
} bench_item;

/* A coded item: bytes (or wqc's coded tensor) and how large it is. */
typedef struct bench_blob {
    uint8_t *data;
    size_t len;
    wqc_rans_coded coded;
    int has_coded;
    uint64_t side_bytes;        /* wqc: the tables' description */
} bench_blob;

typedef enum bench_family {
    BENCH_WQC, BENCH_PACKED, BENCH_HTSCODECS, BENCH_ZSTD, BENCH_BROTLI
} bench_family;

typedef struct bench_codec {
    char name[48];
    bench_family family;
    wqc_isa isa;                /* wqc and packed */
    wqc_rans_form form;         /* what decode writes (packed: SYMBOLS = unpack, F32 = dequantize) */
    int level;                  /* zstd level, brotli quality, htscodecs order flags */
    uint32_t lanes;             /* wqc: 0 = wqc_rans_lanes_auto */
    int context;                /* wqc: zero-point context tables (wqc/symbol_model.h) */
    uint32_t chunk;
    int precision;
} bench_codec;

/* Fills codecs[] (capacity 32) for the families named in `select` (comma
 * list of wqc, packed, htscodecs, zstd, brotli; NULL = all); returns the
 * count. max_alphabet decides whether packed 4-bit applies. */
size_t bench_codecs_list(const char *select, uint32_t max_alphabet, bench_codec *codecs);

/* Whether family is in select, a --codecs list (NULL: all). */
int bench_codec_selected(const char *select, const char *family);
/* 1 if `select` names only families the bench races (lossless: bench
 * --lossless's), else prints why and returns 0. */
int bench_codecs_valid(const char *select, int lossless);

/* Encodes one item; threads for wqc. 0 on success, else -1 with err set. */
int bench_encode(const bench_codec *c, const bench_item *it, int threads, bench_blob *out, wqc_error *err);
/* Decodes into dst (bench_output_bytes bytes). */
int bench_decode(const bench_codec *c, const bench_item *it, const bench_blob *b, int threads, void *dst,
                 wqc_error *err);
void bench_blob_free(bench_blob *b);

/* Size of a coded item (for wqc: payload plus its frequency table). */
uint64_t bench_blob_bytes(const bench_codec *c, const bench_blob *b);
/* Output bytes and what they must equal. */
uint64_t bench_output_bytes(const bench_codec *c, uint64_t n);
void bench_expected(const bench_codec *c, const bench_item *it, void *dst);

#endif
