#include <stdlib.h>

#include "../side/float_array.h"
#include "byte_codec.h"
#include "format.h"
#include "split_streams.h"
#include "wqc/gemv.h"

/* Bytes of a payload that is not rANS-coded: raw, zstd, brotli, floats or split. */
static wqc_status decode_bytes(const wqc_frame *f, uint8_t *out, wqc_isa isa, wqc_error *err)
{
    wqc_status st = WQC_OK;
    switch (f->encoding) {
    case WQC_ENC_RAW:
        if (f->payload_len != f->raw_len) return wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': raw payload has the wrong size", f->name);
        memcpy(out, f->payload, (size_t)f->raw_len);
        break;
    case WQC_ENC_ZSTD:
    case WQC_ENC_BROTLI:
        st = wqc_byte_decompress(f->encoding, f->payload, (size_t)f->payload_len, out, (size_t)f->raw_len, err);
        if (st != WQC_OK) return wqc_fail(err, st, "tensor '%s': %s", f->name, err ? err->msg : "");
        break;
    case WQC_ENC_FLOATS: {
        size_t n = (size_t)f->nelem, size = wqc_dtype_size(f->dtype);
        uint32_t *bits = malloc(n ? n * sizeof *bits : 1);
        if (!bits) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        wqc_rc_dec d;
        wqc_rc_dec_init(&d, f->payload, (size_t)f->payload_len);
        wqc_floats_decode(&d, f->dtype, bits, n);
        for (size_t i = 0; i < n; i++) {
            uint8_t *p = out + size * i;
            for (size_t b = 0; b < size; b++) p[b] = (uint8_t)(bits[i] >> (8 * b));
        }
        free(bits);
        if (d.overrun > WQC_RC_TAIL) return wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': float payload is truncated", f->name);
        break;
    }
    case WQC_ENC_SPLIT: {
        uint8_t *sym = malloc(f->nelem ? (size_t)f->nelem : 1);
        split_rest r;
        st = sym ? split_rest_open(f, &r, err) : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        wqc_rans_output o = {.form = WQC_FORM_SYMBOLS, .dst = sym};
        if (st == WQC_OK) st = wqc_rans_decode_to(&f->coded, &o, 1, isa, err);
        if (st == WQC_OK) st = wqc_float_merge(f->dtype, sym, r.stream, (size_t)f->nelem, out, isa, err);
        if (sym) split_rest_close(&r);
        free(sym);
        break;
    }
    default:
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' is not stored as bytes", f->name);
    }
    return st;
}

wqc_status wqc_frame_decode_symbols(const wqc_frame *f, int threads, uint8_t *out, wqc_error *err)
{
    if (!f->quantized) return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' holds no symbols", f->name);
    wqc_status st;
    if (f->encoding != WQC_ENC_RANS) {
        st = decode_bytes(f, out, wqc_isa_active(), err);
        /* Symbols that did not come from the rANS decoder are checked against the alphabet. */
        for (uint64_t i = 0; st == WQC_OK && i < f->nelem; i++)
            if (out[i] >= f->q.alphabet)
                return wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': symbol %u at %llu is outside the alphabet of %u",
                                f->name, out[i], (unsigned long long)i, f->q.alphabet);
        return st;
    }
    if (!f->gemv_tile) return wqc_rans_decode(&f->coded, threads, out, err);
    uint8_t *tiled = malloc(f->nelem ? (size_t)f->nelem : 1);
    if (!tiled) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    st = wqc_rans_decode(&f->coded, threads, tiled, err);
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

wqc_status wqc_frame_decode_raw_with(const wqc_frame *f, wqc_isa isa, uint8_t *out, wqc_error *err)
{
    if (f->quantized) return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' is not stored as bytes", f->name);
    if (!wqc_isa_available(isa))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "no %s decoder on this CPU or build", wqc_isa_name(isa));
    return decode_bytes(f, out, isa, err);
}

wqc_status wqc_frame_decode_raw(const wqc_frame *f, uint8_t *out, wqc_error *err)
{
    return wqc_frame_decode_raw_with(f, wqc_isa_active(), out, err);
}
