/* wqc bench --gemv: y = W x with the fused decode + product (wqc_gemv)
 * against packed 4-bit (Q4_0, x in F32 or Q8), F16 and F32, for each
 * thread count, with the weights in cache (one copy) and in memory (copies
 * cycled so that they exceed the last-level cache twice over), next to a
 * plain read of a large buffer; then the break-even memory bandwidth. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "output.h"
#include "stats_out.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Q4_0 reads 18 bytes per block of 32 weights. */
#define Q4_0_BYTES_PER_WEIGHT (18.0 / 32.0)
#define SAMPLE_S 0.02
#define M3_PRO_GBS 150.0
#define M3_PRO_CORES 12

enum { M_WQC, M_Q4_Q8, M_Q4_F32, M_F16, M_F32, M_COUNT };
static const char *const method_names[M_COUNT] = {"wqc fused", "Q4_0 x Q8", "Q4_0 x F32", "F16", "F32"};
enum { CACHE, MEMORY };

typedef struct mat {
    char name[64];
    uint64_t rows, cols;
    float *w;                   /* F32 weights */
    uint16_t *h;                /* the same in binary16 */
    wqc_quantized q;            /* affine 4-bit per row */
    wqc_rans_coded coded;       /* gemv layout */
    wqc_q4_0_block *q4;         /* NULL when cols is not a multiple of 32 */
    float *x, *y;
    wqc_q8_block *x8;
} mat;

/* One copy of every matrix's weights in one method's storage. */
typedef struct replica {
    wqc_rans_coded *coded;
    wqc_gemv **g;
    wqc_q4_0_block **q4;
    uint16_t **h;
    float **w;
} replica;

typedef struct gemv_case {
    char label[128];
    mat *m;
    size_t n;
    uint64_t weights;
    uint64_t bytes[M_COUNT];    /* weight bytes read per GEMV */
    replica *copies[M_COUNT];
    size_t ncopies[M_COUNT];
} gemv_case;

typedef struct timing {
    int method, residency, threads;
    size_t copies;
    double seconds;             /* median per GEMV */
} timing;

