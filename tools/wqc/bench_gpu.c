/* wqc bench --gpu (builds with -DWQC_CUDA=ON): on the first NVIDIA GPU,
 * the GPU decoder's throughput against the device's own copy bandwidth;
 * y = W x straight from the frames against a packed 4-bit (Q4_0) product
 * and cuBLAS's F16 product, for batches of 1, 2, 4 and 8 vectors, and the
 * break-even memory bandwidth; a whole model decoded (--model); and the
 * time to load the weights into GPU memory from .wqc, safetensors and GGUF
 * files in the page cache (bench_gpu_load.c). Synthetic Gaussian weights, quantized as the
 * quantizer options say (default affine 4-bit per row), coded order-0 with
 * 32 lanes (their BF16 losslessly: 64 lanes, as encode codes bytes). A Markdown report on stdout (bench/gpu.sh saves it). */
#include <cuda_runtime.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_cublas.h"
#include "bench_gpu.h"
#include "wqc/cuda.h"

#define Q4_0_BYTES_PER_WEIGHT (18.0 / 32.0)
#define DEFAULT_CHUNK 4096

/* Named models: their matrices as ROWSxCOLS*COUNT. */
static const struct {
    const char *name, *what, *shapes;
} models[] = {
    {"llama-7b",
     "Llama-2-7B's matrices: 32 layers of q, k, v, o (4096x4096), gate, up (11008x4096) and down (4096x11008), "
     "and the embedding and output (32000x4096)",
     "4096x4096*128,11008x4096*64,4096x11008*32,32000x4096*2"},
};

typedef struct gpu_mat {
    uint64_t rows, cols, count; /* count: times the shape occurs in the model */
    uint16_t *h;                /* F16 of the weights, host */
    wqc_q4_0_block *q4;         /* host */
    const wqc_frame *f, *lf;    /* quantized; lossless of the BF16 of h */
    wqc_cuda_frame *g, *lg;
    uint16_t *dev_h;            /* decoded F16: the cuBLAS peer multiplies it */
    wqc_q4_0_block *dev_q4;
} gpu_mat;

typedef struct gpu_bench {
    gpu_mat *m;
    size_t n;
    wqc_memory_out wqc;           /* the .wqc of the distinct matrices */
    wqc_reader *r;
    wqc_memory_out lossless;      /* their BF16, lossless */
    wqc_reader *lr;
    uint32_t chunk, lanes;
    long repeat;
    cudaEvent_t t0, t1;
    bench_cublas blas;
} gpu_bench;

static int cuda_ok(cudaError_t e, const char *what)
{
    if (e == cudaSuccess) return 1;
    cli_error("CUDA: %s: %s", what, cudaGetErrorString(e));
    return 0;
}

/* "RxC[*N],..." into b->m. */
static int parse_shapes(const char *spec, gpu_bench *b)
{
    b->m = calloc(strlen(spec) / 3 + 2, sizeof *b->m);
    if (!b->m) return 0;
    for (const char *s = spec; *s;) {
        gpu_mat *m = &b->m[b->n];
        const char *e;
        char *end;
        if (!bench_parse_shape(s, &m->rows, &m->cols, &e)) goto bad;
        m->count = 1;
        if (*e == '*') {
            m->count = strtoull(e + 1, &end, 10);
            if (end == e + 1 || m->count == 0 || m->count > 4096) goto bad;
            e = end;
        }
        if (*e && *e != ',') goto bad;
        b->n++;
        s = *e ? e + 1 : e;
        continue;
    bad:
        cli_error("--shapes: expected ROWSxCOLS[*COUNT][,...] (each up to 2^20, at most 2^31 weights), got '%s'", s);
        return 0;
    }
    return b->n > 0;
}

/* The BF16 of every matrix's F16, lossless (split frames with the
 * benchmark's chunk), into a second .wqc in memory. */
