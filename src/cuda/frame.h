/* A frame in GPU memory, and its parts made on the host: shared by the
 * decoder, the product kernels and the loader (src/cuda/); not part of the
 * public API (wqc/cuda.h). C and CUDA. */
#ifndef WQC_CUDA_FRAME_H
#define WQC_CUDA_FRAME_H

#include <stdint.h>
#include <vector_types.h>

#include "wqc/cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes past the payload's end that the word-wise stream copy may read. */
#define PAYLOAD_PAD 8

struct wqc_cuda_frame {
    uint64_t n, nchunks;
    uint64_t rows, cols, group_len, ngroups;
    uint32_t lanes, chunk, precision;
    uint32_t alphabet;          // symbols 0..alphabet-1 (every table's)
    uint32_t tile;              // 0: row-major symbols; else the gemv layout's tile height (= lanes)
    uint32_t split;             // 0: quantized symbols; else a split frame's value bytes (1, 2 or 4)
    uint32_t e8m3, split_base;  // split-e8m3 (BF16) and its base
    wqc_dtype dtype;            // the tensor's
    uint32_t max_chunk_bytes;   // the longest chunk's stream
    int aligned;                // 32 or 64 lanes, and every 32 symbols of a round lie in one parameter group (wqc_cuda_frame_aligned)
    uint8_t *payload;           // device, PAYLOAD_PAD bytes longer
    const uint8_t *rest[3];     // split: the rest streams (n bytes each; e8m3: nibbles, signs), in the payload after the symbols'
    uint64_t *offset;           // device, nchunks + 1
    uint32_t ntables;           // 1, or a context's tables, chosen per parameter group
    uint2 *table;               // device, ntables x 2^P: {freq, (slot - cum) | symbol << 16}
    uint8_t *group_table;       // device, ngroups: each group's table (context frames; else NULL), or its bin
                                // with column shifts, followed by col_shift and bin_table
    const int8_t *col_shift;    // device, cols: column shifts (wqc_rans_context), else NULL
    const uint8_t *bin_table;   // device, nbins: with column shifts, each bin's table
    uint32_t nbins;
    uint64_t *exceptions;       // device, split-e8m3: index << 16 | e8 << 3 | m7 >> 4 of each value outside the window
    uint64_t nexceptions;
    float *scale, *offset_g;    // device, ngroups
    int *status;                // device, per chunk: 0 ok, else an error code; then the aligned decoder's chunk counter
    float *x_scratch;           // device, 8 x cols: the product's interleaved vectors (made on first use)
    uint64_t bytes;
};

/* A frame's fields and small arrays made on the host (the device pointers
 * of g unset): what wqc_cuda_frame_upload copies into allocations of its
 * own and the loader into its arena. The payload is the symbols' chunks,
 * then (split frames) the rest streams decoded. */
typedef struct frame_host {
    wqc_cuda_frame g;
    const uint8_t *payload;     // the frame's bytes, or `joined`
    uint64_t payload_len;
    uint8_t *joined;            // split frames with zstd'd rest streams: symbols' chunks and rests, owned
    uint64_t rest_at[3];        // split: where each rest stream starts in `payload`
    uint64_t *exceptions;       // split-e8m3: g.nexceptions entries as on the device, owned
    float *no_scales;           // split frames with row tables: zeros a row for the group walk, owned
    uint8_t *maps;              // frames with column shifts: group bins, column shifts, bin tables, owned
    uint2 *table;               // ntables x 2^P, owned
    const uint64_t *offset;     // nchunks + 1
    const float *scale, *offset_g;
    const uint8_t *group_table; // context frames, else NULL
    float one, zero;            // the scale and offset of frames without groups
} frame_host;

/* Checks that the GPU takes f and fills h; frame_host_free after. */
wqc_status frame_host_make(const wqc_frame *f, frame_host *h, wqc_error *err);
void frame_host_free(frame_host *h);
/* The device bytes of each array (status: nchunks + 1 ints), in upload order. */
enum { PART_PAYLOAD, PART_OFFSET, PART_TABLE, PART_SCALE, PART_OFFSET_G, PART_GROUP_TABLE, PART_EXCEPTIONS, PART_STATUS, PARTS };
void frame_host_sizes(const frame_host *h, uint64_t size[PARTS]);
/* Points g's device pointers at base[k] for each part (and the rest streams
 * into the payload). */
void frame_host_place(frame_host *h, uint8_t *const base[PARTS]);
/* The host bytes of part k (NULL for the status). */
const void *frame_host_part(const frame_host *h, int k);

/* The only form a split frame decodes to: its dtype's (symbols for 1-byte dtypes). */
wqc_rans_form frame_own_form(const wqc_cuda_frame *g);

/* Reports the first damaged chunk of g from its statuses (nchunks, copied
 * to the host): WQC_ERR_FORMAT naming it, else WQC_OK. */
wqc_status frame_status_check(const wqc_cuda_frame *g, const int *status, wqc_error *err);

#ifdef __cplusplus
}
#endif
#endif
