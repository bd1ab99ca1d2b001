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
 * --chunk 4096 (lossless: 16384). Supported: rANS frames (order-0 or a
 * context's tables chosen per parameter group) with up to 32 lanes or 64, in
 * the row or the gemv layout, and split frames (lossless F32, F16, BF16 and
 * 1-byte tensors: the symbol bytes joined with the rest bytes into the
 * values); others (zstd, brotli, floats) are WQC_ERR_UNSUPPORTED. Row-layout
 * frames with 32 or 64 lanes whose chunks, rows and parameter groups are
 * multiples of 32 symbols ("aligned", the default encoding of most weight
 * matrices) take a faster kernel, and only they take the product (the gemv
 * layout's chunks hold whole tiles of 32 rows: too few chunks for a GPU). */
#ifndef WQC_CUDA_H
#define WQC_CUDA_H

#include "wqc/archive.h"
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
 * WQC_ERR_FORMAT naming it. A split frame decodes to its tensor's bytes
 * only: form F32, F16 or BF16 as its dtype is, SYMBOLS for 1-byte dtypes. */
wqc_status wqc_cuda_decode(const wqc_cuda_frame *g, wqc_rans_form form, void *dev_out, wqc_error *err);
/* The same queued on a cudaStream_t (NULL: the default stream), without
 * waiting: once the stream has run it, wqc_cuda_frame_check reports damage.
 * A frame's decodes must not overlap on different streams: they share its
 * chunk statuses and the counter that hands its chunks to the warps. */
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

/* ---- a model file loaded into GPU memory ------------------------------ */

/* A .wqc (one file), a .safetensors or a GGUF file, every tensor put in GPU
 * memory by one pipeline, so that file formats compare, not loaders:
 * threads take the tensors in file order, read each one's bytes with pread
 * into pinned staging buffers (a ring per thread, allocated at open),
 * verify a .wqc record's check as its pieces arrive, and copy the pieces
 * to the GPU on the thread's stream as soon as they are read; a coded
 * tensor is then decoded on that stream straight into its place, while the
 * thread reads the next. The frames the GPU does not decode (zstd, brotli,
 * LZMA, the float coder, GGUF blocks, split frames with zstd'd rest
 * streams, lane counts other than 1..32 and 64) are decoded by the thread and sent the same
 * way. A damaged record or chunk fails the load, naming the tensor.
 *
 * What a tensor becomes: a quantized one dequantized to its original dtype
 * (or as `as` says: F16, BF16, F32, or its symbols as U8; given integers
 * stay I8/U8), any other its
 * bytes as stored: lossless tensors their exact values, safetensors
 * tensors as they are, GGUF quantized blocks (Q4_0, ...) as U8 bytes. */
typedef struct wqc_cuda_load_options {
    wqc_decode_as as;           /* quantized tensors; WQC_AS_ORIGINAL by default */
    int threads;                /* reading threads (at most 32); <= 0: the cores, at most 8 */
    size_t piece;               /* bytes read and copied at a time; 0: 2 MiB (4 staging buffers a thread) */
} wqc_cuda_load_options;

/* A load's stages. The threads' stages overlap each other and the GPU's:
 * they are summed over threads (thread-seconds), beside the wall time. */
typedef struct wqc_cuda_load_times {
    double total;               /* wall: from the call until every tensor is in place and checked */
    double read;                /* pread of the file's bytes into staging */
    double check;               /* the .wqc records' checks (XXH3) */
    double cpu_decode;          /* frames decoded on the host */
    double wait;                /* waiting for a staging buffer's copy to the GPU to end */
    double gpu_decode;          /* GPU time of the decoding kernels, summed over tensors (CUDA events) */
    uint64_t file_bytes;        /* read from the file */
    uint64_t gpu_bytes;         /* copied to the GPU */
    uint64_t out_bytes;         /* the tensors' bytes in GPU memory */
    /* The wall clock's milestones, from the call: the first unit taken
     * (threads started), the last unit's reads and GPU work issued (what
     * follows is the GPU finishing and the chunk statuses' check). */
    double started;
    double issued;
    /* After `issued`: on the GPU's clock (CUDA events, from an event at the
     * call's start), when the last decode kernel started and when the last
     * work of any thread's stream (copies, checks, decodes) ended; on the
     * wall clock, when the last thread saw its stream's work end (what
     * follows it to `total` is the chunk statuses' check). */
    double gpu_last_decode;
    double gpu_end;
    double synced;
} wqc_cuda_load_times;

typedef struct wqc_cuda_model wqc_cuda_model;

/* Reads the file's tensor list (index and descriptors; nothing of the
 * payloads), sizes the GPU memory the coded frames need, and allocates
 * the staging. opts may be NULL. The current CUDA device is used. */
wqc_status wqc_cuda_model_open(const char *path, const wqc_cuda_load_options *opts, wqc_cuda_model **out,
                               wqc_error *err);
void wqc_cuda_model_close(wqc_cuda_model *m);
size_t wqc_cuda_model_count(const wqc_cuda_model *m);

/* Tensor i as it will be in GPU memory. */
typedef struct wqc_cuda_tensor {
    const char *name;           /* valid while the model is open */
    wqc_dtype dtype;
    int ndim;
    uint64_t shape[WQC_MAX_DIMS];
    uint64_t bytes;
} wqc_cuda_tensor;
void wqc_cuda_model_tensor(const wqc_cuda_model *m, size_t i, wqc_cuda_tensor *out);

/* Loads every tensor: into dst[i] (GPU memory of tensor i's bytes; the
 * caller's, e.g. torch tensors'), or with dst NULL into one allocation the
 * model owns (wqc_cuda_model_data). May be called again (a new read of the
 * file). times may be NULL. */
wqc_status wqc_cuda_model_load(wqc_cuda_model *m, void *const *dst, wqc_cuda_load_times *times, wqc_error *err);
/* Where tensor i is after a load with dst NULL, else NULL. */
void *wqc_cuda_model_data(const wqc_cuda_model *m, size_t i);

/* A CUDA runtime error code as a wqc error (WQC_ERR_IO) naming what failed. */
wqc_status wqc_cuda_error(wqc_error *err, int cuda_error, const char *what);

#ifdef __cplusplus
}
#endif
#endif
