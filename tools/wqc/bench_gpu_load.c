/* wqc bench --gpu's load table: the benchmark's matrices as five files in
 * the page cache (the quantized .wqc, decoded to F16 on the GPU; F16
 * safetensors; Q4_0 GGUF, which stays packed; BF16 safetensors; the lossless
 * .wqc of it, BF16 decoded on the GPU), each put in GPU memory by the
 * library's loader (wqc_cuda_model_load): the same threads, pinned staging
 * and overlap for every file, so that the table compares formats. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_gpu.h"
#include "wqc/cuda.h"

enum { FILE_WQC, FILE_F16, FILE_Q4_0, FILE_BF16, FILE_LOSSLESS, NFILES };
static const char *const file_names[NFILES] = {".wqc quantized (to F16 on the GPU)", "F16 safetensors",
                                               "Q4_0 GGUF (stays packed)", "BF16 safetensors",
                                               ".wqc lossless BF16 (BF16 on the GPU)"};

/* Writes len bytes to a new temporary file; its path in path[]. */
static int write_temp(const void *data, size_t len, char path[64])
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, 64, "%s/wqc-gpu-XXXXXX", dir && *dir && strlen(dir) < 40 ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        cli_error("--gpu: cannot create a temporary file in %s", path);
        path[0] = 0;
        return 0;
    }
    FILE *f = fdopen(fd, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f) ok = (fclose(f) == 0) && ok;
    if (!ok) cli_error("--gpu: writing %s failed", path);
    return ok;
}

static wqc_status zeros(wqc_memory_out *o, uint64_t n, wqc_error *err)
{
    static const uint8_t zero[64];
    return n ? wqc_memory_sink(o, zero, (size_t)n, err) : WQC_OK;
}

/* The other four files, in memory. */
static wqc_status make_files(const gpu_load_matrix *m, size_t n, uint32_t chunk, wqc_memory_out out[NFILES],
                             wqc_error *err)
{
    wqc_tensor *t = calloc(n, sizeof *t);
    wqc_gguf_tensor_out *g = calloc(n, sizeof *g);
    char(*names)[32] = calloc(n, sizeof *names);
    uint16_t **bf16 = calloc(n, sizeof *bf16);
    wqc_status st = t && g && names && bf16 ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    int have_q4 = 1;
    for (size_t i = 0; st == WQC_OK && i < n; i++) {
        snprintf(names[i], sizeof names[i], "m%zu", i);
        uint64_t count = m[i].rows * m[i].cols;
        t[i] = (wqc_tensor){.name = names[i], .dtype = WQC_DTYPE_F16, .ndim = 2, .shape = {m[i].rows, m[i].cols},
                            .nelem = count, .data = (const unsigned char *)m[i].h, .nbytes = 2 * count};
        g[i] = (wqc_gguf_tensor_out){.name = names[i], .ndim = 2, .dims = {m[i].cols, m[i].rows}, .type = WQC_GGML_Q4_0};
        have_q4 &= m[i].q4 != NULL;
        if (!(bf16[i] = malloc(2 * count))) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        for (uint64_t k = 0; st == WQC_OK && k < count; k++) bf16[i][k] = wqc_f32_to_bf16(wqc_f16_to_f32(m[i].h[k]));
    }
    if (st == WQC_OK) st = wqc_safetensors_write(wqc_memory_sink, &out[FILE_F16], t, n, NULL, 0, err);
    if (st == WQC_OK && have_q4) {
        st = wqc_gguf_write_header(wqc_memory_sink, &out[FILE_Q4_0], NULL, 0, g, n, 32, err);
        for (size_t i = 0; st == WQC_OK && i < n; i++) {
            uint64_t bytes = m[i].rows * m[i].cols / WQC_Q4_0_BLOCK * sizeof(wqc_q4_0_block);
            st = wqc_memory_sink(&out[FILE_Q4_0], m[i].q4, (size_t)bytes, err);
            if (st == WQC_OK) st = zeros(&out[FILE_Q4_0], (32 - bytes % 32) % 32, err);
        }
    }
    for (size_t i = 0; st == WQC_OK && i < n; i++) t[i].dtype = WQC_DTYPE_BF16, t[i].data = (const unsigned char *)bf16[i];
    if (st == WQC_OK) st = wqc_safetensors_write(wqc_memory_sink, &out[FILE_BF16], t, n, NULL, 0, err);
    char settings[64];
    snprintf(settings, sizeof settings, "lossless=1;chunk=%u", chunk);
    if (st == WQC_OK) st = wqc_encode_tensors(t, n, NULL, 0, settings, wqc_memory_sink, &out[FILE_LOSSLESS], err);
    for (size_t i = 0; bf16 && i < n; i++) free(bf16[i]);
    free(t), free(g), free(names), free(bf16);
    return st;
}