static wqc_status make_lossless(gpu_bench *b, wqc_error *err)
{
    wqc_writer *wr = NULL;
    wqc_status st = wqc_writer_open(wqc_memory_sink, &b->lossless, NULL, 0, &wr, err);
    for (size_t i = 0; st == WQC_OK && i < b->n; i++) {
        const gpu_mat *m = &b->m[i];
        uint64_t n = m->rows * m->cols;
        uint16_t *v = malloc(2 * n);
        if (!v) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        for (uint64_t k = 0; st == WQC_OK && k < n; k++) v[k] = wqc_f32_to_bf16(wqc_f16_to_f32(m->h[k]));
        wqc_tensor t = {.name = "m", .dtype = WQC_DTYPE_BF16, .ndim = 2, .shape = {m->rows, m->cols}, .nelem = n,
                        .data = (const unsigned char *)v, .nbytes = 2 * n};
        wqc_encode_options o;
        wqc_encode_options_default(&o);
        o.rans.chunk = b->chunk; /* lanes as encode takes them: 64 for the exponent bytes */
        wqc_frame fr;
        memset(&fr, 0, sizeof fr);
        void *scratch = NULL;
        if (st == WQC_OK) st = wqc_frame_lossless(&t, &o, 9, &fr, &scratch, err);
        if (st == WQC_OK && !wqc_encoding_split(fr.encoding))
            st = wqc_fail(err, WQC_ERR_UNSUPPORTED, "the BF16 of %llux%llu is not stored split", (unsigned long long)m->rows,
                          (unsigned long long)m->cols);
        if (st == WQC_OK) st = wqc_writer_add(wr, &fr, err);
        wqc_encoded_free(&fr);
        free(scratch);
        free(v);
    }
    if (st == WQC_OK) st = wqc_writer_finish(wr, err);
    wqc_writer_free(wr);
    if (st == WQC_OK) st = wqc_reader_open(b->lossless.data, b->lossless.len, 1, NULL, 0, &b->lr, err);
    for (size_t i = 0; st == WQC_OK && i < b->n; i++) st = wqc_reader_frame(b->lr, i, &b->m[i].lf, err);
    return st;
}

/* Generates, quantizes and codes every distinct matrix into one .wqc in
 * memory; its F16 and Q4_0 forms beside. */
