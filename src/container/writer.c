/* Streaming .wqc writer (format 2): header, META, NAMES, shared models,
 * tensor records, NAMES (when not given up front), INDEX, END. */
#include <sodium.h>
#include <stdlib.h>
#include <xxhash.h>

#include "../side/float_array.h"
#include "../symbol_model/describe.h"
#include "../common/byte_codec.h"
#include "../entropy/byte_probe.h"
#include "format.h"
#include "segment_checks.h"
#include "stats_record.h"

/* Payloads from this size up start on a multiple of 64 bytes, for readers
 * that map the file and use a raw tensor in place; smaller ones are packed. */
#define ALIGN_FROM (64u << 10)

struct wqc_writer {
    wqc_sink_fn sink;
    void *ctx;
    uint64_t offset;
    int hmac;
    crypto_auth_hmacsha256_state hs;
    uint64_t *tensor_offset;
    char **names;           /* declared up front (count = ndeclared) or collected */
    size_t count, cap, ndeclared;
    uint64_t names_offset;
    size_t nshared;
    int tensors_started;
    int failed;
    wqc_segment_list segments;  /* of the large tensor records */
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

/* A record whose body is the concatenation of parts; its header goes to
 * header[0..*hl). */
static wqc_status emit_record_as(wqc_writer *w, uint8_t type, uint8_t flags, const uint8_t *const *parts,
                                 const uint64_t *lens, int nparts, uint8_t header[WQC2_RECORD_HEADER_MAX], size_t *hl,
                                 wqc_error *err)
{
    *hl = wqc_record2_header(header, type, flags, parts, lens, nparts);
    wqc_status st = emit(w, header, *hl, err);
    for (int i = 0; st == WQC_OK && i < nparts; i++) {
        /* Large payloads go to the sink in pieces below 1 GiB. */
        for (uint64_t at = 0; st == WQC_OK && at < lens[i];) {
            size_t n = lens[i] - at < (1u << 30) ? (size_t)(lens[i] - at) : (1u << 30);
            st = emit(w, parts[i] + at, n, err);
            at += n;
        }
    }
    return st;
}

static wqc_status emit_record(wqc_writer *w, uint8_t type, uint8_t flags, const uint8_t *const *parts,
                              const uint64_t *lens, int nparts, wqc_error *err)
{
    uint8_t header[WQC2_RECORD_HEADER_MAX];
    size_t hl;
    return emit_record_as(w, type, flags, parts, lens, nparts, header, &hl, err);
}

static wqc_status emit_bytes(wqc_writer *w, uint8_t type, uint8_t flags, const wqc_bytes *b, wqc_error *err)
{
    if (b->failed) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    const uint8_t *parts[1] = {b->data};
    uint64_t lens[1] = {b->len};
    return emit_record(w, type, flags, parts, lens, 1, err);
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
    uint8_t h[WQC2_FILE_HEADER_BYTES] = {0};
    memcpy(h, WQC_MAGIC, 8);
    h[8] = WQC_FORMAT_MAJOR;
    h[10] = WQC_FORMAT_MINOR;
    h[12] = w->hmac ? WQC_FLAG_HMAC : 0;
    uint32_t check = (uint32_t)XXH3_64bits(h, 16);
    for (int i = 0; i < 4; i++) h[16 + i] = (uint8_t)(check >> (8 * i));
    wqc_status st = emit(w, h, sizeof h, err);
    if (st != WQC_OK) {
        wqc_writer_free(w);
        return st;
    }
    *out = w;
    return WQC_OK;
}

uint64_t wqc_writer_offset(const wqc_writer *w) { return w->offset; }

static wqc_status before_tensors(const wqc_writer *w, const char *what, wqc_error *err)
{
    return w->tensors_started ? wqc_fail(err, WQC_ERR_INVALID_ARG, "%s must precede tensors", what) : WQC_OK;
}

wqc_status wqc_writer_metadata(wqc_writer *w, const wqc_kv *kv, size_t n, wqc_error *err)
{
    wqc_status st = before_tensors(w, "metadata", err);
    if (st != WQC_OK) return st;
    wqc_bytes b = {0};
    wqc_bytes_varint(&b, n);
    for (size_t i = 0; i < n; i++) {
        size_t kl = strlen(kv[i].key), vl = strlen(kv[i].value);
        wqc_bytes_varint(&b, kl);
        wqc_bytes_put(&b, kv[i].key, kl);
        wqc_bytes_varint(&b, vl);
        wqc_bytes_put(&b, kv[i].value, vl);
    }
    st = emit_bytes(w, WQC2_REC_META, 0, &b, err);
    wqc_bytes_free(&b);
    return st;
}

/* SOURCE body: u8 format, u8 codec (raw or brotli), varint header length,
 * varint stored length, the stored header, varint count, the tensor indexes. */
wqc_status wqc_writer_source(wqc_writer *w, const wqc_source *s, wqc_error *err)
{
    wqc_status st = before_tensors(w, "the source layout", err);
    if (st != WQC_OK) return st;
    if (s->format != WQC_SOURCE_SAFETENSORS && s->format != WQC_SOURCE_NPY && s->format != WQC_SOURCE_GGUF)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "unknown source format %d", (int)s->format);
    uint8_t *packed = NULL;
    size_t plen = 0;
    int brotli = wqc_byte_compress(WQC_ENC_BROTLI, 9, s->header, (size_t)s->header_len, &packed, &plen, NULL) == WQC_OK &&
                 plen < s->header_len;
    wqc_bytes b = {0};
    wqc_bytes_u8(&b, (uint8_t)s->format);
    wqc_bytes_u8(&b, brotli ? WQC_ENC_BROTLI : WQC_ENC_RAW);
    wqc_bytes_varint(&b, s->header_len);
    wqc_bytes_varint(&b, brotli ? plen : s->header_len);
    wqc_bytes_put(&b, brotli ? packed : s->header, brotli ? plen : (size_t)s->header_len);
    wqc_bytes_varint(&b, s->n);
    for (size_t i = 0; i < s->n; i++) wqc_bytes_varint(&b, s->order[i]);
    if (s->format == WQC_SOURCE_GGUF) {
        for (size_t i = 0; i < s->n; i++) wqc_bytes_varint(&b, s->gap[i]);
        wqc_bytes_varint(&b, s->tail);
    }
    free(packed);
    st = b.failed ? wqc_fail(err, WQC_ERR_NOMEM, "out of memory") : emit_bytes(w, WQC2_REC_SOURCE, 0, &b, err);
    wqc_bytes_free(&b);
    return st;
}

