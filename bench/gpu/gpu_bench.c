/* GPU decode throughput against the device's own copy bandwidth, and the
 * time to load a matrix into GPU memory from a .wqc against loading its F16
 * bytes, on a 4096 x 14336 matrix (affine 4-bit per row, the default).
 * Prints a Markdown report (bench/gpu.sh saves it).
 * usage: wqc_gpu_bench [ROWS COLS [CHUNK]] */
#include <cuda_runtime.h>
#include <time.h>

#include "../../tests/cuda/gpu_fixture.h"
#include "wqc/cuda.h"

static double ms_of(cudaEvent_t a, cudaEvent_t b)
{
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    return ms;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[n / 2];
}

enum { REPS = 11 };

int main(int argc, char **argv)
{
    uint64_t rows = argc > 2 ? strtoull(argv[1], NULL, 10) : 4096, cols = argc > 2 ? strtoull(argv[2], NULL, 10) : 14336;
    uint32_t chunk = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 16384;
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        printf("no CUDA device\n");
        return 77;
    }
    struct cudaDeviceProp prop;
    cudaGetDeviceProperties(&prop, 0);
    wqc_quant_params p;
    wqc_quant_params_default(&p);
    gpu_file file;
    const wqc_frame *f;
    wqc_error err;
    if (gpu_file_make(&file, rows, cols, &p, 32, chunk, &f, &err) != WQC_OK) {
        fprintf(stderr, "wqc_gpu_bench: %s\n", err.msg);
        return 1;
    }
    uint64_t n = f->nelem, out_bytes = 2 * n;
    cudaEvent_t t0, t1;
    cudaEventCreate(&t0), cudaEventCreate(&t1);
    wqc_cuda_frame *g = NULL;
    void *dev = NULL, *copy_src = NULL, *host = NULL;
    cudaMalloc(&dev, out_bytes);
    cudaMalloc(&copy_src, out_bytes);
    cudaMallocHost(&host, out_bytes);
    memset(host, 1, out_bytes);
    double t_dec[REPS], t_sym[REPS], t_copy[REPS], t_h2d_f16[REPS], t_load[REPS];
    if (wqc_cuda_frame_upload(f, &g, &err) != WQC_OK || wqc_cuda_decode(g, WQC_FORM_F16, dev, &err) != WQC_OK) {
        fprintf(stderr, "wqc_gpu_bench: %s\n", err.msg);
        return 1;
    }
    for (int k = 0; k < REPS; k++) {
        cudaEventRecord(t0, 0);
        wqc_cuda_decode(g, WQC_FORM_F16, dev, &err);
        cudaEventRecord(t1, 0);
        cudaEventSynchronize(t1);
        t_dec[k] = ms_of(t0, t1);
        cudaEventRecord(t0, 0);
        wqc_cuda_decode(g, WQC_FORM_SYMBOLS, dev, &err);
        cudaEventRecord(t1, 0);
        cudaEventSynchronize(t1);
        t_sym[k] = ms_of(t0, t1);
        cudaEventRecord(t0, 0);
        cudaMemcpy(dev, copy_src, out_bytes, cudaMemcpyDeviceToDevice);
        cudaEventRecord(t1, 0);
        cudaEventSynchronize(t1);
        t_copy[k] = ms_of(t0, t1);
        cudaEventRecord(t0, 0);
        cudaMemcpy(dev, host, out_bytes, cudaMemcpyHostToDevice);
        cudaEventRecord(t1, 0);
        cudaEventSynchronize(t1);
        t_h2d_f16[k] = ms_of(t0, t1);
        /* A load from the .wqc: its payload to the GPU (from pinned memory, as
         * the F16 copy), then the decode. */
        memcpy(host, f->coded.payload, (size_t)f->coded.payload_len);
        cudaEventRecord(t0, 0);
        wqc_cuda_frame *h = NULL;
        wqc_cuda_frame_upload(f, &h, &err);
        wqc_cuda_decode(h, WQC_FORM_F16, dev, &err);
        cudaEventRecord(t1, 0);
        cudaEventSynchronize(t1);
        t_load[k] = ms_of(t0, t1);
        wqc_cuda_frame_free(h);
    }
    double dec = median(t_dec, REPS), sym = median(t_sym, REPS), copy = median(t_copy, REPS);
    double h2d = median(t_h2d_f16, REPS), load = median(t_load, REPS);
    double copy_gbs = out_bytes / copy / 1e6, dec_gbs = out_bytes / dec / 1e6;
    printf("# GPU decode on %s\n\n", prop.name);
    printf("`wqc_gpu_bench %llu %llu %u` (bench/gpu.sh): a %llu x %llu matrix, affine 4-bit per row, coded order-0 with 32 lanes "
           "and chunks of %u symbols (%llu chunks; %.4f bits/weight); medians of %d runs, CUDA events.\n\n",
           (unsigned long long)rows, (unsigned long long)cols, chunk, (unsigned long long)rows, (unsigned long long)cols, chunk,
           (unsigned long long)f->coded.nchunks, f->coded.payload_len * 8.0 / (double)n, REPS);
    printf("| what | time ms | throughput |\n|---|---:|---:|\n");
    printf("| decode to F16 (dequantized) | %.3f | %.1f GB/s of F16 written, %.2f G symbols/s |\n", dec, dec_gbs, n / dec / 1e6);
    printf("| decode to symbols | %.3f | %.2f G symbols/s |\n", sym, n / sym / 1e6);
    printf("| device-to-device copy of the F16 bytes | %.3f | %.1f GB/s written (%.1f read + written) |\n", copy, copy_gbs,
           2 * copy_gbs);
    printf("| load F16 from host (pinned) | %.3f | %.1f GB/s |\n", h2d, out_bytes / h2d / 1e6);
    printf("| load from .wqc: upload %.1f MB + decode | %.3f | %.1f GB/s of F16 made |\n",
           wqc_cuda_frame_bytes(g) / 1e6, load, out_bytes / load / 1e6);
    printf("\nDecode to F16 runs at %.0f%% of the copy bandwidth (bytes written). Loading from the .wqc takes %.2fx the time of "
           "loading F16 from pinned host memory.\n", 100.0 * dec_gbs / copy_gbs, load / h2d);
    wqc_cuda_frame_free(g);
    cudaFree(dev), cudaFree(copy_src), cudaFreeHost(host);
    gpu_file_free(&file);
    return 0;
}
