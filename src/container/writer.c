/* Streaming .wqc writer: header, META, TNSR/DATA frames, INDX, END. */
#include <sodium.h>
#include <xxhash.h>
#include <stdlib.h>
#include <zstd.h>

#include "format.h"

typedef struct index_entry {
    uint64_t offset, bytes;
    char *name;
} index_entry;

struct wqc_writer {
    wqc_sink_fn sink;
    void *ctx;
    uint64_t offset;
    int hmac;
    crypto_auth_hmacsha256_state hs;
    index_entry *index;
    size_t count, cap;
    int tensors_started;
    int failed;
};

static wqc_status emit(wqc_writer *w, const void *buf, size_t len, wqc_error *err)
{
    if (w->failed) return wqc_fail(err, WQC_ERR_IO, "writer already failed");
    wqc_status st = w->sink(w->ctx, buf, len, err);
    if (st != WQC_OK) {
        w->failed = 1;
        return st;
    }
    if (w->hmac) crypto_auth_hmacsha256_update(&w->hs, buf, len);
    w->offset += len;
    return WQC_OK;
}

static wqc_status emit_record(wqc_writer *w, uint32_t type, uint32_t flags, const uint8_t *body,
                              uint64_t len, wqc_error *err)
{
    static const uint8_t zero[WQC_ALIGN];
    uint8_t header[WQC_RECORD_HEADER_BYTES];
    wqc_record_header(header, type, flags, body, len);
    wqc_status st = emit(w, header, sizeof header, err);
    /* Large payloads go to the sink in pieces below 1 GiB. */
    for (uint64_t at = 0; st == WQC_OK && at < len;) {
        size_t n = len - at < (1u << 30) ? (size_t)(len - at) : (1u << 30);
        st = emit(w, body + at, n, err);
        at += n;
    }
    if (st == WQC_OK && wqc_padding(len)) st = emit(w, zero, (size_t)wqc_padding(len), err);
    return st;
}

wqc_status wqc_writer_open(wqc_sink_fn sink, void *ctx, const uint8_t *key, size_t key_len,
                           wqc_writer **out, wqc_error *err)
{
    *out = NULL;
    if (key && key_len < 16)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "HMAC key must be at least 16 bytes, got %zu", key_len);
    if (key && sodium_init() < 0) return wqc_fail(err, WQC_ERR_IO, "libsodium failed to initialise");
    wqc_writer *w = calloc(1, sizeof *w);
    if (!w) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    w->sink = sink;
    w->ctx = ctx;
    w->hmac = key != NULL;
    if (key) crypto_auth_hmacsha256_init(&w->hs, key, key_len);
    uint8_t h[WQC_FILE_HEADER_BYTES] = {0};
    memcpy(h, WQC_MAGIC, 8);
    h[8] = WQC_FORMAT_MAJOR;
    h[10] = WQC_FORMAT_MINOR;
    h[12] = w->hmac ? WQC_FLAG_HMAC : 0;
    wqc_store64(h + 56, XXH3_64bits(h, 56));
    wqc_status st = emit(w, h, sizeof h, err);
    if (st != WQC_OK) {
        wqc_writer_free(w);
        return st;
    }
    *out = w;
    return WQC_OK;
}

uint64_t wqc_writer_offset(const wqc_writer *w) { return w->offset; }

wqc_status wqc_writer_metadata(wqc_writer *w, const wqc_kv *kv, size_t n, wqc_error *err)
{
    if (w->tensors_started) return wqc_fail(err, WQC_ERR_INVALID_ARG, "metadata must precede tensors");
    wqc_bytes b = {0};
    wqc_bytes_u32(&b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        size_t kl = strlen(kv[i].key), vl = strlen(kv[i].value);
        wqc_bytes_u32(&b, (uint32_t)kl);
        wqc_bytes_put(&b, kv[i].key, kl);
        wqc_bytes_u32(&b, (uint32_t)vl);
        wqc_bytes_put(&b, kv[i].value, vl);
    }
    wqc_status st = b.failed ? wqc_fail(err, WQC_ERR_NOMEM, "out of memory")
                             : emit_record(w, WQC_REC_META, 0, b.data, b.len, err);
    wqc_bytes_free(&b);
    return st;
}

