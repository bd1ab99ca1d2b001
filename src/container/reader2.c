/* Format 2 of the reader (docs/FORMAT.md): compact records, names in one
 * record, models shared by tensors, optional payload alignment. */
#include <stdio.h>
#include <stdlib.h>

#include "../symbol_model/describe.h"
#include "../common/byte_codec.h"
#include "../common/trace.h"
#include "reader_internal.h"
#include "stats_record.h"
#include "wqc/entropy.h"
#include "wqc/mapped_file.h"

#define BAD(...) wqc_fail(err, WQC_ERR_FORMAT, __VA_ARGS__)

wqc_status wqc_reader2_end(wqc_reader *r, wqc_error *err)
{
    uint64_t body = WQC2_END_BODY_BYTES + (r->hmac ? WQC_HMAC_BYTES : 0), size = 7 + body;
    if (r->len < WQC2_FILE_HEADER_BYTES + size) return BAD("file too short for an END record (truncated?)");
    uint64_t at = r->len - size;
    wqc_record2 end;
    wqc_status st = wqc_record2_read(r->buf, r->len, at, 1, &end, err);
    if (st != WQC_OK) return wqc_fail_context(err, st, "no valid END record at the end of the file (truncated?)");
    if (end.type != WQC2_REC_END || end.body_len != body || end.next != r->len || end.flags != WQC2_RECORD_CRITICAL)
        return BAD("the file does not end with an END record (truncated?)");
    r->end_offset = at;
    r->index_offset = wqc_le64(end.body);
    if (wqc_le64(end.body + 8) != at) return BAD("END record offset does not match its position");
    if (r->index_offset < WQC2_FILE_HEADER_BYTES || r->index_offset >= at) return BAD("index offset out of range");
    r->hmac_stored = end.body + 16;
    return WQC_OK;
}

static wqc_status read_meta(wqc_reader *r, const wqc_record2 *rec, wqc_error *err)
{
    if (r->meta) return BAD("more than one META record");
    wqc_cursor c = {rec->body, rec->body + rec->body_len, 0};
    uint64_t n = wqc_cursor_varint(&c);
    if (n > rec->body_len / 2) return BAD("META record count exceeds its size");
    r->meta = calloc((size_t)n + 1, sizeof *r->meta);
    if (!r->meta) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        r->nmeta++;
        char **dst[2] = {&r->meta[i].key, &r->meta[i].value};
        for (int k = 0; k < 2; k++) {
            uint64_t len = wqc_cursor_varint(&c);
            const uint8_t *p = len <= (uint64_t)(c.end - c.p) ? wqc_cursor_take(&c, (size_t)len) : NULL;
            if (!p || memchr(p, 0, (size_t)len)) return BAD("malformed META record");
            *dst[k] = malloc((size_t)len + 1);
            if (!*dst[k]) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            memcpy(*dst[k], p, (size_t)len);
            (*dst[k])[len] = '\0';
        }
    }
    return c.p == c.end ? WQC_OK : BAD("malformed META record");
}

static wqc_status read_models(wqc_reader *r, const wqc_record2 *rec, wqc_error *err)
{
    wqc_cursor c = {rec->body, rec->body + rec->body_len, 0};
    uint64_t n = wqc_cursor_varint(&c);
    if (c.failed || n > WQC2_SHARED_MODELS_MAX - r->nshared || n > rec->body_len)
        return BAD("shared-model record holds too many models");
    wqc_symbol_model *grown = realloc(r->shared, (r->nshared + (size_t)n + 1) * sizeof *grown);
    if (!grown) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    r->shared = grown;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t alphabet = wqc_cursor_varint(&c);
        int precision = wqc_cursor_u8(&c);
        uint64_t len = wqc_cursor_varint(&c);
        const uint8_t *p = len <= (uint64_t)(c.end - c.p) ? wqc_cursor_take(&c, (size_t)len) : NULL;
        if (!p || alphabet < 1 || alphabet > 256 || precision < WQC_PRECISION_MIN || precision > WQC_PRECISION_MAX)
            return BAD("malformed shared model %llu", (unsigned long long)(r->nshared + i));
        wqc_rc_dec d;
        wqc_rc_dec_init(&d, p, (size_t)len);
        wqc_status st = wqc_symbol_model_read(&d, (uint32_t)alphabet, precision, &r->shared[r->nshared], err);
        if (st != WQC_OK) return st;
        r->nshared++;
    }
    return c.p == c.end ? WQC_OK : BAD("malformed shared-model record");
}

