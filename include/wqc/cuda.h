/* wqc/cuda.h - decoding rANS frames on an NVIDIA GPU, straight into GPU
 * memory (built with -DWQC_CUDA=ON; src/cuda/).
 *
 * One warp decodes one chunk: thread l runs lane l, every round decodes
 * one symbol a lane, and the lanes that renormalise take the next 16-bit
 * words in lane order (a ballot and a prefix count), exactly as the CPU
 * decoders do; outputs are the CPU decoders' bit for bit (dequantized
 * values round the multiply and the add separately, no FMA). Chunks decode
 * in parallel, so a file meant for the GPU wants many: encode with
 * --chunk 16384 (or smaller). Supported: row-layout order-0 frames with at
 * most 32 lanes; others are WQC_ERR_UNSUPPORTED. */
#ifndef WQC_CUDA_H
#define WQC_CUDA_H

#include "wqc/container.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A frame's payload, table, chunk offsets and scales in GPU memory. */
typedef struct wqc_cuda_frame wqc_cuda_frame;

wqc_status wqc_cuda_frame_upload(const wqc_frame *f, wqc_cuda_frame **out, wqc_error *err);
void wqc_cuda_frame_free(wqc_cuda_frame *g);
/* Decodes into dev_out (GPU memory: wqc_rans_output_bytes(form, n) bytes)
 * as WQC_FORM_SYMBOLS, F16, BF16 or F32, and waits; a damaged chunk gives
 * WQC_ERR_FORMAT naming it. */
wqc_status wqc_cuda_decode(const wqc_cuda_frame *g, wqc_rans_form form, void *dev_out, wqc_error *err);
/* Bytes uploaded (payload, tables, offsets, scales). */
uint64_t wqc_cuda_frame_bytes(const wqc_cuda_frame *g);

#ifdef __cplusplus
}
#endif
#endif
