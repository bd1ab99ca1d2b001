#include "split_streams.h"

#include <stdlib.h>
#include <string.h>

#include "../common/byte_codec.h"
#include "wqc/lossless.h"

unsigned split_rest_count(const wqc_frame *f)
{
    return f->encoding == WQC_ENC_SPLIT_E8M3 ? 3 : wqc_split_rest_count(f->dtype);
}

uint64_t split_rest_bytes(const wqc_frame *f, unsigned k)
{
    if (f->encoding != WQC_ENC_SPLIT_E8M3) return f->nelem;
    return k < 2 ? wqc_e8m3_rest_bytes(k, f->nelem) : f->rest_len[2];
}

const uint8_t *split_rest_stored(const wqc_frame *f, unsigned k)
{
    const uint8_t *at = f->payload + f->coded.payload_len;
    for (unsigned j = 0; j < k; j++) at += f->rest_len[j];
    return at;
}

wqc_status split_rest_open(const wqc_frame *f, split_rest *r, wqc_error *err)
{
    memset(r, 0, sizeof *r);
    for (unsigned k = 0; k < split_rest_count(f); k++) {
        const uint8_t *at = split_rest_stored(f, k);
        if (f->rest_coding[k] == WQC_ENC_RAW) {
            r->stream[k] = at;
        } else {
            uint64_t want = split_rest_bytes(f, k);
            r->owned[k] = malloc(want ? (size_t)want : 1);
            if (!r->owned[k]) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            wqc_status st = wqc_byte_decompress(WQC_ENC_ZSTD, at, (size_t)f->rest_len[k], r->owned[k], (size_t)want, err);
            if (st != WQC_OK) return wqc_fail_context(err, st, "tensor '%s': rest stream %u", f->name, k);
            r->stream[k] = r->owned[k];
        }
    }
    if (f->encoding != WQC_ENC_SPLIT_E8M3) return WQC_OK;
    wqc_status st = wqc_e8m3_exceptions_decode(r->stream[2], (size_t)f->rest_len[2], f->nelem, &r->exceptions, err);
    return st == WQC_OK ? st : wqc_fail_context(err, st, "tensor '%s'", f->name);
}

void split_rest_close(split_rest *r)
{
    for (unsigned k = 0; k < WQC_SPLIT_REST_MAX; k++) free(r->owned[k]);
    wqc_e8m3_exceptions_free(&r->exceptions);
    memset(r, 0, sizeof *r);
}