static int thread_max(void)
{
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

/* The last-level cache's size, read from sysfs once (32 MiB if unknown). */
static uint64_t llc_bytes(void)
{
    static uint64_t size;
    if (size) return size;
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cache/index3/size", "r");
    unsigned long long v = 0;
    char unit = 0;
    if (f) {
        if (fscanf(f, "%llu%c", &v, &unit) < 1) v = 0;
        fclose(f);
    }
    if (unit == 'K') v <<= 10;
    if (unit == 'M') v <<= 20;
    size = v ? v : 32ull << 20;
    return size;
}

/* Plain F32 product: eight partial sums per row, so that it streams. */
static void f32_gemv(const float *w, uint64_t rows, uint64_t cols, const float *x, float *y, int threads)
{
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
    for (uint64_t r = 0; r < rows; r++) {
        const float *row = w + r * cols;
        float s[8] = {0};
        uint64_t j = 0;
        for (; j + 8 <= cols; j += 8)
            for (int k = 0; k < 8; k++) s[k] += row[j + k] * x[j + k];
        for (; j < cols; j++) s[0] += row[j] * x[j];
        y[r] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
    (void)threads;
}

static int run(const gemv_case *c, int method, size_t copy, int threads, wqc_isa isa)
{
    const replica *rp = &c->copies[method][copy];
    for (size_t i = 0; i < c->n; i++) {
        mat *m = &c->m[i];
        switch (method) {
        case M_WQC: {
            wqc_error err;
            if (wqc_gemv_run(rp->g[i], m->x, m->y, threads, isa, &err) != WQC_OK) {
                cli_error("%s: %s", m->name, err.msg);
                return 0;
            }
            break;
        }
        case M_Q4_Q8:
            if (!rp->q4[i]) break;
            wqc_q8_quantize(m->x, m->cols, m->x8);
            wqc_q4_0_gemv_q8(isa, rp->q4[i], m->rows, m->cols, m->x8, m->y, threads);
            break;
        case M_Q4_F32:
            if (rp->q4[i]) wqc_q4_0_gemv_f32(isa, rp->q4[i], m->rows, m->cols, m->x, m->y, threads);
            break;
        case M_F16: wqc_f16_gemv(isa, rp->h[i], m->rows, m->cols, m->x, m->y, threads); break;
        case M_F32: f32_gemv(rp->w[i], m->rows, m->cols, m->x, m->y, threads); break;
        }
    }
    return 1;
}

/* Median seconds per GEMV, cycling over the copies. */
static double time_gemv(const gemv_case *c, int method, size_t copies, int threads, long repeat, wqc_isa isa)
{
    double t0 = bench_now_s();
    for (size_t k = 0; k < copies; k++)
        if (!run(c, method, k, threads, isa)) return -1;
    double one = (bench_now_s() - t0) / (double)copies;
    size_t iters = one > 0 ? (size_t)ceil(SAMPLE_S / one) : 1;
    if (iters < copies) iters = copies;
    double *v = malloc((size_t)repeat * sizeof *v);
    if (!v) return -1;
    for (long s = 0; s < repeat; s++) {
        t0 = bench_now_s();
        for (size_t k = 0; k < iters; k++)
            if (!run(c, method, k % copies, threads, isa)) {
                free(v);
                return -1;
            }
        v[s] = (bench_now_s() - t0) / (double)iters;
    }
    double med = bench_median(v, (int)repeat);
    free(v);
    return med;
}

/* GB/s of a plain read of a buffer four times the last-level cache. */
static double read_bandwidth(int threads, long repeat)
{
    uint64_t bytes = 4 * llc_bytes();
    if (bytes < (256ull << 20)) bytes = 256ull << 20;
    size_t n = (size_t)(bytes / 8);
    uint64_t *buf = malloc(n * sizeof *buf);
    if (!buf) return 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
#endif
    for (size_t i = 0; i < n; i++) buf[i] = i;
    double *v = malloc((size_t)repeat * sizeof *v);
    uint64_t sink = 0;
    for (long s = 0; v && s < repeat; s++) {
        double t0 = bench_now_s();
        uint64_t sum = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) reduction(+ : sum)
#endif
        for (size_t i = 0; i < n; i++) sum += buf[i];
        v[s] = (double)bytes / (bench_now_s() - t0) / 1e9;
        sink += sum;
    }
    double med = v ? bench_median(v, (int)repeat) : 0;
    free(v);
    free(buf);
    return sink == 1 ? 0 : med; /* uses the sums, so the reads stay */
}

static void mat_free(mat *m)
{
    free(m->w);
    free(m->h);
    wqc_quantized_free(&m->q);
    wqc_rans_coded_free(&m->coded);
    free(m->q4);
    free(m->x);
    free(m->y);
    free(m->x8);
}

/* Frees method's copies of the weights (copy 0 shares the originals). */
static void free_copies(gemv_case *c, int method)
{
    for (size_t r = 0; c->copies[method] && r < c->ncopies[method]; r++) {
        replica *rp = &c->copies[method][r];
        for (size_t i = 0; i < c->n; i++) {
            if (rp->g) wqc_gemv_free(rp->g[i]);
            if (r > 0 && rp->coded) free(rp->coded[i].payload);
            if (r > 0 && rp->q4) free(rp->q4[i]);
            if (r > 0 && rp->w) free(rp->w[i]);
            if (r > 0 && rp->h) free(rp->h[i]);
        }
        free(rp->h);
        free(rp->coded);
        free(rp->g);
        free(rp->q4);
        free(rp->w);
    }
    free(c->copies[method]);
    c->copies[method] = NULL;
    c->ncopies[method] = 0;
}

static void case_free(gemv_case *c)
{
    for (int k = 0; k < M_COUNT; k++) free_copies(c, k);
    for (size_t i = 0; i < c->n; i++) mat_free(&c->m[i]);
    free(c->m);
}

/* Quantizes, codes and packs matrix m (its name, shape and w set). */
static int mat_prepare(const bench_args *a, mat *m, uint64_t seed)
{
    wqc_error err;
    wqc_error_clear(&err);
    wqc_quant_params p = a->quant.params;
    p.granularity = WQC_GRAN_ROW; /* the gemv layout takes per-row scales */
    wqc_rans_params rp;
    wqc_rans_params_default(&rp);
    /* 32 lanes even for small matrices (encode would take 8 below 256 Ki
     * weights): two AVX-512 vectors per round instead of the AVX2 kernel. */
    rp.lanes = a->lanes ? (uint32_t)a->lanes : WQC_RANS_LANES_DEFAULT_CODEC;
    rp.chunk = a->chunk ? (uint32_t)a->chunk : WQC_GEMV_CHUNK_DEFAULT;
    if (a->precision) rp.precision = (int)a->precision;
    rp.threads = thread_max();
    uint64_t n = m->rows * m->cols;
    m->x = malloc(m->cols * sizeof *m->x + 4);
    m->y = malloc(m->rows * sizeof *m->y + 4);
    m->x8 = malloc((m->cols / 32 + 1) * sizeof *m->x8);
    if (!m->x || !m->y || !m->x8) return 0;
    for (uint64_t j = 0; j < m->cols; j++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        m->x[j] = (float)((double)(seed >> 11) * 0x1p-53 * 2.0 - 1.0);
    }
    if (wqc_quantize(m->w, m->rows, m->cols, &p, m->name, &m->q, &err) != WQC_OK ||
        wqc_gemv_encode(&m->q, &rp, &m->coded, &err) != WQC_OK) {
        cli_error("%s: %s", m->name, err.msg);
        return 0;
    }
    m->h = malloc((size_t)n * sizeof *m->h + 2);
    if (!m->h) return 0;
    for (uint64_t i = 0; i < n; i++) m->h[i] = wqc_f32_to_f16(m->w[i]);
    if (m->cols % WQC_Q4_0_BLOCK == 0) {
        m->q4 = malloc(n / WQC_Q4_0_BLOCK * sizeof *m->q4 + 1);
        if (!m->q4 || wqc_q4_0_quantize(m->w, m->rows, m->cols, m->q4, &err) != WQC_OK) return 0;
    }
    return 1;
}

/* Copy r of bytes at src: src itself for copy 0, else a new buffer (NULL
 * when out of memory). */
static void *copy_of(const void *src, uint64_t bytes, size_t r)
{
    if (r == 0) return (void *)src;
    void *p = malloc((size_t)bytes + 1);
    if (p) memcpy(p, src, (size_t)bytes);
    return p;
}

/* Copies of each method's weights: copy 0 shares the originals. */
static int make_copies(gemv_case *c, int method, size_t copies)
{
    replica *reps = calloc(copies, sizeof *reps);
    c->copies[method] = reps;
    c->ncopies[method] = copies;
    if (!reps) return 0;
    for (size_t r = 0; r < copies; r++) {
        replica *rp = &reps[r];
        if (method == M_WQC) {
            rp->coded = calloc(c->n, sizeof *rp->coded);
            rp->g = calloc(c->n, sizeof *rp->g);
            if (!rp->coded || !rp->g) return 0;
        } else if (method == M_F32) {
            if (!(rp->w = calloc(c->n, sizeof *rp->w))) return 0;
        } else if (method == M_F16) {
            if (!(rp->h = calloc(c->n, sizeof *rp->h))) return 0;
        } else if (!(rp->q4 = calloc(c->n, sizeof *rp->q4))) {
            return 0;
        }
        for (size_t i = 0; i < c->n; i++) {
            const mat *m = &c->m[i];
            uint64_t n = m->rows * m->cols;
            if (method == M_WQC) {
                rp->coded[i] = m->coded;
                if (!(rp->coded[i].payload = copy_of(m->coded.payload, m->coded.payload_len, r))) return 0;
                wqc_error err;
                if (wqc_gemv_prepare(&rp->coded[i], &m->q, &rp->g[i], &err) != WQC_OK) {
                    cli_error("%s: %s", m->name, err.msg);
                    return 0;
                }
            } else if (method == M_F32) {
                if (!(rp->w[i] = copy_of(m->w, n * sizeof *m->w, r))) return 0;
            } else if (method == M_F16) {
                if (!(rp->h[i] = copy_of(m->h, n * sizeof *m->h, r))) return 0;
            } else if (m->q4) {
                if (!(rp->q4[i] = copy_of(m->q4, n / WQC_Q4_0_BLOCK * sizeof *m->q4, r))) return 0;
            }
        }
    }
    return 1;
}

/* The fused product against double precision on the dequantized weights. */
static int verify(const gemv_case *c, wqc_isa isa)
{
    if (!run(c, M_WQC, 0, 1, isa)) return 0;
    for (size_t i = 0; i < c->n; i++) {
        const mat *m = &c->m[i];
        float *w = malloc((size_t)(m->rows * m->cols) * sizeof *w + 4);
        if (!w) return 0;
        wqc_dequantize(&m->q, w);
        int ok = 1;
        for (uint64_t r = 0; r < m->rows && ok; r++) {
            double exact = 0, mag = 0;
            for (uint64_t j = 0; j < m->cols; j++) {
                exact += (double)w[r * m->cols + j] * m->x[j];
                mag += fabs((double)w[r * m->cols + j] * m->x[j]);
            }
            ok = fabs(m->y[r] - exact) <= (double)(m->cols + 8) * 0x1p-22 * mag + 1e-30;
        }
        free(w);
        if (!ok) {
            cli_error("%s: the fused product differs from the dequantized product", m->name);
            return 0;
        }
    }
    return 1;
}

static void fill_bytes(gemv_case *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const mat *m = &c->m[i];
        uint64_t n = m->rows * m->cols;
        c->weights += n;
        c->bytes[M_WQC] += m->coded.payload_len + 8 * m->q.ngroups;
        if (m->q4) c->bytes[M_Q4_Q8] += n / WQC_Q4_0_BLOCK * sizeof(wqc_q4_0_block);
        c->bytes[M_F16] += 2 * n;
        c->bytes[M_F32] += 4 * n;
    }
    c->bytes[M_Q4_F32] = c->bytes[M_Q4_Q8];
}