wqc_status wqc_writer_add(wqc_writer *w, const wqc_frame *f, wqc_error *err)
{
    w->tensors_started = 1;
    if (w->count == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        index_entry *grown = realloc(w->index, cap * sizeof *grown);
        if (!grown) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        w->index = grown;
        w->cap = cap;
    }
    wqc_bytes desc = {0};
    wqc_status st = wqc_descriptor_write(f, &desc, err);
    uint64_t start = w->offset;
    if (st == WQC_OK) st = emit_record(w, WQC_REC_TNSR, WQC_RECORD_CRITICAL, desc.data, desc.len, err);
    wqc_bytes_free(&desc);
    if (st != WQC_OK) return st;
    const uint8_t *payload = f->encoding == WQC_ENC_RANS ? f->coded.payload : f->payload;
    uint64_t plen = f->encoding == WQC_ENC_RANS ? f->coded.payload_len : f->payload_len;
    st = emit_record(w, WQC_REC_DATA, WQC_RECORD_CRITICAL, payload, plen, err);
    if (st != WQC_OK) return st;
    index_entry *e = &w->index[w->count];
    e->offset = start;
    e->bytes = w->offset - start;
    e->name = strdup(f->name);
    if (!e->name) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    w->count++;
    return WQC_OK;
}

wqc_status wqc_writer_finish(wqc_writer *w, wqc_error *err)
{
    wqc_bytes b = {0};
    wqc_bytes_u64(&b, w->count);
    for (size_t i = 0; i < w->count; i++) {
        size_t n = strlen(w->index[i].name);
        wqc_bytes_u64(&b, w->index[i].offset);
        wqc_bytes_u64(&b, w->index[i].bytes);
        wqc_bytes_u32(&b, (uint32_t)n);
        wqc_bytes_put(&b, w->index[i].name, n);
    }
    uint64_t index_offset = w->offset;
    wqc_status st = b.failed ? wqc_fail(err, WQC_ERR_NOMEM, "out of memory")
                             : emit_record(w, WQC_REC_INDX, 0, b.data, b.len, err);
    wqc_bytes_free(&b);
    if (st != WQC_OK) return st;
    /* The HMAC covers every byte before the END record. */
    uint8_t body[WQC_END_BODY_BYTES] = {0};
    wqc_store64(body, index_offset);
    wqc_store64(body + 8, w->offset);
    if (w->hmac) {
        crypto_auth_hmacsha256_final(&w->hs, body + 16);
        w->hmac = 0;
    }
    return emit_record(w, WQC_REC_END, WQC_RECORD_CRITICAL, body, sizeof body, err);
}

void wqc_writer_free(wqc_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->count; i++) free(w->index[i].name);
    free(w->index);
    sodium_memzero(&w->hs, sizeof w->hs);
    free(w);
}

void wqc_frame_init(wqc_frame *f, const wqc_tensor *t)
{
    memset(f, 0, sizeof *f);
    f->name = t->name;
    f->dtype = t->dtype;
    f->ndim = t->ndim;
    memcpy(f->shape, t->shape, sizeof t->shape);
    f->nelem = t->nelem;
}

wqc_status wqc_frame_passthrough(const wqc_tensor *t, int zstd_level, wqc_frame *f, void **scratch,
                                 wqc_error *err)
{
    wqc_frame_init(f, t);
    *scratch = NULL;
    f->raw_len = t->nbytes;
    f->encoding = WQC_ENC_RAW;
    f->payload = t->data;
    f->payload_len = t->nbytes;
    if (zstd_level <= 0 || t->nbytes == 0) return WQC_OK;
    size_t cap = ZSTD_compressBound((size_t)t->nbytes);
    void *buf = malloc(cap);
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory compressing '%s'", t->name);
    size_t got = ZSTD_compress(buf, cap, t->data, (size_t)t->nbytes, zstd_level);
    if (ZSTD_isError(got) || got >= t->nbytes) {
        free(buf);
        return WQC_OK; /* raw is no larger */
    }
    f->encoding = WQC_ENC_ZSTD;
    f->payload = buf;
    f->payload_len = got;
    *scratch = buf;
    return WQC_OK;
}
