/* wqc/rans.h - static rANS with interleaved lanes and independent chunks.
 *
 * Stream of one chunk of n symbols coded with N lanes (N a multiple of 8):
 *   N little-endian uint32 final encoder states (lane 0 first), then the
 *   little-endian uint16 renormalisation words in the order the decoder
 *   reads them. Symbol j of the chunk is coded by lane j mod N.
 * State x lies in [2^16, 2^32). Decoding a symbol:
 *   slot = x mod 2^P; s = symbol owning slot; x = f_s * (x >> P) + slot - c_s;
 *   if x < 2^16: x = (x << 16) | next word     (at most one word per symbol)
 * Encoding runs backwards so that the decoder reads forwards; every lane
 * starts and must end in state 2^16, which the decoder checks.
 * Integer-only and deterministic: the same symbols, table and parameters give
 * the same bytes on every platform. */
#ifndef WQC_RANS_H
#define WQC_RANS_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/isa.h"
#include "wqc/quant.h"
#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WQC_RANS_STATE_LOW (1u << 16)
#define WQC_RANS_LANES_MAX 256

/* Lane counts: 1, 2 or 4 (small tensors, where 4 bytes of final state per
 * lane are worth saving; decoded by the scalar decoder), or a multiple of 8
 * up to WQC_RANS_LANES_MAX (what the SIMD decoders take). */
static inline int wqc_rans_lanes_valid(uint32_t lanes)
{
    return lanes == 1 || lanes == 2 || lanes == 4 || (lanes >= 8 && lanes <= WQC_RANS_LANES_MAX && lanes % 8 == 0);
}
#define WQC_RANS_CHUNK_MIN 1024u
#define WQC_RANS_CHUNK_MAX (1u << 30)

/* A normalised frequency table: freq sums to 2^precision, alphabet 1..256. */
typedef struct wqc_rans_table {
    int precision;
    uint32_t alphabet;
    uint32_t freq[256];
    uint32_t cum[257];
} wqc_rans_table;

/* Validates freq (precision 10..15, alphabet 1..256, sum exactly 2^precision)
 * and fills cumulative frequencies. */
wqc_status wqc_rans_table_init(wqc_rans_table *t, const uint32_t *freq, uint32_t alphabet,
                               int precision, wqc_error *err);

/* ---- context-modelled coding ------------------------------------------ */

#define WQC_RANS_TABLES_MAX 64

/* Several tables for one tensor, chosen per parameter group (wqc/quant.h):
 * every symbol of group g is coded with tables[group_table[g]]. The decoder
 * knows the group of each symbol from its position, so the choice costs no
 * bits in the stream. Groups are runs of group_len along a row of `cols`
 * (the last of a row may be shorter); with tile != 0 the symbols are in the
 * gemv layout (wqc/gemv.h) and groups must be rows or the whole tensor. */
typedef struct wqc_rans_context {
    uint32_t ntables;                   /* 1..WQC_RANS_TABLES_MAX; 0: none (order-0) */
    wqc_rans_table *tables;             /* same precision and alphabet */
    uint8_t *group_table;               /* ngroups indices below ntables; with col_shift, bins below nbins */
    uint64_t rows, cols, group_len, ngroups;
    uint32_t tile;
    /* Column shifts (row-major only, tile 0): NULL, or cols shifts, and then
     * element (r, c) of group g is coded with table
     * bin_table[min(max(group_table[g] + col_shift[c], 0), nbins - 1)]:
     * a column whose values sit off the row's zero point moves its bin. */
    int8_t *col_shift;
    uint8_t *bin_table;                 /* nbins (1..256) indices below ntables */
    uint32_t nbins;
} wqc_rans_context;

/* Checks tables, indices and geometry (what a reader must before decoding). */
wqc_status wqc_rans_context_check(const wqc_rans_context *ctx, wqc_error *err);

/* A table's 2^P slots cut into 128 buckets of 2^(P-7), for a SIMD
 * decoder's byte permutes. first[b]: the symbol owning bucket b's first
 * slot, or for a dense bucket (more than bucket_starts symbols start inside
 * it) 0x80 | where its slots lie in `slots`; start[k][b]: the offset - 1 of
 * the k-th symbol start inside a bucket that is not dense (255: none);
 * slots: the symbols of the dense buckets' slots (128 at most), in order;
 * fc[s]: freq | cum << 16. wqc_rans_dtable.bucket_starts is bucket_starts. */
