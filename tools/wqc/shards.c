#include "shards.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int shard_spec_parse(const char *arg, shard_spec *s)
{
    memset(s, 0, sizeof *s);
    s->on = 1;
    if (strcmp(arg, "input") == 0) {
        s->per_input = 1;
        return 1;
    }
    static const struct {
        const char *suffix;
        uint64_t unit;
    } units[] = {{"", 1},          {"B", 1},
                 {"K", 1000},      {"KB", 1000},       {"KiB", 1024},       {"M", 1000000},
                 {"MB", 1000000},  {"MiB", 1u << 20},  {"G", 1000000000},   {"GB", 1000000000},
                 {"GiB", 1u << 30}, {"T", 1000000000000}, {"TB", 1000000000000}, {"TiB", 1ull << 40}};
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (end == arg || errno || arg[0] == '-') return 0;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(end, units[i].suffix) == 0) {
            if (v == 0 || v > UINT64_MAX / units[i].unit) return 0;
            s->size = v * units[i].unit;
            return 1;
        }
    return 0;
}

int shard_set_begin(shard_set *s, const char *output, const char *ext, int force)
{
    memset(s, 0, sizeof *s);
    s->ext = ext;
    s->force = force;
    if (strcmp(output, "-") == 0) {
        cli_error("a sharded output is several files: give -o STEM%s (not stdout)", ext);
        return 0;
    }
    char *index_suffix = cli_joined(ext, ".index.json");
    size_t n = strlen(output);
    if (index_suffix && cli_has_suffix(output, index_suffix)) n -= strlen(index_suffix);
    else if (cli_has_suffix(output, ext)) n -= strlen(ext);
    free(index_suffix);
    s->stem = strndup(output, n);
    s->near = s->stem ? cli_joined(s->stem, ext) : NULL;
    if (!s->stem || !s->near) {
        cli_error("out of memory");
        return 0;
    }
    return 1;
}

cli_out *shard_set_add(shard_set *s)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        cli_out *grown = realloc(s->outs, cap * sizeof *grown);
        if (!grown) {
            cli_error("out of memory");
            return NULL;
        }
        s->outs = grown;
        s->cap = cap;
    }
    cli_out *o = &s->outs[s->n];
    if (!cli_out_open_temp(o, s->near)) return NULL;
    s->n++;
    return o;
}

/* STEM-0000k-of-0000n.EXT; the base name (for the index) at *base. */
static char *shard_path(const shard_set *s, size_t k, const char **base)
{
    size_t cap = strlen(s->stem) + strlen(s->ext) + 64;
    char *p = malloc(cap);
    if (!p) return NULL;
    snprintf(p, cap, "%s-%05zu-of-%05zu%s", s->stem, k + 1, s->n, s->ext);
    const char *slash = strrchr(p, '/');
    *base = slash ? slash + 1 : p;
    return p;
}

char *shard_index_path(const shard_set *s)
{
    char *a = cli_joined(s->stem, s->ext), *b = a ? cli_joined(a, ".index.json") : NULL;
    free(a);
    return b;
}

static void shard_set_free(shard_set *s)
{
    free(s->outs);
    free(s->stem);
    free(s->near);
    memset(s, 0, sizeof *s);
}

void shard_set_abort(shard_set *s)
{
    for (size_t k = 0; k < s->n; k++) cli_out_abort(&s->outs[k]);
    shard_set_free(s);
}

int shard_set_finish(shard_set *s, const char *const *names, const size_t *shard_of, size_t n, uint64_t total_size,
                     const wqc_kv *kv, size_t nkv)
{
    char **paths = calloc(s->n + 1, sizeof *paths);
    const char **bases = calloc(s->n + 1, sizeof *bases);
    char *index = shard_index_path(s);
    json_t *root = json_object(), *meta = json_object(), *map = json_object();
    int ok = paths && bases && index && root && meta && map;
    for (size_t k = 0; ok && k < s->n; k++) ok = (paths[k] = shard_path(s, k, &bases[k])) != NULL;
    if (!ok) cli_error("out of memory");
    json_object_set_new(meta, "total_size", json_integer((json_int_t)total_size));
    for (size_t i = 0; ok && i < nkv; i++) json_object_set_new(meta, kv[i].key, json_string(kv[i].value));
    for (size_t i = 0; ok && i < n; i++) json_object_set_new(map, names[i], json_string(bases[shard_of[i]]));
    json_object_set(root, "metadata", meta);
    json_object_set(root, "weight_map", map);
    size_t committed = 0; /* shards renamed into place */
    while (ok && committed < s->n) {
        ok = cli_out_commit_as(&s->outs[committed], paths[committed], s->force);
        committed += ok;
    }
    char *text = ok ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    cli_out out;
    if (ok && !text) cli_error("out of memory"), ok = 0;
    if (ok && !cli_out_open(&out, index, s->force)) ok = 0;
    else if (ok) {
        wqc_error err;
        size_t len = strlen(text);
        text[len] = '\n';
        wqc_status st = cli_out_sink(&out, text, len + 1, &err);
        text[len] = '\0';
        ok = cli_out_finish(&out, st, &err) == WQC_EXIT_OK;
    }
    if (!ok) {
        /* Nothing half done: the shards already renamed go too. */
        for (size_t k = 0; k < committed; k++) unlink(paths[k]);
        for (size_t k = committed; k < s->n; k++) cli_out_abort(&s->outs[k]); /* safe on an abandoned one */
    }
    free(text);
    json_decref(meta);
    json_decref(map);
    json_decref(root);
    for (size_t k = 0; paths && k < s->n; k++) free(paths[k]);
    free(paths);
    free(bases);
    free(index);
    shard_set_free(s);
    return ok ? WQC_EXIT_OK : WQC_EXIT_ERROR;
}