/* NAMES body: u8 codec, varint raw length, then the (compressed) list of
 * varint count and, per name, varint bytes shared with the previous name,
 * varint length of the rest, the rest. */
static wqc_status emit_names(wqc_writer *w, wqc_error *err)
{
    wqc_bytes raw = {0}, b = {0};
    wqc_bytes_varint(&raw, w->count);
    const char *prev = "";
    for (size_t i = 0; i < w->count; i++) {
        size_t p = 0, len = strlen(w->names[i]);
        while (prev[p] && prev[p] == w->names[i][p]) p++;
        wqc_bytes_varint(&raw, p);
        wqc_bytes_varint(&raw, len - p);
        wqc_bytes_put(&raw, w->names[i] + p, len - p);
        prev = w->names[i];
    }
    if (raw.failed) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    /* brotli at quality 9: names are short, and 11 costs ten times the time for 4% fewer bytes. */
    wqc_encoding codec = WQC_ENC_RAW;
    uint8_t *packed = NULL, *best = raw.data;
    size_t best_len = raw.len, plen;
    if (wqc_byte_compress(WQC_ENC_BROTLI, 9, raw.data, raw.len, &packed, &plen, NULL) == WQC_OK && plen < best_len) {
        best = packed;
        best_len = plen;
        codec = WQC_ENC_BROTLI;
    }
    wqc_bytes_u8(&b, (uint8_t)codec);
    wqc_bytes_varint(&b, raw.len);
    wqc_bytes_put(&b, best, best_len);
    w->names_offset = w->offset;
    wqc_status st = emit_bytes(w, WQC2_REC_NAMES, WQC2_RECORD_CRITICAL, &b, err);
    free(packed);
    wqc_bytes_free(&raw);
    wqc_bytes_free(&b);
    return st;
}