int bench_parse_shape(const char *s, uint64_t *rows, uint64_t *cols, const char **end)
{
    char *e;
    unsigned long long r = strtoull(s, &e, 10);
    if (e == s || (*e != 'x' && *e != 'X')) return 0;
    const char *c0 = e + 1;
    unsigned long long k = strtoull(c0, &e, 10);
    if (e == c0 || r == 0 || k == 0 || r > (1u << 20) || k > (1u << 20) || r * k > (1ull << 31)) return 0;
    *rows = r, *cols = k, *end = e;
    return 1;
}

/* The synthetic shapes, one case each, then FILE's matrices as one case. */
static int load_cases(const bench_args *a, gemv_case **out, size_t *n)
{
    const char *spec = a->shapes ? a->shapes : a->file ? "" : BENCH_GEMV_SHAPES;
    size_t cap = 2 + strlen(spec) / 2;
    gemv_case *cs = calloc(cap, sizeof *cs);
    if (!cs) return WQC_EXIT_ERROR;
    *out = cs;
    *n = 0;
    for (const char *s = spec; *s;) {
        uint64_t rows, cols;
        const char *e;
        if (!bench_parse_shape(s, &rows, &cols, &e) || (*e && *e != ',')) {
            cli_error("--shapes: expected ROWSxCOLS[,ROWSxCOLS...] (each up to 2^20, at most 2^31 weights), got '%s'", s);
            return WQC_EXIT_USAGE;
        }
        gemv_case *c = &cs[(*n)++];
        snprintf(c->label, sizeof c->label, "%llux%llu", (unsigned long long)rows, (unsigned long long)cols);
        c->m = calloc(1, sizeof *c->m);
        if (!c->m) return WQC_EXIT_ERROR;
        c->n = 1;
        mat *m = &c->m[0];
        snprintf(m->name, sizeof m->name, "gaussian:%llux%llu", (unsigned long long)rows, (unsigned long long)cols);
        m->rows = rows, m->cols = cols;
        wqc_synthetic_spec sp;
        wqc_error err;
        if (wqc_synthetic_parse(m->name, &sp, &err) != WQC_OK || wqc_synthetic_generate(&sp, &m->w, &err) != WQC_OK) {
            cli_error("%s: %s", m->name, err.msg);
            return WQC_EXIT_ERROR;
        }
        if (!mat_prepare(a, m, rows * 131 + cols)) return WQC_EXIT_ERROR;
        s = *e ? e + 1 : e;
    }
    if (!a->file) return WQC_EXIT_OK;
    wqc_model *model = NULL;
    if (cli_model_open(a->file, &model) != WQC_EXIT_OK) return WQC_EXIT_ERROR;
    wqc_error err;
    wqc_error_clear(&err);
    gemv_case *c = &cs[*n];
    size_t count = wqc_model_count(model);
    c->m = calloc(count + 1, sizeof *c->m);
    int rc = c->m ? WQC_EXIT_OK : WQC_EXIT_ERROR;
    for (size_t i = 0; i < count && rc == WQC_EXIT_OK; i++) {
        const wqc_tensor *t = wqc_model_tensor(model, i);
        if (!wqc_dtype_is_float(t->dtype) || t->ndim != 2 || t->nelem == 0) continue;
        mat *m = &c->m[c->n++];
        snprintf(m->name, sizeof m->name, "%.63s", t->name);
        m->rows = t->shape[0], m->cols = t->shape[1];
        if (wqc_tensor_to_f32(t, &m->w, &err) != WQC_OK) rc = cli_file_error(a->file, WQC_ERR_FORMAT, &err);
        else if (!mat_prepare(a, m, i + 1)) rc = WQC_EXIT_ERROR;
    }
    wqc_model_close(model);
    if (rc == WQC_EXIT_OK && c->n == 0) {
        cli_error("%s: no float matrix (rank 2) to benchmark", a->file);
        rc = WQC_EXIT_ERROR;
    }
    if (c->n) {
        snprintf(c->label, sizeof c->label, "%.90s (%zu matrices)", a->file, c->n);
        (*n)++;
    }
    return rc;
}