/* Names in file order: front-coded, possibly compressed (writer.c). */
static wqc_status read_names(wqc_reader *r, const wqc_record2 *rec, char ***out, size_t *count, wqc_error *err)
{
    *out = NULL;
    *count = 0;
    wqc_cursor c = {rec->body, rec->body + rec->body_len, 0};
    int codec = wqc_cursor_u8(&c);
    uint64_t raw_len = wqc_cursor_varint(&c);
    /* The list is allocated before it is decompressed: cap it (a tiny record could
     * declare gigabytes). */
    if (c.failed || raw_len > WQC2_NAMES_MAX || (codec == WQC_ENC_RAW && raw_len != (uint64_t)(c.end - c.p)))
        return BAD("malformed NAMES record");
    if (codec != WQC_ENC_RAW && codec != WQC_ENC_ZSTD && codec != WQC_ENC_BROTLI)
        return BAD("NAMES record: unknown compression %d", codec);
    (void)r;
    uint8_t *raw = malloc(raw_len ? (size_t)raw_len : 1);
    if (!raw) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = WQC_OK;
    if (codec == WQC_ENC_RAW) memcpy(raw, c.p, (size_t)raw_len);
    else st = wqc_byte_decompress((wqc_encoding)codec, c.p, (size_t)(c.end - c.p), raw, (size_t)raw_len, err);
    wqc_cursor n = {raw, raw + raw_len, 0};
    uint64_t k = st == WQC_OK ? wqc_cursor_varint(&n) : 0;
    if (st == WQC_OK && (n.failed || k > raw_len)) st = BAD("malformed NAMES record");
    char **names = st == WQC_OK ? calloc((size_t)k + 1, sizeof *names) : NULL;
    if (st == WQC_OK && !names) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    const char *prev = "";
    size_t prev_len = 0;
    for (uint64_t i = 0; st == WQC_OK && i < k; i++) {
        uint64_t shared = wqc_cursor_varint(&n), rest = wqc_cursor_varint(&n);
        const uint8_t *p = rest <= (uint64_t)(n.end - n.p) ? wqc_cursor_take(&n, (size_t)rest) : NULL;
        if (!p || shared > prev_len || shared + rest == 0 || shared + rest > WQC_NAME_MAX || memchr(p, 0, (size_t)rest)) {
            st = BAD("malformed name %llu in the NAMES record", (unsigned long long)i);
            break;
        }
        names[i] = malloc((size_t)(shared + rest) + 1);
        if (!names[i]) {
            st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            break;
        }
        memcpy(names[i], prev, (size_t)shared);
        memcpy(names[i] + shared, p, (size_t)rest);
        names[i][shared + rest] = '\0';
        prev = names[i];
        prev_len = (size_t)(shared + rest);
    }
    if (st == WQC_OK && n.p != n.end) st = BAD("malformed NAMES record");
    free(raw);
    if (st != WQC_OK && names) {
        for (uint64_t i = 0; i < k; i++) free(names[i]);
        free(names);
        names = NULL;
    }
    *out = names;
    *count = names ? (size_t)k : 0;
    return st;
}

/* Hands the names to the entries (which must be as many). */
static wqc_status assign_names(wqc_reader *r, char **names, size_t n, wqc_error *err)
{
    wqc_status st = n == r->count ? WQC_OK : BAD("NAMES lists %zu tensors, the file has %zu", n, r->count);
    for (size_t i = 0; i < n; i++) {
        if (st == WQC_OK) r->entries[i].name = names[i];
        else free(names[i]);
    }
    free(names);
    return st;
}

