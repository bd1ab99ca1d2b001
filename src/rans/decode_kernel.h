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

#include "../quant/group_cursor.h"
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
} rans_kernel_ctx;

/* Each returns the rounds it decoded (possibly 0, e.g. for a lane count it
 * does not handle). */
typedef size_t (*rans_kernel_fn)(rans_kernel_ctx *k);
size_t wqc_rans_kernel_avx2(rans_kernel_ctx *k);
size_t wqc_rans_kernel_avx512(rans_kernel_ctx *k);
size_t wqc_rans_kernel_neon(rans_kernel_ctx *k);

/* Packed decoder entry for alphabets of at most 16 symbols and P <= 13:
 * freq (<= 2^13) in bits 0..13, slot - cum in bits 14..27, symbol in 28..31. */
#define RANS_PACKED_MAX_ALPHABET 16u
#define RANS_PACKED_MAX_PRECISION 13
#define RANS_PACKED_FIELD 0x3fffu

#endif