typedef struct gemv_result {
    gemv_case *c;
    timing *t;
    size_t nt;
} gemv_result;

static double rate(const gemv_case *c, const timing *t) { return (double)c->weights / t->seconds; }

static const timing *find(const gemv_result *g, int method, int residency, int threads)
{
    for (size_t i = 0; i < g->nt; i++)
        if (g->t[i].method == method && g->t[i].residency == residency && g->t[i].threads == threads) return &g->t[i];
    return NULL;
}

static void print_text(const gemv_result *res, size_t ncases, const int *threads, int nthreads, const double *bw,
                       const char *cpu, wqc_isa isa, long repeat)
{
    printf("wqc bench --gemv: y = W x, time per product (median of %ld), %s, %s kernels\n", repeat, cpu,
           wqc_isa_name(isa));
    printf("weights: affine 4-bit per row for wqc (gemv layout), Q4_0 (blocks of 32, F16 scale) for packed\n");
    printf("memory read bandwidth (plain read of %llu MiB):", (unsigned long long)(4 * llc_bytes() >> 20));
    for (int t = 0; t < nthreads; t++) printf(" %d thr %.1f GB/s%s", threads[t], bw[t], t + 1 < nthreads ? "," : "\n");
    for (size_t k = 0; k < ncases; k++) {
        const gemv_result *g = &res[k];
        const gemv_case *c = g->c;
        printf("\n%s: %.2f M weights; wqc %.3f bits/weight\n", c->label, (double)c->weights / 1e6,
               8.0 * (double)c->bytes[M_WQC] / (double)c->weights);
        printf("  %-6s %3s  %-11s %9s %10s %10s %9s %9s\n", "where", "thr", "method", "MB read", "us/GEMV",
               "G w/s", "GB/s", "vs Q4_0xQ8");
        for (size_t i = 0; i < g->nt; i++) {
            const timing *t = &g->t[i];
            const timing *base = find(g, M_Q4_Q8, t->residency, t->threads);
            printf("  %-6s %3d  %-11s %9.2f %10.1f %10.3f %9.2f %8.2fx\n", t->residency == CACHE ? "cache" : "memory",
                   t->threads, method_names[t->method], (double)c->bytes[t->method] / 1e6, t->seconds * 1e6,
                   rate(c, t) / 1e9, (double)c->bytes[t->method] / t->seconds / 1e9,
                   base && base->seconds > 0 ? base->seconds / t->seconds : 0.0);
        }
        const timing *fused = find(g, M_WQC, CACHE, threads[0]), *packed = find(g, M_Q4_Q8, CACHE, threads[0]);
        if (!fused || !packed) continue;
        double r = rate(c, fused) / threads[0], bstar = Q4_0_BYTES_PER_WEIGHT * r;
        printf("  break-even: the fused kernel computes R = %.2f G weights/s per core (%d thread%s, in cache);\n"
               "  Q4_0 reads %.4f bytes/weight, so where memory limits it, it is faster only while a core\n"
               "  streams more than B* = %.4f x R = %.2f GB/s. Q4_0 x Q8 itself computes %.2f G weights/s per\n"
               "  core (needs %.2f GB/s). Per core: this machine %.2f GB/s (fewest threads), %.2f GB/s (%d thread%s);\n"
               "  Apple M3 Pro %.1f GB/s (150 GB/s, 12 cores). Fused wins where a core gets less than %.2f GB/s.\n",
               r / 1e9, threads[0], threads[0] > 1 ? "s" : "", Q4_0_BYTES_PER_WEIGHT, Q4_0_BYTES_PER_WEIGHT,
               bstar / 1e9, rate(c, packed) / threads[0] / 1e9, Q4_0_BYTES_PER_WEIGHT * rate(c, packed) / threads[0] / 1e9,
               bw[0] / threads[0], bw[nthreads - 1] / threads[nthreads - 1],
               threads[nthreads - 1], threads[nthreads - 1] > 1 ? "s" : "", M3_PRO_GBS / M3_PRO_CORES, bstar / 1e9);
    }
}