/* Index body: varint NAMES offset, varint count, offsets as varint deltas. */
static wqc_status read_index(wqc_reader *r, const wqc_record2 *rec, int check_only, uint64_t *names_offset,
                             wqc_error *err)
{
    wqc_cursor c = {rec->body, rec->body + rec->body_len, 0};
    *names_offset = wqc_cursor_varint(&c);
    uint64_t n = wqc_cursor_varint(&c);
    if (c.failed || n > rec->body_len) return BAD("index count exceeds its size");
    if (check_only && n != r->count) return BAD("index lists %llu tensors, file has %zu", (unsigned long long)n, r->count);
    size_t cap = 0;
    uint64_t at = 0, prev_end = WQC2_FILE_HEADER_BYTES;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t delta = wqc_cursor_varint(&c);
        if (c.failed || delta > r->index_offset - at || at + delta < prev_end)
            return BAD("malformed index entry %llu", (unsigned long long)i);
        at += delta;
        prev_end = at + 7;
        if (check_only) {
            if (r->entries[i].offset != at) return BAD("index entry %llu does not match the tensor it names", (unsigned long long)i);
            continue;
        }
        reader_entry *e = wqc_reader_push(r, &cap);
        if (!e) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        e->offset = at;
    }
    if (c.p != c.end) return BAD("malformed index");
    if (n && (*names_offset < WQC2_FILE_HEADER_BYTES || *names_offset >= r->index_offset))
        return BAD("index points at no NAMES record");
    return WQC_OK;
}

static wqc_status read_names_at(wqc_reader *r, uint64_t offset, wqc_error *err)
{
    if (r->count == 0) return WQC_OK;
    wqc_record2 rec;
    wqc_status st = wqc_record2_read(r->buf, r->end_offset, offset, 1, &rec, err);
    if (st != WQC_OK) return st;
    if (rec.type != WQC2_REC_NAMES) return BAD("index points at no NAMES record");
    char **names = NULL;
    size_t n = 0;
    st = read_names(r, &rec, &names, &n, err);
    return st == WQC_OK ? assign_names(r, names, n, err) : st;
}

/* SOURCE body (writer.c); the order is checked against the tensors once
 * they are all known (wqc_reader_check_source). */
static wqc_status read_source(wqc_reader *r, const wqc_record2 *rec, wqc_error *err)
{
    if (r->source.format) return BAD("more than one SOURCE record");
    wqc_cursor c = {rec->body, rec->body + rec->body_len, 0};
    uint8_t format = wqc_cursor_u8(&c), codec = wqc_cursor_u8(&c);
    uint64_t raw = wqc_cursor_varint(&c), stored = wqc_cursor_varint(&c);
    const uint8_t *bytes = stored <= (uint64_t)(c.end - c.p) ? wqc_cursor_take(&c, (size_t)stored) : NULL;
    if (c.failed || !bytes || (format != WQC_SOURCE_SAFETENSORS && format != WQC_SOURCE_NPY && format != WQC_SOURCE_GGUF) ||
        (codec != WQC_ENC_RAW && codec != WQC_ENC_BROTLI) || raw > WQC_SOURCE_HEADER_MAX ||
        (codec == WQC_ENC_RAW && raw != stored))
        return BAD("malformed SOURCE record");
    r->source_header = malloc(raw ? (size_t)raw : 1);
    if (!r->source_header) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = codec == WQC_ENC_RAW ? (memcpy(r->source_header, bytes, (size_t)raw), WQC_OK)
                                         : wqc_byte_decompress(WQC_ENC_BROTLI, bytes, (size_t)stored, r->source_header, (size_t)raw, err);
    if (st != WQC_OK) return BAD("malformed SOURCE record: its header does not decompress");
    uint64_t n = wqc_cursor_varint(&c);
    if (c.failed || n > (uint64_t)(c.end - c.p)) return BAD("malformed SOURCE record");
    r->source_order = malloc(n ? (size_t)n * sizeof *r->source_order : 1);
    if (!r->source_order) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; i < n; i++) r->source_order[i] = (size_t)wqc_cursor_varint(&c);
    uint64_t tail = 0;
    if (format == WQC_SOURCE_GGUF) {
        /* Zero bytes before each tensor, and after the last. */
        r->source_gap = malloc(n ? (size_t)n * sizeof *r->source_gap : 1);
        if (!r->source_gap) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        for (uint64_t i = 0; i < n; i++) r->source_gap[i] = wqc_cursor_varint(&c);
        tail = wqc_cursor_varint(&c);
        for (uint64_t i = 0; i < n && !c.failed; i++)
            if (r->source_gap[i] > (1u << 20)) c.failed = 1;
        if (tail > (1u << 20)) c.failed = 1;
    }
    if (c.failed || c.p != c.end) return BAD("malformed SOURCE record");
    r->source = (wqc_source){(wqc_source_format)format, r->source_header, raw, r->source_order, (size_t)n, r->source_gap, tail};
    return WQC_OK;
}

