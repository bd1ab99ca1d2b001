/* libFuzzer: the GGUF reader, every tensor's blocks split into streams and
 * merged back, and coded as encode stores them (block peaks, F16 field
 * codecs) and decoded: both must give the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "wqc/wqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wqc_gguf g;
    if (wqc_gguf_parse(data, size, &g, NULL) != WQC_OK) return 0;
    wqc_gguf_find(&g, "general.alignment");
    for (size_t i = 0; i < g.ntensors; i++) {
        const wqc_gguf_tensor *t = &g.tensors[i];
        wqc_gguf_stream s[WQC_GGUF_STREAMS_MAX];
        size_t n;
        if (wqc_gguf_split(t->type, t->data, t->nbytes, s, &n, NULL) != WQC_OK) continue;
        uint8_t *back = malloc(t->nbytes ? (size_t)t->nbytes : 1);
        if (back) {
            wqc_gguf_merge(t->type, s, n, back, t->nbytes);
            if (memcmp(back, t->data, (size_t)t->nbytes) != 0) abort();
        }
        wqc_gguf_streams_free(s, n);
        wqc_encode_options o;
        wqc_encode_options_default(&o);
        wqc_frame f;
        void *scratch = NULL;
        if (back && wqc_frame_gguf(t, &o, 1, &f, &scratch, NULL) == WQC_OK) {
            memset(back, 0, (size_t)t->nbytes);
            if (wqc_frame_decode_raw(&f, back, NULL) != WQC_OK || memcmp(back, t->data, (size_t)t->nbytes) != 0) abort();
            wqc_encoded_free(&f);
            free(scratch);
        }
        free(back);
    }
    wqc_gguf_free(&g);
    return 0;
}
