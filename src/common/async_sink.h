/* Internal: a sink called on a thread of its own, one buffer at a time in
 * the order they are put, so that the threads that fill the buffers go on
 * while the sink writes (a page-cache write of 4 MiB to a file takes about
 * as long as decoding it on one core, and one file takes writes from one
 * writer at a time). The buffers come from a pool: a filler takes one,
 * fills it and puts it; the writer gives it back once written. */
#ifndef WQC_COMMON_ASYNC_SINK_H
#define WQC_COMMON_ASYNC_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/tensor_io.h"

typedef struct wqc_async_sink wqc_async_sink;

/* A writer thread for sink(ctx, ...) and `count` buffers of `bytes`; NULL
 * where a thread or the memory is not to be had (call the sink directly). */
wqc_async_sink *wqc_async_sink_open(wqc_sink_fn sink, void *ctx, int count, size_t bytes);
/* A free buffer, once one is (a buffer is free again once written). */
uint8_t *wqc_async_sink_take(wqc_async_sink *a);
/* Queues the first len bytes of buf (taken from a) for the sink. Returns
 * the sink's failure if one has happened (buf is then not written). */
wqc_status wqc_async_sink_put(wqc_async_sink *a, uint8_t *buf, size_t len, wqc_error *err);
/* Gives back a buffer taken and not to be put. */
void wqc_async_sink_give(wqc_async_sink *a, uint8_t *buf);
/* Waits for the queued writes, ends the thread and frees a and its buffers
 * (those taken and never put or given too); the sink's first failure, if any. */
wqc_status wqc_async_sink_close(wqc_async_sink *a, wqc_error *err);

#endif
