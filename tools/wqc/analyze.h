/* `wqc analyze`: the jobs it runs and the reports it prints. */
#ifndef WQC_TOOLS_ANALYZE_H
#define WQC_TOOLS_ANALYZE_H

#include <stdio.h>

#include "wqc/wqc.h"

typedef struct analyze_input {
    const char *label;          /* path, or the synthetic spec */
    wqc_model *model;           /* NULL for a synthetic input */
    wqc_tensor synthetic;       /* the generated tensor of a synthetic input */
    float *synthetic_data;
    wqc_model_encoder *encoder; /* what encode would do with this input (NULL: synthetic) */
    size_t *coded_as;           /* per model tensor: the encoder's tensor, or SIZE_MAX when encode
                                   does not quantize it */
    size_t *scales_of;          /* per model tensor: wqc_model_block_scales */
    wqc_packed_float *packed;
} analyze_input;

typedef struct analyze_job {
    size_t input;
    size_t index;               /* the tensor's index in its input's model */
    const wqc_tensor *tensor;
    const char *skip;           /* why it is not analysed; NULL if analysed */
    wqc_tensor_analysis result; /* its modes: as encode codes the tensor */
    wqc_status status;
    wqc_error err;
} analyze_job;

typedef struct analyze_report {
    const analyze_input *inputs;
    size_t ninputs;
    const analyze_job *jobs;
    size_t njobs;
    const wqc_analysis_options *options;
    wqc_analysis_summary summary;
    int show_hist;
    double max_bits;            /* gates; NAN when not given */
    double min_saving;
    int gate_failed;
    char gate_message[256];
} analyze_report;

void analyze_print_text(FILE *out, const analyze_report *r);

/* --lossless: the split coding's streams of every selected float tensor. */
typedef struct lossless_options {
    int json, quiet, zstd_level, brotli_quality;
    int (*selected)(const void *ctx, const char *name);
    const void *ctx;
} lossless_options;
/* Prints the report; returns the exit status. */
int analyze_lossless(const lossless_options *o, analyze_input *inputs, size_t ninputs);
/* Returns 0 on success, -1 if JSON could not be built or written. */
int analyze_print_json(FILE *out, const analyze_report *r);

/* A GGUF input: its tensors' streams (analyze_gguf.c). */
typedef struct gguf_options {
    int json, quiet;
    int (*selected)(const void *ctx, const char *name);
    const void *ctx;
} gguf_options;
int analyze_gguf(const gguf_options *o, const char *const *paths, size_t n);

/* --rd: a sweep of quantizers over every analysed float tensor. */
typedef struct rd_tensor {
    const char *name;
    uint64_t rows, cols;
    wqc_rd_point *points;       /* one per sweep entry */
} rd_tensor;

typedef struct rd_result {
    wqc_quant_params *params;   /* the sweep */
    size_t npoints;
    rd_tensor *tensors;
    size_t ntensors;
    wqc_rd_point *model;        /* per sweep entry, summed over the tensors */
} rd_result;

typedef struct rd_options {
    int json, quiet, precision, bits_lo, bits_hi;
    double ks[16];
    size_t nk;
    long threads;
    const char *plot;           /* --plot FILE.svg */
} rd_options;

/* Runs the sweep over the jobs that are not skipped, prints the tables (or
 * JSON) and draws the plot. Returns the exit status. */
int analyze_rd(const rd_options *o, const analyze_job *jobs, size_t njobs, const analyze_input *inputs);

/* --plot without --rd: the symbol histograms of the analysed tensors, a grid
 * of small charts, largest tensors first. */
int plot_histograms(const char *path, const analyze_job *jobs, size_t njobs);
/* --plot with --rd: SQNR against bits/weight (entropy, and as coded) for each
 * quantizer family, with the D(R) bound and the ECSQ line. */
int plot_rd(const char *path, const rd_result *r);

#endif
