/* Internal: segment checks, the K record (docs/FORMAT.md). The check of a
 * record is one XXH3 over its body, which one thread computes: on 16 cores
 * that was the serial part of decoding a 50 MB record. The K record also
 * holds XXH3-64 of each 64 KiB segment of every larger record's body, so
 * that many threads verify one record at once. */
#ifndef WQC_CONTAINER_SEGMENT_CHECKS_H
#define WQC_CONTAINER_SEGMENT_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/bytes.h"
#include "wqc/container.h"
#include "wqc/status.h"

#define WQC2_SEGMENT_LOG 16         /* what the writer uses: 64 KiB */
#define WQC2_SEGMENT_LOG_MIN 12
#define WQC2_SEGMENT_LOG_MAX 30

/* Segments of a body of len bytes. */
static inline uint64_t wqc_segment_count(uint64_t len, unsigned log) { return (len + (1ull << log) - 1) >> log; }

/* Segment j's hash is XXH3(segment, XXH3(the record's header through its
 * check) + j): a damaged header or stored check fails every segment. */
uint64_t wqc_segment_seed(const uint8_t *head, size_t head_len);

/* The K body a writer builds, one record at a time. */
typedef struct wqc_segment_list {
    wqc_bytes entries;
    uint64_t count, last_index;
} wqc_segment_list;

/* Adds the segment hashes of record `index` (the index-th T record), whose
 * header is head[0..head_len) and whose body is the concatenation of
 * parts[0..nparts); records of one segment are left out. */
void wqc_segment_list_add(wqc_segment_list *l, uint64_t index, const uint8_t *head, size_t head_len,
                          const uint8_t *const *parts, const uint64_t *lens, int nparts);
/* The K body (varint log, varint count, entries), or nothing when no
 * record was added; frees the list. */
void wqc_segment_list_end(wqc_segment_list *l, wqc_bytes *body);

/* A parsed K body: hashes of entry k of records record[k] are
 * hash[first[k] .. first[k] + nseg[k]). */
typedef struct wqc_segment_table {
    unsigned log;
    uint64_t n;
    uint64_t *record, *first, *nseg, *hash;
} wqc_segment_table;

/* Parses body (of a file of `records` T records) into t. */
wqc_status wqc_segment_table_read(const uint8_t *body, uint64_t len, uint64_t records, wqc_segment_table *t,
                                  wqc_error *err);
void wqc_segment_table_free(wqc_segment_table *t);

/* The first of segments j0..j1-1 of body (len bytes, 2^log-byte segments,
 * hash[j] for segment j) whose hash fails, or j1. */
uint64_t wqc_segments_first_failing(const uint8_t *body, uint64_t len, unsigned log, const uint64_t *hash, uint64_t seed,
                                    uint64_t j0, uint64_t j1);

/* Verifies body[0..len) against nseg hashes of 2^log-byte segments, seeded
 * from the record's header, on up to `threads` threads. Returns the first
 * failing segment, or nseg when all hold. */
uint64_t wqc_segments_verify(const uint8_t *head, size_t head_len, const uint8_t *body, uint64_t len, unsigned log,
                             const uint64_t *hash, uint64_t nseg, int threads);

/* Reads a record's body of len bytes from fd at file offset `at` into body
 * on up to `threads` threads, each piece (whole segments) verified right
 * after its pread while it is in cache: the first touch of a file's mapped
 * pages costs more than pread's copy (2 against 6-13 GB/s a thread on the
 * VM's shadow-paged memory). *bad: the first failing segment, or nseg
 * when all hold; WQC_ERR_IO when a read fails. */
wqc_status wqc_segments_read_verify(int fd, uint64_t at, const uint8_t *head, size_t head_len, uint8_t *body,
                                    uint64_t len, unsigned log, const uint64_t *hash, uint64_t nseg, int threads,
                                    uint64_t *bad, wqc_error *err);

/* Tensor i's segment checks: 1 with hash[0..*n) of 2^*log-byte segments,
 * else 0 (the record is checked whole). The count is the K record's: the
 * caller compares it with the record's body (wqc_segment_count). */
int wqc_reader_segments_of(const wqc_reader *r, size_t i, const uint64_t **hash, uint64_t *n, unsigned *log);

#endif