static int print_json(const gemv_result *res, size_t ncases, const int *threads, int nthreads, const double *bw,
                      const char *cpu, wqc_isa isa, long repeat)
{
    json_t *root = cli_json_document("wqc.bench-gemv/1"), *bws = json_array(), *cases = json_array();
    json_object_set_new(root, "cpu", json_string(cpu));
    json_object_set_new(root, "isa", json_string(wqc_isa_name(isa)));
    json_object_set_new(root, "repeat", json_integer(repeat));
    json_object_set_new(root, "llc_bytes", json_integer((json_int_t)llc_bytes()));
    for (int t = 0; t < nthreads; t++) {
        json_t *o = json_object();
        json_object_set_new(o, "threads", json_integer(threads[t]));
        json_object_set_new(o, "read_gbs", json_real(bw[t]));
        json_array_append_new(bws, o);
    }
    json_object_set_new(root, "memory_bandwidth", bws);
    for (size_t k = 0; k < ncases; k++) {
        const gemv_result *g = &res[k];
        json_t *o = json_object(), *rows = json_array();
        json_object_set_new(o, "matrix", json_string(g->c->label));
        json_object_set_new(o, "weights", json_integer((json_int_t)g->c->weights));
        json_object_set_new(o, "wqc_bits_per_weight", json_real(8.0 * (double)g->c->bytes[M_WQC] / (double)g->c->weights));
        for (size_t i = 0; i < g->nt; i++) {
            const timing *t = &g->t[i];
            json_t *row = json_object();
            json_object_set_new(row, "method", json_string(method_names[t->method]));
            json_object_set_new(row, "residency", json_string(t->residency == CACHE ? "cache" : "memory"));
            json_object_set_new(row, "copies", json_integer((json_int_t)t->copies));
            json_object_set_new(row, "threads", json_integer(t->threads));
            json_object_set_new(row, "weight_bytes", json_integer((json_int_t)g->c->bytes[t->method]));
            json_object_set_new(row, "seconds", json_real(t->seconds));
            json_object_set_new(row, "weights_per_s", json_real(rate(g->c, t)));
            json_object_set_new(row, "gbs", json_real((double)g->c->bytes[t->method] / t->seconds / 1e9));
            json_array_append_new(rows, row);
        }
        json_object_set_new(o, "rows", rows);
        const timing *fused = find(g, M_WQC, CACHE, threads[0]);
        if (fused) {
            json_t *be = json_object();
            double r = rate(g->c, fused) / threads[0];
            json_object_set_new(be, "threads", json_integer(threads[0]));
            json_object_set_new(be, "fused_weights_per_s_per_core", json_real(r));
            json_object_set_new(be, "q4_0_bytes_per_weight", json_real(Q4_0_BYTES_PER_WEIGHT));
            json_object_set_new(be, "break_even_gbs_per_core", json_real(Q4_0_BYTES_PER_WEIGHT * r / 1e9));
            json_object_set_new(be, "machine_gbs_per_core", json_real(bw[nthreads - 1] / threads[nthreads - 1]));
            json_object_set_new(be, "m3_pro_gbs_per_core", json_real(M3_PRO_GBS / M3_PRO_CORES));
            json_object_set_new(o, "break_even", be);
        }
        json_array_append_new(cases, o);
    }
    json_object_set_new(root, "cases", cases);
    int rc = json_dumpf(root, stdout, JSON_INDENT(1)) == 0 && fputc('\n', stdout) != EOF ? 0 : -1;
    json_decref(root);
    return rc;
}

