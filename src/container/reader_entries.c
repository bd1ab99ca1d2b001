/* The reader's tensor list and page release, for both format versions. */
#include <stdlib.h>
#include <string.h>

#include "reader_internal.h"

reader_entry *wqc_reader_push(wqc_reader *r, size_t *cap)
{
    if (r->count == *cap) {
        size_t grown_cap = *cap ? 2 * *cap : 64;
        reader_entry *grown = realloc(r->entries, grown_cap * sizeof *grown);
        if (!grown) return NULL;
        r->entries = grown;
        *cap = grown_cap;
    }
    reader_entry *e = &r->entries[r->count++];
    memset(e, 0, sizeof *e);
    return e;
}

void wqc_reader_release(const wqc_reader *r, uint64_t offset, uint64_t len)
{
    if (r->file) wqc_mapped_release(r->file, (size_t)(r->buf - r->file->data + offset), (size_t)len);
}