/* Stages of a load, in ms (medians): the wall time first. */
enum { S_TOTAL, S_STARTED, S_ISSUED, S_LAST_DECODE, S_GPU_END, S_SYNCED, S_READ, S_CHECK, S_HOST, S_WAIT, S_GPU, NSTAGES };

static int load_file(const char *path, wqc_decode_as as, int threads, long repeat, double med[NSTAGES], double *open_ms,
                     uint64_t *made)
{
    const char *piece = getenv("WQC_LOAD_PIECE"); /* benchmarks of the loader's staging size, bytes */
    wqc_cuda_load_options o = {.as = as, .threads = threads, .piece = piece ? (size_t)strtoull(piece, NULL, 10) : 0};
    wqc_cuda_model *m = NULL;
    wqc_error err;
    double t0 = bench_now_s();
    wqc_status st = wqc_cuda_model_open(path, &o, &m, &err);
    *open_ms = (bench_now_s() - t0) * 1e3;
    double(*t)[NSTAGES] = malloc((size_t)(repeat + 1) * sizeof *t), *col = malloc((size_t)repeat * sizeof *col);
    if (!t || !col) st = wqc_fail(&err, WQC_ERR_NOMEM, "out of memory");
    /* The first load allocates the tensors' memory and warms the page cache. */
    for (long r = 0; st == WQC_OK && r <= repeat; r++) {
        wqc_cuda_load_times lt;
        st = wqc_cuda_model_load(m, NULL, &lt, &err);
        const double v[NSTAGES] = {lt.total,   lt.started,     lt.issued, lt.gpu_last_decode, lt.gpu_end, lt.synced,
                                   lt.read,    lt.check,       lt.cpu_decode, lt.wait,        lt.gpu_decode};
        for (int s = 0; s < NSTAGES; s++) t[r][s] = v[s] * 1e3;
        *made = lt.out_bytes;
    }
    for (int s = 0; st == WQC_OK && s < NSTAGES; s++) {
        for (long r = 0; r < repeat; r++) col[r] = t[r + 1][s];
        med[s] = bench_median(col, (int)repeat);
    }
    if (st != WQC_OK) cli_error("--gpu: loading %s: %s", path, err.msg);
    wqc_cuda_model_close(m);
    free(t), free(col);
    return st == WQC_OK;
}

static int default_threads(void)
{
    const char *env = getenv("WQC_LOAD_THREADS"); /* benchmarks of the loader's width */
    if (env && atoi(env) > 0) return atoi(env);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > 8 ? 8 : (int)cores;
}

static void print_header(int threads, long repeat)
{
    printf("Each file loaded by the library's loader (`wqc_cuda_model_load`) with %d threads, which take it in units "
           "of up to 4 MiB, as many full rounds of the threads as that takes (a large tensor is read by all of them): pread into pinned staging (4 buffers of 2 MiB a thread), "
           "records checked as they arrive (a record's 64 KiB segment checks on the GPU where the file has them), copies to the GPU "
           "on each thread's stream, frames decoded on the GPU once all their units have landed. `open` (once: index, descriptors, GPU and pinned memory) is not "
           "part of `load`. Wall-clock medians of %ld loads from the page cache, in ms; `started` and `issued` are the wall "
           "clock when the first thread took its first unit and when the last one had read and issued its last; `last "
           "decode` and `GPU end` on the GPU's clock (CUDA events from the load's start) when the last decode kernel "
           "started and the last stream's work ended; `synced` the wall clock when the last thread saw its stream "
           "finish (the rest of `load` is the chunk statuses' check); read, check, host decode and wait are thread-ms summed over the "
           "threads, GPU decode the kernels' time summed (CUDA events).\n\n",
           threads, repeat);
    printf("| file | bytes | open | load | started | issued | last decode | GPU end | synced | read | check | host decode | wait for copies | GPU decode "
           "| made in GPU memory, GB/s |");
}