/* A record that may only come before the first tensor. */
static wqc_status read_front(wqc_reader *r, const wqc_record2 *rec, wqc_error *err)
{
    if (rec->type == WQC2_REC_META) return read_meta(r, rec, err);
    if (rec->type == WQC2_REC_SOURCE) return read_source(r, rec, err);
    if (rec->type == WQC2_REC_MODELS) return read_models(r, rec, err);
    return WQC_OK;
}

static wqc_status unknown_record(const wqc_record2 *rec, wqc_error *err)
{
    if (rec->flags & WQC2_RECORD_CRITICAL)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "unknown critical record '%c' at offset %llu",
                        rec->type >= 0x20 && rec->type < 0x7f ? rec->type : '?', (unsigned long long)rec->offset);
    return WQC_OK;
}

wqc_status wqc_reader2_stats(wqc_reader *r, uint64_t offset, wqc_error *err)
{
    if (r->stats) return BAD("more than one STATS record");
    wqc_record2 rec;
    wqc_status st = wqc_record2_read(r->buf, r->end_offset, offset, 1, &rec, err);
    if (st != WQC_OK) return st;
    r->stats = calloc(r->count + 1, sizeof *r->stats);
    r->stats_present = calloc(r->count + 1, 1);
    if (!r->stats || !r->stats_present) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    return wqc_stats_record_decode(rec.body, (size_t)rec.body_len, r->count, r->stats, r->stats_present, err);
}

wqc_status wqc_reader2_segments(wqc_reader *r, uint64_t offset, wqc_error *err)
{
    if (r->segments.n) return BAD("more than one K record");
    wqc_record2 rec;
    wqc_status st = wqc_record2_read(r->buf, r->end_offset, offset, 1, &rec, err);
    if (st == WQC_OK) st = wqc_segment_table_read(rec.body, rec.body_len, r->count, &r->segments, err);
    for (uint64_t k = 0; st == WQC_OK && k < r->segments.n; k++) r->entries[r->segments.record[k]].segments = k + 1;
    return st;
}

/* Whether the K record lists as many segments as e's record (rec) has. */
static wqc_status segment_count_holds(const wqc_reader *r, const reader_entry *e, const wqc_record2 *rec,
                                      wqc_error *err)
{
    const wqc_segment_table *t = &r->segments;
    uint64_t k = e->segments - 1;
    if (t->nseg[k] != wqc_segment_count(rec->body_len, t->log))
        return BAD("K record: %llu segment checks for the record at offset %llu, which has %llu segments",
                   (unsigned long long)t->nseg[k], (unsigned long long)e->offset,
                   (unsigned long long)wqc_segment_count(rec->body_len, t->log));
    return WQC_OK;
}

wqc_status wqc_reader2_check_segments(const wqc_reader *r, const reader_entry *e, int threads, wqc_error *err)
{
    const wqc_segment_table *t = &r->segments;
    uint64_t k = e->segments - 1;
    wqc_record2 rec;
    wqc_status st = wqc_record2_read(r->buf, r->index_offset, e->offset, 0, &rec, err);
    if (st == WQC_OK) st = segment_count_holds(r, e, &rec, err);
    if (st != WQC_OK) return st;
    WQC_TRACE("segment checks", t->nseg[k]);
    uint64_t bad = wqc_segments_verify(r->buf + rec.offset, (size_t)(rec.body_offset - rec.offset), rec.body,
                                       rec.body_len, t->log, t->hash + t->first[k], t->nseg[k], threads);
    WQC_TRACE("segments checked", threads);
    return bad == t->nseg[k] ? WQC_OK : wqc_record2_mismatch(rec.type, rec.offset, err);
}

