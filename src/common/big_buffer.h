/* Internal: buffers of MiBs that decoders fill at once. On Linux they are
 * 2 MiB-aligned and advised as transparent huge pages, so that their first
 * touch costs a page fault per 2 MiB instead of per 4 KiB (a tenth of the
 * time of decoding a lossless checkpoint went to those faults). Free with
 * free(). */
#ifndef WQC_COMMON_BIG_BUFFER_H
#define WQC_COMMON_BIG_BUFFER_H

#include <stddef.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define WQC_HUGE_PAGE ((size_t)2 << 20)

static inline void *wqc_big_alloc(size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (n >= WQC_HUGE_PAGE) {
        size_t size = (n + WQC_HUGE_PAGE - 1) / WQC_HUGE_PAGE * WQC_HUGE_PAGE;
        void *p = aligned_alloc(WQC_HUGE_PAGE, size);
        if (p) madvise(p, size, MADV_HUGEPAGE); /* advice only: its failure changes nothing */
        return p;
    }
#endif
    return malloc(n ? n : 1);
}

#endif