typedef struct wqc_rans_buckets {
    uint8_t first[128], start[3][128], slots[128];
    uint32_t fc[16];
    uint32_t dense;                     /* slots used in `slots` */
} wqc_rans_buckets;

/* Decoder lookup: per slot, the symbol and (freq, slot - cum) packed as
 * freq | (slot - cum) << 16. 2^P entries each (symbol has 4 more bytes of
 * padding so that SIMD code can gather it as 32-bit words). For alphabets of
 * at most 16 symbols and P <= 13, `packed` holds all three in one word, so
 * that a decoder needs one lookup per symbol (NULL otherwise); for larger
 * alphabets and P <= 12, `packed8` does (freq - 1 | (slot - cum) << 12 |
 * symbol << 24; NULL otherwise). With several tables (a context), table t's
 * entries follow at t * 2^P. */
typedef struct wqc_rans_dtable {
    int precision;
    uint32_t alphabet;
    uint32_t freq[256], cum[256];   /* table 0's, for search-based decoders */
    uint8_t *symbol;
    uint32_t *entry;
    uint32_t *packed;
    uint32_t *packed8;
    uint32_t ntables;
    const wqc_rans_context *context;    /* NULL: one table for every symbol */
    uint32_t bin_base[256];             /* context with column shifts: bin b's first slot, bin_table[b] << P */
    /* Context with column shifts, up to 2^22 bins x columns (else NULL): the
     * first slot of column c's table in a group of bin b, at b * cols + c. */
    uint32_t *shift_base;
    /* Tables of at most 16 symbols: bucket tables for SIMD byte permutes
     * (NULL when a table has too many dense slots), one per table. */
    wqc_rans_buckets *buckets;
    uint32_t bucket_starts;             /* 0..3, the same for every table */
} wqc_rans_dtable;

wqc_status wqc_rans_dtable_init(wqc_rans_dtable *d, const wqc_rans_table *t, wqc_error *err);
/* The tables of a context; ctx must outlive d. */
wqc_status wqc_rans_dtable_init_context(wqc_rans_dtable *d, const wqc_rans_context *ctx, wqc_error *err);
void wqc_rans_dtable_free(wqc_rans_dtable *d);

/* Largest stream of n symbols with `lanes` lanes: 4 * lanes + 2 * n bytes. */
size_t wqc_rans_chunk_bound(size_t n, uint32_t lanes);

/* Encodes sym[0..n) into out[0..cap) and sets *out_len. WQC_ERR_RANGE if a
 * symbol is outside the alphabet or has frequency 0; WQC_ERR_INVALID_ARG for
 * a lane count that is not a positive multiple of 8 up to 256 or cap below
 * the bound. */
wqc_status wqc_rans_encode_chunk(const wqc_rans_table *t, uint32_t lanes, const uint8_t *sym,
                                 size_t n, uint8_t *out, size_t cap, size_t *out_len,
                                 wqc_error *err);

/* wqc_rans_encode_chunk with a context: the chunk's symbols are tensor
 * positions pos..pos+n (in coding order). */
wqc_status wqc_rans_encode_chunk_context(const wqc_rans_context *ctx, uint32_t lanes, const uint8_t *sym,
                                         uint64_t pos, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                                         wqc_error *err);

/* The two above with a given ISA's encoder (wqc/isa.h): every ISA writes the
 * same bytes, the scalar encoder is the reference (the plain functions use
 * wqc_isa_active()). WQC_ERR_UNSUPPORTED when isa is unavailable. */
wqc_status wqc_rans_encode_chunk_isa(const wqc_rans_table *t, uint32_t lanes, const uint8_t *sym, size_t n,
                                     uint8_t *out, size_t cap, size_t *out_len, wqc_isa isa, wqc_error *err);
wqc_status wqc_rans_encode_chunk_context_isa(const wqc_rans_context *ctx, uint32_t lanes, const uint8_t *sym,
                                             uint64_t pos, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                                             wqc_isa isa, wqc_error *err);

/* Decodes exactly n symbols from in[0..len) into sym. WQC_ERR_FORMAT when the
 * stream is too short, has bytes left over, or a lane does not end in the
 * initial state; it never reads outside in[0..len) or writes outside sym[0..n). */