static int make_weights(const bench_args *a, gpu_bench *b)
{
    wqc_error err;
    wqc_writer *wr = NULL;
    wqc_status st = wqc_writer_open(wqc_memory_sink, &b->wqc, NULL, 0, &wr, &err);
    for (size_t i = 0; st == WQC_OK && i < b->n; i++) {
        gpu_mat *m = &b->m[i];
        char spec[96], name[32];
        snprintf(spec, sizeof spec, "gaussian:%llux%llu:seed=%zu", (unsigned long long)m->rows,
                 (unsigned long long)m->cols, i + 1);
        snprintf(name, sizeof name, "m%zu", i);
        wqc_synthetic_spec s;
        float *w = NULL;
        st = wqc_synthetic_parse(spec, &s, &err);
        if (st == WQC_OK) st = wqc_synthetic_generate(&s, &w, &err);
        if (st != WQC_OK) break;
        uint64_t n = m->rows * m->cols;
        m->h = malloc(n * sizeof *m->h);
        m->q4 = m->cols % WQC_Q4_0_BLOCK ? NULL : malloc(n / WQC_Q4_0_BLOCK * sizeof *m->q4);
        if (!m->h || (!m->q4 && m->cols % WQC_Q4_0_BLOCK == 0)) st = wqc_fail(&err, WQC_ERR_NOMEM, "out of memory");
        for (uint64_t k = 0; st == WQC_OK && k < n; k++) m->h[k] = wqc_f32_to_f16(w[k]);
        if (st == WQC_OK && m->q4) st = wqc_q4_0_quantize(w, m->rows, m->cols, m->q4, &err);
        wqc_tensor t = {.name = name, .dtype = WQC_DTYPE_F32, .ndim = 2, .shape = {m->rows, m->cols}, .nelem = n,
                        .data = (const unsigned char *)w, .nbytes = n * sizeof(float)};
        wqc_frame fr;
        wqc_frame_init(&fr, &t);
        fr.encoding = WQC_ENC_RANS;
        fr.quantized = 1;
        fr.quant = a->quant.params;
        fr.raw_len = n;
        if (st == WQC_OK) st = wqc_quantize(w, m->rows, m->cols, &a->quant.params, name, &fr.q, &err);
        free(w);
        fr.quant.bits = fr.q.bits;
        wqc_encode_options o;
        wqc_encode_options_default(&o);
        o.mode = WQC_MODE_ORDER0;
        o.rans.lanes = b->lanes;
        o.rans.chunk = b->chunk;
        if (a->precision) o.rans.precision = (int)a->precision;
        o.rans.threads = cli_cpu_count();
        void *scratch = NULL;
        if (st == WQC_OK) st = wqc_encode_symbols(&fr, &o, NULL, &scratch, &err);
        if (st == WQC_OK) st = wqc_writer_add(wr, &fr, &err);
        wqc_encoded_free(&fr);
        free(scratch);
        wqc_quantized_free(&fr.q);
    }
    if (st == WQC_OK) st = wqc_writer_finish(wr, &err);
    wqc_writer_free(wr);
    if (st == WQC_OK) st = wqc_reader_open(b->wqc.data, b->wqc.len, 1, NULL, 0, &b->r, &err);
    for (size_t i = 0; st == WQC_OK && i < b->n; i++) st = wqc_reader_frame(b->r, i, &b->m[i].f, &err);
    if (st == WQC_OK) st = make_lossless(b, &err);
    if (st != WQC_OK) {
        cli_error("--gpu: making the weights: %s", err.msg);
        return 0;
    }
    return 1;
}

typedef enum { OP_DECODE_F16, OP_DECODE_SYMBOLS, OP_DECODE_LOSSLESS, OP_COPY, OP_WRITE, OP_FUSED, OP_Q4_0, OP_CUBLAS } gpu_op;

typedef struct gpu_io {
    void *out, *copy_src;
    float *x, *y;
    uint16_t *x16;
} gpu_io;