static wqc_status keep_name(wqc_writer *w, const char *name, wqc_error *err)
{
    if (w->count == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        char **names = realloc(w->names, cap * sizeof *names);
        uint64_t *offsets = realloc(w->tensor_offset, cap * sizeof *offsets);
        if (names) w->names = names;
        if (offsets) w->tensor_offset = offsets;
        if (!names || !offsets) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        w->cap = cap;
    }
    w->names[w->count] = strdup(name);
    if (!w->names[w->count]) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    w->count++;
    return WQC_OK;
}

wqc_status wqc_writer_names(wqc_writer *w, const char *const *names, size_t n, wqc_error *err)
{
    wqc_status st = before_tensors(w, "names", err);
    if (st == WQC_OK && (w->ndeclared || w->count)) st = wqc_fail(err, WQC_ERR_INVALID_ARG, "names given twice");
    for (size_t i = 0; st == WQC_OK && i < n; i++) {
        size_t len = strlen(names[i]);
        if (len == 0 || len > WQC_NAME_MAX)
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor name must be 1..%u bytes", WQC_NAME_MAX);
        st = keep_name(w, names[i], err);
    }
    if (st != WQC_OK) return st;
    w->ndeclared = n;
    st = emit_names(w, err);
    w->count = 0;
    return st;
}

wqc_status wqc_writer_shared_models(wqc_writer *w, const wqc_symbol_model *models, size_t n, wqc_error *err)
{
    wqc_status st = before_tensors(w, "shared models", err);
    if (st != WQC_OK) return st;
    if (w->nshared + n > WQC2_SHARED_MODELS_MAX)
        return wqc_fail(err, WQC_ERR_LIMIT, "more than %u shared models", WQC2_SHARED_MODELS_MAX);
    wqc_bytes b = {0}, d = {0};
    wqc_bytes_varint(&b, n);
    for (size_t i = 0; i < n; i++) {
        d.len = 0;
        wqc_rc_enc e;
        wqc_rc_enc_init(&e, &d);
        wqc_symbol_model_write(&e, &models[i]);
        wqc_rc_enc_finish(&e);
        wqc_bytes_varint(&b, models[i].alphabet);
        wqc_bytes_u8(&b, (uint8_t)models[i].precision);
        wqc_bytes_varint(&b, d.len);
        wqc_bytes_put(&b, d.data, d.len);
    }
    if (d.failed) b.failed = 1;
    st = emit_bytes(w, WQC2_REC_MODELS, WQC2_RECORD_CRITICAL, &b, err);
    wqc_bytes_free(&b);
    wqc_bytes_free(&d);
    if (st == WQC_OK) w->nshared += n;
    return st;
}

/* Zero bytes before a payload of desc_len descriptor bytes (and their varint)
 * so that it starts on a multiple of WQC_ALIGN, given the record's header. */
static uint64_t alignment_padding(const wqc_writer *w, uint64_t desc_part, uint64_t payload_len)
{
    uint64_t pad = 0;
    for (int pass = 0; pass < 3; pass++) {
        uint8_t v[10];
        uint64_t header = 2 + wqc_varint_store(v, desc_part + pad + payload_len) + 4;
        uint64_t at = w->offset + header + desc_part;
        uint64_t want = (WQC_ALIGN - at % WQC_ALIGN) % WQC_ALIGN;
        if (want == pad) break;
        pad = want;
    }
    return pad;
}