wqc_status wqc_rans_decode_chunk(const wqc_rans_dtable *d, uint32_t lanes, const uint8_t *in,
                                 size_t len, uint8_t *sym, size_t n, wqc_error *err);

/* ---- output forms ------------------------------------------------------ */

typedef enum wqc_rans_form {
    WQC_FORM_SYMBOLS = 0,   /* one uint8 per symbol */
    WQC_FORM_NIBBLES,       /* two per byte: element 2k in the low nibble, 2k+1 in the high;
                               alphabets of at most 16 symbols */
    WQC_FORM_F32,           /* offset + scale * q in float32, as wqc_dequantize */
    WQC_FORM_F16,           /* the F32 value rounded to nearest-even binary16 */
    WQC_FORM_DOT,           /* no output: dst is float acc[rows] of a matrix in the gemv
                               layout (wqc/gemv.h), acc[r] = fma(q, x[col], acc[r]) */
    WQC_FORM_BF16           /* the F32 value rounded to nearest-even bfloat16 */
} wqc_rans_form;

/* Where decoded symbols go: dst[0] is element `first` of the tensor (0: dst
 * holds the whole tensor; else a window, for decoding a range of chunks into
 * a reused buffer; even for nibbles). F32/F16/BF16 take rows, cols,
 * group_len, ngroups, scale and offset from `groups` (its symbols are not
 * used). SYMBOLS adds `add` to every symbol (mod 256): the offset of a
 * tensor of given integers, in the same pass. */
typedef struct wqc_rans_output {
    wqc_rans_form form;
    void *dst;
    const wqc_quantized *groups;
    const float *x;             /* WQC_FORM_DOT: x[cols]; rows, cols and the tile (= lanes) */
    uint64_t rows, cols;        /* of the matrix */
    uint64_t first;
    uint8_t add;
} wqc_rans_output;

/* Bytes of dst for n elements in a form. */
uint64_t wqc_rans_output_bytes(wqc_rans_form form, uint64_t n);

/* wqc_rans_decode_chunk for any ISA and output form: the chunk's symbols are
 * tensor elements pos..pos+n. Every ISA gives the same output and the same
 * verdict on a bad stream. WQC_ERR_UNSUPPORTED when isa is unavailable. */
wqc_status wqc_rans_decode_chunk_to(const wqc_rans_dtable *d, uint32_t lanes, const uint8_t *in,
                                    size_t len, const wqc_rans_output *out, uint64_t pos,
                                    size_t n, wqc_isa isa, wqc_error *err);

/* ---- whole tensors: a shared table and independent chunks ------------- */

#define WQC_RANS_LANES_DEFAULT_CODEC 32
/* 1 Mi symbols: the 32 lane states and the index entry of a chunk (132
 * bytes) stay under 0.1% of its payload down to 1.01 bits/symbol. */
#define WQC_RANS_CHUNK_DEFAULT_CODEC (1u << 20)

typedef struct wqc_rans_params {
    int precision;          /* 10..15 */
    uint32_t lanes;         /* wqc_rans_lanes_valid */
    uint32_t chunk;         /* symbols per chunk, WQC_RANS_CHUNK_MIN..MAX */
    int threads;            /* chunks coded in parallel (1: none) */
} wqc_rans_params;

void wqc_rans_params_default(wqc_rans_params *p);

/* Lane count for n symbols when the user sets none: 32 from 2^18 symbols up
 * (the 128 bytes of lane states cost under 0.15% at 3 bits/symbol), 8 from
 * 2^16, and 1 below: a lane wastes about 3 bytes of its flushed state, 1%
 * of a 4096-weight matrix at 8 lanes, while the scalar decoder takes tens of
 * microseconds for it. */
#define WQC_RANS_LANES_SMALL 8
#define WQC_RANS_SMALL_TENSOR (1u << 18)
#define WQC_RANS_TINY_TENSOR (1u << 16)
/* Alphabets above WQC_RANS_SEARCHED_ALPHABET symbols (bytes of lossless
 * floats and FP8, GGUF Q8_0 codes, 5-bit and wider symbols) are looked up
 * by gathers, whose latency only more independent lanes hide: they take
 * WQC_RANS_LANES_GATHERED lanes from 2^16 symbols up (AVX-512 decodes them
 * about twice as fast as with 32, for about 2 bytes of flushed state a
 * lane per chunk: 0.02% of a lossless BF16 model). */
