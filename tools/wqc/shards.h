/* Sharded outputs, as transformers saves large checkpoints: files
 * STEM-00001-of-0000N.EXT and an index STEM.EXT.index.json whose
 * "weight_map" names the file of every tensor. Shards are written to
 * temporary files and renamed once all are complete (N is known only then),
 * the index last; on failure none is left behind. */
#ifndef WQC_TOOLS_SHARDS_H
#define WQC_TOOLS_SHARDS_H

#include <stddef.h>
#include <stdint.h>

#include "output.h"
#include "wqc/wqc.h"

/* --shard-size SIZE | input */
typedef struct shard_spec {
    int on;
    int per_input;      /* one output per input shard */
    uint64_t size;      /* bytes per file; a larger tensor gets a file of its own */
} shard_spec;

/* SIZE is bytes with an optional K, M, G, T (powers of 1000, as
 * transformers' max_shard_size) or KiB, MiB, GiB, TiB suffix (B optional). */
int shard_spec_parse(const char *arg, shard_spec *s);

typedef struct shard_set {
    char *stem;             /* output path without EXT / EXT.index.json */
    const char *ext;        /* ".wqc" or ".safetensors" */
    char *near;             /* where temporary files go */
    int force;
    cli_out *outs;
    size_t n, cap;
} shard_set;

/* output: STEM.EXT or STEM.EXT.index.json. Prints the error and returns 0 on failure. */
int shard_set_begin(shard_set *s, const char *output, const char *ext, int force);
/* Opens the next shard (a temporary file); NULL after printing the error. */
cli_out *shard_set_add(shard_set *s);
/* Commits the shards under their final names and writes the index mapping
 * names[i] to shard shard_of[i], with total_size (the tensors' bytes, as
 * transformers counts them) and the metadata kv. Returns the exit status. */
int shard_set_finish(shard_set *s, const char *const *names, const size_t *shard_of, size_t n, uint64_t total_size,
                     const wqc_kv *kv, size_t nkv);
/* Removes every shard and frees s. */
void shard_set_abort(shard_set *s);

/* Path of the index of an output (for messages). */
char *shard_index_path(const shard_set *s);

#endif
