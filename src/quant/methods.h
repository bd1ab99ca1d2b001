/* Internal: the quantization methods behind wqc_quantize(). Each fills the
 * symbols, scales and offsets of an already allocated wqc_quantized. Affine
 * by row or group and sdclip quantize rows r0..r1-1 from w, which holds
 * those rows (r0 = 0, r1 = rows: the whole tensor); affine per tensor and
 * grid take the whole tensor. */
#ifndef WQC_QUANT_METHODS_H
#define WQC_QUANT_METHODS_H

#include "wqc/quant.h"

wqc_status wqc_quantize_affine(const float *w, const wqc_quant_params *p, const char *name, wqc_quantized *q,
                               uint64_t r0, uint64_t r1, wqc_error *err);
wqc_status wqc_quantize_sdclip(const float *w, const wqc_quant_params *p, const char *name, wqc_quantized *q,
                               uint64_t r0, uint64_t r1, wqc_error *err);
wqc_status wqc_quantize_grid(const float *w, const wqc_quant_params *p, const char *name,
                             wqc_quantized *q, wqc_error *err);

/* The error for the first non-finite value among w[0..n). */
wqc_status wqc_quant_nonfinite(const float *w, uint64_t n, uint64_t base, const char *name,
                               wqc_error *err);

#endif
