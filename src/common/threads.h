/* Internal: how many threads a job gets. A team of threads costs more to
 * start than a small job takes (Q4_0 on a 260K-parameter model ran 24x
 * slower on 16 threads than on one): each thread is given at least
 * WQC_THREAD_WORK_MIN elements. */
#ifndef WQC_COMMON_THREADS_H
#define WQC_COMMON_THREADS_H

#include <stdint.h>

#define WQC_THREAD_WORK_MIN (1u << 16)

/* At most n threads, and no more than work / WQC_THREAD_WORK_MIN (at least 1). */
static inline int wqc_threads_for_work(int n, uint64_t work)
{
    uint64_t most = work / WQC_THREAD_WORK_MIN;
    if (most < 1) most = 1;
    return (uint64_t)n > most ? (int)most : n;
}

#endif
