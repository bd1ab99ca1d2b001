/* libFuzzer: the .wqc reader in both modes (segment checks too), and decoding every frame. */
#include <stdlib.h>

#include "wqc/wqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoded sizes are bounded by the format (2^36); the harness stays small. */
#define HARNESS_DECODE_MAX (1u << 24)

static wqc_status discard(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    (void)ctx, (void)buf, (void)len, (void)err;
    return WQC_OK;
}

static void decode_all(wqc_reader *r)
{
    for (size_t i = 0; i < wqc_reader_count(r); i++) {
        const wqc_frame *f;
        const wqc_tensor_stats *stats;
        wqc_reader_stats(r, i, &stats, NULL);
        if (wqc_reader_has_segments(r, i)) wqc_reader_frame_segmented(r, i, 2, &f, NULL);
        if (wqc_reader_frame(r, i, &f, NULL) != WQC_OK || f->raw_len > HARNESS_DECODE_MAX) continue;
        uint8_t digest[WQC_DIGEST_BYTES];
        wqc_digest_frame(f, 1, digest, NULL);
        uint8_t *out = malloc(f->raw_len ? (size_t)f->raw_len : 1);
        if (!out) continue;
        if (f->quantized) wqc_frame_decode_symbols(f, 1, out, NULL);
        else wqc_frame_decode_raw(f, out, NULL);
        /* The streaming decoder, in small windows. */
        wqc_frame_stream(f, WQC_FORM_SYMBOLS, 1, 4096, discard, NULL, NULL);
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[16] = "fuzzing-key-0001";
    for (int lazy = 0; lazy < 2; lazy++) {
        wqc_reader *r;
        if (wqc_reader_open(data, size, lazy, lazy ? key : NULL, sizeof key, &r, NULL) == WQC_OK) {
            decode_all(r);
            wqc_reader_free(r);
        }
    }
    return 0;
}
