/* Segment checks: the K record's body, written and read, and a record
 * verified against it by several threads (segment_checks.h). */
#include <stdlib.h>

#include "../common/xxh3.h"
#include "wqc/mapped_file.h"
#include "format.h"
#include "segment_checks.h"

#define BAD(...) wqc_fail(err, WQC_ERR_FORMAT, __VA_ARGS__)

uint64_t wqc_segment_seed(const uint8_t *head, size_t head_len) { return wqc_xxh3(head, head_len, 0); }

/* Hash of body bytes [at, at + n) of a body given as parts. */
static uint64_t parts_hash(const uint8_t *const *parts, const uint64_t *lens, int nparts, uint64_t at, uint64_t n,
                           uint64_t seed)
{
    wqc_xxh3_state h;
    if (!wqc_xxh3_start(&h, seed)) return 0;
    for (int i = 0; i < nparts && n; i++) {
        if (at >= lens[i]) {
            at -= lens[i];
            continue;
        }
        uint64_t take = lens[i] - at < n ? lens[i] - at : n;
        wqc_xxh3_add(&h, parts[i] + at, (size_t)take);
        n -= take;
        at = 0;
    }
    return wqc_xxh3_end(&h);
}

void wqc_segment_list_add(wqc_segment_list *l, uint64_t index, const uint8_t *head, size_t head_len,
                          const uint8_t *const *parts, const uint64_t *lens, int nparts)
{
    uint64_t len = 0;
    for (int i = 0; i < nparts; i++) len += lens[i];
    uint64_t nseg = wqc_segment_count(len, WQC2_SEGMENT_LOG), size = 1ull << WQC2_SEGMENT_LOG;
    if (nseg < 2) return;
    uint64_t seed = wqc_segment_seed(head, head_len);
    wqc_bytes_varint(&l->entries, l->count ? index - l->last_index - 1 : index);
    wqc_bytes_varint(&l->entries, nseg);
    for (uint64_t j = 0; j < nseg; j++) {
        uint64_t at = j * size, n = len - at < size ? len - at : size;
        wqc_bytes_u64(&l->entries, parts_hash(parts, lens, nparts, at, n, seed + j));
    }
    l->count++;
    l->last_index = index;
}

void wqc_segment_list_end(wqc_segment_list *l, wqc_bytes *body)
{
    if (l->count) {
        wqc_bytes_varint(body, WQC2_SEGMENT_LOG);
        wqc_bytes_varint(body, l->count);
        if (l->entries.failed) body->failed = 1;
        else wqc_bytes_put(body, l->entries.data, l->entries.len);
    }
    wqc_bytes_free(&l->entries);
    *l = (wqc_segment_list){0};
}

void wqc_segment_table_free(wqc_segment_table *t)
{
    free(t->record);
    free(t->first);
    free(t->nseg);
    free(t->hash);
    *t = (wqc_segment_table){0};
}

wqc_status wqc_segment_table_read(const uint8_t *body, uint64_t len, uint64_t records, wqc_segment_table *t,
                                  wqc_error *err)
{
    *t = (wqc_segment_table){0};
    wqc_cursor c = {body, body + len, 0};
    uint64_t log = wqc_cursor_varint(&c), n = wqc_cursor_varint(&c);
    if (c.failed || log < WQC2_SEGMENT_LOG_MIN || log > WQC2_SEGMENT_LOG_MAX || n == 0 || n > records)
        return BAD("malformed segment checks (K record)");
    t->log = (unsigned)log;
    t->n = n;
    uint64_t most = len / 8;
    t->record = malloc(n * sizeof *t->record);
    t->first = malloc(n * sizeof *t->first);
    t->nseg = malloc(n * sizeof *t->nseg);
    t->hash = malloc((most ? most : 1) * sizeof *t->hash);
    if (!t->record || !t->first || !t->nseg || !t->hash) {
        wqc_segment_table_free(t);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    uint64_t next = 0, total = 0;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t gap = wqc_cursor_varint(&c), nseg = wqc_cursor_varint(&c);
        if (c.failed || gap >= records - next || nseg == 0 || nseg > (uint64_t)(c.end - c.p) / 8) {
            wqc_segment_table_free(t);
            return BAD("malformed segment checks (K record): entry %llu", (unsigned long long)k);
        }
        t->record[k] = next + gap;
        next = t->record[k] + 1;
        t->first[k] = total;
        t->nseg[k] = nseg;
        for (uint64_t j = 0; j < nseg; j++) t->hash[total++] = wqc_cursor_u64(&c);
    }
    if (c.p != c.end) {
        wqc_segment_table_free(t);
        return BAD("malformed segment checks (K record): trailing bytes");
    }
    return WQC_OK;
}

uint64_t wqc_segments_first_failing(const uint8_t *body, uint64_t len, unsigned log, const uint64_t *hash, uint64_t seed,
                              uint64_t j0, uint64_t j1)
{
    const uint64_t size = 1ull << log;
    for (uint64_t j = j0; j < j1; j++) {
        uint64_t at = j * size, n = len - at < size ? len - at : size;
        if (HASH_MISMATCH(hash[j], wqc_xxh3(body + at, (size_t)n, seed + j))) return j;
    }
    return j1;
}

uint64_t wqc_segments_verify(const uint8_t *head, size_t head_len, const uint8_t *body, uint64_t len, unsigned log,
                             const uint64_t *hash, uint64_t nseg, int threads)
{
    uint64_t seed = wqc_segment_seed(head, head_len), bad = nseg;
    if (threads < 1) threads = 1;
    if ((uint64_t)threads > nseg) threads = (int)nseg;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(min : bad) if (threads > 1)
    for (uint64_t j = 0; j < nseg; j++)
        if (wqc_segments_first_failing(body, len, log, hash, seed, j, j + 1) == j && j < bad) bad = j;
    return bad;
}

/* Segments a piece of the parallel read: 1 MiB at the writer's 64 KiB. */
#define SEGMENTS_A_READ 16

wqc_status wqc_segments_read_verify(int fd, uint64_t at, const uint8_t *head, size_t head_len, uint8_t *body,
                                    uint64_t len, unsigned log, const uint64_t *hash, uint64_t nseg, int threads,
                                    uint64_t *bad, wqc_error *err)
{
    uint64_t seed = wqc_segment_seed(head, head_len), size = 1ull << log, first_bad = nseg;
    uint64_t pieces = (nseg + SEGMENTS_A_READ - 1) / SEGMENTS_A_READ, failed_at = pieces;
    wqc_error read_err;
    wqc_error_clear(&read_err);
    if (threads < 1) threads = 1;
    if ((uint64_t)threads > pieces) threads = pieces ? (int)pieces : 1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(min : first_bad) if (threads > 1)
    for (uint64_t p = 0; p < pieces; p++) {
        uint64_t j0 = p * SEGMENTS_A_READ, j1 = j0 + SEGMENTS_A_READ < nseg ? j0 + SEGMENTS_A_READ : nseg;
        uint64_t from = j0 * size, to = j1 * size < len ? j1 * size : len;
        wqc_error e;
        if (wqc_read_at(fd, body + from, (size_t)(to - from), at + from, &e) != WQC_OK) {
#pragma omp critical(wqc_segments_read)
            if (p < failed_at) failed_at = p, read_err = e;
            continue;
        }
        uint64_t j = wqc_segments_first_failing(body, len, log, hash, seed, j0, j1);
        if (j < j1 && j < first_bad) first_bad = j;
    }
    *bad = first_bad;
    if (failed_at < pieces) {
        if (err) *err = read_err;
        return read_err.status;
    }
    return WQC_OK;
}
