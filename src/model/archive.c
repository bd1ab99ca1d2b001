/* A .wqc as a client reads it: one file, a buffer, or the shards an index
 * names (wqc/archive.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../common/trace.h"
#include "../rans/decode_kernel.h"
#include "wqc/archive.h"
#include "wqc/mapped_file.h"
#include "wqc/tensor_io.h"

typedef struct archive_shard {
    char *path;
    const char *rel;            /* the path as the index gives it */
    wqc_mapped_file file;
    int borrowed;               /* file.data is the caller's buffer */
    wqc_reader *reader;
} archive_shard;

struct wqc_archive {
    archive_shard *shards;
    size_t nshards;
    size_t count;
    size_t *shard_of, *index_in;   /* per tensor: its shard and its index there */
    int sharded;                   /* opened through an index */
};

/* An index is small: its size is bounded like the model reader's. */
#define INDEX_MAX (64u << 20)

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static wqc_status open_shard(archive_shard *s, const wqc_archive_options *o, wqc_error *err)
{
    wqc_status st = wqc_map_file(s->path, &s->file, err);
    if (st == WQC_OK)
        st = wqc_reader_open_file_threads(&s->file, !o->sequential, wqc_rans_threads(o->threads),
                                          o->key_len ? o->key : NULL, o->key_len, &s->reader, err);
    return st;
}

/* The shard file names of an index's weight_map, sorted and distinct; the
 * map itself stays in *map for the check that every tensor was found. */
static wqc_status read_index(wqc_archive *in, const char *path, json_t **map_out, wqc_error *err)
{
    wqc_mapped_file f;
    wqc_status st = wqc_map_file(path, &f, err);
    if (st != WQC_OK) return st;
    json_error_t jerr;
    json_t *root = f.size <= INDEX_MAX ? json_loadb((const char *)f.data, f.size, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    wqc_unmap_file(&f);
    if (!root) return wqc_fail(err, WQC_ERR_FORMAT, "not a shard index (JSON with a \"weight_map\", at most 64 MiB)");
    json_t *map = json_object_get(root, "weight_map");
    const char **names = json_is_object(map) ? calloc(json_object_size(map) + 1, sizeof *names) : NULL;
    if (!names) {
        json_decref(root);
        return wqc_fail(err, json_is_object(map) ? WQC_ERR_NOMEM : WQC_ERR_FORMAT, "index: no \"weight_map\" object");
    }
    size_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(map, key, val) {
        if (!json_is_string(val) || !wqc_shard_path_is_safe(json_string_value(val))) {
            wqc_fail(err, WQC_ERR_FORMAT, "index: tensor '%s' names an invalid shard path", key);
            free(names);
            json_decref(root);
            return WQC_ERR_FORMAT;
        }
        names[n++] = json_string_value(val);
    }
    qsort(names, n, sizeof *names, by_string);
    in->shards = calloc(n + 1, sizeof *in->shards);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    for (size_t i = 0; in->shards && i < n; i++) {
        if (in->nshards && strcmp(names[i], names[i - 1]) == 0) continue;
        char *p = malloc(dirlen + strlen(names[i]) + 1);
        if (!p) break;
        memcpy(p, path, dirlen);
        strcpy(p + dirlen, names[i]);
        in->shards[in->nshards].rel = p + dirlen;
        in->shards[in->nshards++].path = p;
    }
    free(names);
    json_incref(map);
    json_decref(root);
    *map_out = map;
    return in->shards ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
}

/* Numbers the tensors across the shards: those each shard holds that the
 * index assigns to it (every one when there is no index). */
static wqc_status number_tensors(wqc_archive *in, json_t *map, wqc_error *err)
{
    size_t total = 0;
    for (size_t k = 0; k < in->nshards; k++) total += wqc_reader_count(in->shards[k].reader);
    in->shard_of = calloc(total + 1, sizeof *in->shard_of);
    in->index_in = calloc(total + 1, sizeof *in->index_in);
    if (!in->shard_of || !in->index_in) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < in->nshards; k++) {
        for (size_t i = 0; i < wqc_reader_count(in->shards[k].reader); i++) {
            const char *name = wqc_reader_name(in->shards[k].reader, i);
            json_t *where = map && name ? json_object_get(map, name) : NULL;
            if (map && (!where || strcmp(in->shards[k].rel, json_string_value(where)) != 0)) continue;
            in->shard_of[in->count] = k;
            in->index_in[in->count++] = i;
        }
    }
    if (map && in->count != json_object_size(map)) {
        const char *key;
        json_t *val;
        json_object_foreach(map, key, val) {
            size_t i = 0;
            while (i < in->count && strcmp(wqc_archive_name(in, i), key) != 0) i++;
            if (i == in->count) return wqc_fail(err, WQC_ERR_FORMAT, "index: tensor '%s' is not in %s", key, json_string_value(val));
        }
    }
    return WQC_OK;
}

