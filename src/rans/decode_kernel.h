/* Internal: the contract between the chunk decoder (rans_decode.c) and the
 * per-ISA kernels, and the output helpers they share.
 *
 * A kernel decodes whole rounds (one symbol per lane, lanes in order) while a
 * round cannot run past the end of the stream: it starts one only while at
 * least 2 * lanes bytes of words remain, which also covers every vector load
 * of words inside the round. The scalar driver finishes the rest, checks the
 * end of the stream and the final states, so kernels validate nothing. */
#ifndef WQC_RANS_DECODE_KERNEL_H
#define WQC_RANS_DECODE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "dot_cursor.h"
#include "../quant/group_cursor.h"
#include "context_cursor.h"
#include "wqc/rans.h"

typedef struct rans_kernel_ctx {
    const wqc_rans_dtable *d;
    uint32_t lanes;
    uint32_t *state;                /* lanes states, updated */
    const uint8_t *w, *end;         /* next word and end of the stream, w updated */
    uint64_t pos;                   /* tensor index of the next symbol, updated */
    size_t rounds;                  /* whole rounds wanted */
    const wqc_rans_output *out;
    rans_group_cursor groups;       /* F32/F16 forms, positioned at or before pos */
    rans_dot_cursor dot;            /* DOT form, likewise */
    rans_context_cursor context;    /* d->context set: the table of each element, likewise */
} rans_kernel_ctx;

/* Each returns the rounds it decoded (possibly 0, e.g. for a lane count it
 * does not handle). */
typedef size_t (*rans_kernel_fn)(rans_kernel_ctx *k);
size_t wqc_rans_kernel_avx2(rans_kernel_ctx *k);
size_t wqc_rans_kernel_avx512(rans_kernel_ctx *k);
size_t wqc_rans_kernel_neon(rans_kernel_ctx *k);
/* The same for a dtable with a context: each element's table from k->context. */
size_t wqc_rans_kernel_context_avx2(rans_kernel_ctx *k);
size_t wqc_rans_kernel_context_avx512(rans_kernel_ctx *k);
size_t wqc_rans_kernel_context_neon(rans_kernel_ctx *k);

/* Several chunks of the same table and lane count at once (more independent
 * work in flight per thread): decodes the same number of whole rounds of each,
 * under the single-chunk rule, and returns it (0 when it cannot). */
#define RANS_MULTI_MAX 4
/* How many chunks to decode at once: symbols of a searched alphabet take 4;
 * values and gathered alphabets 2 (with 4, registers spill: F32 on Zen 4
 * ran at 0.7 of 2 chunks at once, 8-bit symbols at 0.75). */
static inline uint64_t rans_multi_most(wqc_rans_form form, uint32_t alphabet)
{
    int symbols = form == WQC_FORM_SYMBOLS || form == WQC_FORM_NIBBLES;
    return symbols && alphabet <= WQC_RANS_SEARCHED_ALPHABET ? RANS_MULTI_MAX : 2;
}
typedef size_t (*rans_kernel_multi_fn)(rans_kernel_ctx *const *k, int nk);
size_t wqc_rans_kernel_multi_avx512(rans_kernel_ctx *const *k, int nk);
/* Tables with bucket tables (d->buckets), 32 lanes, by VBMI byte permutes:
 * where wqc_avx512_buckets() says so. */
int wqc_avx512_buckets(void);
size_t wqc_rans_kernel_avx512_bucket(rans_kernel_ctx *k);
size_t wqc_rans_kernel_multi_avx512_bucket(rans_kernel_ctx *const *k, int nk);
size_t wqc_rans_kernel_context_avx512_bucket(rans_kernel_ctx *k);
size_t wqc_rans_kernel_context_multi_avx512_bucket(rans_kernel_ctx *const *k, int nk);
size_t wqc_rans_kernel_context_multi_avx512(rans_kernel_ctx *const *k, int nk);

/* Decodes nk (<= RANS_MULTI_MAX) chunks, chunk c holding elements
 * pos[c]..pos[c]+n[c], together where a kernel for that exists, else one
 * after the other; each gets its own verdict, exactly as
 * wqc_rans_decode_chunk_to would give. Returns the first failure. */
wqc_status wqc_rans_decode_chunks_to(const wqc_rans_dtable *d, uint32_t lanes, int nk, const uint8_t *const *in,
                                     const size_t *len, const wqc_rans_output *out, const uint64_t *pos,
                                     const size_t *n, wqc_isa isa, wqc_status *st, wqc_error *err);

/* Threads a decode runs on for a `threads` argument (<= 0: all cores; 1 without OpenMP). */
int wqc_rans_threads(int threads);

/* wqc_rans_decode_to and wqc_rans_decode_chunks with a table built once by the caller. */
wqc_status wqc_rans_decode_with(const wqc_rans_dtable *d, const wqc_rans_coded *c, const wqc_rans_output *out,
                                int threads, wqc_isa isa, wqc_error *err);
wqc_status wqc_rans_decode_range_with(const wqc_rans_dtable *d, const wqc_rans_coded *c, uint64_t first_chunk,
                                      uint64_t count, const wqc_rans_output *out, int threads, wqc_isa isa,
                                      wqc_error *err);

/* Packed decoder entry for alphabets of at most 16 symbols and P <= 13:
 * freq (<= 2^13) in bits 0..13, slot - cum in bits 14..27, symbol in 28..31. */
#define RANS_PACKED_MAX_ALPHABET 16u
#define RANS_PACKED_MAX_PRECISION 13
#define RANS_PACKED_FIELD 0x3fffu
/* The bucket tables' geometry (wqc_rans_buckets): 2^7 buckets, what
 * one two-register byte permute indexes. */
#define RANS_BUCKET_BITS 7
#define RANS_BUCKETS (1u << RANS_BUCKET_BITS)
/* The same for larger alphabets at P <= 12 (packed8): freq - 1 in bits
 * 0..11, slot - cum in 12..23, symbol in 24..31. */
#define RANS_PACKED8_MAX_PRECISION 12
#define RANS_PACKED8_FIELD 0xfffu

#endif