#define WQC_RANS_SEARCHED_ALPHABET 16u
#define WQC_RANS_LANES_GATHERED 64
uint32_t wqc_rans_lanes_auto(uint64_t n, uint32_t alphabet);
/* The lanes a tensor of n symbols of an alphabet is coded with: lanes, or 0 for auto. */
uint32_t wqc_rans_lanes_for(uint32_t lanes, uint64_t n, uint32_t alphabet);
/* One of the parameters given as text, as the CLI's options and clients
 * give them: precision (10..15), lanes ("auto" = 0, 1, 2, 4 or a multiple of
 * 8), chunk (symbols per chunk). WQC_ERR_INVALID_ARG for a bad value,
 * WQC_ERR_NOT_FOUND for an unknown name, with the message in err. */
wqc_status wqc_rans_setting(wqc_rans_params *p, const char *name, const char *value, wqc_error *err);
wqc_status wqc_rans_params_check(const wqc_rans_params *p, wqc_error *err);

/* A coded tensor: the table (or, with ctx.ntables > 0, the context's tables),
 * then chunk c's stream at payload[offset[c]], of chunk_bytes[c] bytes,
 * holding min(chunk, n - c * chunk) symbols. */
typedef struct wqc_rans_coded {
    wqc_rans_table table;
    wqc_rans_context ctx;   /* tables and group_table owned */
    uint32_t lanes, chunk;
    uint64_t n;
    uint64_t nchunks;
    uint32_t *chunk_bytes;
    uint64_t *offset;       /* nchunks + 1 prefix sums of chunk_bytes */
    uint8_t *payload;
    uint64_t payload_len;
} wqc_rans_coded;

/* Number of chunks for n symbols (0 for n = 0). */
uint64_t wqc_rans_chunk_count(uint64_t n, uint32_t chunk);

/* Builds the cross-entropy-optimal table from the symbols' histogram and
 * codes them. WQC_ERR_RANGE for a symbol >= alphabet. */
wqc_status wqc_rans_encode(const uint8_t *sym, uint64_t n, uint32_t alphabet,
                           const wqc_rans_params *p, wqc_rans_coded *out, wqc_error *err);

/* Codes sym with a given table (WQC_ERR_RANGE if a symbol has frequency 0). */
wqc_status wqc_rans_encode_table(const uint8_t *sym, uint64_t n, const wqc_rans_table *t, const wqc_rans_params *p,
                                 wqc_rans_coded *out, wqc_error *err);

/* Codes sym (in coding order) with the tables and groups of ctx, which is
 * copied into out->ctx. */
wqc_status wqc_rans_encode_context(const uint8_t *sym, uint64_t n, const wqc_rans_context *ctx,
                                   const wqc_rans_params *p, wqc_rans_coded *out, wqc_error *err);

/* Fills offsets from chunk_bytes and checks they add up to payload_len. */
wqc_status wqc_rans_coded_index(wqc_rans_coded *c, wqc_error *err);

/* Decodes every chunk of c into sym[0..c->n) with the active ISA (threads
 * as in wqc_rans_params). */
wqc_status wqc_rans_decode(const wqc_rans_coded *c, int threads, uint8_t *sym, wqc_error *err);

/* Decodes every chunk of c, in parallel on `threads` threads (<= 0: all
 * cores), straight into out->dst. Nibble output of chunks of odd length runs
 * on one thread (neighbouring chunks would share a byte). */
wqc_status wqc_rans_decode_to(const wqc_rans_coded *c, const wqc_rans_output *out, int threads,
                              wqc_isa isa, wqc_error *err);
/* The same for chunks first_chunk .. first_chunk + count - 1 only; out->first
 * is usually the first of their elements (first_chunk * c->chunk). */
wqc_status wqc_rans_decode_chunks(const wqc_rans_coded *c, uint64_t first_chunk, uint64_t count,
                                  const wqc_rans_output *out, int threads, wqc_isa isa, wqc_error *err);

/* Frees what wqc_rans_encode allocated (chunk_bytes, offset, payload, and a
 * context's tables and group_table). */
void wqc_rans_coded_free(wqc_rans_coded *c);

#ifdef __cplusplus
}
#endif
#endif
