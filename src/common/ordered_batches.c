#include "ordered_batches.h"

#include <stdlib.h>
#include <string.h>

typedef struct sized {
    uint64_t bytes;
    size_t k;
} sized;

/* Largest first; ties in item order. */
static int by_size_down(const void *a, const void *b)
{
    const sized *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->k < y->k ? -1 : x->k > y->k;
}

static size_t batch_count(size_t n, size_t first, int threads, uint64_t budget, const wqc_batch_ops *ops, void *ctx,
                          sized *order)
{
    uint64_t used = 0, most = threads < 2 ? 1 : 2 * (size_t)threads;
    size_t k = 0;
    for (; first + k < n && k < most; k++) {
        uint64_t b = ops->bytes(ctx, first + k);
        if (k && used + b > budget * (uint64_t)threads) break;
        used += b;
        order[k] = (sized){b, k};
    }
    return k;
}

wqc_status wqc_ordered_batches(size_t n, int threads, uint64_t budget, const wqc_batch_ops *ops, void *ctx,
                               wqc_error *err)
{
    if (threads < 1) threads = 1;
    size_t most = 2 * (size_t)threads;
    unsigned char *slots = calloc(most, ops->slot_size);
    sized *order = calloc(most, sizeof *order);
    wqc_status *status = calloc(most, sizeof *status);
    wqc_error *errs = calloc(most, sizeof *errs);
    wqc_status st = slots && order && status && errs ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t first = 0, count; st == WQC_OK && first < n; first += count) {
        count = batch_count(n, first, threads, budget, ops, ctx, order);
        memset(slots, 0, count * ops->slot_size);
        qsort(order, count, sizeof *order, by_size_down);
        if (count == 1) {
            /* One item on every thread: made outside any parallel region, so
             * that its own regions are not nested ones (libgomp starts new
             * threads for each nested team instead of reusing its pool). */
            wqc_error_clear(&errs[0]);
            status[0] = ops->make(ctx, first, threads, slots, &errs[0]);
        } else {
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
            for (size_t j = 0; j < count; j++) {
                size_t k = order[j].k;
                wqc_error_clear(&errs[k]);
                status[k] = ops->make(ctx, first + k, 1, slots + k * ops->slot_size, &errs[k]);
            }
        }
        for (size_t k = 0; k < count; k++) {
            void *slot = slots + k * ops->slot_size;
            if (st == WQC_OK && status[k] != WQC_OK) {
                st = status[k];
                if (err) *err = errs[k];
            }
            if (st == WQC_OK) st = ops->use(ctx, first + k, slot, err);
            ops->release(ctx, first + k, slot);
        }
    }
    free(slots);
    free(order);
    free(status);
    free(errs);
    return st;
}
