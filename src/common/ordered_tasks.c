#include "ordered_tasks.h"

#include "trace.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int wqc_ordered_workers(size_t n, int threads)
{
    if (threads < 1) threads = 1;
    return (size_t)threads > n ? (n ? (int)n : 1) : threads;
}

wqc_status wqc_ordered_tasks(size_t n, int threads, const wqc_task_ops *ops, void *ctx, wqc_error *err)
{
    threads = wqc_ordered_workers(n, threads);
    wqc_status failed = WQC_OK; /* the first failure in task order, in *err */
    int stop = 0;               /* set once it is known: later tasks skip their work */
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) ordered num_threads(threads) if (threads > 1)
#endif
    for (size_t t = 0; t < n; t++) {
#ifdef _OPENMP
        int w = omp_get_thread_num();
#else
        int w = 0;
#endif
        wqc_error e;
        wqc_error_clear(&e);
        WQC_TRACE("work", t);
        wqc_status st = __atomic_load_n(&stop, __ATOMIC_RELAXED) ? WQC_OK : ops->work(ctx, t, w, &e);
        WQC_TRACE("worked", t);
#ifdef _OPENMP
#pragma omp ordered
#endif
        {
            if (failed == WQC_OK && st == WQC_OK) st = ops->emit(ctx, t, w, &e);
            WQC_TRACE("emitted", t);
            if (failed == WQC_OK && st != WQC_OK) {
                failed = st;
                if (err) *err = e;
                __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
            }
        }
    }
    WQC_TRACE("tasks done", n);
    return failed;
}
