/* .wqc reader over a file in memory: sequential (checks every record) or
 * lazy (END and index first, each frame checked when asked for). This file
 * holds what both format versions share and dispatches: reader2.c reads
 * format 2, legacy/ format 1. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/trace.h"
#include "legacy/format1.h"
#include "reader_internal.h"
#include "wqc/mapped_file.h"

typedef reader_entry entry;

#define BAD(...) wqc_fail(err, WQC_ERR_FORMAT, __VA_ARGS__)

static wqc_status read_file_header(wqc_reader *r, wqc_error *err)
{
    const uint8_t *h = r->buf;
    if (r->len < WQC2_FILE_HEADER_BYTES || !wqc_is_wqc(h, r->len))
        return BAD("not a .wqc file (bad magic or too short)");
    r->version = wqc_le16(h + 8);
    if (r->version != 1 && r->version != 2)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "format version %u.%u is not supported (this reader: 1.x and 2.x)",
                        wqc_le16(h + 8), wqc_le16(h + 10));
    if (r->version == 2) {
        if (HASH_MISMATCH(wqc_le32(h + 16), (uint32_t)XXH3_64bits(h, 16)))
            return wqc_fail(err, WQC_ERR_CHECKSUM, "file header checksum mismatch");
    } else {
        wqc_status st = wqc_reader1_header(r, err);
        if (st != WQC_OK) return st;
    }
    uint32_t flags = wqc_le32(h + 12);
    if (flags & ~WQC_FLAG_HMAC) return BAD("unknown file flags 0x%x", flags);
    r->hmac = (flags & WQC_FLAG_HMAC) != 0;
    return WQC_OK;
}

enum { HMAC_STEP = 64 << 20 };

static wqc_status check_hmac(const wqc_reader *r, const uint8_t *key, size_t key_len, wqc_error *err)
{
    if (!r->hmac) return wqc_fail(err, WQC_ERR_AUTH, "file is not authenticated (it carries no HMAC)");
    if (sodium_init() < 0) return wqc_fail(err, WQC_ERR_IO, "libsodium failed to initialise");
    uint8_t mac[WQC_HMAC_BYTES];
    crypto_auth_hmacsha256_state s;
    crypto_auth_hmacsha256_init(&s, key, key_len);
    /* In steps, each released once hashed: a mapped file is not kept resident. */
    for (uint64_t at = 0; at < r->end_offset; at += HMAC_STEP) {
        uint64_t n = r->end_offset - at < HMAC_STEP ? r->end_offset - at : HMAC_STEP;
        crypto_auth_hmacsha256_update(&s, r->buf + at, (unsigned long long)n);
        wqc_reader_release(r, at, n);
    }
    crypto_auth_hmacsha256_final(&s, mac);
    int ok = sodium_memcmp(mac, r->hmac_stored, WQC_HMAC_BYTES) == 0;
    sodium_memzero(&s, sizeof s);
    return ok ? WQC_OK : wqc_fail(err, WQC_ERR_AUTH, "HMAC mismatch: wrong key or modified file");
}

/* The SOURCE order must name every tensor once. */
static wqc_status check_source(const wqc_reader *r, wqc_error *err)
{
    if (r->source.n != r->count) return BAD("SOURCE record lists %zu tensors, file has %zu", r->source.n, r->count);
    uint8_t *seen = calloc(r->count + 1, 1);
    if (!seen) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = WQC_OK;
    for (size_t i = 0; i < r->count && st == WQC_OK; i++) {
        size_t k = r->source.order[i];
        if (k >= r->count || seen[k]) st = BAD("SOURCE record does not list every tensor once");
        else seen[k] = 1;
    }
    free(seen);
    return st;
}

const wqc_source *wqc_reader_source(const wqc_reader *r) { return r->source.format ? &r->source : NULL; }

wqc_status wqc_reader_stats(wqc_reader *r, size_t i, const wqc_tensor_stats **out, wqc_error *err)
{
    *out = NULL;
    if (!r->stats || i >= r->count || !r->stats_present[i]) return WQC_OK;
    /* The count is the tensor's: its descriptor has it. */
    const wqc_frame *f;
    wqc_status st = wqc_reader_describe(r, i, &f, err);
    if (st != WQC_OK) return st;
    r->stats[i].count = f->nelem;
    if (r->stats[i].clipped > f->nelem)
        return wqc_fail(err, WQC_ERR_FORMAT, "STATS record: tensor %zu has more clipped weights than weights", i);
    *out = &r->stats[i];
    return WQC_OK;
}

