/* Frames for the GPU test and benchmark: Gaussian weights quantized, coded
 * with the library's encoder and read back through the .wqc reader, so the
 * frames are exactly what a file holds. */
#ifndef WQC_TESTS_GPU_FIXTURE_H
#define WQC_TESTS_GPU_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/wqc.h"

/* A failed check counts and says why; the test goes on. */
static int failures;

#define CHECK(cond, ...)                           \
    do {                                           \
        if (!(cond)) {                             \
            failures++;                            \
            fprintf(stderr, "FAIL: " __VA_ARGS__); \
            fputc('\n', stderr);                   \
        }                                          \
    } while (0)

typedef struct gpu_file {
    wqc_memory_out bytes;
    wqc_reader *r;
} gpu_file;

enum {
    GPU_GEMV = 1,       /* the gemv layout */
    GPU_CONTEXT = 2,    /* odd rows uniform, even rows Gaussian, coded with a context's tables */
    GPU_COLUMNS = 4     /* with GPU_CONTEXT: each column off the rows' zero points (column shifts) */
};

/* Writes frame fr as a one-tensor .wqc into file (when st is WQC_OK) and
 * reads it back: *f the frame as a reader gives it. */
static inline wqc_status gpu_file_finish(gpu_file *file, wqc_status st, const wqc_frame *fr, const wqc_frame **f,
                                         wqc_error *err)
{
    wqc_writer *wr = NULL;
    if (st == WQC_OK) st = wqc_writer_open(wqc_memory_sink, &file->bytes, NULL, 0, &wr, err);
    if (st == WQC_OK) st = wqc_writer_add(wr, fr, err);
    if (st == WQC_OK) st = wqc_writer_finish(wr, err);
    wqc_writer_free(wr);
    if (st == WQC_OK) st = wqc_reader_open(file->bytes.data, file->bytes.len, 1, NULL, 0, &file->r, err);
    if (st == WQC_OK) st = wqc_reader_frame(file->r, 0, f, err);
    return st;
}

/* One rows x cols Gaussian tensor quantized with p and coded order-0 (or as
 * flags say) with the given lanes and chunk, as a one-tensor .wqc in
 * memory; *f its frame. */
static inline wqc_status gpu_file_make(gpu_file *file, uint64_t rows, uint64_t cols, const wqc_quant_params *p,
                                       uint32_t lanes, uint32_t chunk, int flags, const wqc_frame **f, wqc_error *err)
{
    memset(file, 0, sizeof *file);
    char spec[96];
    snprintf(spec, sizeof spec, "gaussian:%llux%llu:seed=3", (unsigned long long)rows, (unsigned long long)cols);
    wqc_synthetic_spec s;
    float *w = NULL;
    wqc_status st = wqc_synthetic_parse(spec, &s, err);
    if (st == WQC_OK) st = wqc_synthetic_generate(&s, &w, err);
    uint64_t state = 1;
    for (uint64_t r = 1; st == WQC_OK && (flags & GPU_CONTEXT) && r < rows; r += 2)
        for (uint64_t c = 0; c < cols; c++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            w[r * cols + c] = (float)((double)(state >> 40) / (double)(1ull << 24) - 0.5) * 0.1f;
        }
    for (uint64_t c = 0; st == WQC_OK && (flags & GPU_COLUMNS) && c < cols; c++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        float shift = (float)((double)(state >> 40) / (double)(1ull << 24) - 0.5) * 0.08f;
        for (uint64_t r = 0; r < rows; r++) w[r * cols + c] += shift;
    }
    wqc_tensor t = {.name = "w", .dtype = WQC_DTYPE_F32, .ndim = 2, .shape = {rows, cols}, .nelem = rows * cols,
                    .data = (const unsigned char *)w, .nbytes = rows * cols * 4};
    wqc_frame fr;
    wqc_frame_init(&fr, &t);
    fr.encoding = WQC_ENC_RANS;
    fr.quantized = 1;
    fr.quant = *p;
    fr.raw_len = t.nelem;
    if (st == WQC_OK) st = wqc_quantize(w, rows, cols, p, "w", &fr.q, err);
    free(w);
    fr.quant.bits = fr.q.bits;
    wqc_encode_options o;
    wqc_encode_options_default(&o);
    o.mode = flags & GPU_CONTEXT ? WQC_MODE_CONTEXT : WQC_MODE_ORDER0;
    o.rans.lanes = lanes;
    o.rans.chunk = chunk;
    o.gemv = (flags & GPU_GEMV) != 0;
    void *scratch = NULL;
    if (st == WQC_OK) st = wqc_encode_symbols(&fr, &o, NULL, &scratch, err);
    st = gpu_file_finish(file, st, &fr, f, err);
    wqc_encoded_free(&fr);
    free(scratch);
    wqc_quantized_free(&fr.q);
    return st;
}

/* n values of dtype (Gaussian, sigma 0.02; U8: bytes around 128; F32
 * with bf16_values: rounded to BF16, so that its low rest bytes are zero)
 * coded lossless with the given lanes and chunk, as a one-tensor .wqc in
 * memory; *f its frame (split unless the coder chose otherwise). */
