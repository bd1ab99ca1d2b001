/* wqc/cuda.h - decoding rANS frames on an NVIDIA GPU, straight into GPU
 * memory, and y = W x straight from a frame (built with -DWQC_CUDA=ON;
 * src/cuda/).
 *
 * One warp decodes one chunk: thread l runs lane l, every round decodes
 * one symbol a lane, and the lanes that renormalise take the next 16-bit
 * words in lane order (a ballot and a prefix count), exactly as the CPU
 * decoders do; outputs are the CPU decoders' bit for bit (dequantized
 * values round the multiply and the add separately, no FMA). Chunks decode
 * in parallel, so a file meant for the GPU wants many: encode with
 * --chunk 4096. Supported: rANS frames (order-0 or a context's tables
 * chosen per parameter group) with at most 32 lanes, in the row or the
 * gemv layout; others (zstd, brotli, floats) are WQC_ERR_UNSUPPORTED. Row-layout
 * frames with 32 lanes whose chunks, rows and parameter groups are
 * multiples of 32 symbols ("aligned", the default encoding of most weight
 * matrices) take a faster kernel, and only they take the product (the gemv
 * layout's chunks hold whole tiles of 32 rows: too few chunks for a GPU). */
#ifndef WQC_CUDA_H
#define WQC_CUDA_H

#include "wqc/container.h"
#include "wqc/q4_0.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A frame's payload, table, chunk offsets and scales in GPU memory. */
typedef struct wqc_cuda_frame wqc_cuda_frame;

wqc_status wqc_cuda_frame_upload(const wqc_frame *f, wqc_cuda_frame **out, wqc_error *err);
void wqc_cuda_frame_free(wqc_cuda_frame *g);
/* Bytes uploaded (payload, tables, offsets, scales). */
uint64_t wqc_cuda_frame_bytes(const wqc_cuda_frame *g);
/* Whether the frame takes the aligned kernels (and the product). */
int wqc_cuda_frame_aligned(const wqc_cuda_frame *g);
void wqc_cuda_frame_shape(const wqc_cuda_frame *g, uint64_t *rows, uint64_t *cols);

/* Decodes into dev_out (GPU memory: wqc_rans_output_bytes(form, n) bytes)
 * as WQC_FORM_SYMBOLS, F16, BF16 or F32, and waits; a damaged chunk gives
 * WQC_ERR_FORMAT naming it. */
wqc_status wqc_cuda_decode(const wqc_cuda_frame *g, wqc_rans_form form, void *dev_out, wqc_error *err);
/* The same queued on a cudaStream_t (NULL: the default stream), without
 * waiting: once the stream has run it, wqc_cuda_frame_check reports damage. */
wqc_status wqc_cuda_decode_async(const wqc_cuda_frame *g, wqc_rans_form form, void *dev_out, void *stream,
                                 wqc_error *err);
wqc_status wqc_cuda_frame_check(const wqc_cuda_frame *g, wqc_error *err);

/* y = W x for `batch` vectors, decoded and multiplied in one pass (no
 * weight written to memory): dev_x holds batch x cols F32 (vector after
 * vector), dev_y batch x rows F32. An aligned frame of a quantized matrix;
 * sums run in another order than the CPU's, so results agree to float
 * rounding. Waits, and reports damage as wqc_cuda_decode. The first call
 * with several vectors keeps 32 x cols bytes of GPU memory with the frame
 * (x interleaved), so one product a frame at a time. */
wqc_status wqc_cuda_gemv(const wqc_cuda_frame *g, const float *dev_x, uint32_t batch, float *dev_y, wqc_error *err);

/* The packed 4-bit peer: y = W x from Q4_0 blocks (wqc/q4_0.h, rows x cols
 * / 32 of them) in GPU memory, x and y as in wqc_cuda_gemv. Waits. */
wqc_status wqc_cuda_q4_0_gemv(const wqc_q4_0_block *dev_w, uint64_t rows, uint64_t cols, const float *dev_x,
                              uint32_t batch, float *dev_y, wqc_error *err);

/* A CUDA runtime error code as a wqc error (WQC_ERR_IO) naming what failed. */
wqc_status wqc_cuda_error(wqc_error *err, int cuda_error, const char *what);

#ifdef __cplusplus
}
#endif
#endif
