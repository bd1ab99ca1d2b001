#include "shards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int shard_spec_parse(const char *arg, shard_spec *s)
{
    memset(s, 0, sizeof *s);
    s->on = 1;
    s->per_input = strcmp(arg, "input") == 0;
    return s->per_input || wqc_size_parse(arg, &s->size);
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
    char *index = shard_index_path(s), *text = NULL;
    int ok = paths && bases && index;
    for (size_t k = 0; ok && k < s->n; k++) ok = (paths[k] = shard_path(s, k, &bases[k])) != NULL;
    if (ok) ok = (text = wqc_index_json(names, shard_of, n, bases, total_size, kv, nkv)) != NULL;
    if (!ok) cli_error("out of memory");
    size_t committed = 0; /* shards renamed into place */
    while (ok && committed < s->n) {
        ok = cli_out_commit_as(&s->outs[committed], paths[committed], s->force);
        committed += ok;
    }
    cli_out out;
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
    for (size_t k = 0; paths && k < s->n; k++) free(paths[k]);
    free(paths);
    free(bases);
    free(index);
    shard_set_free(s);
    return ok ? WQC_EXIT_OK : WQC_EXIT_ERROR;
}
