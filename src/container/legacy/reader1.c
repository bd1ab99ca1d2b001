/* Format 1 of .wqc (docs/FORMAT.md, "Version 1"), read only: its file
 * header, END record, records walked in order or through the index, and
 * TNSR + DATA frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "format1.h"

typedef reader_entry entry;

#define BAD(...) wqc_fail(err, WQC_ERR_FORMAT, __VA_ARGS__)

wqc_status wqc_reader1_header(const wqc_reader *r, wqc_error *err)
{
    const uint8_t *h = r->buf;
    if (r->len < WQC_FILE_HEADER_BYTES + WQC_END_RECORD_BYTES) return BAD("not a .wqc file (too short)");
    if (HASH_MISMATCH(wqc_le64(h + 56), XXH3_64bits(h, 56)))
        return wqc_fail(err, WQC_ERR_CHECKSUM, "file header checksum mismatch");
    for (int i = 16; i < 56; i++)
        if (h[i]) return BAD("file header reserved bytes are not zero");
    return WQC_OK;
}

static wqc_status read_meta(wqc_reader *r, const wqc_record *rec, wqc_error *err)
{
    if (r->meta) return BAD("more than one META record");
    wqc_cursor c = {rec->body, rec->body + rec->body_len, 0};
    uint32_t n = wqc_cursor_u32(&c);
    if (n > rec->body_len / 8) return BAD("META record count exceeds its size");
    r->meta = calloc((size_t)n + 1, sizeof *r->meta);
    if (!r->meta) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        /* Counted before filling, so that a half-read pair is freed too. */
        r->nmeta++;
        char **dst[2] = {&r->meta[i].key, &r->meta[i].value};
        for (int k = 0; k < 2; k++) {
            uint32_t len = wqc_cursor_u32(&c);
            const uint8_t *p = wqc_cursor_take(&c, len);
            if (!p || memchr(p, 0, len)) return BAD("malformed META record");
            *dst[k] = malloc((size_t)len + 1);
            if (!*dst[k]) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            memcpy(*dst[k], p, len);
            (*dst[k])[len] = '\0';
        }
    }
    if (c.p != c.end) return BAD("malformed META record");
    return WQC_OK;
}

/* Parses the INDX body into entries (lazy) or checks it against them. */
static wqc_status read_index(wqc_reader *r, const wqc_record *rec, int check_only, wqc_error *err)
{
    wqc_cursor c = {rec->body, rec->body + rec->body_len, 0};
    uint64_t n = wqc_cursor_u64(&c);
    if (n > rec->body_len / 20) return BAD("index count exceeds its size");
    if (check_only && n != r->count) return BAD("index lists %llu tensors, file has %zu", (unsigned long long)n, r->count);
    if (!check_only) {
        r->entries = calloc((size_t)n + 1, sizeof *r->entries);
        if (!r->entries) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    uint64_t prev_end = WQC_FILE_HEADER_BYTES;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = wqc_cursor_u64(&c), bytes = wqc_cursor_u64(&c);
        uint32_t nl = wqc_cursor_u32(&c);
        const uint8_t *name = wqc_cursor_take(&c, nl);
        if (!name || nl == 0 || memchr(name, 0, nl) || off < prev_end || off % WQC_ALIGN ||
            bytes > r->index_offset - off || bytes < 2 * WQC_RECORD_HEADER_BYTES)
            return BAD("malformed index entry %llu", (unsigned long long)i);
        prev_end = off + bytes;
        entry *e = &r->entries[i];
        if (check_only) {
            if (e->offset != off || e->bytes != bytes || strlen(e->name) != nl || memcmp(e->name, name, nl))
                return BAD("index entry %llu does not match the tensor it names", (unsigned long long)i);
            continue;
        }
        e->offset = off;
        e->bytes = bytes;
        e->name = malloc((size_t)nl + 1);
        if (!e->name) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        memcpy(e->name, name, nl);
        e->name[nl] = '\0';
        r->count++;
    }
    if (c.p != c.end) return BAD("malformed index");
    return WQC_OK;
}

