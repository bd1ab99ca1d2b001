/* Internal: a stream's tasks done on threads and emitted in task order, as
 * soon as each is ready (the windows of a decoded tensor written while later
 * ones decode). Each worker (a thread) works in buffers of its own, emits
 * from them, then takes the next task: no barrier between tasks, one set of
 * buffers a worker. */
#ifndef WQC_COMMON_ORDERED_TASKS_H
#define WQC_COMMON_ORDERED_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/status.h"

typedef struct wqc_task_ops {
    /* Task t by worker w (< the workers), on the calling thread alone. */
    wqc_status (*work)(void *ctx, size_t t, int w, wqc_error *err);
    /* Task t's result, by the worker that did it, in task order. */
    wqc_status (*emit)(void *ctx, size_t t, int w, wqc_error *err);
} wqc_task_ops;

/* The workers tasks 0..n-1 get from `threads` (>= 1): at most one a task. */
int wqc_ordered_workers(size_t n, int threads);

/* Tasks 0..n-1 on wqc_ordered_workers(n, threads) workers. Stops at the
 * first failure in task order (of its work or its emit) and returns it,
 * after emitting the tasks before it. */
wqc_status wqc_ordered_tasks(size_t n, int threads, const wqc_task_ops *ops, void *ctx, wqc_error *err);

#endif
