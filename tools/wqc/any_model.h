/* A model from any input the tool reads (wqc/weights.h), opened with the
 * tool's key, messages and exit statuses: info --digest, verify --digest, diff. */
#ifndef WQC_TOOLS_ANY_MODEL_H
#define WQC_TOOLS_ANY_MODEL_H

#include "cli_archive.h"

typedef struct any_model {
    const char *path;
    wqc_weights *w;
    wqc_archive *wqc;       /* the .wqc behind w, or NULL */
    int is_wqc;
    size_t count;
} any_model;

/* Prints the error and returns the exit status (a damaged .wqc: 4). */
int any_model_open(any_model *am, const coding_args *a, const char *path);
void any_model_close(any_model *am);

/* Exit status for a failure on tensor i, after printing it against its file. */
int any_model_fail(const any_model *am, size_t i, wqc_status st, const wqc_error *err);

#endif