wqc_status wqc_reader2_frame_read_segmented(wqc_reader *r, reader_entry *e, int fd, uint8_t *copy, uint64_t len,
                                            int threads, wqc_frame *f, wqc_error *err)
{
    const wqc_segment_table *t = &r->segments;
    uint64_t k = e->segments - 1, head = len < WQC2_RECORD_HEADER_MAX ? len : WQC2_RECORD_HEADER_MAX, bad;
    /* The header first (the segments' seed), then the body in parallel. */
    wqc_status st = wqc_read_at(fd, copy, (size_t)head, e->offset, err);
    wqc_record2 rec;
    if (st == WQC_OK) st = wqc_record2_read(copy, len, 0, 0, &rec, err);
    if (st != WQC_OK) return wqc_fail_context(err, st, "tensor record at offset %llu", (unsigned long long)e->offset);
    st = segment_count_holds(r, e, &rec, err);
    WQC_TRACE("segment reads", t->nseg[k]);
    if (st == WQC_OK)
        st = wqc_segments_read_verify(fd, e->offset + rec.body_offset, copy, (size_t)rec.body_offset,
                                      copy + rec.body_offset, rec.body_len, t->log, t->hash + t->first[k], t->nseg[k],
                                      threads, &bad, err);
    WQC_TRACE("segments read", threads);
    if (st != WQC_OK) return st;
    if (bad != t->nseg[k]) return wqc_record2_mismatch(rec.type, e->offset, err);
    return wqc_reader2_frame_copy(r, e, copy, len, 1, f, err);
}

/* The records between the last tensor and the index (NAMES may be there),
 * each checked (they are small, and a damaged type byte would otherwise
 * pass for a record to skip): STATS and K records among them are read. */
static wqc_status read_tail(wqc_reader *r, wqc_error *err)
{
    if (r->count == 0) return WQC_OK;
    wqc_record2 rec;
    wqc_status st = wqc_record2_read(r->buf, r->index_offset, r->entries[r->count - 1].offset, 0, &rec, err);
    for (uint64_t at = rec.next; st == WQC_OK && at < r->index_offset; at = rec.next) {
        st = wqc_record2_read(r->buf, r->index_offset, at, 1, &rec, err);
        if (st == WQC_OK && rec.type == WQC2_REC_STATS) st = wqc_reader2_stats(r, at, err);
        if (st == WQC_OK && rec.type == WQC2_REC_SEGMENTS) st = wqc_reader2_segments(r, at, err);
    }
    return st;
}

/* Whether the walk checks rec as it meets it: all but the tensor records
 * that may have segment checks (more than one segment of the smallest
 * size), which check_tensors checks once the K record is known. */
static int checked_in_walk(const wqc_record2 *rec)
{
    return rec->type != WQC2_REC_TENSOR || rec->body_len <= 1ull << WQC2_SEGMENT_LOG_MIN;
}

/* One piece of the walk's checks: entry `entry`'s segments [j0, j1), or
 * its whole record (j1 = 0). */
typedef struct check_item {
    size_t entry;
    uint64_t j0, j1;
} check_item;

/* Segments a piece: 1 MiB at the writer's 64 KiB, as the decoders verify. */
#define CHECK_SEGMENTS 16

/* Whether item c holds (rec: its entry's record, seed: its segments' seed). */
static int check_item_holds(const wqc_reader *r, const check_item *c, const wqc_record2 *rec, uint64_t seed)
{
    if (!c->j1) return wqc_record2_check(r->buf, rec);
    const wqc_segment_table *t = &r->segments;
    const uint64_t *hash = t->hash + t->first[r->entries[c->entry].segments - 1];
    return wqc_segments_first_failing(rec->body, rec->body_len, t->log, hash, seed, c->j0, c->j1) == c->j1;
}

/* Checks item c, marking its entry in bad when it fails (threads checking
 * pieces of one record may both mark it). */
static void check_piece(const wqc_reader *r, const check_item *c, const wqc_record2 *recs, const uint64_t *seeds,
                        uint8_t *bad)
{
    if (!check_item_holds(r, c, &recs[c->entry], seeds[c->entry])) {
#pragma omp atomic write
        bad[c->entry] = 1;
    }
}

/* The pieces of the checks of entries [0, n), by their segments where
 * with_segments and the K record lists them (their counts checked first:
 * *count_bad is the first entry whose count is wrong, or n), else whole.
 * NULL when out of memory. */
