/* Opening a .wqc input (wqc/archive.h) for decode, verify, info and diff,
 * with the tool's messages and exit statuses. */
#ifndef WQC_TOOLS_CLI_ARCHIVE_H
#define WQC_TOOLS_CLI_ARCHIVE_H

#include "coding_args.h"

/* Opens a->input with a's key; sequential: check every record now (verify),
 * else use the index. Prints the error and returns the exit status
 * (WQC_EXIT_CORRUPT for a damaged file, WQC_EXIT_AUTH for an HMAC failure)
 * or WQC_EXIT_OK. */
int cli_archive_open(const coding_args *a, int sequential, wqc_archive **out);

/* WQC_EXIT_OK if frame i is within --max-elements (checked before its
 * output is allocated), else prints why and returns WQC_EXIT_ERROR. */
int cli_check_size(const coding_args *a, size_t i, const wqc_frame *f);

/* Exit status for a failure while reading a .wqc. */
int cli_exit_status(wqc_status st);

#endif