/* bf16_values: F32 values rounded to BF16 (zstd'd rests); zeros: 1 puts a
 * 0 in front (a split-e8m3 exception), 8 makes every 8th value 0 (too many
 * exceptions: BF16 stays split); zeros 2: a matrix of rows of 512 at three
 * scales (BF16 row tables), 3: the same with 200-value rows; 5: rows of 512
 * whose columns are at three scales and rows at two (column shifts). */
static inline wqc_status gpu_lossless_make(gpu_file *file, wqc_dtype dtype, uint64_t n, uint32_t lanes, uint32_t chunk,
                                           int bf16_values, int zeros, const wqc_frame **f, wqc_error *err)
{
    memset(file, 0, sizeof *file);
    char spec[96];
    snprintf(spec, sizeof spec, "gaussian:1x%llu:seed=5", (unsigned long long)n);
    wqc_synthetic_spec s;
    float *w = NULL;
    wqc_status st = wqc_synthetic_parse(spec, &s, err);
    if (st == WQC_OK) st = wqc_synthetic_generate(&s, &w, err);
    if (st != WQC_OK) return st;
    size_t size = wqc_dtype_size(dtype);
    uint8_t *data = malloc((size_t)n * size);
    for (uint64_t k = 0; k < n; k++) {
        uint16_t h = dtype == WQC_DTYPE_F16 ? wqc_f32_to_f16(w[k]) : wqc_f32_to_bf16(w[k]);
        if (size == 1) data[k] = (uint8_t)(128.0f + 600.0f * w[k]); /* about 5.6 bits a byte: split, not zstd */
        else if (size == 2) memcpy(data + 2 * k, &h, 2);
        else {
            float v = bf16_values ? wqc_bf16_round(w[k]) : w[k];
            memcpy(data + 4 * k, &v, 4);
        }
    }
    free(w);
    const uint64_t cols = zeros == 2 || zeros == 4 || zeros == 5 ? 512 : 200;
    /* zeros 4, bytes: the spread differs by 128 x 128 tile (tile tables). */
    for (uint64_t k = 0; zeros == 4 && size == 1 && k < n; k++) {
        static const float spread[3] = {0.5f, 1.0f, 2.0f};
        float v = 600.0f * spread[(k / cols / 128 + k % cols / 128 * 2) % 3] * (float)((int)data[k] - 128) / 600.0f;
        data[k] = (uint8_t)(v < -128 ? 0 : v > 127 ? 255 : 128 + (int)v);
    }
    for (uint64_t k = 0; (zeros == 1 || zeros == 8) && k < n; k += zeros == 1 ? n : (uint64_t)zeros) memset(data + k * size, 0, size);
    for (uint64_t k = 0; (zeros == 2 || zeros == 3) && size == 2 && k < n; k++) {
        uint16_t h;
        memcpy(&h, data + 2 * k, 2);
        h = (uint16_t)(h + ((k / cols * 7 % 3) * 2 << 7)); /* rows 1, 4 or 16 x larger */
        memcpy(data + 2 * k, &h, 2);
    }
    for (uint64_t k = 0; zeros == 5 && size == 2 && k < n; k++) {
        uint16_t h;
        memcpy(&h, data + 2 * k, 2);
        /* Columns 1, 4 or 16 x larger, rows 1 or 2 x: added to the exponent field. */
        h = (uint16_t)(h + ((k % cols * 5 % 3 * 2 + k / cols * 3 % 2) << (dtype == WQC_DTYPE_F16 ? 10 : 7)));
        memcpy(data + 2 * k, &h, 2);
    }
    wqc_tensor t = {.name = "w", .dtype = dtype, .ndim = 1, .shape = {n}, .nelem = n, .data = data, .nbytes = n * size};
    if (zeros >= 2 && zeros <= 5) t.ndim = 2, t.shape[0] = n / cols, t.shape[1] = cols;
    wqc_encode_options o;
    wqc_encode_options_default(&o);
    o.rans.lanes = lanes;
    o.rans.chunk = chunk;
    wqc_frame fr;
    memset(&fr, 0, sizeof fr);
    void *scratch = NULL;
    st = wqc_frame_lossless(&t, &o, 9, &fr, &scratch, err);
    st = gpu_file_finish(file, st, &fr, f, err);
    wqc_encoded_free(&fr);
    free(scratch);
    free(data);
    return st;
}

static inline void gpu_file_free(gpu_file *file)
{
    wqc_reader_free(file->r);
    free(file->bytes.data);
    memset(file, 0, sizeof *file);
}

static inline wqc_status gpu_copy_sink(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    uint8_t **at = ctx;
    memcpy(*at, buf, len);
    *at += len;
    (void)err;
    return WQC_OK;
}

/* What the CPU decodes of a frame in a form, in element order (host memory). */
static inline wqc_status gpu_cpu_decode(const wqc_frame *f, wqc_rans_form form, void *out, wqc_error *err)
{
    uint8_t *at = out;
    return wqc_frame_stream(f, form, 0, 0, gpu_copy_sink, &at, err);
}

#endif