static wqc_status reader_open(const uint8_t *buf, size_t len, const wqc_mapped_file *file, int lazy, int threads,
                              const uint8_t *key, size_t key_len, wqc_reader **out, wqc_error *err)
{
    *out = NULL;
    wqc_reader *r = calloc(1, sizeof *r);
    if (!r) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    r->buf = buf;
    r->len = len;
    r->file = file;
    r->threads = threads > 1 ? threads : 1;
    WQC_TRACE("reader open", lazy);
    wqc_status st = read_file_header(r, err);
    if (st == WQC_OK && r->version == 1) st = wqc_reader1_end(r, err);
    if (st == WQC_OK && r->version == 2) st = wqc_reader2_end(r, err);
    if (st == WQC_OK && key) st = check_hmac(r, key, key_len, err);
    if (st == WQC_OK) st = r->version == 1 ? wqc_reader1_open(r, lazy, err) : wqc_reader2_open(r, lazy, err);
    if (st == WQC_OK && r->source.format) st = check_source(r, err);
    if (st != WQC_OK) {
        wqc_reader_free(r);
        return st;
    }
    WQC_TRACE("reader opened", r->count);
    *out = r;
    return WQC_OK;
}

wqc_status wqc_reader_open(const uint8_t *buf, size_t len, int lazy, const uint8_t *key, size_t key_len,
                           wqc_reader **out, wqc_error *err)
{
    return reader_open(buf, len, NULL, lazy, 1, key, key_len, out, err);
}

wqc_status wqc_reader_open_threads(const uint8_t *buf, size_t len, int lazy, int threads, const uint8_t *key,
                                   size_t key_len, wqc_reader **out, wqc_error *err)
{
    return reader_open(buf, len, NULL, lazy, threads, key, key_len, out, err);
}

wqc_status wqc_reader_open_file(const wqc_mapped_file *file, int lazy, const uint8_t *key, size_t key_len,
                                wqc_reader **out, wqc_error *err)
{
    return reader_open(file->data, file->size, file, lazy && file->is_mmap, 1, key, key_len, out, err);
}

wqc_status wqc_reader_open_file_threads(const wqc_mapped_file *file, int lazy, int threads, const uint8_t *key,
                                        size_t key_len, wqc_reader **out, wqc_error *err)
{
    return reader_open(file->data, file->size, file, lazy && file->is_mmap, threads, key, key_len, out, err);
}

void wqc_reader_free(wqc_reader *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->entries[i].name);
        wqc_descriptor_free(&r->entries[i].frame);
    }
    for (size_t i = 0; i < r->nmeta; i++) {
        free(r->meta[i].key);
        free(r->meta[i].value);
    }
    free(r->meta);
    free(r->entries);
    for (size_t i = 0; i < r->nshared; i++) wqc_symbol_model_free(&r->shared[i]);
    free(r->shared);
    free(r->source_header);
    free(r->source_order);
    free(r->source_gap);
    free(r->stats);
    free(r->stats_present);
    wqc_segment_table_free(&r->segments);
    free(r);
}

size_t wqc_reader_count(const wqc_reader *r) { return r->count; }
int wqc_reader_has_hmac(const wqc_reader *r) { return r->hmac; }
int wqc_reader_version(const wqc_reader *r) { return r->version; }
size_t wqc_reader_shared_model_count(const wqc_reader *r) { return r->nshared; }
const char *wqc_reader_name(const wqc_reader *r, size_t i) { return i < r->count ? r->entries[i].name : NULL; }
size_t wqc_reader_metadata_count(const wqc_reader *r) { return r->nmeta; }
const wqc_kv *wqc_reader_metadata(const wqc_reader *r, size_t i) { return i < r->nmeta ? &r->meta[i] : NULL; }

size_t wqc_reader_find(const wqc_reader *r, const char *name)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->entries[i].name, name) == 0) return i;
    return (size_t)-1;
}

