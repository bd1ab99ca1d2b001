/* An archive's tensors described and decoded into the caller's memory. */
#include <stdlib.h>
#include <string.h>

#include "wqc/archive.h"
#include "wqc/dtype.h"

wqc_status wqc_archive_tensor(wqc_archive *a, size_t i, wqc_tensor_info *out, wqc_error *err)
{
    memset(out, 0, sizeof *out);
    const wqc_frame *f;
    wqc_status st = wqc_archive_describe(a, i, &f, err);
    if (st != WQC_OK) return st;
    out->name = wqc_archive_name(a, i);
    out->dtype = f->dtype;
    out->ndim = f->ndim;
    memcpy(out->shape, f->shape, sizeof out->shape);
    out->nelem = f->nelem;
    out->quantized = f->quantized;
    out->encoding = f->encoding;
    out->stored_bytes = f->frame_bytes;
    if (f->quantized) {
        out->quant = f->quant;
        out->bits = f->q.bits;
        out->alphabet = f->q.alphabet;
        out->ngroups = f->q.ngroups;
    }
    return WQC_OK;
}

wqc_status wqc_archive_scales(wqc_archive *a, size_t i, float *scale, float *offset, uint64_t n, wqc_error *err)
{
    const wqc_frame *f;
    wqc_status st = wqc_archive_frame(a, i, &f, err);
    if (st != WQC_OK) return st;
    if (!f->quantized || n != f->q.ngroups)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' has %llu scale groups, not %llu", f->name,
                        (unsigned long long)(f->quantized ? f->q.ngroups : 0), (unsigned long long)n);
    memcpy(scale, f->q.scale, (size_t)n * sizeof *scale);
    memcpy(offset, f->q.offset, (size_t)n * sizeof *offset);
    return WQC_OK;
}

wqc_rans_form wqc_quantized_form(const wqc_frame *f, wqc_decode_as as)
{
    switch (as) {
    case WQC_AS_SYMBOLS: return WQC_FORM_SYMBOLS;
    case WQC_AS_F32: return WQC_FORM_F32;
    case WQC_AS_F16: return WQC_FORM_F16;
    case WQC_AS_BF16: return WQC_FORM_BF16;
    case WQC_AS_ORIGINAL: break;
    }
    if (f->quant.method == WQC_QUANT_GIVEN) return WQC_FORM_SYMBOLS;
    return f->dtype == WQC_DTYPE_F16 ? WQC_FORM_F16 : f->dtype == WQC_DTYPE_BF16 ? WQC_FORM_BF16 : WQC_FORM_F32;
}

/* Whether a frame that is not quantized, of this dtype, can be had as `as`
 * (its bytes, or F32 through wqc_convert_to_f32). */
static int plain_possible(wqc_dtype dtype, wqc_decode_as as)
{
    switch (as) {
    case WQC_AS_ORIGINAL: return 1;
    case WQC_AS_F32:
        return wqc_dtype_is_float(dtype) || dtype == WQC_DTYPE_I8 || dtype == WQC_DTYPE_U8;
    case WQC_AS_F16: return dtype == WQC_DTYPE_F16;
    case WQC_AS_BF16: return dtype == WQC_DTYPE_BF16;
    case WQC_AS_SYMBOLS: break;
    }
    return 0;
}

static uint64_t frame_size(const wqc_frame *f, wqc_decode_as as)
{
    if (f->quantized) {
        wqc_rans_form form = wqc_quantized_form(f, as);
        return f->nelem * (form == WQC_FORM_SYMBOLS ? 1u : form == WQC_FORM_F32 ? 4u : 2u);
    }
    if (!plain_possible(f->dtype, as)) return 0;
    return as == WQC_AS_F32 ? f->nelem * 4u : f->raw_len;
}

uint64_t wqc_archive_decoded_size(wqc_archive *a, size_t i, wqc_decode_as as)
{
    const wqc_frame *f;
    if (i >= wqc_archive_count(a) || wqc_archive_describe(a, i, &f, NULL) != WQC_OK) return 0;
    return frame_size(f, as);
}

static wqc_status decode_frame(const wqc_frame *f, wqc_decode_as as, int threads, void *dst, uint64_t need,
                               wqc_error *err)
{
    if (f->quantized || as != WQC_AS_F32 || f->dtype == WQC_DTYPE_F32)
        return wqc_frame_decode_into(f, f->quantized ? wqc_quantized_form(f, as) : WQC_FORM_SYMBOLS, threads, dst, need,
                                     err);
    /* F32 from another dtype: its bytes, then widened. */
    uint8_t *raw = malloc(f->raw_len ? (size_t)f->raw_len : 1);
    if (!raw) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", f->name);
    wqc_status st = wqc_frame_decode_raw(f, raw, err);
    if (st == WQC_OK && f->raw_len != f->nelem * wqc_dtype_size(f->dtype))
        st = wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': %llu bytes for %llu elements", f->name,
                      (unsigned long long)f->raw_len, (unsigned long long)f->nelem);
    if (st == WQC_OK && wqc_convert_to_f32(f->dtype, raw, (size_t)f->nelem, dst) != WQC_OK)
        st = wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': %s cannot be converted to F32", f->name,
                      wqc_dtype_name(f->dtype));
    free(raw);
    return st;
}

wqc_status wqc_archive_decode(wqc_archive *a, size_t i, wqc_decode_as as, int threads, void *dst, uint64_t dst_len,
                              wqc_error *err)
{
    if (i >= wqc_archive_count(a)) return wqc_fail(err, WQC_ERR_NOT_FOUND, "no tensor %zu", i);
    const wqc_frame *f;
    /* Many threads also check a large record together (its segment checks). */
    wqc_status st = wqc_archive_checks_segments(a, i, threads) ? wqc_archive_frame_segmented(a, i, threads, &f, err)
                                                               : wqc_archive_frame(a, i, &f, err);
    if (st != WQC_OK) return st;
    uint64_t need = frame_size(f, as);
    if (need == 0 && (as == WQC_AS_SYMBOLS || !plain_possible(f->dtype, as)) && !f->quantized)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s' (%s, not quantized) cannot be decoded as %s", f->name,
                        wqc_dtype_name(f->dtype), as == WQC_AS_SYMBOLS ? "symbols" : "that dtype");
    if (dst_len < need)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor '%s' needs %llu bytes, the buffer has %llu", f->name,
                        (unsigned long long)need, (unsigned long long)dst_len);
    st = decode_frame(f, as, threads, dst, need, err);
    wqc_archive_release(a, i, f);
    return st;
}
