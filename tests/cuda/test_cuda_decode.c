/* The GPU decoder against the CPU decoders, bit for bit, on every output
 * form it writes and on frames of several lane counts, chunk lengths and
 * group layouts (the general and the aligned kernels); the GPU products
 * (fused and Q4_0) against sums in double; damaged streams refused by
 * both. Exit 77 without a GPU. */
#include <cuda_runtime.h>
#include <math.h>

#include "gpu_fixture.h"
#include "wqc/cuda.h"

static void compare_forms(const char *label, const wqc_frame *f)
{
    static const wqc_rans_form forms[] = {WQC_FORM_SYMBOLS, WQC_FORM_F16, WQC_FORM_BF16, WQC_FORM_F32};
    static const char *const names[] = {"symbols", "F16", "BF16", "F32"};
    wqc_error err;
    wqc_cuda_frame *g = NULL;
    wqc_status st = wqc_cuda_frame_upload(f, &g, &err);
    CHECK(st == WQC_OK, "%s: upload: %s", label, err.msg);
    if (st != WQC_OK) return;
    for (int k = 0; k < 4; k++) {
        size_t bytes = (size_t)wqc_rans_output_bytes(forms[k], f->nelem);
        uint8_t *cpu = malloc(bytes), *gpu = malloc(bytes);
        void *dev = NULL;
        cudaMalloc(&dev, bytes);
        cudaMemset(dev, 0xAB, bytes);
        st = gpu_cpu_decode(f, forms[k], cpu, &err);
        CHECK(st == WQC_OK, "%s %s: CPU decode: %s", label, names[k], err.msg);
        st = wqc_cuda_decode(g, forms[k], dev, &err);
        CHECK(st == WQC_OK, "%s %s: GPU decode: %s", label, names[k], err.msg);
        cudaMemcpy(gpu, dev, bytes, cudaMemcpyDeviceToHost);
        size_t first = 0;
        while (first < bytes && cpu[first] == gpu[first]) first++;
        CHECK(first == bytes, "%s %s: GPU output differs from the CPU's at byte %zu of %zu", label, names[k], first, bytes);
        if (first == bytes) printf("ok  %s %s (%zu bytes)\n", label, names[k], bytes);
        cudaFree(dev);
        free(cpu);
        free(gpu);
    }
    wqc_cuda_frame_free(g);
}

/* Random vectors in GPU memory: batch x n F32 (seeded). */
static float *random_vectors(uint32_t batch, uint64_t n, float *host)
{
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (uint64_t i = 0; i < batch * n; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        host[i] = (float)((double)(state >> 40) / (double)(1ull << 24) - 0.5);
    }
    float *dev = NULL;
    cudaMalloc((void **)&dev, (size_t)batch * n * sizeof(float));
    cudaMemcpy(dev, host, (size_t)batch * n * sizeof(float), cudaMemcpyHostToDevice);
    return dev;
}

/* y from the GPU against W x in double; the bound is float rounding of sums
 * of |w x| terms. */
static int product_close(const char *label, const float *w, uint64_t rows, uint64_t cols, const float *x,
                         uint32_t batch, const float *dev_y)
{
    float *y = malloc((size_t)batch * rows * sizeof(float));
    cudaMemcpy(y, dev_y, (size_t)batch * rows * sizeof(float), cudaMemcpyDeviceToHost);
    int ok = 1;
    for (uint32_t b = 0; b < batch && ok; b++)
        for (uint64_t r = 0; r < rows && ok; r++) {
            double sum = 0, mag = 0;
            for (uint64_t c = 0; c < cols; c++) {
                sum += (double)w[r * cols + c] * x[b * cols + c];
                mag += fabs((double)w[r * cols + c] * x[b * cols + c]);
            }
            double got = y[(size_t)b * rows + r];
            if (!(fabs(got - sum) <= 1e-5 * mag + 1e-6)) {
                CHECK(0, "%s: y[%u][%llu] = %.9g, expected %.9g", label, b, (unsigned long long)r, got, sum);
                ok = 0;
            }
        }
    free(y);
    return ok;
}

/* The fused product of an aligned frame against its F32 weights, and the
 * Q4_0 product against the CPU's Q4_0 weights, for 1, 3 (2 + 1) and 8 vectors. */
