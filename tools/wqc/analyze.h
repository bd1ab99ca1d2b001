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
    wqc_analysis_options options;   /* with the models encode would share for this input */
    wqc_symbol_model *shared;
    size_t nshared;
} analyze_input;

typedef struct analyze_job {
    size_t input;
    const wqc_tensor *tensor;
    const char *skip;           /* why it is not analysed; NULL if analysed */
    wqc_tensor_analysis result;
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
    char gate_message[160];
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

#endif