wqc_status wqc_writer_add(wqc_writer *w, const wqc_frame *f, wqc_error *err)
{
    w->tensors_started = 1;
    if (w->ndeclared && (w->count >= w->ndeclared || strcmp(w->names[w->count], f->name) != 0))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' is not the next declared name", f->name);
    if (f->encoding == WQC_ENC_RANS && f->shared_model > w->nshared)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' names shared model %u of %zu", f->name,
                        f->shared_model - 1, w->nshared);
    wqc_status st = WQC_OK;
    if (!w->ndeclared) {
        /* The name is kept now (the index needs the slot) and dropped on failure. */
        size_t len = strlen(f->name);
        if (len == 0 || len > WQC_NAME_MAX)
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor name must be 1..%u bytes", WQC_NAME_MAX);
        st = keep_name(w, f->name, err);
        if (st != WQC_OK) return st;
        w->count--;
    }
    wqc_bytes desc = {0};
    uint8_t dlen[10];
    st = wqc_descriptor2_write(f, &desc, err);
    const uint8_t *payload = f->encoding == WQC_ENC_RANS ? f->coded.payload : f->payload;
    uint64_t plen = f->encoding == WQC_ENC_RANS ? f->coded.payload_len : f->payload_len;
    if (st == WQC_OK && desc.len > WQC2_DESCRIPTOR_MAX) st = wqc_fail(err, WQC_ERR_LIMIT, "descriptor too large");
    if (st == WQC_OK) {
        uint64_t dl = wqc_varint_store(dlen, desc.len);
        uint64_t pad = plen >= ALIGN_FROM ? alignment_padding(w, dl + desc.len, plen) : 0;
        static const uint8_t zero[WQC_ALIGN];
        const uint8_t *parts[4] = {dlen, desc.data, zero, payload};
        uint64_t lens[4] = {dl, desc.len, pad, plen};
        w->tensor_offset[w->count] = w->offset;
        uint8_t header[WQC2_RECORD_HEADER_MAX];
        size_t hl;
        st = emit_record_as(w, WQC2_REC_TENSOR, WQC2_RECORD_CRITICAL | (plen >= ALIGN_FROM ? WQC2_RECORD_ALIGNED : 0),
                            parts, lens, 4, header, &hl, err);
        if (st == WQC_OK) wqc_segment_list_add(&w->segments, w->count, header, hl, parts, lens, 4);
    }
    wqc_bytes_free(&desc);
    if (st != WQC_OK) {
        if (!w->ndeclared) {
            free(w->names[w->count]);
            w->names[w->count] = NULL;
        }
        return st;
    }
    w->count++;
    return WQC_OK;
}

wqc_status wqc_writer_stats(wqc_writer *w, const size_t *index, const wqc_tensor_stats *stats, size_t n,
                            wqc_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (index[i] >= w->count || (i && index[i] <= index[i - 1]))
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "statistics for tensor %zu, which was not written in order", index[i]);
    wqc_bytes b = {0};
    wqc_stats_record_encode(&b, index, stats, n);
    wqc_status st = emit_bytes(w, WQC2_REC_STATS, 0, &b, err);
    wqc_bytes_free(&b);
    return st;
}

wqc_status wqc_writer_finish(wqc_writer *w, wqc_error *err)
{
    if (w->ndeclared && w->count != w->ndeclared)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "%zu tensors declared, %zu written", w->ndeclared, w->count);
    wqc_bytes b = {0};
    wqc_segment_list_end(&w->segments, &b);
    wqc_status st = b.len || b.failed ? emit_bytes(w, WQC2_REC_SEGMENTS, 0, &b, err) : WQC_OK;
    wqc_bytes_free(&b);
    if (st == WQC_OK && !w->ndeclared && w->count) st = emit_names(w, err);
    if (st != WQC_OK) return st;
    wqc_bytes_varint(&b, w->count ? w->names_offset : 0);
    wqc_bytes_varint(&b, w->count);
    for (size_t i = 0; i < w->count; i++) wqc_bytes_varint(&b, w->tensor_offset[i] - (i ? w->tensor_offset[i - 1] : 0));
    uint64_t index_offset = w->offset;
    st = emit_bytes(w, WQC2_REC_INDEX, 0, &b, err);
    wqc_bytes_free(&b);
    if (st != WQC_OK) return st;
    /* The HMAC covers every byte before the END record. */
    uint8_t body[WQC2_END_BODY_BYTES + WQC_HMAC_BYTES] = {0};
    wqc_store64(body, index_offset);
    wqc_store64(body + 8, w->offset);
    size_t len = WQC2_END_BODY_BYTES;
    if (w->hmac) {
        crypto_auth_hmacsha256_final(&w->hs, body + 16);
        w->hmac = 0;
        len += WQC_HMAC_BYTES;
    }
    const uint8_t *parts[1] = {body};
    uint64_t lens[1] = {len};
    return emit_record(w, WQC2_REC_END, WQC2_RECORD_CRITICAL, parts, lens, 1, err);
}