static check_item *check_items(const wqc_reader *r, int with_segments, wqc_record2 *recs, uint64_t *seeds,
                               size_t *nitems, size_t *count_bad, wqc_error *err)
{
    size_t n = r->count, cap = n + 1, k = 0;
    check_item *items = malloc(cap * sizeof *items);
    *count_bad = n;
    for (size_t i = 0; items && i < n; i++) {
        const reader_entry *e = &r->entries[i];
        /* The walk parsed every header: this read cannot fail. */
        wqc_record2_read(r->buf, r->end_offset, e->offset, 0, &recs[i], NULL);
        if (checked_in_walk(&recs[i])) continue;
        if (!with_segments || !e->segments) {
            items[k++] = (check_item){i, 0, 0};
        } else if (segment_count_holds(r, e, &recs[i], i < *count_bad ? err : NULL) != WQC_OK) {
            if (i < *count_bad) *count_bad = i;
        } else {
            const wqc_record2 *rec = &recs[i];
            seeds[i] = wqc_segment_seed(r->buf + rec->offset, (size_t)(rec->body_offset - rec->offset));
            uint64_t nseg = r->segments.nseg[e->segments - 1];
            for (uint64_t j = 0; items && j < nseg; j += CHECK_SEGMENTS) {
                if (k == cap) {
                    check_item *more = realloc(items, 2 * cap * sizeof *items);
                    if (!more) free(items);
                    items = more, cap *= 2;
                }
                if (items) items[k++] = (check_item){i, j, j + CHECK_SEGMENTS < nseg ? j + CHECK_SEGMENTS : nseg};
            }
        }
    }
    if (!items) wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    *nitems = k;
    return items;
}

/* Checks the tensor records the walk has met, on r->threads threads: by
 * their segment checks where the K record has them (with_segments; the
 * segments' seed covers the record's header and stored check, so every
 * byte is under a hash) and whole otherwise, all the records' pieces in one
 * parallel loop. The first damaged record in file order is the one
 * reported; each record's pages go once checked. */
static wqc_status check_tensors(wqc_reader *r, int with_segments, wqc_error *err)
{
    size_t n = r->count, nitems = 0, count_bad = n;
    wqc_record2 *recs = malloc((n ? n : 1) * sizeof *recs);
    uint64_t *seeds = calloc(n ? n : 1, sizeof *seeds);
    uint8_t *bad = calloc(n ? n : 1, 1);
    check_item *items = recs && seeds && bad ? check_items(r, with_segments, recs, seeds, &nitems, &count_bad, err) : NULL;
    wqc_status st = items ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    int threads = (size_t)r->threads > nitems ? (int)nitems : r->threads;
    /* Without an OpenMP region on one thread: the walk runs at every sequential open. */
    if (st == WQC_OK && threads > 1) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (size_t k = 0; k < nitems; k++) check_piece(r, &items[k], recs, seeds, bad);
    } else if (st == WQC_OK) {
        for (size_t k = 0; k < nitems; k++) check_piece(r, &items[k], recs, seeds, bad);
    }
    for (size_t i = 0; st == WQC_OK && i < n; i++) {
        if (i == count_bad) st = WQC_ERR_FORMAT; /* err holds segment_count_holds' message */
        else if (bad[i]) st = wqc_record2_mismatch(WQC2_REC_TENSOR, r->entries[i].offset, err);
        if (!checked_in_walk(&recs[i])) wqc_reader_release(r, recs[i].offset, recs[i].next - recs[i].offset);
    }
    free(items);
    free(bad);
    free(seeds);
    free(recs);
    return st;
}

/* A walk that stopped at st: a damaged tensor record before the stop is
 * what damaged the file (a wrong length sends the walk astray), so its
 * checksum mismatch is reported first, as a reader checking in order would. */
static wqc_status damage_first(wqc_reader *r, wqc_status st, wqc_error *err)
{
    wqc_error mine;
    wqc_error_clear(&mine);
    if (check_tensors(r, 0, &mine) == WQC_ERR_CHECKSUM) {
        if (err) *err = mine;
        return WQC_ERR_CHECKSUM;
    }
    return st;
}