static int is_index(const char *path)
{
    size_t n = strlen(path);
    return n >= 5 && strcmp(path + n - 5, ".json") == 0;
}

/* "SHARD: message" where a shard of an index failed. */
static void name_shard(const char *path, const archive_shard *s, wqc_error *err)
{
    size_t n = s ? strlen(s->path) : 0, cap = err ? sizeof err->msg : 0;
    if (!err || !s || strcmp(s->path, path) == 0 || n + 2 >= cap) return;
    memmove(err->msg + n + 2, err->msg, cap - n - 2);
    memcpy(err->msg, s->path, n);
    err->msg[n] = ':';
    err->msg[n + 1] = ' ';
    err->msg[cap - 1] = '\0';
}

static wqc_status finish_open(wqc_archive *in, json_t *map, wqc_archive **out, wqc_error *err)
{
    wqc_status st = number_tensors(in, map, err);
    json_decref(map);
    if (st != WQC_OK) {
        wqc_archive_close(in);
        return st;
    }
    *out = in;
    return WQC_OK;
}

wqc_status wqc_archive_open(const char *path, const wqc_archive_options *opts, wqc_archive **out, wqc_error *err)
{
    static const wqc_archive_options none = {NULL, 0, 0, 0};
    const wqc_archive_options *o = opts ? opts : &none;
    *out = NULL;
    wqc_archive *in = calloc(1, sizeof *in);
    if (!in) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    json_t *map = NULL;
    wqc_status st = WQC_OK;
    if (is_index(path)) {
        in->sharded = 1;
        st = read_index(in, path, &map, err);
    } else {
        in->shards = calloc(1, sizeof *in->shards);
        in->shards && (in->shards[0].path = strdup(path)) ? (void)(in->nshards = 1)
                                                          : (void)(st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory"));
    }
    for (size_t k = 0; st == WQC_OK && k < in->nshards; k++) {
        st = open_shard(&in->shards[k], o, err);
        if (st != WQC_OK) name_shard(path, &in->shards[k], err);
    }
    if (st != WQC_OK) {
        json_decref(map);
        wqc_archive_close(in);
        return st;
    }
    return finish_open(in, map, out, err);
}

wqc_status wqc_archive_open_memory(const void *buf, size_t len, const wqc_archive_options *opts, wqc_archive **out,
                                   wqc_error *err)
{
    static const wqc_archive_options none = {NULL, 0, 0, 0};
    const wqc_archive_options *o = opts ? opts : &none;
    *out = NULL;
    wqc_archive *in = calloc(1, sizeof *in);
    if (in) in->shards = calloc(1, sizeof *in->shards);
    if (!in || !in->shards || !(in->shards[0].path = strdup("memory"))) {
        wqc_archive_close(in);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    in->nshards = 1;
    archive_shard *s = &in->shards[0];
    s->borrowed = 1;
    s->file.data = (unsigned char *)buf;
    s->file.size = len;
    wqc_status st = wqc_reader_open_threads(buf, len, !o->sequential, wqc_rans_threads(o->threads),
                                            o->key_len ? o->key : NULL, o->key_len, &s->reader, err);
    if (st != WQC_OK) {
        wqc_archive_close(in);
        return st;
    }
    return finish_open(in, NULL, out, err);
}

const char *wqc_archive_name(const wqc_archive *in, size_t i)
{
    return wqc_reader_name(in->shards[in->shard_of[i]].reader, in->index_in[i]);
}

const char *wqc_archive_path(const wqc_archive *in, size_t i) { return in->shards[in->shard_of[i]].path; }

wqc_status wqc_archive_describe(wqc_archive *in, size_t i, const wqc_frame **f, wqc_error *err)
{
    return wqc_reader_describe(in->shards[in->shard_of[i]].reader, in->index_in[i], f, err);
}

wqc_status wqc_archive_frame(wqc_archive *in, size_t i, const wqc_frame **f, wqc_error *err)
{
    return wqc_reader_frame(in->shards[in->shard_of[i]].reader, in->index_in[i], f, err);
}

void wqc_archive_describe_ahead(wqc_archive *in, const size_t *idx, size_t n, int threads)
{
    /* From 4 threads: on the 2-core VM, starting the team ahead of the
     * decode cost as much as it saved (4-bit pylm-22M at -T 2: 1.5-2 ms
     * faster, its lossless file 2-4 ms slower). */
    threads = wqc_rans_threads(threads);
    if ((size_t)threads > n) threads = (int)n;
    if (threads < 4) return;
    WQC_TRACE("describe ahead", n);
    /* Each tensor's entry is its own: threads never share one. */
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
    for (size_t k = 0; k < n; k++) {
        const wqc_frame *f;
        if (idx[k] < in->count) (void)wqc_archive_describe(in, idx[k], &f, NULL);
    }
    WQC_TRACE("described", n);
}

int wqc_archive_has_segments(const wqc_archive *in, size_t i)
{
    return i < wqc_archive_count(in) && wqc_reader_has_segments(in->shards[in->shard_of[i]].reader, in->index_in[i]);
}

/* threads <= 0 counts every core, as the decoders do (wqc_rans_threads). */
int wqc_archive_checks_segments(const wqc_archive *in, size_t i, int threads)
{
    const char *env = getenv("WQC_SEGMENT_CHECKS");
    return wqc_rans_threads(threads) > 1 && !(env && strcmp(env, "0") == 0) && wqc_archive_has_segments(in, i);
}

wqc_status wqc_archive_frame_segmented(wqc_archive *in, size_t i, int threads, const wqc_frame **f, wqc_error *err)
{
    return wqc_reader_frame_segmented(in->shards[in->shard_of[i]].reader, in->index_in[i], wqc_rans_threads(threads),
                                      f, err);
}

wqc_status wqc_archive_stats(wqc_archive *in, size_t i, const wqc_tensor_stats **s, wqc_error *err)
{
    return wqc_reader_stats(in->shards[in->shard_of[i]].reader, in->index_in[i], s, err);
}

wqc_status wqc_archive_check(const wqc_archive *in, size_t i, int fd, uint8_t *buf, size_t cap, wqc_error *err)
{
    return wqc_reader_check(in->shards[in->shard_of[i]].reader, in->index_in[i], fd, buf, cap, err);
}

int wqc_archive_reopen(const wqc_archive *in)
{
    return in->nshards == 1 && !in->shards[0].borrowed ? wqc_mapped_reopen(&in->shards[0].file, in->shards[0].path) : -1;
}

void wqc_archive_release(wqc_archive *in, size_t i, const wqc_frame *f)
{
    wqc_mapped_release(&in->shards[in->shard_of[i]].file, (size_t)f->file_offset, (size_t)f->frame_bytes);
}

uint64_t wqc_archive_bytes(const wqc_archive *in)
{
    uint64_t n = 0;
    for (size_t k = 0; k < in->nshards; k++) n += in->shards[k].file.size;
    return n;
}

int wqc_archive_has_hmac(const wqc_archive *in)
{
    for (size_t k = 0; k < in->nshards; k++)
        if (!wqc_reader_has_hmac(in->shards[k].reader)) return 0;
    return in->nshards > 0;
}

void wqc_archive_close(wqc_archive *in)
{
    if (!in) return;
    for (size_t k = 0; k < in->nshards; k++) {
        wqc_reader_free(in->shards[k].reader);
        if (!in->shards[k].borrowed) wqc_unmap_file(&in->shards[k].file);
        free(in->shards[k].path);
    }
    free(in->shards);
    free(in->shard_of);
    free(in->index_in);
    free(in);
}

size_t wqc_archive_count(const wqc_archive *in) { return in->count; }

size_t wqc_archive_find(const wqc_archive *in, const char *name)
{
    for (size_t i = 0; i < in->count; i++)
        if (strcmp(wqc_archive_name(in, i), name) == 0) return i;
    return (size_t)-1;
}

wqc_reader *wqc_archive_reader(const wqc_archive *in) { return in->nshards ? in->shards[0].reader : NULL; }

size_t wqc_archive_files(const wqc_archive *in) { return in->nshards; }

int wqc_archive_sharded(const wqc_archive *in) { return in->sharded; }

size_t wqc_archive_file_of(const wqc_archive *in, size_t i) { return in->shard_of[i]; }

size_t wqc_archive_metadata_count(const wqc_archive *in) { return wqc_reader_metadata_count(wqc_archive_reader(in)); }

const wqc_kv *wqc_archive_metadata(const wqc_archive *in, size_t i)
{
    return wqc_reader_metadata(wqc_archive_reader(in), i);
}