static void compare_products(const char *label, const wqc_frame *f)
{
    wqc_error err;
    wqc_cuda_frame *g = NULL;
    if (wqc_cuda_frame_upload(f, &g, &err) != WQC_OK) return;
    uint64_t rows, cols;
    wqc_cuda_frame_shape(g, &rows, &cols);
    float *w = malloc((size_t)f->nelem * sizeof(float));
    gpu_cpu_decode(f, WQC_FORM_F32, w, &err);
    static const uint32_t batches[] = {1, 3, 8};
    for (size_t i = 0; i < 3; i++) {
        uint32_t batch = batches[i];
        float *x = malloc((size_t)batch * cols * sizeof(float)), *dev_x = random_vectors(batch, cols, x), *dev_y = NULL;
        cudaMalloc((void **)&dev_y, (size_t)batch * rows * sizeof(float));
        wqc_status st = wqc_cuda_gemv(g, dev_x, batch, dev_y, &err);
        CHECK(st == WQC_OK, "%s: product: %s", label, err.msg);
        if (st == WQC_OK && product_close(label, w, rows, cols, x, batch, dev_y))
            printf("ok  %s: product, %u vector%s\n", label, batch, batch > 1 ? "s" : "");
        if (cols % WQC_Q4_0_BLOCK == 0) {
            uint64_t nblocks = rows * cols / WQC_Q4_0_BLOCK;
            wqc_q4_0_block *blocks = malloc(nblocks * sizeof *blocks), *dev_blocks = NULL;
            float *wq = malloc((size_t)f->nelem * sizeof(float));
            wqc_q4_0_quantize(w, rows, cols, blocks, &err);
            /* The Q4_0 weights, dequantized as q4_0.h defines them. */
            for (uint64_t k = 0; k < nblocks; k++)
                for (int j = 0; j < 32; j++) {
                    int q = j < 16 ? blocks[k].qs[j] & 15 : blocks[k].qs[j - 16] >> 4;
                    wq[k * 32 + j] = wqc_f16_to_f32(blocks[k].d) * (float)(q - 8);
                }
            cudaMalloc((void **)&dev_blocks, nblocks * sizeof *blocks);
            cudaMemcpy(dev_blocks, blocks, nblocks * sizeof *blocks, cudaMemcpyHostToDevice);
            st = wqc_cuda_q4_0_gemv(dev_blocks, rows, cols, dev_x, batch, dev_y, &err);
            CHECK(st == WQC_OK, "%s: Q4_0 product: %s", label, err.msg);
            if (st == WQC_OK && product_close(label, wq, rows, cols, x, batch, dev_y))
                printf("ok  %s: Q4_0 product, %u vector%s\n", label, batch, batch > 1 ? "s" : "");
            cudaFree(dev_blocks);
            free(blocks);
            free(wq);
        }
        cudaFree(dev_x), cudaFree(dev_y);
        free(x);
    }
    free(w);
    wqc_cuda_frame_free(g);
}

/* A split frame decoded on the GPU to its own bytes, against the CPU's; the
 * other forms refused; with damage, its second chunk refused. */
