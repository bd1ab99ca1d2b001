/* Internal: the SCALES field of format 2 (docs/FORMAT.md): a quantized
 * tensor's scales and offsets, losslessly, in the cheapest of three forms:
 *   0  both arrays as they are;
 *   1  sdclip: the scales, offsets implied (-(M * scale) in float32) except
 *      where the scale is 0 (constant rows), which keep theirs;
 *   2  affine: the offsets (each group's minimum) and each group's maximum,
 *      from which scale = float32((max - min) / (2^b - 1)) in double, as the
 *      quantizer computes it; cheaper when the weights were bfloat16 or
 *      float16, whose maxima have few mantissa bits while the scales have many.
 * Each array goes through the float-array coder (src/side/float_array.h). */
#ifndef WQC_CONTAINER_SCALES_H
#define WQC_CONTAINER_SCALES_H

#include "../common/bytes.h"
#include "wqc/quant.h"

/* Appends the field value for q's ngroups scales and offsets. */
wqc_status wqc_scales_write(const wqc_quant_params *p, const wqc_quantized *q, wqc_bytes *out, wqc_error *err);
/* Reads them into q->scale and q->offset (allocated; q->ngroups set by the
 * caller); WQC_ERR_FORMAT for a form that does not apply or a short field. */
wqc_status wqc_scales_read(const uint8_t *in, size_t len, const wqc_quant_params *p, wqc_quantized *q,
                           wqc_error *err);

#endif