int bench_gemv(const bench_args *a)
{
    wqc_isa isa = wqc_isa_active();
    int threads[16], nthreads = 0, all = thread_max();
    if (a->threads_given) {
        threads[nthreads++] = (int)a->threads;
    } else {
        for (int t = 1; t < all && nthreads < 15; t *= 2) threads[nthreads++] = t;
        threads[nthreads++] = all;
    }
    gemv_case *cases = NULL;
    size_t ncases = 0;
    gemv_result *res = NULL;
    double bw[16];
    char *cpu = bench_cpu_name();
    int rc = load_cases(a, &cases, &ncases);
    if (rc == WQC_EXIT_OK && !(res = calloc(ncases + 1, sizeof *res))) rc = WQC_EXIT_ERROR;
    for (int t = 0; rc == WQC_EXIT_OK && t < nthreads; t++) bw[t] = read_bandwidth(threads[t], a->repeat);
    for (size_t k = 0; rc == WQC_EXIT_OK && k < ncases; k++) {
        gemv_case *c = &cases[k];
        gemv_result *g = &res[k];
        g->c = c;
        fill_bytes(c);
        g->t = calloc((size_t)(2 * M_COUNT * nthreads), sizeof *g->t);
        if (!g->t) rc = WQC_EXIT_ERROR;
        for (int residency = CACHE; rc == WQC_EXIT_OK && residency <= MEMORY; residency++) {
            for (int m = 0; rc == WQC_EXIT_OK && m < M_COUNT; m++) {
                if (c->bytes[m] == 0) continue; /* no Q4_0 for these columns */
                /* In memory: enough copies to fill the last-level cache twice. */
                size_t copies = 1;
                if (residency == MEMORY) {
                    uint64_t want = 2 * llc_bytes();
                    copies = c->bytes[m] >= want ? 1 : (size_t)((want + c->bytes[m] - 1) / c->bytes[m]);
                    if (copies > 512) copies = 512;
                }
                if (c->ncopies[m] != copies) {
                    free_copies(c, m);
                    if (!make_copies(c, m, copies)) {
                        cli_error("out of memory for %zu copies of the weights", copies);
                        rc = WQC_EXIT_ERROR;
                        break;
                    }
                    if (m == M_WQC && residency == CACHE && !verify(c, isa)) {
                        rc = WQC_EXIT_ERROR;
                        break;
                    }
                }
                for (int t = 0; t < nthreads; t++) {
                    double s = time_gemv(c, m, copies, threads[t], a->repeat, isa);
                    if (s < 0) {
                        rc = WQC_EXIT_ERROR;
                        break;
                    }
                    g->t[g->nt++] = (timing){m, residency, threads[t], copies, s};
                }
            }
        }
    }
    if (rc == WQC_EXIT_OK) {
        if (a->json) {
            if (print_json(res, ncases, threads, nthreads, bw, cpu, isa, a->repeat) != 0) rc = WQC_EXIT_ERROR;
        } else {
            print_text(res, ncases, threads, nthreads, bw, cpu, isa, a->repeat);
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_error("cannot write to stdout");
            rc = WQC_EXIT_ERROR;
        }
    }
    for (size_t k = 0; res && k < ncases; k++) free(res[k].t);
    for (size_t k = 0; k < ncases; k++) case_free(&cases[k]);
    free(cases);
    free(res);
    free(cpu);
    return rc;
}
