#include <stdlib.h>
#include <zstd.h>

#include "format.h"
#include "wqc/gemv.h"

wqc_status wqc_frame_decode_symbols(const wqc_frame *f, int threads, uint8_t *out, wqc_error *err)
{
    if (f->encoding != WQC_ENC_RANS)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' holds no symbols", f->name);
    if (!f->gemv_tile) return wqc_rans_decode(&f->coded, threads, out, err);
    uint8_t *tiled = malloc(f->nelem ? (size_t)f->nelem : 1);
    if (!tiled) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = wqc_rans_decode(&f->coded, threads, tiled, err);
    if (st == WQC_OK) wqc_gemv_untile(tiled, f->q.rows, f->q.cols, f->gemv_tile, out);
    free(tiled);
    return st;
}

wqc_status wqc_frame_gemv_prepare(const wqc_frame *f, wqc_gemv **out, wqc_error *err)
{
    *out = NULL;
    if (f->encoding != WQC_ENC_RANS || !f->gemv_tile)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor is not coded in the gemv layout (wqc encode --layout gemv)");
    return wqc_gemv_prepare(&f->coded, &f->q, out, err);
}

wqc_status wqc_frame_decode_raw(const wqc_frame *f, uint8_t *out, wqc_error *err)
{
    if (f->encoding == WQC_ENC_RAW) {
        memcpy(out, f->payload, (size_t)f->raw_len);
        return WQC_OK;
    }
    if (f->encoding != WQC_ENC_ZSTD)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' is not stored as bytes", f->name);
    unsigned long long size = ZSTD_getFrameContentSize(f->payload, (size_t)f->payload_len);
    if (size != f->raw_len)
        return wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': zstd frame size does not match the shape", f->name);
    size_t got = ZSTD_decompress(out, (size_t)f->raw_len, f->payload, (size_t)f->payload_len);
    if (ZSTD_isError(got) || got != f->raw_len)
        return wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': zstd: %s", f->name,
                        ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short frame");
    return WQC_OK;
}