wqc_status wqc_reader_frame(wqc_reader *r, size_t i, const wqc_frame **out, wqc_error *err)
{
    if (i >= r->count) return wqc_fail(err, WQC_ERR_NOT_FOUND, "no tensor %zu", i);
    entry *e = &r->entries[i];
    if (!e->parsed) {
        wqc_status st = r->version == 1 ? wqc_reader1_frame(r, e, err) : wqc_reader2_frame(r, e, 1, err);
        if (st != WQC_OK) return st;
    }
    *out = &e->frame;
    return WQC_OK;
}

wqc_status wqc_reader_check(const wqc_reader *r, size_t i, int fd, uint8_t *buf, size_t cap, wqc_error *err)
{
    if (i >= r->count) return wqc_fail(err, WQC_ERR_NOT_FOUND, "no tensor %zu", i);
    if (r->version == 1) return WQC_OK;
    int mapped = fd < 0 || !buf || !cap;
    wqc_record2 rec;
    wqc_status st = wqc_record2_read(r->buf, r->index_offset, r->entries[i].offset, mapped, &rec, err);
    if (st != WQC_OK || mapped) return st;
    wqc_xxh3_state h;
    if (!wqc_record2_check_start(&h, r->buf, &rec)) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (uint64_t at = 0; st == WQC_OK && at < rec.body_len; at += cap) {
        size_t n = rec.body_len - at < cap ? (size_t)(rec.body_len - at) : cap;
        st = wqc_read_at(fd, buf, n, rec.body_offset + at, err);
        if (st == WQC_OK) wqc_xxh3_add(&h, buf, n);
    }
    int holds = wqc_record2_check_end(&h, r->buf, &rec);
    if (st == WQC_OK && !holds)
        st = wqc_record2_mismatch(rec.type, rec.offset, err);
    return st;
}

int wqc_reader_has_segments(const wqc_reader *r, size_t i)
{
    return i < r->count && r->version == 2 && r->entries[i].segments != 0;
}

int wqc_reader_segments_of(const wqc_reader *r, size_t i, const uint64_t **hash, uint64_t *n, unsigned *log)
{
    if (!wqc_reader_has_segments(r, i)) return 0;
    uint64_t k = r->entries[i].segments - 1;
    *hash = r->segments.hash + r->segments.first[k];
    *n = r->segments.nseg[k];
    *log = r->segments.log;
    return 1;
}

wqc_status wqc_reader_frame_segmented(wqc_reader *r, size_t i, int threads, const wqc_frame **out, wqc_error *err)
{
    if (!wqc_reader_has_segments(r, i))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor %zu's record has no segment checks", i);
    entry *e = &r->entries[i];
    if (!e->parsed) {
        const wqc_frame *f;
        wqc_status st = wqc_reader_describe(r, i, &f, err);
        if (st == WQC_OK) st = wqc_reader2_check_segments(r, e, threads, err);
        if (st != WQC_OK) return st;
        e->described = 0, e->parsed = 1;
    }
    *out = &e->frame;
    return WQC_OK;
}

wqc_status wqc_reader_frame_copy(wqc_reader *r, size_t i, const uint8_t *copy, uint64_t len, wqc_frame *out,
                                 wqc_error *err)
{
    if (i >= r->count) return wqc_fail(err, WQC_ERR_NOT_FOUND, "no tensor %zu", i);
    if (r->version == 1) return wqc_fail(err, WQC_ERR_UNSUPPORTED, "format-1 frames are read in place");
    return wqc_reader2_frame_copy(r, &r->entries[i], copy, len, 0, out, err);
}

wqc_status wqc_reader_frame_read_segmented(wqc_reader *r, size_t i, int fd, uint8_t *copy, uint64_t len, int threads,
                                           wqc_frame *out, wqc_error *err)
{
    if (!wqc_reader_has_segments(r, i))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor %zu's record has no segment checks", i);
    return wqc_reader2_frame_read_segmented(r, &r->entries[i], fd, copy, len, threads, out, err);
}

wqc_status wqc_reader_describe(wqc_reader *r, size_t i, const wqc_frame **out, wqc_error *err)
{
    if (i >= r->count) return wqc_fail(err, WQC_ERR_NOT_FOUND, "no tensor %zu", i);
    entry *e = &r->entries[i];
    if (r->version == 1) return wqc_reader_frame(r, i, out, err);
    if (!e->parsed && !e->described) {
        wqc_status st = wqc_reader2_frame(r, e, 0, err);
        if (st != WQC_OK) return st;
    }
    *out = &e->frame;
    return WQC_OK;
}
