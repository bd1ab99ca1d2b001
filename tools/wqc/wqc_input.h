/* Opening a .wqc input for the decode/verify/info commands: mapped when it
 * is a file (random access through the index), read whole from a pipe. A
 * sharded .wqc (STEM.wqc.index.json, from encode --shard-size) opens every
 * shard it names; tensors are numbered across the shards, shard by shard in
 * the sorted order of their names, each shard's in file order. */
#ifndef WQC_TOOLS_WQC_INPUT_H
#define WQC_TOOLS_WQC_INPUT_H

#include "coding_args.h"

typedef struct wqc_input_shard {
    char *path;
    const char *rel;            /* the path as the index gives it */
    wqc_mapped_file file;
    wqc_reader *reader;
} wqc_input_shard;

typedef struct wqc_input {
    wqc_input_shard *shards;
    size_t nshards;
    size_t count;
    size_t *shard_of, *index_in;   /* per tensor: its shard and its index there */
    int sharded;                   /* opened through an index */
    wqc_reader *reader;            /* the first shard's (metadata, version) */
} wqc_input;

/* Prints the error and returns the exit status (WQC_EXIT_CORRUPT for a
 * damaged file, WQC_EXIT_AUTH for an HMAC failure) or WQC_EXIT_OK.
 * sequential: check every record now (verify), else use the index. */
int wqc_input_open(wqc_input *in, const coding_args *a, int sequential);
void wqc_input_close(wqc_input *in);

const char *wqc_input_name(const wqc_input *in, size_t i);
/* wqc_reader_describe / wqc_reader_frame of tensor i; errors name its file. */
wqc_status wqc_input_describe(wqc_input *in, size_t i, const wqc_frame **f, wqc_error *err);
wqc_status wqc_input_frame(wqc_input *in, size_t i, const wqc_frame **f, wqc_error *err);
/* Tensor i's statistics from its file's STATS record (NULL: none). */
wqc_status wqc_input_stats(wqc_input *in, size_t i, const wqc_tensor_stats **s, wqc_error *err);
/* Done with tensor i's bytes: its file's pages go. */
void wqc_input_release(wqc_input *in, size_t i, const wqc_frame *f);
/* Bytes of all files; whether every shard carries an HMAC. */
uint64_t wqc_input_bytes(const wqc_input *in);
int wqc_input_has_hmac(const wqc_input *in);
/* The file tensor i came from (for errors). */
const char *wqc_input_path(const wqc_input *in, size_t i);

/* WQC_EXIT_OK if frame i of the input is within --max-elements (checked
 * before its output is allocated), else prints why and returns WQC_EXIT_ERROR. */
int wqc_input_check_size(const coding_args *a, size_t i, const wqc_frame *f);

/* Exit status for a failure while reading a .wqc. */
int wqc_input_status(wqc_status st);

#endif