static void compare_lossless(const char *label, const wqc_frame *f, int aligned)
{
    wqc_error err;
    wqc_cuda_frame *g = NULL;
    wqc_status st = wqc_cuda_frame_upload(f, &g, &err);
    CHECK(st == WQC_OK, "%s: upload: %s", label, err.msg);
    if (st != WQC_OK) return;
    CHECK(wqc_cuda_frame_aligned(g) == aligned, "%s: aligned %d, expected %d", label, wqc_cuda_frame_aligned(g), aligned);
    const wqc_rans_form own = wqc_dtype_size(f->dtype) == 1 ? WQC_FORM_SYMBOLS : f->dtype == WQC_DTYPE_F32 ? WQC_FORM_F32
                              : f->dtype == WQC_DTYPE_F16 ? WQC_FORM_F16 : WQC_FORM_BF16;
    size_t bytes = (size_t)f->raw_len;
    uint8_t *cpu = malloc(bytes), *gpu = malloc(bytes);
    void *dev = NULL;
    cudaMalloc(&dev, bytes * 2 + 8);
    cudaMemset(dev, 0xAB, bytes);
    st = wqc_frame_decode_raw(f, cpu, &err);
    CHECK(st == WQC_OK, "%s: CPU decode: %s", label, err.msg);
    st = wqc_cuda_decode(g, own, dev, &err);
    CHECK(st == WQC_OK, "%s: GPU decode: %s", label, err.msg);
    cudaMemcpy(gpu, dev, bytes, cudaMemcpyDeviceToHost);
    size_t first = 0;
    while (first < bytes && cpu[first] == gpu[first]) first++;
    CHECK(first == bytes, "%s: GPU output differs from the CPU's at byte %zu of %zu", label, first, bytes);
    if (first == bytes) printf("ok  %s (%zu bytes)\n", label, bytes);
    static const wqc_rans_form forms[] = {WQC_FORM_SYMBOLS, WQC_FORM_F16, WQC_FORM_BF16, WQC_FORM_F32};
    for (int k = 0; k < 4; k++)
        if (forms[k] != own)
            CHECK(wqc_cuda_decode(g, forms[k], dev, &err) == WQC_ERR_UNSUPPORTED, "%s: form %d not refused", label, forms[k]);
    float *x = NULL, *y = NULL;
    CHECK(wqc_cuda_gemv(g, x, 1, y, &err) == WQC_ERR_UNSUPPORTED, "%s: product not refused", label);
    wqc_cuda_frame_free(g);
    if (f->coded.nchunks > 1) {
        wqc_frame bad = *f;
        uint8_t *payload = malloc((size_t)f->payload_len);
        memcpy(payload, f->payload, (size_t)f->payload_len);
        payload[f->coded.offset[1] + 100] ^= 0x5A;
        bad.payload = payload, bad.coded.payload = payload;
        st = wqc_cuda_frame_upload(&bad, &g, &err);
        if (st == WQC_OK) st = wqc_cuda_decode(g, own, dev, &err);
        CHECK(st == WQC_ERR_FORMAT, "%s, damaged: GPU %d (%s)", label, st, err.msg);
        if (st == WQC_ERR_FORMAT) printf("ok  %s, damaged chunk refused: %s\n", label, err.msg);
        wqc_cuda_frame_free(g);
        free(payload);
    }
    cudaFree(dev);
    free(cpu), free(gpu);
}