static int run_op(gpu_bench *b, const gpu_mat *m, gpu_op op, uint32_t batch, const gpu_io *io)
{
    wqc_error err;
    wqc_status st = WQC_OK;
    const float one = 1.0f, zero = 0.0f;
    switch (op) {
    case OP_DECODE_F16: st = wqc_cuda_decode_async(m->g, WQC_FORM_F16, io->out, NULL, &err); break;
    case OP_DECODE_SYMBOLS: st = wqc_cuda_decode_async(m->g, WQC_FORM_SYMBOLS, io->out, NULL, &err); break;
    case OP_DECODE_LOSSLESS: st = wqc_cuda_decode_async(m->lg, WQC_FORM_BF16, io->out, NULL, &err); break;
    case OP_COPY:
        return cuda_ok(cudaMemcpyAsync(io->out, io->copy_src, m->rows * m->cols * 2, cudaMemcpyDeviceToDevice, 0), "copy");
    case OP_WRITE: return cuda_ok(cudaMemsetAsync(io->out, 0x3c, m->rows * m->cols * 2, 0), "memset");
    case OP_FUSED: st = wqc_cuda_gemv(m->g, io->x, batch, io->y, &err); break;
    case OP_Q4_0: st = wqc_cuda_q4_0_gemv(m->dev_q4, m->rows, m->cols, io->x, batch, io->y, &err); break;
    case OP_CUBLAS:
        /* Row-major W (rows x cols) is column-major W^T: y = (W^T)^T x. */
        if (b->blas.gemm_ex(b->blas.handle, CUBLAS_OP_T, CUBLAS_OP_N, (int)m->rows, (int)batch, (int)m->cols, &one, m->dev_h,
                         CUDA_R_16F, (int)m->cols, io->x16, CUDA_R_16F, (int)m->cols, &zero, io->y, CUDA_R_32F,
                         (int)m->rows, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS) {
            cli_error("cuBLAS: the F16 product failed");
            return 0;
        }
        return 1;
    }
    if (st != WQC_OK) cli_error("--gpu: %s", err.msg);
    return st == WQC_OK;
}

/* Median milliseconds of op over b->repeat runs (CUDA events; one run first). */
static double time_op(gpu_bench *b, const gpu_mat *m, gpu_op op, uint32_t batch, const gpu_io *io)
{
    double *t = malloc((size_t)b->repeat * sizeof *t);
    if (!t || !run_op(b, m, op, batch, io) || !cuda_ok(cudaDeviceSynchronize(), "warm-up")) {
        free(t);
        return -1;
    }
    for (long k = 0; k < b->repeat; k++) {
        cudaEventRecord(b->t0, 0);
        run_op(b, m, op, batch, io);
        cudaEventRecord(b->t1, 0);
        cudaEventSynchronize(b->t1);
        float ms = 0;
        cudaEventElapsedTime(&ms, b->t0, b->t1);
        t[k] = ms;
    }
    double med = bench_median(t, (int)b->repeat);
    free(t);
    return med;
}

/* The largest |a - b| over max |b| of two device vectors of n floats. */
static double rel_diff(const float *dev_a, const float *dev_b, size_t n)
{
    float *a = malloc(n * sizeof *a), *c = malloc(n * sizeof *c);
    double worst = -1, peak = 0;
    if (a && c && cudaMemcpy(a, dev_a, n * sizeof *a, cudaMemcpyDeviceToHost) == cudaSuccess &&
        cudaMemcpy(c, dev_b, n * sizeof *c, cudaMemcpyDeviceToHost) == cudaSuccess) {
        worst = 0;
        for (size_t i = 0; i < n; i++) {
            double d = a[i] > c[i] ? a[i] - c[i] : c[i] - a[i];
            if (d > worst) worst = d;
            if ((c[i] < 0 ? -c[i] : c[i]) > peak) peak = c[i] < 0 ? -c[i] : c[i];
        }
        worst = peak > 0 ? worst / peak : worst;
    }
    free(a), free(c);
    return worst;
}

static const uint32_t batches[] = {1, 2, 4, 8};
#define NBATCH 4

/* Whether the GPU's F16 (device) equals the CPU decoders', byte for byte. */
static int equals_cpu(const gpu_mat *m)
{
    const uint64_t n = m->rows * m->cols;
    uint16_t *gpu = malloc(2 * n), *cpu = malloc(2 * n);
    wqc_error err;
    wqc_rans_output o = {.form = WQC_FORM_F16, .dst = cpu, .groups = &m->f->q};
    int same = gpu && cpu && cudaMemcpy(gpu, m->dev_h, 2 * n, cudaMemcpyDeviceToHost) == cudaSuccess &&
               wqc_rans_decode_to(&m->f->coded, &o, 0, wqc_isa_active(), &err) == WQC_OK && !memcmp(gpu, cpu, 2 * n);
    free(gpu), free(cpu);
    return same;
}

/* Whether the GPU's lossless BF16 (device, decoded last) equals the CPU's. */
static int lossless_equals_cpu(const gpu_mat *m, const void *dev)
{
    const uint64_t n = m->rows * m->cols;
    uint8_t *gpu = malloc(2 * n), *cpu = malloc(2 * n);
    wqc_error err;
    int same = gpu && cpu && cudaDeviceSynchronize() == cudaSuccess &&
               cudaMemcpy(gpu, dev, 2 * n, cudaMemcpyDeviceToHost) == cudaSuccess &&
               wqc_cuda_frame_check(m->lg, &err) == WQC_OK && wqc_frame_decode_raw(m->lf, cpu, &err) == WQC_OK &&
               !memcmp(gpu, cpu, 2 * n);
    free(gpu), free(cpu);
    return same;
}

/* Per matrix: decode, copy and products; returns the fused batch-1 rate
 * (weights/s) of the largest matrix through *rate, the copy's GB/s written. */
static int bench_matrix(gpu_bench *b, gpu_mat *m, double *copy_gbs, double *fused_rate)
{
    const uint64_t n = m->rows * m->cols, f16_bytes = 2 * n;
    gpu_io io = {0};
    uint16_t *x16 = malloc(8 * m->cols * sizeof *x16);
    float *x = malloc(8 * m->cols * sizeof *x);
    int ok = x && x16 && cuda_ok(cudaMalloc(&io.out, f16_bytes), "allocation") &&
             cuda_ok(cudaMalloc(&io.copy_src, f16_bytes), "allocation") &&
             cuda_ok(cudaMalloc((void **)&io.x, 8 * m->cols * sizeof(float)), "allocation") &&
             cuda_ok(cudaMalloc((void **)&io.x16, 8 * m->cols * 2), "allocation") &&
             cuda_ok(cudaMalloc((void **)&io.y, 3 * 8 * m->rows * sizeof(float)), "allocation");
    uint64_t state = 12345;
    for (uint64_t i = 0; ok && i < 8 * m->cols; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(state >> 40) / (double)(1ull << 24) - 0.5);
        x16[i] = wqc_f32_to_f16(x[i]);
    }
    ok = ok && cuda_ok(cudaMemcpy(io.x, x, 8 * m->cols * sizeof(float), cudaMemcpyHostToDevice), "upload") &&
         cuda_ok(cudaMemcpy(io.x16, x16, 8 * m->cols * 2, cudaMemcpyHostToDevice), "upload");
    free(x), free(x16);
    if (!ok) return 0;
    double dec = time_op(b, m, OP_DECODE_F16, 1, &io), sym = time_op(b, m, OP_DECODE_SYMBOLS, 1, &io);
    double copy = time_op(b, m, OP_COPY, 1, &io), write = time_op(b, m, OP_WRITE, 1, &io);
    double lossless = time_op(b, m, OP_DECODE_LOSSLESS, 1, &io);
    const int lossless_same = lossless > 0 && lossless_equals_cpu(m, io.out);
    /* The decoded F16, checked, is what cuBLAS multiplies. */
    wqc_error err;
    ok = dec > 0 && sym > 0 && copy > 0 && write > 0 && lossless > 0 &&
         wqc_cuda_decode(m->g, WQC_FORM_F16, m->dev_h, &err) == WQC_OK;
    const int same = ok && equals_cpu(m);
    const double coded_bits = 8.0 * (double)m->f->coded.payload_len / (double)n;
    *copy_gbs = f16_bytes / copy / 1e6;
    printf("\n## %llu x %llu%s\n\n", (unsigned long long)m->rows, (unsigned long long)m->cols,
           m->count > 1 ? " (one of each shape in the model)" : "");
    printf("%.4f bits/weight (%llu chunks of %u). Medians of %ld runs, CUDA events.\n\n", coded_bits,
           (unsigned long long)m->f->coded.nchunks, b->chunk, b->repeat);
    printf("| what | time ms | throughput |\n|---|---:|---:|\n");
    printf("| decode to F16 (dequantized) | %.3f | %.1f GB/s of F16 written, %.1f G symbols/s |\n", dec,
           f16_bytes / dec / 1e6, n / dec / 1e6);
    printf("| decode to symbols | %.3f | %.1f G symbols/s |\n", sym, n / sym / 1e6);
    printf("| lossless BF16 decode (%.2f bits/weight, %s: %s rANS-coded with %u lanes, the rest raw) | %.3f | "
           "%.1f GB/s of BF16 written |\n",
           8.0 * (double)m->lf->payload_len / (double)n, wqc_encoding_name(m->lf->encoding),
           m->lf->encoding == WQC_ENC_SPLIT_E8M3 ? "exponents and 3 mantissa bits" : "exponents", m->lf->coded.lanes,
           lossless, f16_bytes / lossless / 1e6);
    printf("| device-to-device copy of the F16 bytes | %.3f | %.1f GB/s written (%.1f read + written) |\n", copy,
           *copy_gbs, 2 * *copy_gbs);
    printf("| pure write of the F16 bytes (cudaMemsetAsync) | %.3f | %.1f GB/s written |\n", write, f16_bytes / write / 1e6);
    printf("\nDecode to F16 writes at **%.0f%%** of the copy's write bandwidth and **%.0f%%** of the pure write's (its "
           "bound: a decode reads far less than it writes); lossless BF16 at %.0f%% of the pure write's. The outputs "
           "%s the CPU decoders', byte for byte.\n",
           100.0 * (f16_bytes / dec / 1e6) / *copy_gbs, 100.0 * write / dec, 100.0 * write / lossless,
           same && lossless_same ? "equal" : "DIFFER FROM");
    if (!same || !lossless_same)
        cli_error("--gpu: the GPU's %s of %llux%llu differs from the CPU's", same ? "lossless BF16" : "F16",
                  (unsigned long long)m->rows, (unsigned long long)m->cols);
    if (!ok || !same || !lossless_same) return 0;
    printf("\ny = W x, time per product (ms); in brackets the weight bytes read per second:\n\n");
    printf("| vectors | wqc fused (%.2f bits) | Q4_0 (own kernel, 4.5 bits) | F16 (cuBLAS) | fused / Q4_0 | fused / F16 | "
           "fused vs F16 result |\n|---:|---:|---:|---:|---:|---:|---:|\n",
           coded_bits);
    for (int k = 0; k < NBATCH && ok; k++) {
        uint32_t bt = batches[k];
        double tf = time_op(b, m, OP_FUSED, bt, &io);
        gpu_io io_q = io, io_c = io;
        io_q.y = io.y + 8 * m->rows, io_c.y = io.y + 16 * m->rows;
        double tq = m->dev_q4 ? time_op(b, m, OP_Q4_0, bt, &io_q) : 0;
        double tc = time_op(b, m, OP_CUBLAS, bt, &io_c);
        ok = tf > 0 && tc > 0 && tq >= 0;
        if (!ok) break;
        double diff = rel_diff(io.y, io_c.y, (size_t)bt * m->rows);
        printf("| %u | %.4f (%.0f GB/s) | %.4f (%.0f GB/s) | %.4f (%.0f GB/s) | %.2fx | %.2fx | %.1e |\n", bt, tf,
               coded_bits / 8 * n / tf / 1e6, tq, Q4_0_BYTES_PER_WEIGHT * n / tq / 1e6, tc, 2.0 * n / tc / 1e6, tf / tq,
               tf / tc, diff);
        if (bt == 1) *fused_rate = n / tf * 1e3;
    }
    cudaFree(io.out), cudaFree(io.copy_src), cudaFree(io.x), cudaFree(io.x16), cudaFree(io.y);
    return ok;
}