static wqc_status walk(wqc_reader *r, wqc_error *err)
{
    uint64_t at = WQC2_FILE_HEADER_BYTES, names_at = 0, stats_at = 0, segments_at = 0;
    size_t cap = 0;
    int index_seen = 0;
    while (at < r->end_offset) {
        wqc_record2 rec;
        wqc_status st = wqc_record2_read(r->buf, r->end_offset, at, 0, &rec, err);
        if (st == WQC_OK && checked_in_walk(&rec) && !wqc_record2_check(r->buf, &rec))
            st = wqc_record2_mismatch(rec.type, at, err);
        if (st == WQC_OK && index_seen) st = BAD("record after the index");
        if (st != WQC_OK) return damage_first(r, st, err);
        switch (rec.type) {
        case WQC2_REC_META:
        case WQC2_REC_SOURCE:
        case WQC2_REC_MODELS:
            if (r->count) return BAD("'%c' record after the first tensor", rec.type);
            st = read_front(r, &rec, err);
            break;
        case WQC2_REC_NAMES:
            if (names_at) return BAD("more than one NAMES record");
            names_at = at;
            break;
        case WQC2_REC_TENSOR: {
            reader_entry *e = wqc_reader_push(r, &cap);
            if (!e) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            e->offset = at;
            break;
        }
        case WQC2_REC_INDEX: {
            if (at != r->index_offset) return BAD("unexpected index record at offset %llu", (unsigned long long)at);
            index_seen = 1;
            uint64_t names_offset;
            st = read_index(r, &rec, 1, &names_offset, err);
            if (st == WQC_OK && r->count && names_offset != names_at) st = BAD("index points at no NAMES record");
            break;
        }
        case WQC2_REC_STATS:
            if (stats_at) return BAD("more than one STATS record");
            stats_at = at;
            break;
        case WQC2_REC_SEGMENTS:
            if (segments_at) return BAD("more than one K record");
            segments_at = at;
            break;
        case WQC2_REC_END: return BAD("END record before the end of the file");
        default: st = unknown_record(&rec, err);
        }
        if (st != WQC_OK) return damage_first(r, st, err);
        if (checked_in_walk(&rec)) wqc_reader_release(r, at, rec.next - at);
        at = rec.next;
    }
    wqc_status st = WQC_OK;
    if (!index_seen) st = BAD("no index record");
    else if (r->count && !names_at) st = BAD("no NAMES record");
    if (st == WQC_OK) st = read_names_at(r, names_at, err);
    if (st == WQC_OK && stats_at) st = wqc_reader2_stats(r, stats_at, err);
    if (st == WQC_OK && segments_at) st = wqc_reader2_segments(r, segments_at, err);
    if (st != WQC_OK) return damage_first(r, st, err);
    /* A file whose segment checks disagree with its records is damaged, whichever reader meets it. */
    st = check_tensors(r, 1, err);
    /* Every record's check held above: the frames are parsed without hashing their bodies again. */
    for (size_t i = 0; st == WQC_OK && i < r->count; i++) {
        reader_entry *e = &r->entries[i];
        st = wqc_reader2_frame(r, e, 0, err);
        if (st != WQC_OK) break;
        e->described = 0, e->parsed = 1;
        wqc_reader_release(r, e->offset, e->frame.frame_bytes);
    }
    return st;
}

static wqc_status open_lazy(wqc_reader *r, wqc_error *err)
{
    wqc_record2 idx;
    wqc_status st = wqc_record2_read(r->buf, r->end_offset, r->index_offset, 1, &idx, err);
    if (st != WQC_OK) return st;
    if (idx.type != WQC2_REC_INDEX || idx.next != r->end_offset) return BAD("END record does not point at the index");
    uint64_t names_offset;
    st = read_index(r, &idx, 0, &names_offset, err);
    if (st == WQC_OK) st = read_names_at(r, names_offset, err);
    /* The records before the first tensor (metadata, shared models). */
    uint64_t stop = r->count ? r->entries[0].offset : r->index_offset;
    for (uint64_t at = WQC2_FILE_HEADER_BYTES; st == WQC_OK && at < stop;) {
        wqc_record2 rec;
        st = wqc_record2_read(r->buf, stop, at, 1, &rec, err);
        if (st == WQC_OK && rec.type != WQC2_REC_NAMES && rec.type != WQC2_REC_META && rec.type != WQC2_REC_MODELS &&
            rec.type != WQC2_REC_SOURCE)
            st = rec.type == WQC2_REC_TENSOR || rec.type == WQC2_REC_INDEX || rec.type == WQC2_REC_END
                     ? BAD("record '%c' before the first tensor", rec.type)
                     : unknown_record(&rec, err);
        if (st == WQC_OK) st = read_front(r, &rec, err);
        at = rec.next;
    }
    return st == WQC_OK ? read_tail(r, err) : st;
}

