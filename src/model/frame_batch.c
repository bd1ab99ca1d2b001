/* Several tensors decoded at once: a model's tensors are mostly too small
 * for their chunks to keep many threads busy, so with -T >= 2 whole
 * tensors are decoded side by side, each on one thread, into one buffer that
 * every batch reuses (its pages, huge where the system allows, are faulted
 * in once), and written in order by the caller. */
#include <stdlib.h>
#include <string.h>

#include "../common/big_buffer.h"
#include "wqc/archive.h"

wqc_status wqc_frame_batch_reserve(wqc_frame_batch *b, uint64_t bytes, wqc_error *err)
{
    if (bytes <= b->cap) return WQC_OK;
    free(b->data);
    b->data = wqc_big_alloc((size_t)bytes);
    b->cap = b->data ? bytes : 0;
    return b->data ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
}

int wqc_frame_batch_admits(int threads, size_t count, uint64_t bytes, uint64_t len)
{
    const uint64_t share = WQC_FRAME_BATCH_BYTES_PER_THREAD;
    return threads >= 2 && count < 2 * (size_t)threads && len <= share && bytes + len <= share * (uint64_t)threads;
}

void wqc_frame_batch_free(wqc_frame_batch *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

wqc_status wqc_frame_batch_decode(wqc_frame_batch *b, wqc_frame_job *jobs, size_t n, int threads, wqc_error *err)
{
    uint64_t total = 0;
    for (size_t k = 0; k < n; k++) total += jobs[k].len;
    wqc_status st = wqc_frame_batch_reserve(b, total, err);
    if (st != WQC_OK) return st;
    for (size_t k = 0, at = 0; k < n; at += (size_t)jobs[k].len, k++) jobs[k].out = b->data + at;
    (void)threads;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (n > 1 && threads > 1)
#endif
    for (size_t k = 0; k < n; k++) {
        wqc_frame_job *j = &jobs[k];
        wqc_error_clear(&j->err);
        j->status = j->check ? wqc_archive_check(j->in, j->index, -1, NULL, 0, &j->err) : WQC_OK;
        if (j->status == WQC_OK)
            j->status = j->isa && !j->f->quantized ? wqc_frame_decode_raw_with(j->f, *j->isa, j->out, &j->err)
                                                   : wqc_frame_decode_into(j->f, j->form, 1, j->out, j->len, &j->err);
    }
    return WQC_OK;
}
