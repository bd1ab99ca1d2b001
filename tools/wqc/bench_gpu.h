/* wqc bench --gpu's parts (builds with -DWQC_CUDA=ON). */
#ifndef WQC_TOOLS_BENCH_GPU_H
#define WQC_TOOLS_BENCH_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/q4_0.h"

/* A benchmark matrix as the load table needs it: its F16 values and (rows
 * of whole blocks) its Q4_0 blocks, host memory. */
typedef struct gpu_load_matrix {
    uint64_t rows, cols;
    const uint16_t *h;
    const wqc_q4_0_block *q4;
} gpu_load_matrix;

/* The load table (bench_gpu_load.c): the matrices as a quantized .wqc (wqc,
 * wqc_len bytes), F16 and BF16 safetensors, Q4_0 GGUF and a lossless .wqc
 * with chunks of `chunk`, each loaded `repeat` times. Returns 0 on failure
 * (reported). */
int bench_gpu_load(const gpu_load_matrix *m, size_t n, const void *wqc, size_t wqc_len, uint32_t chunk, long repeat);

/* `wqc bench --gpu FILE`: one file (.wqc, safetensors or GGUF) loaded into
 * GPU memory `repeat` times, its stage table. Returns 0 on failure. */
int bench_gpu_load_file(const char *path, long repeat);

#endif