wqc_status wqc_reader2_open(wqc_reader *r, int lazy, wqc_error *err)
{
    return lazy ? open_lazy(r, err) : walk(r, err);
}

/* The frame of tensor record rec, read from base (the file, or a copy of
 * entry e's record), into f; base + x holds file byte base_at + x. */
static wqc_status tensor_frame(wqc_reader *r, const reader_entry *e, const wqc_record2 *rec, const uint8_t *base,
                               uint64_t base_at, wqc_frame *f, wqc_error *err)
{
    if (rec->type != WQC2_REC_TENSOR) return BAD("no tensor record at offset %llu", (unsigned long long)e->offset);
    wqc_cursor c = {rec->body, rec->body + rec->body_len, 0};
    uint64_t dlen = wqc_cursor_varint(&c);
    const uint8_t *desc = dlen <= (uint64_t)(c.end - c.p) ? wqc_cursor_take(&c, (size_t)dlen) : NULL;
    if (!desc) return BAD("tensor record at offset %llu: descriptor longer than the record", (unsigned long long)e->offset);
    /* Padding aligns the payload in the file. */
    uint64_t start = base_at + (uint64_t)(c.p - base), pad = 0;
    if (rec->flags & WQC2_RECORD_ALIGNED) pad = (WQC_ALIGN - start % WQC_ALIGN) % WQC_ALIGN;
    if (pad > (uint64_t)(c.end - c.p) || !wqc_cursor_zeros(&c, (size_t)pad))
        return BAD("tensor record at offset %llu: bad alignment padding", (unsigned long long)e->offset);
    memset(f, 0, sizeof *f);
    f->name = strdup(e->name ? e->name : "");
    if (!f->name) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = wqc_descriptor2_read(desc, dlen, c.p, (uint64_t)(c.end - c.p), r->shared, r->nshared, f, err);
    if (st != WQC_OK) {
        wqc_descriptor_free(f);
        return st;
    }
    f->file_offset = e->offset;
    f->frame_bytes = base_at + rec->next - e->offset;
    return WQC_OK;
}

wqc_status wqc_reader2_frame_copy(wqc_reader *r, reader_entry *e, const uint8_t *copy, uint64_t len, int checked,
                                  wqc_frame *f, wqc_error *err)
{
    wqc_record2 rec;
    wqc_status st = wqc_record2_read(copy, len, 0, 0, &rec, err);
    if (st != WQC_OK) return wqc_fail_context(err, st, "tensor record at offset %llu", (unsigned long long)e->offset);
    if (rec.next != len)
        return BAD("tensor record at offset %llu: %llu bytes, not %llu", (unsigned long long)e->offset,
                   (unsigned long long)rec.next, (unsigned long long)len);
    if (!checked && !wqc_record2_check(copy, &rec)) return wqc_record2_mismatch(rec.type, e->offset, err);
    return tensor_frame(r, e, &rec, copy, e->offset, f, err);
}

wqc_status wqc_reader2_frame(wqc_reader *r, reader_entry *e, int verify, wqc_error *err)
{
    wqc_record2 rec;
    wqc_status st = wqc_record2_read(r->buf, r->index_offset, e->offset, verify && !e->described, &rec, err);
    if (st != WQC_OK) return st;
    if (e->described) {
        /* Read before: only the check is left. */
        if (!wqc_record2_check(r->buf, &rec)) return wqc_record2_mismatch(rec.type, e->offset, err);
        e->parsed = 1;
        return WQC_OK;
    }
    st = tensor_frame(r, e, &rec, r->buf, 0, &e->frame, err);
    /* A descriptor that does not parse, in a record that fails its check,
     * is damage (exit 4), not an encoding from a newer writer. */
    if (st != WQC_OK && !verify && !wqc_record2_check(r->buf, &rec)) return wqc_record2_mismatch(rec.type, e->offset, err);
    if (st != WQC_OK) return st;
    e->bytes = e->frame.frame_bytes;
    if (verify) e->parsed = 1;
    else e->described = 1;
    return WQC_OK;
}
