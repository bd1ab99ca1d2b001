/* encode of a GGUF input (encode_gguf.c). */
#ifndef WQC_TOOLS_ENCODE_GGUF_H
#define WQC_TOOLS_ENCODE_GGUF_H

#include "coding_args.h"
#include "progress.h"

/* Returns the exit status. */
int encode_gguf(const coding_args *a);

/* Where and how gguf_write_wqc writes. */
typedef struct gguf_encode_params {
    wqc_sink_fn sink;
    void *ctx;
    const uint8_t *key;
    size_t key_len;
    const wqc_encode_options *options;
    int zstd_level;
    int verbose;                /* a line per tensor on stderr */
    cli_progress *progress;     /* may be NULL */
    uint64_t *written;          /* may be NULL */
} gguf_encode_params;

/* The .wqc of a parsed GGUF file buf[0..len): its SOURCE record, names and
 * every tensor (wqc_frame_gguf). */
wqc_status gguf_write_wqc(const wqc_gguf *g, const uint8_t *buf, size_t len, const gguf_encode_params *p,
                          wqc_error *err);

#endif