/* Every matrix decoded `count` times into its own F16 buffer, all queued on
 * one stream, then checked: the whole model's decode. */
static int bench_model(gpu_bench *b, const char *what, double copy_gbs)
{
    uint64_t total = 0, weights = 0, coded = 0;
    for (size_t i = 0; i < b->n; i++) {
        total += b->m[i].count;
        weights += b->m[i].count * b->m[i].rows * b->m[i].cols;
        coded += b->m[i].count * b->m[i].f->coded.payload_len;
    }
    void **out = calloc(total, sizeof *out);
    int ok = out != NULL;
    size_t k = 0;
    for (size_t i = 0; ok && i < b->n; i++)
        for (uint64_t c = 0; ok && c < b->m[i].count; c++, k++)
            ok = cuda_ok(cudaMalloc(&out[k], 2 * b->m[i].rows * b->m[i].cols), "allocating the model's F16");
    double *t = malloc((size_t)(b->repeat + 1) * sizeof *t);
    for (long r = 0; ok && t && r <= b->repeat; r++) {
        cudaEventRecord(b->t0, 0);
        wqc_error err;
        k = 0;
        for (size_t i = 0; ok && i < b->n; i++)
            for (uint64_t c = 0; ok && c < b->m[i].count; c++, k++)
                ok = wqc_cuda_decode_async(b->m[i].g, WQC_FORM_F16, out[k], NULL, &err) == WQC_OK;
        cudaEventRecord(b->t1, 0);
        ok = ok && cuda_ok(cudaEventSynchronize(b->t1), "model decode");
        for (size_t i = 0; ok && i < b->n; i++) ok = wqc_cuda_frame_check(b->m[i].g, &err) == WQC_OK;
        if (!ok) cli_error("--gpu: %s", err.msg);
        float ms = 0;
        cudaEventElapsedTime(&ms, b->t0, b->t1);
        t[r] = ms;
    }
    if (ok) {
        /* The first run is a warm-up. */
        double ms = bench_median(t + 1, (int)b->repeat), gbs = 2.0 * weights / ms / 1e6;
        printf("\n## The whole model: %s\n\n", what);
        printf("%.3f G weights in %llu matrices, %.2f GB coded (%.4f bits/weight) -> %.2f GB of F16 in GPU memory. "
               "Every matrix of a shape decodes the same frame (the decoder's work depends on the symbol count and the "
               "code length, not on the values).\n\n",
               weights / 1e9, (unsigned long long)total, coded / 1e9, 8.0 * coded / weights, 2.0 * weights / 1e9);
        printf("| what | time ms | throughput |\n|---|---:|---:|\n");
        printf("| decode the model to F16 (one stream, %llu kernels) | %.2f | %.1f GB/s of F16 written (%.0f%% of the copy's "
               "%.1f GB/s), %.1f G symbols/s |\n",
               (unsigned long long)total, ms, gbs, 100.0 * gbs / copy_gbs, copy_gbs, weights / ms / 1e6);
    }
    for (k = 0; out && k < total; k++) cudaFree(out[k]);
    free(out), free(t);
    return ok;
}