static void lossless_cases(void)
{
    enum { SPLIT = WQC_ENC_SPLIT, E8M3 = WQC_ENC_SPLIT_E8M3 };
    struct {
        const char *label;
        wqc_dtype dtype;
        uint64_t n;
        uint32_t lanes, chunk;
        int bf16_values, zeros, aligned, encoding;
    } cases[] = {
        {"lossless BF16 e8m3, 32 lanes, chunks of 4096", WQC_DTYPE_BF16, 262144, 32, 4096, 0, 0, 1, E8M3},
        {"lossless BF16 with many zeros (split), 32 lanes, chunks of 4096", WQC_DTYPE_BF16, 262144, 32, 4096, 0, 8, 1, SPLIT},
        {"lossless F16, 32 lanes, chunks of 16384", WQC_DTYPE_F16, 200000, 32, 16384, 0, 0, 1, SPLIT},
        {"lossless F32, 32 lanes, chunks of 4096", WQC_DTYPE_F32, 100000, 32, 4096, 0, 0, 1, SPLIT},
        {"lossless F32 of BF16 values (zstd'd rests)", WQC_DTYPE_F32, 100000, 32, 4096, 1, 0, 1, SPLIT},
        {"lossless U8, 32 lanes, chunks of 4096", WQC_DTYPE_U8, 300000, 32, 4096, 0, 0, 1, SPLIT},
        {"lossless BF16 e8m3, 100003 values (general kernel)", WQC_DTYPE_BF16, 100003, 32, 4096, 0, 0, 0, E8M3},
        {"lossless BF16 with many zeros (split), 100003 values (general kernel)", WQC_DTYPE_BF16, 100003, 32, 4096, 0, 8, 0, SPLIT},
        {"lossless BF16 e8m3, 16 lanes, chunks of 2048", WQC_DTYPE_BF16, 70000, 16, 2048, 0, 0, 0, E8M3},
        {"lossless BF16 e8m3, 64 lanes, chunks of 4096", WQC_DTYPE_BF16, 262144, 64, 4096, 0, 0, 1, E8M3},
        {"lossless BF16 with many zeros (split), 64 lanes, chunks of 4096", WQC_DTYPE_BF16, 262144, 64, 4096, 0, 8, 1, SPLIT},
        {"lossless F8_E4M3, 64 lanes, chunks of 16384", WQC_DTYPE_F8_E4M3, 300000, 64, 16384, 0, 0, 1, SPLIT},
        {"lossless BF16 e8m3, 64 lanes, chunks of 4000 (half rounds)", WQC_DTYPE_BF16, 100000, 64, 4000, 0, 0, 1, E8M3},
        {"lossless BF16 e8m3, 64 lanes, 100003 values (general kernel)", WQC_DTYPE_BF16, 100003, 64, 4096, 0, 0, 0, E8M3},
        {"lossless BF16 e8m3 with an exception, 64 lanes, chunks of 4096", WQC_DTYPE_BF16, 262144, 64, 4096, 0, 1, 1, E8M3},
        {"lossless BF16 e8m3 with an exception (general kernel)", WQC_DTYPE_BF16, 100003, 32, 4096, 0, 1, 0, E8M3},
        {"lossless BF16 e8m3, row tables, 64 lanes, rows of 512", WQC_DTYPE_BF16, 262144, 64, 4096, 0, 2, 1, E8M3},
        {"lossless BF16 e8m3, row tables, rows of 200 (general kernel)", WQC_DTYPE_BF16, 200000, 32, 4096, 0, 3, 0, E8M3},
        {"lossless F8_E4M3, tile tables, 64 lanes, rows of 512", WQC_DTYPE_F8_E4M3, 512 * 384, 64, 4096, 0, 4, 1, SPLIT},
        {"lossless F8_E4M3, tile tables, 32 lanes, chunks of 2000 (general kernel)", WQC_DTYPE_F8_E4M3, 512 * 384, 32, 2000, 0, 4,
         0, SPLIT},
        {"lossless BF16 e8m3, column shifts, 64 lanes (general kernel)", WQC_DTYPE_BF16, 262144, 64, 4096, 0, 5, 0, E8M3},
        {"lossless F16, column shifts, 32 lanes, chunks of 3000 (general kernel)", WQC_DTYPE_F16, 262144, 32, 3000, 0, 5, 0, SPLIT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gpu_file file;
        const wqc_frame *f = NULL;
        wqc_error err;
        wqc_status st = gpu_lossless_make(&file, cases[i].dtype, cases[i].n, cases[i].lanes, cases[i].chunk,
                                          cases[i].bf16_values, cases[i].zeros, &f, &err);
        CHECK(st == WQC_OK && (int)f->encoding == cases[i].encoding, "%s: making the frame: %s (encoding %d)", cases[i].label,
              st == WQC_OK ? "" : err.msg, f ? (int)f->encoding : -1);
        CHECK(st != WQC_OK || !cases[i].bf16_values || f->rest_coding[1] == WQC_ENC_ZSTD, "%s: rests not zstd'd",
              cases[i].label);
        const int row_scales = cases[i].zeros >= 2 && cases[i].zeros <= 5;
        CHECK(st != WQC_OK || row_scales == (f->coded.ctx.ntables > 1), "%s: row tables %u", cases[i].label,
              f ? f->coded.ctx.ntables : 0);
        CHECK(st != WQC_OK || (cases[i].zeros == 5) == (f->coded.ctx.col_shift != NULL), "%s: column shifts %d",
              cases[i].label, f && f->coded.ctx.col_shift);
        CHECK(st != WQC_OK || (cases[i].zeros == 4) == (f->table_tile != 0), "%s: tile tables %u", cases[i].label,
              f ? f->table_tile : 0);
        if (st == WQC_OK && (int)f->encoding == cases[i].encoding) compare_lossless(cases[i].label, f, cases[i].aligned);
        gpu_file_free(&file);
    }
    /* split-e8m3 chunks that do not start on a whole byte of signs stay on the host. */
    gpu_file file;
    const wqc_frame *f = NULL;
    wqc_error err;
    wqc_cuda_frame *g = NULL;
    wqc_status st = gpu_lossless_make(&file, WQC_DTYPE_BF16, 100000, 32, 4001, 0, 0, &f, &err);
    CHECK(st == WQC_OK && f->encoding == WQC_ENC_SPLIT_E8M3, "e8m3, chunks of 4001: making the frame");
    if (st == WQC_OK) {
        st = wqc_cuda_frame_upload(f, &g, &err);
        CHECK(st == WQC_ERR_UNSUPPORTED, "e8m3, chunks of 4001: upload gave %d, not unsupported", st);
        if (st == WQC_ERR_UNSUPPORTED) printf("ok  e8m3, chunks of 4001 refused: %s\n", err.msg);
        wqc_cuda_frame_free(g);
    }
    gpu_file_free(&file);
}

static void damaged(const wqc_frame *f)
{
    /* A copy of the frame whose payload has one byte changed in its second chunk. */
    wqc_frame bad = *f;
    uint8_t *payload = malloc((size_t)f->coded.payload_len);
    memcpy(payload, f->coded.payload, (size_t)f->coded.payload_len);
    payload[f->coded.offset[1] + 200] ^= 0x5A;
    bad.coded.payload = payload;
    wqc_error err;
    size_t bytes = (size_t)f->nelem;
    uint8_t *cpu = malloc(bytes);
    wqc_status cs = gpu_cpu_decode(&bad, WQC_FORM_SYMBOLS, cpu, &err);
    wqc_cuda_frame *g = NULL;
    void *dev = NULL;
    cudaMalloc(&dev, bytes);
    wqc_status gs = wqc_cuda_frame_upload(&bad, &g, &err);
    if (gs == WQC_OK) gs = wqc_cuda_decode(g, WQC_FORM_SYMBOLS, dev, &err);
    CHECK(cs == WQC_ERR_FORMAT && gs == WQC_ERR_FORMAT, "damaged chunk: CPU %d, GPU %d (%s)", cs, gs, err.msg);
    if (gs == WQC_ERR_FORMAT) printf("ok  damaged stream refused: %s\n", err.msg);
    if (g && wqc_cuda_frame_aligned(g)) {
        uint64_t rows, cols;
        wqc_cuda_frame_shape(g, &rows, &cols);
        float *x = NULL, *y = NULL;
        cudaMalloc((void **)&x, cols * sizeof(float));
        cudaMalloc((void **)&y, rows * sizeof(float));
        cudaMemset(x, 0, cols * sizeof(float));
        gs = wqc_cuda_gemv(g, x, 1, y, &err);
        CHECK(gs == WQC_ERR_FORMAT, "damaged chunk: GPU product %d (%s)", gs, err.msg);
        if (gs == WQC_ERR_FORMAT) printf("ok  damaged stream refused by the product: %s\n", err.msg);
        cudaFree(x), cudaFree(y);
    }
    wqc_cuda_frame_free(g);
    cudaFree(dev);
    free(cpu);
    free(payload);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0); /* what passed stays in the log if a later case crashes */
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    struct {
        const char *label;
        uint64_t rows, cols;
        int method, bits, gran;
        uint32_t group, lanes, chunk;
        int aligned, flags;
    } cases[] = {
        {"affine 4-bit row, 32 lanes, chunks of 4096", 256, 1024, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 32, 4096, 1, 0},
        {"affine 4-bit row, 32 lanes, chunks of 16384", 512, 1000, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 32, 16384, 0, 0},
        {"affine 4-bit group:64, rows of 640, chunks of 1024", 96, 640, WQC_QUANT_AFFINE, 4, WQC_GRAN_GROUP, 64, 32, 1024, 1, 0},
        {"affine 4-bit group:64, rows of 96 (groups 64 + 32)", 200, 96, WQC_QUANT_AFFINE, 4, WQC_GRAN_GROUP, 64, 32, 2048, 1, 0},
        {"affine 2-bit group:32, one chunk", 40, 256, WQC_QUANT_AFFINE, 2, WQC_GRAN_GROUP, 32, 32, 1 << 20, 1, 0},
        {"affine 4-bit row, 97 rows of 32 (a last chunk of 32)", 97, 32, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 32, 1024, 1, 0},
        {"sdclip 5-bit tensor, rows of 96, chunks of 1024", 100, 96, WQC_QUANT_SDCLIP, 5, WQC_GRAN_TENSOR, 0, 32, 1024, 1, 0},
        {"affine 3-bit group:32, 8 lanes, chunks of 1024", 300, 256, WQC_QUANT_AFFINE, 3, WQC_GRAN_GROUP, 32, 8, 1024, 0, 0},
        {"affine 4-bit group:48, 32 lanes", 64, 480, WQC_QUANT_AFFINE, 4, WQC_GRAN_GROUP, 48, 32, 1024, 0, 0},
        {"sdclip 6-bit, 16 lanes, one chunk", 64, 700, WQC_QUANT_SDCLIP, 6, WQC_GRAN_ROW, 0, 16, 1 << 20, 0, 0},
        {"affine 4-bit row, 64 lanes, chunks of 4096", 256, 1024, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 64, 4096, 1, 0},
        {"affine 4-bit row, 64 lanes, rows of 1000", 100, 1000, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 64, 4096, 0, 0},
        {"affine 8-bit tensor, 1 lane", 7, 131, WQC_QUANT_AFFINE, 8, WQC_GRAN_TENSOR, 0, 1, 1024, 0, 0},
        /* Aligned, alphabets over 32: values computed, not shuffled from lanes. */
        {"affine 6-bit row, 64 lanes, chunks of 4096", 128, 1024, WQC_QUANT_AFFINE, 6, WQC_GRAN_ROW, 0, 64, 4096, 1, 0},
        {"affine 8-bit group:64, 32 lanes, chunks of 2048", 96, 640, WQC_QUANT_AFFINE, 8, WQC_GRAN_GROUP, 64, 32, 2048, 1, 0},
        {"gemv layout, 32 lanes, 100 rows (tail tile of 4)", 100, 96, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 32, 1024, 0, 1},
        {"gemv layout, 8 lanes, tensor scales, one chunk", 37, 50, WQC_QUANT_AFFINE, 4, WQC_GRAN_TENSOR, 0, 8, 1 << 20, 0, 1},
        {"context tables by row, 32 lanes, chunks of 4096", 128, 1024, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 32, 4096, 1,
         GPU_CONTEXT},
        {"context tables by row, 16 lanes, chunks of 1024", 64, 300, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 16, 1024, 0,
         GPU_CONTEXT},
        {"context tables by row, gemv layout", 70, 256, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 32, 1024, 0,
         GPU_CONTEXT | GPU_GEMV},
        {"column shifts, 32 lanes, chunks of 4096", 128, 1024, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 32, 4096, 0,
         GPU_CONTEXT | GPU_COLUMNS},
        {"column shifts, 64 lanes, rows of 1000", 100, 1000, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 64, 4096, 0,
         GPU_CONTEXT | GPU_COLUMNS},
        {"column shifts, group:64, 16 lanes", 96, 640, WQC_QUANT_AFFINE, 4, WQC_GRAN_GROUP, 64, 16, 1024, 0,
         GPU_CONTEXT | GPU_COLUMNS},
    };
    const wqc_frame *keep = NULL;
    gpu_file keep_file = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        wqc_quant_params p;
        wqc_quant_params_default(&p);
        p.method = cases[i].method, p.bits = cases[i].bits, p.granularity = cases[i].gran;
        if (cases[i].group) p.group_size = cases[i].group;
        gpu_file file;
        const wqc_frame *f;
        wqc_error err;
        wqc_status st = gpu_file_make(&file, cases[i].rows, cases[i].cols, &p, cases[i].lanes, cases[i].chunk,
                                      cases[i].flags, &f, &err);
        CHECK(st == WQC_OK, "%s: making the frame: %s", cases[i].label, err.msg);
        if (st == WQC_OK) {
            wqc_cuda_frame *g = NULL;
            if (wqc_cuda_frame_upload(f, &g, &err) == WQC_OK) {
                CHECK(!(cases[i].flags & GPU_GEMV) || f->gemv_tile, "%s: not in the gemv layout", cases[i].label);
                CHECK(!(cases[i].flags & GPU_CONTEXT) || f->coded.ctx.ntables > 1, "%s: not context-coded (%u tables)",
                      cases[i].label, f->coded.ctx.ntables);
                CHECK(!(cases[i].flags & GPU_COLUMNS) == !f->coded.ctx.col_shift, "%s: column shifts %s", cases[i].label,
                      f->coded.ctx.col_shift ? "present" : "absent");
                CHECK(wqc_cuda_frame_aligned(g) == cases[i].aligned, "%s: aligned %d, expected %d", cases[i].label,
                      wqc_cuda_frame_aligned(g), cases[i].aligned);
                if (!cases[i].aligned) {
                    float *x = NULL, *y = NULL;
                    CHECK(wqc_cuda_gemv(g, x, 1, y, &err) == WQC_ERR_UNSUPPORTED, "%s: product not refused", cases[i].label);
                }
            }
            wqc_cuda_frame_free(g);
            compare_forms(cases[i].label, f);
            if (cases[i].aligned) compare_products(cases[i].label, f);
        }
        if (i == 0 && st == WQC_OK) keep = f, keep_file = file;
        else gpu_file_free(&file);
    }
    if (keep) damaged(keep);
    lossless_cases();
    gpu_file_free(&keep_file);
    printf("%s\n", failures ? "FAILED" : "all GPU outputs equal the CPU's");
    return failures ? 1 : 0;
}
