#include "wqc_input.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* An index is small: its size is bounded like the model reader's. */
#define INDEX_MAX (64u << 20)

int wqc_input_status(wqc_status st)
{
    switch (st) {
    case WQC_OK: return WQC_EXIT_OK;
    case WQC_ERR_AUTH: return WQC_EXIT_AUTH;
    case WQC_ERR_FORMAT:
    case WQC_ERR_CHECKSUM:
    case WQC_ERR_LIMIT: return WQC_EXIT_CORRUPT;
    default: return WQC_EXIT_ERROR;
    }
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static wqc_status open_shard(wqc_input_shard *s, const coding_args *a, int sequential, wqc_error *err)
{
    wqc_status st = wqc_map_file(s->path, &s->file, err);
    if (st == WQC_OK)
        st = wqc_reader_open_file(&s->file, !sequential, a->key_len ? a->key : NULL, a->key_len, &s->reader, err);
    return st;
}

/* The shard file names of an index's weight_map, sorted and distinct; the
 * map itself stays in *map for the check that every tensor was found. */
static wqc_status read_index(wqc_input *in, const char *path, json_t **map_out, wqc_error *err)
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
static wqc_status number_tensors(wqc_input *in, json_t *map, wqc_error *err)
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
            while (i < in->count && strcmp(wqc_input_name(in, i), key) != 0) i++;
            if (i == in->count) return wqc_fail(err, WQC_ERR_FORMAT, "index: tensor '%s' is not in %s", key, json_string_value(val));
        }
    }
    return WQC_OK;
}

int wqc_input_open(wqc_input *in, const coding_args *a, int sequential)
{
    memset(in, 0, sizeof *in);
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(a->input);
    json_t *map = NULL;
    const char *failed = a->input;
    wqc_status st = WQC_OK;
    if (cli_has_suffix(a->input, ".json")) {
        in->sharded = 1;
        st = read_index(in, a->input, &map, &err);
    } else {
        in->shards = calloc(1, sizeof *in->shards);
        in->shards && (in->shards[0].path = strdup(a->input)) ? (void)(in->nshards = 1)
                                                             : (void)(st = wqc_fail(&err, WQC_ERR_NOMEM, "out of memory"));
    }
    for (size_t k = 0; st == WQC_OK && k < in->nshards; k++) {
        failed = in->shards[k].path;
        st = open_shard(&in->shards[k], a, sequential, &err);
    }
    if (st == WQC_OK) {
        failed = a->input;
        st = number_tensors(in, map, &err);
    }
    json_decref(map);
    if (st != WQC_OK) {
        int rc = wqc_input_status(st);
        cli_file_error(failed, st, &err);
        wqc_input_close(in);
        return rc;
    }
    in->reader = in->nshards ? in->shards[0].reader : NULL;
    return WQC_EXIT_OK;
}

const char *wqc_input_name(const wqc_input *in, size_t i)
{
    return wqc_reader_name(in->shards[in->shard_of[i]].reader, in->index_in[i]);
}

const char *wqc_input_path(const wqc_input *in, size_t i) { return in->shards[in->shard_of[i]].path; }

wqc_status wqc_input_describe(wqc_input *in, size_t i, const wqc_frame **f, wqc_error *err)
{
    return wqc_reader_describe(in->shards[in->shard_of[i]].reader, in->index_in[i], f, err);
}

wqc_status wqc_input_frame(wqc_input *in, size_t i, const wqc_frame **f, wqc_error *err)
{
    return wqc_reader_frame(in->shards[in->shard_of[i]].reader, in->index_in[i], f, err);
}

wqc_status wqc_input_stats(wqc_input *in, size_t i, const wqc_tensor_stats **s, wqc_error *err)
{
    return wqc_reader_stats(in->shards[in->shard_of[i]].reader, in->index_in[i], s, err);
}

void wqc_input_release(wqc_input *in, size_t i, const wqc_frame *f)
{
    wqc_mapped_release(&in->shards[in->shard_of[i]].file, (size_t)f->file_offset, (size_t)f->frame_bytes);
}

uint64_t wqc_input_bytes(const wqc_input *in)
{
    uint64_t n = 0;
    for (size_t k = 0; k < in->nshards; k++) n += in->shards[k].file.size;
    return n;
}

int wqc_input_has_hmac(const wqc_input *in)
{
    for (size_t k = 0; k < in->nshards; k++)
        if (!wqc_reader_has_hmac(in->shards[k].reader)) return 0;
    return in->nshards > 0;
}

int wqc_input_check_size(const coding_args *a, size_t i, const wqc_frame *f)
{
    if (f->nelem <= a->max_elements) return WQC_EXIT_OK;
    cli_error("%s: tensor %zu has %llu elements, more than --max-elements %llu allows (raise it to decode)",
              a->input, i, (unsigned long long)f->nelem, (unsigned long long)a->max_elements);
    return WQC_EXIT_ERROR;
}

void wqc_input_close(wqc_input *in)
{
    for (size_t k = 0; k < in->nshards; k++) {
        wqc_reader_free(in->shards[k].reader);
        wqc_unmap_file(&in->shards[k].file);
        free(in->shards[k].path);
    }
    free(in->shards);
    free(in->shard_of);
    free(in->index_in);
    memset(in, 0, sizeof *in);
}