int bench_gpu(const bench_args *a)
{
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        cli_error("--gpu: no CUDA device");
        return WQC_EXIT_ERROR;
    }
    if (a->file) return bench_gpu_load_file(a->file, a->repeat) ? WQC_EXIT_OK : WQC_EXIT_ERROR;
    gpu_bench b = {.chunk = a->chunk ? (uint32_t)a->chunk : DEFAULT_CHUNK, .lanes = a->lanes ? (uint32_t)a->lanes : 32,
                   .repeat = a->repeat};
    const char *spec = a->shapes ? a->shapes : BENCH_GPU_SHAPES, *what = NULL;
    if (a->model) {
        for (size_t i = 0; i < sizeof models / sizeof *models; i++)
            if (!strcmp(a->model, models[i].name)) spec = models[i].shapes, what = models[i].what;
        if (!what) {
            cli_error("--model: unknown model '%s' (known: llama-7b)", a->model);
            return WQC_EXIT_USAGE;
        }
    }
    if (!parse_shapes(spec, &b)) return WQC_EXIT_USAGE;
    struct cudaDeviceProp prop;
    cudaGetDeviceProperties(&prop, 0);
    if (!make_weights(a, &b)) return WQC_EXIT_ERROR;
    int ok = bench_cublas_open(&b.blas);
    cudaEventCreate(&b.t0), cudaEventCreate(&b.t1);
    wqc_error err;
    for (size_t i = 0; ok && i < b.n; i++) {
        gpu_mat *m = &b.m[i];
        uint64_t n = m->rows * m->cols;
        ok = wqc_cuda_frame_upload(m->f, &m->g, &err) == WQC_OK && wqc_cuda_frame_upload(m->lf, &m->lg, &err) == WQC_OK;
        if (!ok) cli_error("--gpu: %s", err.msg);
        ok = ok && cuda_ok(cudaMalloc((void **)&m->dev_h, 2 * n), "allocation");
        if (ok && m->q4)
            ok = cuda_ok(cudaMalloc((void **)&m->dev_q4, n / WQC_Q4_0_BLOCK * sizeof *m->q4), "allocation") &&
                 cuda_ok(cudaMemcpy(m->dev_q4, m->q4, n / WQC_Q4_0_BLOCK * sizeof *m->q4, cudaMemcpyHostToDevice), "upload");
    }
    char quant[96];
    printf("# GPU decode and products on %s\n\n", prop.name);
    printf("`wqc bench --gpu%s%s%s%s --chunk %u --repeat %ld`: synthetic Gaussian weights (sigma 0.02), %s, coded "
           "order-0 with %u lanes and chunks of %u symbols; %d SMs.\n",
           a->model ? " --model " : "", a->model ? a->model : "", a->shapes ? " --shapes " : "", a->shapes ? a->shapes : "",
           b.chunk, b.repeat, wqc_quant_params_describe(&a->quant.params, quant, sizeof quant), b.lanes, b.chunk,
           prop.multiProcessorCount);
    double copy_gbs = 0, rate = 0, largest = 0;
    for (size_t i = 0; ok && i < b.n; i++) {
        double cg = 0, r = 0;
        ok = bench_matrix(&b, &b.m[i], &cg, &r);
        double n = (double)(b.m[i].rows * b.m[i].cols);
        if (ok && n > largest) largest = n, copy_gbs = cg, rate = r;
    }
    if (ok && rate > 0) {
        double read = 2 * copy_gbs;
        printf("\n## Break-even\n\nThe fused product computes R = %.1f G weights/s (batch 1, the largest matrix). Reading "
               "%.4f bytes/weight, Q4_0 is limited by memory below B* = %.4f x R = %.0f GB/s, F16 (2 bytes/weight) below "
               "%.0f GB/s: the fused product wins only on a device whose memory delivers less than that. This one copies "
               "at %.0f GB/s (read + written).\n",
               rate / 1e9, Q4_0_BYTES_PER_WEIGHT, Q4_0_BYTES_PER_WEIGHT, Q4_0_BYTES_PER_WEIGHT * rate / 1e9,
               2.0 * rate / 1e9, read);
    }
    if (ok && (b.n > 1 || b.m[0].count > 1)) ok = bench_model(&b, what ? what : spec, copy_gbs);
    gpu_load_matrix *lm = ok ? calloc(b.n, sizeof *lm) : NULL;
    for (size_t i = 0; lm && i < b.n; i++) lm[i] = (gpu_load_matrix){b.m[i].rows, b.m[i].cols, b.m[i].h, b.m[i].q4};
    if (ok) ok = lm && bench_gpu_load(lm, b.n, b.wqc.data, b.wqc.len, b.chunk, b.repeat);
    free(lm);
    for (size_t i = 0; i < b.n; i++) {
        wqc_cuda_frame_free(b.m[i].g), wqc_cuda_frame_free(b.m[i].lg);
        cudaFree(b.m[i].dev_h), cudaFree(b.m[i].dev_q4);
        free(b.m[i].h), free(b.m[i].q4);
    }
    bench_cublas_close(&b.blas);
    wqc_reader_free(b.r), wqc_reader_free(b.lr);
    free(b.m), free(b.wqc.data), free(b.lossless.data);
    return ok ? WQC_EXIT_OK : WQC_EXIT_ERROR;
}
