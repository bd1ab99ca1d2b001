/* Internal: the thread split of the GEMV baselines. Rows go in slices of
 * 16, so that threads never share a cache line of y. */
#ifndef WQC_ROW_SLICES_H
#define WQC_ROW_SLICES_H

#include <stdint.h>

typedef void (*row_slice_fn)(const void *ctx, uint64_t r0, uint64_t r1);

/* Calls run(ctx, r0, r1) for every slice of rows 0..rows (of cols weights
 * each), on up to `threads` OpenMP threads (<= 0: all cores), fewer where a
 * thread would get less than WQC_THREAD_WORK_MIN weights (common/threads.h). */
void wqc_row_slices(uint64_t rows, uint64_t cols, int threads, row_slice_fn run, const void *ctx);

#endif
