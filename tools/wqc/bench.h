/* `wqc bench`: measured rows and the report. */
#ifndef WQC_TOOLS_BENCH_H
#define WQC_TOOLS_BENCH_H

#include <stdio.h>

#include "bench_codecs.h"
#include "cli.h"

typedef struct bench_args {
    wqc_quant_settings quant;
    const char *synthetic, *file, *codecs, *shapes;
    long repeat, threads, precision, lanes, chunk;
    int json, gemv, threads_given, lossless, gpu;
    const char *model;          /* --gpu --model NAME */
} bench_args;

/* Monotonic seconds, the median of n values (sorts v), the CPU's name (malloc'ed). */
double bench_now_s(void);
double bench_median(double *v, int n);
char *bench_cpu_name(void);

/* `wqc bench --gemv` (bench_gemv.c). Returns the exit status. */
#define BENCH_GEMV_SHAPES "4096x4096,4096x14336,14336x4096"
int bench_gemv(const bench_args *a);
/* One "ROWSxCOLS" at s (each up to 2^20, at most 2^31 weights); *end after it. 0 if malformed. */
int bench_parse_shape(const char *s, uint64_t *rows, uint64_t *cols, const char **end);

/* `wqc bench --gpu` (bench_gpu.c, only in builds with -DWQC_CUDA=ON). */
#define BENCH_GPU_SHAPES "4096x14336"
int bench_gpu(const bench_args *a);

/* `wqc bench FILE --lossless` (bench_lossless.c). Returns the exit status. */
int bench_lossless(const bench_args *a);

typedef struct bench_row {
    bench_codec codec;
    uint64_t bytes;             /* coded size of all items */
    double encode_s, decode_s;  /* medians over the repetitions, all items */
    int encode_reps, decode_reps;
} bench_row;

typedef struct bench_report {
    const char *input;          /* file path or synthetic spec */
    const char *quantizer;      /* "affine 4-bit tensor" */
    int bits;
    uint64_t symbols;           /* all items */
    size_t items;
    double entropy_bits;        /* order-0 entropy per symbol, per item, weighted */
    int threads, repeat;
    const char *cpu;
    bench_row *rows;
    size_t nrows;
} bench_report;

void bench_print_text(FILE *f, const bench_report *r);
/* 0 on success. */
int bench_print_json(FILE *f, const bench_report *r);

#endif