wqc_status wqc_reader1_end(wqc_reader *r, wqc_error *err)
{
    wqc_record rec, *end = &rec;
    uint64_t at = r->len - WQC_END_RECORD_BYTES;
    wqc_status st = wqc_record_read(r->buf, r->len, at, end, err);
    if (st != WQC_OK) return wqc_fail_context(err, st, "no valid END record in the last 128 bytes (truncated file?)");
    if (end->type != WQC_REC_END || end->body_len != WQC_END_BODY_BYTES || end->next != r->len)
        return BAD("the file does not end with an END record (truncated?)");
    r->end_offset = at;
    r->index_offset = wqc_le64(end->body);
    if (wqc_le64(end->body + 8) != at) return BAD("END record offset does not match its position");
    for (int i = 48; i < 64; i++)
        if (end->body[i]) return BAD("END record reserved bytes are not zero");
    if (!r->hmac)
        for (int i = 16; i < 48; i++)
            if (end->body[i]) return BAD("HMAC bytes present in a file flagged without HMAC");
    if (r->index_offset < WQC_FILE_HEADER_BYTES || r->index_offset >= at) return BAD("index offset out of range");
    r->hmac_stored = end->body + 16;
    return WQC_OK;
}

/* TNSR at e->offset, DATA right after it, together exactly e->bytes long. */
wqc_status wqc_reader1_frame(wqc_reader *r, entry *e, wqc_error *err)
{
    wqc_record t, d;
    wqc_status st = wqc_record_read(r->buf, r->end_offset, e->offset, &t, err);
    if (st != WQC_OK) return st;
    if (t.type != WQC_REC_TNSR) return BAD("no tensor descriptor at offset %llu", (unsigned long long)e->offset);
    st = wqc_record_read(r->buf, r->end_offset, t.next, &d, err);
    if (st != WQC_OK) return st;
    if (d.type != WQC_REC_DATA) return BAD("tensor descriptor at offset %llu is not followed by its data",
                                           (unsigned long long)e->offset);
    st = wqc_descriptor_read(t.body, t.body_len, &d, &e->frame, err);
    if (st != WQC_OK) return st;
    e->frame.file_offset = e->offset;
    e->frame.frame_bytes = d.next - e->offset;
    if (e->bytes && e->bytes != e->frame.frame_bytes) return BAD("index size of '%s' does not match its frame", e->frame.name);
    if (e->name && strcmp(e->name, e->frame.name) != 0) return BAD("index name does not match the tensor at its offset");
    e->parsed = 1;
    return WQC_OK;
}

static wqc_status walk_records(wqc_reader *r, wqc_error *err)
{
    uint64_t at = WQC_FILE_HEADER_BYTES;
    size_t cap = 0;
    int index_seen = 0;
    while (at < r->end_offset) {
        wqc_record rec;
        wqc_status st = wqc_record_read(r->buf, r->end_offset, at, &rec, err);
        if (st != WQC_OK) return st;
        if (rec.type == WQC_REC_META) {
            if (r->count) return BAD("META record after the first tensor");
            st = read_meta(r, &rec, err);
        } else if (rec.type == WQC_REC_TNSR) {
            if (index_seen) return BAD("tensor after the index");
            entry *e = wqc_reader_push(r, &cap);
            if (!e) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            e->offset = at;
            st = wqc_reader1_frame(r, e, err);
            if (st == WQC_OK) {
                e->bytes = e->frame.frame_bytes;
                e->name = strdup(e->frame.name);
                if (!e->name) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
                rec.next = at + e->bytes;
            }
        } else if (rec.type == WQC_REC_DATA) {
            return BAD("DATA record at offset %llu without a descriptor", (unsigned long long)at);
        } else if (rec.type == WQC_REC_INDX) {
            if (index_seen || at != r->index_offset) return BAD("unexpected index record at offset %llu", (unsigned long long)at);
            index_seen = 1;
            st = read_index(r, &rec, 1, err);
        } else if (rec.type == WQC_REC_END) {
            return BAD("END record before the end of the file");
        } else if (rec.flags & WQC_RECORD_CRITICAL) {
            return wqc_fail(err, WQC_ERR_UNSUPPORTED, "unknown critical record at offset %llu", (unsigned long long)at);
        }
        if (st != WQC_OK) return st;
        at = rec.next;
    }
    if (!index_seen) return BAD("no index record");
    return WQC_OK;
}

static wqc_status open_lazy(wqc_reader *r, wqc_error *err)
{
    wqc_record idx, first;
    wqc_status st = wqc_record_read(r->buf, r->end_offset, r->index_offset, &idx, err);
    if (st != WQC_OK) return st;
    if (idx.type != WQC_REC_INDX || idx.next != r->end_offset) return BAD("END record does not point at the index");
    st = read_index(r, &idx, 0, err);
    if (st != WQC_OK) return st;
    st = wqc_record_read(r->buf, r->end_offset, WQC_FILE_HEADER_BYTES, &first, err);
    if (st == WQC_OK && first.type == WQC_REC_META) st = read_meta(r, &first, err);
    return st;
}

wqc_status wqc_reader1_open(wqc_reader *r, int lazy, wqc_error *err)
{
    return lazy ? open_lazy(r, err) : walk_records(r, err);
}

