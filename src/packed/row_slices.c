#include "row_slices.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define SLICE 16u
/* Weights a thread is given at least: a product of a 64x64 matrix is done
 * before a team of threads has started (Q4_0 on a 260K-parameter model ran
 * 24x slower on 16 threads than on one). */
#define THREAD_WORK_MIN (1u << 16)

void wqc_row_slices(uint64_t rows, uint64_t cols, int threads, row_slice_fn run, const void *ctx)
{
    uint64_t slices = (rows + SLICE - 1) / SLICE;
#ifdef _OPENMP
    int n = threads > 0 ? threads : omp_get_num_procs();
    uint64_t most = rows * cols / THREAD_WORK_MIN;
    if ((uint64_t)n > most) n = most ? (int)(most < (uint64_t)n ? most : (uint64_t)n) : 1;
    if ((uint64_t)n > slices) n = slices ? (int)slices : 1;
#pragma omp parallel for schedule(static) num_threads(n) if (n > 1)
#else
    (void)threads, (void)cols;
#endif
    for (uint64_t s = 0; s < slices; s++) run(ctx, s * SLICE, s * SLICE + SLICE < rows ? s * SLICE + SLICE : rows);
}