void wqc_writer_free(wqc_writer *w)
{
    if (!w) return;
    size_t n = w->ndeclared > w->count ? w->ndeclared : w->count;
    for (size_t i = 0; i < n; i++) free(w->names[i]);
    free(w->names);
    free(w->tensor_offset);
    wqc_bytes_free(&w->segments.entries);
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


/* The float coder's stream of a small float tensor. */
static wqc_status float_payload(const wqc_tensor *t, wqc_bytes *out)
{
    size_t size = wqc_dtype_size(t->dtype), n = (size_t)t->nelem;
    uint32_t *bits = malloc(n ? n * sizeof *bits : 1);
    if (!bits) return WQC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        bits[i] = size == 4 ? wqc_le32(t->data + 4 * i) : wqc_le16(t->data + 2 * i);
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, out);
    wqc_floats_encode(&e, t->dtype, bits, n);
    wqc_rc_enc_finish(&e);
    free(bits);
    return out->failed ? WQC_ERR_NOMEM : WQC_OK;
}

wqc_status wqc_frame_passthrough(const wqc_tensor *t, int zstd_level, wqc_frame *f, void **scratch,
                                 wqc_error *err)
{
    return wqc_frame_keep(t, zstd_level, WQC_PEERS_PROBE, f, scratch, err);
}

wqc_status wqc_frame_keep(const wqc_tensor *t, int zstd_level, wqc_peers peers, wqc_frame *f, void **scratch,
                          wqc_error *err)
{
    wqc_frame_init(f, t);
    *scratch = NULL;
    f->raw_len = t->nbytes;
    f->encoding = WQC_ENC_RAW;
    f->payload = t->data;
    f->payload_len = t->nbytes;
    if (t->nbytes == 0) return WQC_OK;
    if (zstd_level > 0) {
        uint8_t *buf;
        size_t got;
        if (wqc_byte_compress(WQC_ENC_ZSTD, zstd_level, t->data, (size_t)t->nbytes, &buf, &got, NULL) == WQC_OK &&
            got < f->payload_len) {
            f->encoding = WQC_ENC_ZSTD;
            f->payload = *scratch = buf;
            f->payload_len = got;
        } else if (buf) {
            free(buf);
        }
    }
    /* The general-purpose peers where a probe finds structure they exploit. */
    int try_peers = peers != WQC_PEERS_NEVER && t->nbytes >= 256 && t->nbytes <= WQC_PASSTHROUGH_GP_MAX;
    if (try_peers && peers == WQC_PEERS_PROBE) {
        wqc_byte_structure probe;
        wqc_byte_probe(t->data, (size_t)t->nbytes, wqc_dtype_size(t->dtype), &probe);
        try_peers = wqc_byte_structured(&probe);
    }
    if (try_peers) {
        uint8_t *buf;
        size_t len = (size_t)f->payload_len;
        wqc_encoding codec;
        wqc_status st = wqc_byte_compress_best(t->data, (size_t)t->nbytes, &codec, &buf, &len, NULL, err);
        if (st != WQC_OK) {
            free(*scratch);
            *scratch = NULL;
            return st;
        }
        if (buf) {
            free(*scratch);
            f->encoding = codec;
            f->payload = *scratch = buf;
            f->payload_len = len;
        }
    }
    if (wqc_dtype_is_float(t->dtype) && t->nelem <= WQC_FLOATS_MAX) {
        wqc_bytes b = {0};
        if (float_payload(t, &b) != WQC_OK) {
            wqc_bytes_free(&b);
            return wqc_fail(err, WQC_ERR_NOMEM, "out of memory coding '%s'", t->name);
        }
        if (b.len < f->payload_len) {
            free(*scratch);
            f->encoding = WQC_ENC_FLOATS;
            f->payload = *scratch = b.data;
            f->payload_len = b.len;
        } else {
            wqc_bytes_free(&b);
        }
    }
    return WQC_OK;
}

int wqc_encoding_split(wqc_encoding e)
{
    return e == WQC_ENC_SPLIT || e == WQC_ENC_SPLIT_E8M3;
}

const char *wqc_encoding_name(wqc_encoding e)
{
    switch (e) {
    case WQC_ENC_RAW: return "raw";
    case WQC_ENC_ZSTD: return "zstd";
    case WQC_ENC_RANS: return "rans";
    case WQC_ENC_BROTLI: return "brotli";
    case WQC_ENC_FLOATS: return "floats";
    case WQC_ENC_SPLIT: return "split";
    case WQC_ENC_SPLIT_E8M3: return "split-e8m3";
    case WQC_ENC_GGUF: return "gguf";
    case WQC_ENC_LZMA: return "lzma";
    }
    return "unknown";
}
