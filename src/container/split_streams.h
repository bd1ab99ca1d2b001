/* Internal: the rest streams of a split frame (wqc/lossless.h), ready to
 * merge: pointers into the payload for raw ones, decompressed copies for
 * zstd'd ones. */
#ifndef WQC_CONTAINER_SPLIT_STREAMS_H
#define WQC_CONTAINER_SPLIT_STREAMS_H

#include "wqc/container.h"

typedef struct split_rest {
    const uint8_t *stream[WQC_SPLIT_REST_MAX];
    uint8_t *owned[WQC_SPLIT_REST_MAX];
    wqc_e8m3_exceptions exceptions;     /* SPLIT_E8M3's third stream, read */
} split_rest;

/* A split frame's rest streams (wqc_encoding_split), and the decoded bytes
 * of stream k (split-e8m3's exceptions: their stored length, always raw). */
unsigned split_rest_count(const wqc_frame *f);
uint64_t split_rest_bytes(const wqc_frame *f, unsigned k);

/* Where stream k lies in the payload, as stored (raw or zstd'd). */
const uint8_t *split_rest_stored(const wqc_frame *f, unsigned k);

wqc_status split_rest_open(const wqc_frame *f, split_rest *r, wqc_error *err);
void split_rest_close(split_rest *r);

#endif
