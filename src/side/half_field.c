/* F16 fields with the adaptive range coder (half_field.h). */
#include "half_field.h"

#include <string.h>

#include "range_coder.h"

wqc_status wqc_half_field_encode(const uint8_t *field, size_t len, uint32_t halves, wqc_bytes *out, wqc_error *err)
{
    if (halves < 1 || halves > WQC_HALF_FIELD_MAX || len % (2 * halves))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "F16 field of %zu bytes, %u values a block", len, halves);
    wqc_rc_bit tree[WQC_HALF_FIELD_MAX][256];
    memset(tree, 0, sizeof tree);
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, out);
    for (size_t i = 0, v = 0; i < len; i += 2, v++) {
        wqc_rc_encode_tree(&e, tree[v % halves], 8, field[i + 1]);
        wqc_rc_encode_direct(&e, field[i], 8);
    }
    wqc_rc_enc_finish(&e);
    return out->failed ? wqc_fail(err, WQC_ERR_NOMEM, "out of memory") : WQC_OK;
}

wqc_status wqc_half_field_decode(const uint8_t *in, size_t in_len, uint32_t halves, uint8_t *field, size_t len,
                                 wqc_error *err)
{
    if (halves < 1 || halves > WQC_HALF_FIELD_MAX || len % (2 * halves))
        return wqc_fail(err, WQC_ERR_FORMAT, "F16 field of %zu bytes, %u values a block", len, halves);
    wqc_rc_bit tree[WQC_HALF_FIELD_MAX][256];
    memset(tree, 0, sizeof tree);
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, in, in_len);
    for (size_t i = 0, v = 0; i < len; i += 2, v++) {
        field[i + 1] = (uint8_t)wqc_rc_decode_tree(&d, tree[v % halves], 8);
        field[i] = (uint8_t)wqc_rc_decode_direct(&d, 8);
    }
    if (d.overrun > WQC_RC_TAIL) return wqc_fail(err, WQC_ERR_FORMAT, "F16 field stream ends early");
    return WQC_OK;
}
