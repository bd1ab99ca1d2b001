#include "trace.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRACE_EVENTS 8192

typedef struct event {
    double t;
    const char *what;
    long arg;
    int thread;
} event;

int wqc_trace_on;
static double origin;
static event events[TRACE_EVENTS];
static atomic_int used, threads;
static _Thread_local int thread_id = -1;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_time(const void *a, const void *b)
{
    const event *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

static void trace_print(void)
{
    wqc_trace_mark("exit", 0);
    int n = atomic_load(&used);
    if (n > TRACE_EVENTS) n = TRACE_EVENTS;
    qsort(events, (size_t)n, sizeof *events, by_time);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "trace %9.3f ms  t%-2d %s %ld\n", 1e3 * events[i].t, events[i].thread, events[i].what,
                events[i].arg);
}

/* Before main: the origin is the library's load, after the dynamic loader. */
__attribute__((constructor)) static void trace_start(void)
{
    const char *env = getenv("WQC_TRACE");
    if (!env || !*env || strcmp(env, "0") == 0) return;
    origin = now();
    wqc_trace_on = 1;
    atexit(trace_print);
}

void wqc_trace_mark(const char *what, long arg)
{
    double t = now() - origin;
    if (thread_id < 0) thread_id = atomic_fetch_add(&threads, 1);
    int k = atomic_fetch_add(&used, 1);
    if (k < TRACE_EVENTS) events[k] = (event){t, what, arg, thread_id};
}
