#include "scales.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../side/float_array.h"

enum { FORM_PLAIN = 0, FORM_SDCLIP = 1, FORM_RANGE = 2, FORMS = 3 };

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* What sdclip stores as the offset of a row with this scale. */
static float sdclip_offset(int bits, float scale)
{
    const float fm = (float)((1 << (bits - 1)) - 1);
    return -(fm * scale);
}

/* What affine stores as the scale of a group with this minimum and maximum. */
static float affine_scale(int bits, float lo, float hi)
{
    const float maxq = (float)((1u << bits) - 1);
    return (float)(((double)hi - (double)lo) / maxq);
}

/* The group maxima that give back q's scales, preferring those with the most
 * low zero bits; 0 when some group has none near lo + scale * (2^b - 1). */
static int affine_maxima(int bits, const wqc_quantized *q, uint32_t *hi)
{
    const double maxq = (double)((1u << bits) - 1);
    for (uint64_t g = 0; g < q->ngroups; g++) {
        float lo = q->offset[g], scale = q->scale[g];
        float guess = (float)((double)lo + (double)scale * maxq);
        int found = 0, best_zeros = -1;
        float h = guess;
        for (int k = 0; k < 4; k++) h = nextafterf(h, -INFINITY);
        for (int k = 0; k < 9; k++, h = nextafterf(h, INFINITY)) {
            if (!isfinite(h) || bits_of(affine_scale(bits, lo, h)) != bits_of(scale)) continue;
            uint32_t u = bits_of(h);
            int zeros = u & 0x7fffff ? __builtin_ctz(u & 0x7fffff) : 23;
            if (zeros > best_zeros) best_zeros = zeros, hi[g] = u, found = 1;
        }
        if (!found) return 0;
    }
    return 1;
}

/* Codes one form into out; 0 when the form does not apply to q (the
 * quantizer's own form, where it applies, is never larger than plain: it
 * stores one array fewer or values with fewer mantissa bits). */
static int encode_form(int form, const wqc_quant_params *p, const wqc_quantized *q, uint32_t *a, uint32_t *b,
                       wqc_bytes *out)
{
    size_t na = (size_t)q->ngroups, nb = (size_t)q->ngroups;
    if (form == FORM_SDCLIP) {
        if (p->method != WQC_QUANT_SDCLIP) return 0;
        nb = 0;
        for (uint64_t g = 0; g < q->ngroups; g++) {
            a[g] = bits_of(q->scale[g]);
            if (q->scale[g] == 0.0f) b[nb++] = bits_of(q->offset[g]);
            else if (bits_of(sdclip_offset(q->bits, q->scale[g])) != bits_of(q->offset[g])) return 0;
        }
    } else if (form == FORM_RANGE) {
        if (p->method != WQC_QUANT_AFFINE || !affine_maxima(q->bits, q, b)) return 0;
        for (uint64_t g = 0; g < q->ngroups; g++) a[g] = bits_of(q->offset[g]);
    } else {
        for (uint64_t g = 0; g < q->ngroups; g++) a[g] = bits_of(q->scale[g]), b[g] = bits_of(q->offset[g]);
    }
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, out);
    wqc_rc_encode_direct(&e, (uint32_t)form, 2);
    wqc_floats_encode(&e, WQC_DTYPE_F32, a, na);
    if (form == FORM_SDCLIP) {
        wqc_rc_uint m;
        memset(&m, 0, sizeof m);
        wqc_rc_encode_uint(&e, &m, nb);
    }
    wqc_floats_encode(&e, WQC_DTYPE_F32, b, nb);
    wqc_rc_enc_finish(&e);
    return 1;
}

wqc_status wqc_scales_write(const wqc_quant_params *p, const wqc_quantized *q, wqc_bytes *out, wqc_error *err)
{
    size_t n = q->ngroups ? (size_t)q->ngroups : 1;
    uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    wqc_bytes best = {0};
    int have = 0;
    /* The quantizer's own form first; plain only where that one does not apply. */
    for (int form = FORMS - 1; a && b && form >= 0 && !have; form--) {
        wqc_bytes trial = {0};
        if (encode_form(form, p, q, a, b, &trial) && !trial.failed && (!have || trial.len < best.len)) {
            wqc_bytes_free(&best);
            best = trial;
            have = 1;
        } else {
            wqc_bytes_free(&trial);
        }
    }
    free(a);
    free(b);
    if (!have) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_bytes_put(out, best.data, best.len);
    wqc_bytes_free(&best);
    return out->failed ? wqc_fail(err, WQC_ERR_NOMEM, "out of memory") : WQC_OK;
}

wqc_status wqc_scales_read(const uint8_t *in, size_t len, const wqc_quant_params *p, wqc_quantized *q,
                           wqc_error *err)
{
    size_t n = q->ngroups ? (size_t)q->ngroups : 1;
    uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    q->scale = malloc(n * sizeof *q->scale);
    q->offset = malloc(n * sizeof *q->offset);
    if (!a || !b || !q->scale || !q->offset) {
        free(a), free(b);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, in, len);
    int form = (int)wqc_rc_decode_direct(&d, 2);
    wqc_status st = WQC_OK;
    if (form >= FORMS || (form == FORM_SDCLIP && p->method != WQC_QUANT_SDCLIP) ||
        (form == FORM_RANGE && p->method != WQC_QUANT_AFFINE))
        st = wqc_fail(err, WQC_ERR_FORMAT, "bad SCALES field: form %d for this quantizer", form);
    size_t nb = (size_t)q->ngroups;
    if (st == WQC_OK) {
        wqc_floats_decode(&d, WQC_DTYPE_F32, a, (size_t)q->ngroups);
        if (form == FORM_SDCLIP) {
            wqc_rc_uint m;
            memset(&m, 0, sizeof m);
            uint64_t k = wqc_rc_decode_uint(&d, &m);
            if (k > q->ngroups) st = wqc_fail(err, WQC_ERR_FORMAT, "bad SCALES field: too many offsets");
            nb = (size_t)k;
        }
    }
    if (st == WQC_OK) {
        wqc_floats_decode(&d, WQC_DTYPE_F32, b, nb);
        if (d.overrun > WQC_RC_TAIL) st = wqc_fail(err, WQC_ERR_FORMAT, "bad SCALES field: truncated");
    }
    size_t used = 0;
    for (uint64_t g = 0; st == WQC_OK && g < q->ngroups; g++) {
        if (form == FORM_PLAIN) {
            q->scale[g] = float_of(a[g]);
            q->offset[g] = float_of(b[g]);
        } else if (form == FORM_SDCLIP) {
            q->scale[g] = float_of(a[g]);
            if (q->scale[g] != 0.0f) q->offset[g] = sdclip_offset(q->bits, q->scale[g]);
            else if (used < nb) q->offset[g] = float_of(b[used++]);
            else st = wqc_fail(err, WQC_ERR_FORMAT, "bad SCALES field: too few offsets");
        } else {
            q->offset[g] = float_of(a[g]);
            q->scale[g] = affine_scale(q->bits, q->offset[g], float_of(b[g]));
        }
    }
    if (st == WQC_OK && used != nb && form == FORM_SDCLIP)
        st = wqc_fail(err, WQC_ERR_FORMAT, "bad SCALES field: offsets left over");
    free(a);
    free(b);
    return st;
}
