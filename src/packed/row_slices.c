#include "row_slices.h"

#include "../common/threads.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define SLICE 16u

void wqc_row_slices(uint64_t rows, uint64_t cols, int threads, row_slice_fn run, const void *ctx)
{
    uint64_t slices = (rows + SLICE - 1) / SLICE;
#ifdef _OPENMP
    int n = wqc_threads_for_work(threads > 0 ? threads : omp_get_num_procs(), rows * cols);
    if ((uint64_t)n > slices) n = slices ? (int)slices : 1;
#pragma omp parallel for schedule(static) num_threads(n) if (n > 1)
#else
    (void)threads, (void)cols;
#endif
    for (uint64_t s = 0; s < slices; s++) run(ctx, s * SLICE, s * SLICE + SLICE < rows ? s * SLICE + SLICE : rows);
}