static void print_row(const char *name, uint64_t bytes, double open_ms, const double *s, uint64_t made)
{
    printf("| %s | %llu | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.3f | %.1f |",
           name, (unsigned long long)bytes, open_ms, s[S_TOTAL], s[S_STARTED], s[S_ISSUED], s[S_LAST_DECODE],
           s[S_GPU_END], s[S_SYNCED], s[S_READ], s[S_CHECK], s[S_HOST],
           s[S_WAIT], s[S_GPU], (double)made / s[S_TOTAL] / 1e6);
}

int bench_gpu_load_file(const char *path, long repeat)
{
    double med[NSTAGES] = {0}, open_ms = 0;
    uint64_t made = 0;
    const int threads = default_threads();
    FILE *f = fopen(path, "rb");
    long bytes = -1;
    if (f && fseek(f, 0, SEEK_END) == 0) bytes = ftell(f);
    if (f) fclose(f);
    if (bytes < 0) {
        cli_error("%s: cannot open", path);
        return 0;
    }
    if (!load_file(path, WQC_AS_ORIGINAL, threads, repeat, med, &open_ms, &made)) return 0;
    printf("## Loading %s into GPU memory\n\n", path);
    print_header(threads, repeat);
    printf("\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    print_row(path, (uint64_t)bytes, open_ms, med, made);
    printf("\n");
    return 1;
}

int bench_gpu_load(const gpu_load_matrix *m, size_t n, const void *wqc, size_t wqc_len, uint32_t chunk, long repeat)
{
    wqc_memory_out files[NFILES] = {{0}};
    wqc_error err;
    wqc_status st = make_files(m, n, chunk, files, &err);
    if (st != WQC_OK) {
        cli_error("--gpu: making the files to load: %s", err.msg);
        for (int k = 0; k < NFILES; k++) free(files[k].data);
        return 0;
    }
    const void *data[NFILES] = {wqc, files[FILE_F16].data, files[FILE_Q4_0].data, files[FILE_BF16].data,
                                files[FILE_LOSSLESS].data};
    const size_t len[NFILES] = {wqc_len, files[FILE_F16].len, files[FILE_Q4_0].len, files[FILE_BF16].len,
                                files[FILE_LOSSLESS].len};
    char paths[NFILES][64] = {{0}};
    double med[NFILES][NSTAGES] = {{0}}, open_ms[NFILES] = {0};
    uint64_t made[NFILES] = {0};
    const int threads = default_threads();
    int ok = 1;
    for (int k = 0; ok && k < NFILES; k++) {
        if (!len[k]) continue; /* no Q4_0 of rows that are not whole blocks */
        ok = write_temp(data[k], len[k], paths[k]) &&
             load_file(paths[k], WQC_AS_F16, threads, repeat, med[k], &open_ms[k], &made[k]);
    }
    /* WQC_BENCH_KEEP=1 keeps the files for `bench --gpu FILE` (their paths on stderr). */
    const char *keep = getenv("WQC_BENCH_KEEP");
    for (int k = 0; k < NFILES; k++) {
        if (!paths[k][0]) continue;
        if (keep && strcmp(keep, "1") == 0) fprintf(stderr, "%s: %s\n", file_names[k], paths[k]);
        else unlink(paths[k]);
    }
    if (ok) {
        printf("\n## Loading into GPU memory from a file in the page cache\n\n");
        printf("The distinct matrices above as five files; the lossless .wqc has chunks of %u symbols. ", chunk);
        print_header(threads, repeat);
        printf(" load vs F16 file | vs BF16 file |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int k = 0; k < NFILES; k++) {
            if (!len[k]) continue;
            print_row(file_names[k], len[k], open_ms[k], med[k], made[k]);
            printf(" %.2fx | %.2fx |\n", med[FILE_F16][S_TOTAL] / med[k][S_TOTAL], med[FILE_BF16][S_TOTAL] / med[k][S_TOTAL]);
        }
    }
    for (int k = 0; k < NFILES; k++) free(files[k].data);
    return ok;
}
