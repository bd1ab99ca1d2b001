/* Internal: the reader's state, shared by its format-1 and format-2 halves. */
#ifndef WQC_CONTAINER_READER_INTERNAL_H
#define WQC_CONTAINER_READER_INTERNAL_H

#include "format.h"
#include "segment_checks.h"

typedef struct reader_entry {
    uint64_t offset, bytes;
    char *name;
    int parsed;         /* frame read and its record's check verified */
    int described;      /* frame read, check not yet verified (format 2) */
    uint64_t segments;  /* 1 + its entry in the K record, or 0 */
    wqc_frame frame;
} reader_entry;

struct wqc_reader {
    const uint8_t *buf;
    uint64_t len;
    int version;
    int hmac;
    reader_entry *entries;
    size_t count;
    wqc_kv *meta;
    size_t nmeta;
    wqc_symbol_model *shared;
    size_t nshared;
    uint64_t end_offset, index_offset;
    const uint8_t *hmac_stored;     /* the END record's HMAC bytes */
    const wqc_mapped_file *file;    /* the mapping buf lies in, or NULL */
    wqc_source source;              /* format NONE: the file has no SOURCE record */
    uint8_t *source_header;
    size_t *source_order;
    uint64_t *source_gap;
    wqc_tensor_stats *stats;        /* from the STATS record: count entries, or NULL */
    uint8_t *stats_present;
    wqc_segment_table segments;     /* from the K record (n = 0: none) */
    int threads;                    /* for the eager walk's checks */
};

/* Done reading buf[offset, offset + len) for now: a mapped file's pages go. */
void wqc_reader_release(const wqc_reader *r, uint64_t offset, uint64_t len);

/* Format 2, likewise; the END record first (sets end and index offsets and
 * the stored HMAC). */
wqc_status wqc_reader2_end(wqc_reader *r, wqc_error *err);
wqc_status wqc_reader2_open(wqc_reader *r, int lazy, wqc_error *err);
/* verify = 0: the descriptor only (e->described); 1: also the record's check (e->parsed). */
wqc_status wqc_reader2_frame(wqc_reader *r, reader_entry *e, int verify, wqc_error *err);
/* Tensor e's frame parsed from copy, a copy of its record (len bytes, the
 * file's from e->offset on), with the record's check verified unless
 * `checked` (its segment checks held); the frame's pointers point into
 * copy. */
wqc_status wqc_reader2_frame_copy(wqc_reader *r, reader_entry *e, const uint8_t *copy, uint64_t len, int checked,
                                  wqc_frame *f, wqc_error *err);

/* Reads the STATS record at offset (r->count known). */
wqc_status wqc_reader2_stats(wqc_reader *r, uint64_t offset, wqc_error *err);

/* Reads the K record at offset (r->count known). */
wqc_status wqc_reader2_segments(wqc_reader *r, uint64_t offset, wqc_error *err);
/* Verifies entry e's record against its segment checks on `threads` threads. */
wqc_status wqc_reader2_check_segments(const wqc_reader *r, const reader_entry *e, int threads, wqc_error *err);
/* wqc_reader_frame_read_segmented of entry e (which has segment checks). */
wqc_status wqc_reader2_frame_read_segmented(wqc_reader *r, reader_entry *e, int fd, uint8_t *copy, uint64_t len,
                                            int threads, wqc_frame *f, wqc_error *err);

/* Appends an entry (zeroed) and returns it, or NULL when out of memory. */
reader_entry *wqc_reader_push(wqc_reader *r, size_t *cap);

#endif
