/* Opening a .wqc input for the decode/verify/info commands: mapped when it
 * is a file (random access through the index), read whole from a pipe. */
#ifndef WQC_TOOLS_WQC_INPUT_H
#define WQC_TOOLS_WQC_INPUT_H

#include "coding_args.h"

typedef struct wqc_input {
    wqc_mapped_file file;
    wqc_reader *reader;
} wqc_input;

/* Prints the error and returns the exit status (WQC_EXIT_CORRUPT for a
 * damaged file, WQC_EXIT_AUTH for an HMAC failure) or WQC_EXIT_OK.
 * sequential: check every record now (verify), else use the index. */
int wqc_input_open(wqc_input *in, const coding_args *a, int sequential);
void wqc_input_close(wqc_input *in);

/* WQC_EXIT_OK if frame i of the input is within --max-elements (checked
 * before its output is allocated), else prints why and returns WQC_EXIT_ERROR. */
int wqc_input_check_size(const coding_args *a, size_t i, const wqc_frame *f);

/* Exit status for a failure while reading a .wqc. */
int wqc_input_status(wqc_status st);

#endif
