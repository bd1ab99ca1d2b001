/* Internal: where a whole process's time goes, on machines without perf
 * (the device). WQC_TRACE=1 in the environment records named moments (wall
 * time since the library was loaded, the thread) and prints them to stderr
 * at exit; otherwise a mark costs one predictable branch. */
#ifndef WQC_COMMON_TRACE_H
#define WQC_COMMON_TRACE_H

extern int wqc_trace_on;

void wqc_trace_mark(const char *what, long arg);

#define WQC_TRACE(what, arg)                                   \
    do {                                                       \
        if (wqc_trace_on) wqc_trace_mark((what), (long)(arg)); \
    } while (0)

#endif
