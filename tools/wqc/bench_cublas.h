/* cuBLAS for `wqc bench --gpu`'s F16 peer, opened at run time: linked,
 * its libraries (libcublasLt is ~500 MB) are mapped and relocated at every
 * start of wqc, ~70 ms of each command in a CUDA build. */
#ifndef WQC_TOOLS_BENCH_CUBLAS_H
#define WQC_TOOLS_BENCH_CUBLAS_H

#include <cublas_v2.h>

typedef struct bench_cublas {
    void *lib;
    cublasHandle_t handle;
    cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void *,
                              const void *, cudaDataType, int, const void *, cudaDataType, int, const void *, void *,
                              cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
    cublasStatus_t (*destroy)(cublasHandle_t);
} bench_cublas;

/* Opens the library and a handle; 0 after reporting why not. */
int bench_cublas_open(bench_cublas *b);
void bench_cublas_close(bench_cublas *b);

#endif
