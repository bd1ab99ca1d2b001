/* Building the frames that quantize and encode write, one tensor at a time. */
#ifndef WQC_TOOLS_FRAMES_H
#define WQC_TOOLS_FRAMES_H

#include "wqc/wqc.h"

/* Quantizes tensor i of m with p: f->encoding = WQC_ENC_RANS, f->q owns
 * the symbols, scales and offsets (release with cli_frame_release). The
 * tensor's input pages are released once read. stats (may be NULL)
 * receives the statistics of its floats and of the quantization. */
wqc_status cli_frame_quantize(const wqc_model *m, size_t i, const wqc_quant_params *p, wqc_frame *f,
                              wqc_tensor_stats *stats, wqc_error *err);

/* An I8/U8 tensor as the user's own symbols: q = v - min, offset = min, scale 1.
 * A U8 tensor whose minimum is 0 lends its own bytes (f->q.symbols == t->data:
 * the caller must not free them). */
wqc_status cli_frame_given(const wqc_tensor *t, wqc_frame *f, wqc_error *err);

/* A tensor kept as it is (RAW, payload pointing at t's data). */
void cli_frame_raw(wqc_frame *f, const wqc_tensor *t);

/* Frees what cli_frame_quantize / cli_frame_given allocated. */
void cli_frame_release(wqc_frame *f);

/* The matrix view of a tensor: rows = shape[0] for rank >= 2, else 1. */
void cli_matrix_view(const wqc_tensor *t, uint64_t *rows, uint64_t *cols);

#endif
