/* Output files the way pipeline users expect: "-" is stdout (refused on a
 * terminal unless forced), an existing file is kept unless -f, a regular
 * file is written to a temporary file in the same folder and renamed into
 * place only when complete, non-regular outputs (/dev/null, a FIFO) are
 * written directly, and on any error or SIGINT/SIGTERM nothing is left behind. */
#ifndef WQC_TOOLS_OUTPUT_H
#define WQC_TOOLS_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/wqc.h"

typedef struct cli_out {
    const char *path;
    int fd;
    char *tmp_path;     /* NULL when writing directly */
    int is_stdout;
    uint64_t written, flushed;  /* bytes written, and handed to writeback */
    void *pending;              /* the temporary file's entry for the signal handler */
    int sync;                   /* WQC_SYNC=1: fsync before the rename */
} cli_out;

/* Prints the error and returns 0 on failure. */
int cli_out_open(cli_out *o, const char *path, int force);
/* A temporary file in the folder of `near`, for an output whose final name
 * is known only when it is complete (cli_out_commit_as). */
int cli_out_open_temp(cli_out *o, const char *near);
/* Commits under `path`, refusing (and abandoning the output) when it exists
 * unless force. */
int cli_out_commit_as(cli_out *o, const char *path, int force);
/* A wqc_sink_fn writing to o (ctx is the cli_out). */
wqc_status cli_out_sink(void *ctx, const void *buf, size_t len, wqc_error *err);
/* Completes the output (rename for a temporary file, after an fsync when
 * WQC_SYNC=1); prints the
 * error and returns 0 on failure, after removing the temporary file. */
int cli_out_commit(cli_out *o);
/* Ends an output after writing it returned st: commits on WQC_OK, else
 * abandons it and prints err naming the output. Returns the exit status. */
int cli_out_finish(cli_out *o, wqc_status st, const wqc_error *err);
/* Whether nothing written to o is read before cli_out_commit: a temporary
 * file renamed into place, or /dev/null (not stdout, a FIFO, a terminal). */
int cli_out_whole_only(const cli_out *o);
/* Abandons the output: closes it and removes the temporary file. */
void cli_out_abort(cli_out *o);

/* Names the input being read, for the error printed if it shrinks while
 * mapped (SIGBUS): that exits with status 1 and removes any temporary output. */
void cli_watch_input(const char *path);

/* Opens the model at path (watched, as cli_watch_input). Prints the error
 * and returns WQC_EXIT_ERROR, or WQC_EXIT_OK. */
int cli_model_open(const char *path, wqc_model **out);

#endif
