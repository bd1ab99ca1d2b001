/* Progress of a long run on stderr, as zstd shows it: tensors, bytes and
 * rate on one line redrawn in place. Only when stderr is a terminal and -q
 * is not given; nothing in the first half second, so quick runs stay quiet.
 * WQC_PROGRESS=1 shows every update on any stderr (tests), WQC_PROGRESS=0 never. */
#ifndef WQC_TOOLS_PROGRESS_H
#define WQC_TOOLS_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_progress {
    int on, shown;
    size_t tensors, tensors_done;
    uint64_t bytes, bytes_done;
    double start, last, delay, every;
} cli_progress;

void cli_progress_start(cli_progress *p, size_t tensors, uint64_t bytes, int quiet);
/* Adds finished tensors and processed bytes; redraws at most 5 times a second. */
void cli_progress_add(cli_progress *p, size_t tensors, uint64_t bytes);
/* Clears the line. */
void cli_progress_end(cli_progress *p);

#endif
