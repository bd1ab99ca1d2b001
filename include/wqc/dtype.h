/* wqc/dtype.h - element types of tensors and exact conversions to float32. */
#ifndef WQC_DTYPE_H
#define WQC_DTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types, named as safetensors names them. Tensors held in memory by
 * libwqc are always little-endian. */
typedef enum wqc_dtype {
    WQC_DTYPE_F32 = 0,
    WQC_DTYPE_F16,
    WQC_DTYPE_BF16,
    WQC_DTYPE_I8,
    WQC_DTYPE_U8,
    /* Types below are carried (listed, passed through) but never quantized. */
    WQC_DTYPE_BOOL,
    WQC_DTYPE_F8_E4M3,
    WQC_DTYPE_F8_E5M2,
    WQC_DTYPE_F8_E8M0,
    WQC_DTYPE_I16,
    WQC_DTYPE_U16,
    WQC_DTYPE_I32,
    WQC_DTYPE_U32,
    WQC_DTYPE_F64,
    WQC_DTYPE_I64,
    WQC_DTYPE_U64,
    WQC_DTYPE_COUNT
} wqc_dtype;

/* "F32", "BF16", ...; NULL for an out-of-range value. */
const char *wqc_dtype_name(wqc_dtype dtype);

/* Parses a safetensors dtype string; WQC_ERR_UNSUPPORTED if unknown. */
wqc_status wqc_dtype_from_name(const char *name, wqc_dtype *out);

/* Bytes per element (1, 2, 4 or 8). */
size_t wqc_dtype_size(wqc_dtype dtype);

/* True for F32, F16 and BF16: the types the quantizers accept. */
int wqc_dtype_is_float(wqc_dtype dtype);

/* Exact IEEE binary16 -> binary32 (subnormals, infinities, NaN payloads kept). */
float wqc_f16_to_f32(uint16_t h);

/* Exact bfloat16 -> binary32 (a bfloat16 is the top half of a binary32). */
float wqc_bf16_to_f32(uint16_t b);

/* float32 -> binary16 and -> bfloat16, rounding to nearest even; overflow
 * gives infinity, NaN stays NaN (quiet). */
uint16_t wqc_f32_to_f16(float f);
uint16_t wqc_f32_to_bf16(float f);
/* f rounded to the nearest bfloat16 (ties to even), as a float. */
float wqc_bf16_round(float f);

/* Converts n little-endian elements of a F32, F16, BF16, I8 or U8 buffer to
 * float32 (exact for every one of these types). `src` needs no alignment.
 * WQC_ERR_UNSUPPORTED for other dtypes. */
wqc_status wqc_convert_to_f32(wqc_dtype dtype, const void *src, size_t n, float *dst);

#ifdef __cplusplus
}
#endif
#endif
