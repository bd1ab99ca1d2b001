#include <stdlib.h>
#include <string.h>

#include "../side/float_array.h"
#include "../side/half_field.h"
#include "../common/big_buffer.h"
#include "../common/byte_codec.h"
#include "../lossless/gguf_peaks.h"
#include "format.h"
#include "split_streams.h"
#include "wqc/gguf.h"
#include "wqc/gemv.h"

/* GGUF codes whose block peaks were left out: the peak symbols and the
 * other codes decoded, the peaks put back. */
static wqc_status decode_with_peaks(const wqc_frame *f, uint8_t *codes, wqc_isa isa, wqc_error *err)
{
    uint64_t blocks = f->nelem / WQC_GGUF_PEAK_BLOCK, rest_n = f->nelem - f->gguf_peaks;
    uint8_t *sym = malloc(blocks ? (size_t)blocks : 1), *rest = wqc_big_alloc((size_t)rest_n + WQC_GGUF_PEAK_SLACK);
    wqc_status st = sym && rest ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_rans_output o = {.form = WQC_FORM_SYMBOLS, .dst = sym};
    if (st == WQC_OK) st = wqc_rans_decode_to(&f->peak_coded, &o, 1, isa, err);
    o.dst = rest;
    if (st == WQC_OK) st = wqc_rans_decode_to(&f->coded, &o, 1, isa, err);
    if (st == WQC_OK) {
        memset(rest + rest_n, 0, WQC_GGUF_PEAK_SLACK);
        st = wqc_gguf_peaks_put(f->ggml_type, sym, f->gguf_peaks, rest, codes, f->nelem, err);
        if (st != WQC_OK) st = wqc_fail_context(err, st, "tensor '%s'", f->name);
    }
    free(sym);
    free(rest);
    return st;
}

/* GGUF blocks: the codes decoded, the fields unpacked, merged into blocks. */
static wqc_status decode_gguf(const wqc_frame *f, uint8_t *out, wqc_isa isa, wqc_error *err)
{
    uint32_t alphabet, nfields, flen[WQC_GGUF_STREAMS_MAX], bw, bb;
    wqc_gguf_layout(f->ggml_type, &alphabet, &nfields, flen);
    wqc_ggml_type_block(f->ggml_type, &bw, &bb);
    uint64_t blocks = f->nelem / bw;
    wqc_gguf_stream s[WQC_GGUF_STREAMS_MAX] = {{0}};
    uint8_t *owned[WQC_GGUF_STREAMS_MAX] = {0};
    /* MiBs written at once: huge pages (a fault a 2 MiB, not a 4 KiB). */
    s[0].data = owned[0] = wqc_big_alloc((size_t)f->nelem + WQC_GGUF_PEAK_SLACK);
    s[0].len = f->nelem;
    wqc_status st = s[0].data ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_rans_output o = {.form = WQC_FORM_SYMBOLS, .dst = s[0].data};
    if (st == WQC_OK)
        st = f->gguf_peaks ? decode_with_peaks(f, s[0].data, isa, err) : wqc_rans_decode_to(&f->coded, &o, 1, isa, err);
    const uint8_t *at = f->payload + f->coded.payload_len + f->peak_coded.payload_len;
    for (uint32_t k = 0; st == WQC_OK && k < nfields; k++) {
        uint64_t want = blocks * flen[k];
        s[1 + k].len = want;
        if (f->rest_coding[k] == WQC_FIELD_RAW) {
            s[1 + k].data = (uint8_t *)at;
        } else {
            s[1 + k].data = owned[1 + k] = malloc(want ? (size_t)want : 1);
            if (!owned[1 + k]) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            else if (f->rest_coding[k] == WQC_FIELD_HALVES)
                st = wqc_half_field_decode(at, (size_t)f->rest_len[k], wqc_gguf_field_halves(f->ggml_type, k), owned[1 + k],
                                           (size_t)want, err);
            else if (f->rest_coding[k] == WQC_FIELD_HALVES_RANS)
                st = wqc_half_rans_decode(at, (size_t)f->rest_len[k], owned[1 + k], (size_t)want, isa, err);
            else st = wqc_byte_decompress(WQC_ENC_ZSTD, at, (size_t)f->rest_len[k], owned[1 + k], (size_t)want, err);
            if (st != WQC_OK) st = wqc_fail_context(err, st, "tensor '%s': GGUF field %u", f->name, k);
        }
        at += f->rest_len[k];
    }
    if (st == WQC_OK) wqc_gguf_merge(f->ggml_type, s, 1 + nfields, out, f->raw_len);
    for (uint32_t k = 0; k <= nfields; k++) free(owned[k]);
    return st;
}

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
    case WQC_ENC_LZMA:
        st = wqc_byte_decompress(f->encoding, f->payload, (size_t)f->payload_len, out, (size_t)f->raw_len, err);
        if (st != WQC_OK) return wqc_fail_context(err, st, "tensor '%s'", f->name);
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
    case WQC_ENC_SPLIT:
    case WQC_ENC_SPLIT_E8M3: {
        if (!split_rest_count(f)) {
            /* A 1-byte value is its symbol: straight into place. */
            wqc_rans_output o = {.form = WQC_FORM_SYMBOLS, .dst = out};
            st = wqc_rans_decode_to(&f->coded, &o, 1, isa, err);
            break;
        }
        uint8_t *sym = malloc(f->nelem ? (size_t)f->nelem : 1);
        split_rest r;
        st = sym ? split_rest_open(f, &r, err) : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        wqc_rans_output o = {.form = WQC_FORM_SYMBOLS, .dst = sym};
        if (st == WQC_OK) st = wqc_rans_decode_to(&f->coded, &o, 1, isa, err);
        if (st == WQC_OK && f->encoding == WQC_ENC_SPLIT_E8M3)
            st = wqc_e8m3_merge(sym, r.stream[0], r.stream[1], &r.exceptions, 0, (size_t)f->nelem, f->split_base, out, isa,
                                err);
        else if (st == WQC_OK) st = wqc_float_merge(f->dtype, sym, r.stream, (size_t)f->nelem, out, isa, err);
        if (sym) split_rest_close(&r);
        free(sym);
        break;
    }
    case WQC_ENC_GGUF: st = decode_gguf(f, out, isa, err); break;
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
