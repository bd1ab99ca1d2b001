/* Internal: many items made on threads and used in order (tensors coded,
 * then written). Items are made a batch at a time, each on one thread
 * (largest first, so the last to finish are small), then used and released
 * in item order. A batch is up to 2 x threads items within budget bytes of
 * working memory a thread (at least one item); an item made alone gets
 * every thread. */
#ifndef WQC_COMMON_ORDERED_BATCHES_H
#define WQC_COMMON_ORDERED_BATCHES_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/status.h"

/* Working memory a thread for the items in flight of encode, quantize and
 * the converters: their memory grows with -T, not with the model. */
#define WQC_BATCH_BYTES_PER_THREAD (32u << 20)

typedef struct wqc_batch_ops {
    size_t slot_size;                                    /* bytes of an item's result */
    uint64_t (*bytes)(void *ctx, size_t i);              /* item i's working memory */
    /* Makes item i into slot (zeroed) with `threads` threads of its own. */
    wqc_status (*make)(void *ctx, size_t i, int threads, void *slot, wqc_error *err);
    wqc_status (*use)(void *ctx, size_t i, void *slot, wqc_error *err);
    void (*release)(void *ctx, size_t i, void *slot);    /* every made slot, failed or not */
} wqc_batch_ops;

/* Items 0..n-1 on `threads` threads (>= 1). Stops at the first failure in
 * item order (of making an item or using it) and returns it, after using
 * the items before it. */
wqc_status wqc_ordered_batches(size_t n, int threads, uint64_t budget, const wqc_batch_ops *ops, void *ctx,
                               wqc_error *err);

#endif
