/* What a sharded output's index says: a safetensors-style *.index.json
 * (transformers' layout), and the sizes users give shards in. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/tensor_io.h"

int wqc_size_parse(const char *text, uint64_t *bytes)
{
    /* K, M, G, T are powers of 1000, as transformers' max_shard_size; KiB... powers of 1024. */
    static const struct {
        const char *suffix;
        uint64_t unit;
    } units[] = {{"", 1},          {"B", 1},
                 {"K", 1000},      {"KB", 1000},       {"KiB", 1024},       {"M", 1000000},
                 {"MB", 1000000},  {"MiB", 1u << 20},  {"G", 1000000000},   {"GB", 1000000000},
                 {"GiB", 1u << 30}, {"T", 1000000000000}, {"TB", 1000000000000}, {"TiB", 1ull << 40}};
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || errno || text[0] == '-') return 0;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(end, units[i].suffix) == 0) {
            if (v == 0 || v > UINT64_MAX / units[i].unit) return 0;
            *bytes = v * units[i].unit;
            return 1;
        }
    return 0;
}

char *wqc_index_json(const char *const *names, const size_t *file_of, size_t n, const char *const *files,
                     uint64_t total_size, const wqc_kv *meta, size_t nmeta)
{
    json_t *root = json_object(), *md = json_object(), *map = json_object();
    char *text = NULL;
    if (root && md && map) {
        json_object_set_new(md, "total_size", json_integer((json_int_t)total_size));
        for (size_t i = 0; i < nmeta; i++) json_object_set_new(md, meta[i].key, json_string(meta[i].value));
        for (size_t i = 0; i < n; i++) json_object_set_new(map, names[i], json_string(files[file_of[i]]));
        json_object_set(root, "metadata", md);
        json_object_set(root, "weight_map", map);
        text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    }
    json_decref(md);
    json_decref(map);
    json_decref(root);
    return text;
}
