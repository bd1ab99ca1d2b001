/* The GPU decoder against the CPU decoders, bit for bit, on every output
 * form it writes and on frames of several lane counts, chunk lengths and
 * group layouts; damaged streams refused by both. Exit 77 without a GPU. */
#include <cuda_runtime.h>

#include "gpu_fixture.h"
#include "wqc/cuda.h"

static int failures;

#define CHECK(cond, ...)                                 \
    do {                                                 \
        if (!(cond)) {                                   \
            failures++;                                  \
            fprintf(stderr, "FAIL: " __VA_ARGS__);       \
            fputc('\n', stderr);                         \
        }                                                \
    } while (0)

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
    wqc_cuda_frame_free(g);
    cudaFree(dev);
    free(cpu);
    free(payload);
}

int main(void)
{
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
    } cases[] = {
        {"affine 4-bit row, 32 lanes, chunks of 16384", 512, 1000, WQC_QUANT_AFFINE, 4, WQC_GRAN_ROW, 0, 32, 16384},
        {"affine 3-bit group:32, 8 lanes, chunks of 1024", 300, 256, WQC_QUANT_AFFINE, 3, WQC_GRAN_GROUP, 32, 8, 1024},
        {"sdclip 6-bit, 16 lanes, one chunk", 64, 700, WQC_QUANT_SDCLIP, 6, WQC_GRAN_ROW, 0, 16, 1 << 20},
        {"affine 8-bit tensor, 1 lane", 7, 131, WQC_QUANT_AFFINE, 8, WQC_GRAN_TENSOR, 0, 1, 1024},
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
        wqc_status st = gpu_file_make(&file, cases[i].rows, cases[i].cols, &p, cases[i].lanes, cases[i].chunk, &f, &err);
        CHECK(st == WQC_OK, "%s: making the frame: %s", cases[i].label, err.msg);
        if (st == WQC_OK) compare_forms(cases[i].label, f);
        if (i == 0 && st == WQC_OK) keep = f, keep_file = file;
        else gpu_file_free(&file);
    }
    if (keep) damaged(keep);
    gpu_file_free(&keep_file);
    printf("%s\n", failures ? "FAILED" : "all GPU outputs equal the CPU's");
    return failures ? 1 : 0;
}
