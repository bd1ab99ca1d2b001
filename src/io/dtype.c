#include "wqc/dtype.h"

#include <string.h>

static const struct {
    const char *name;
    size_t size;
} dtype_info[WQC_DTYPE_COUNT] = {
    [WQC_DTYPE_F32] = {"F32", 4},        [WQC_DTYPE_F16] = {"F16", 2},
    [WQC_DTYPE_BF16] = {"BF16", 2},      [WQC_DTYPE_I8] = {"I8", 1},
    [WQC_DTYPE_U8] = {"U8", 1},          [WQC_DTYPE_BOOL] = {"BOOL", 1},
    [WQC_DTYPE_F8_E4M3] = {"F8_E4M3", 1}, [WQC_DTYPE_F8_E5M2] = {"F8_E5M2", 1},
    [WQC_DTYPE_F8_E8M0] = {"F8_E8M0", 1}, [WQC_DTYPE_I16] = {"I16", 2},
    [WQC_DTYPE_U16] = {"U16", 2},        [WQC_DTYPE_I32] = {"I32", 4},
    [WQC_DTYPE_U32] = {"U32", 4},        [WQC_DTYPE_F64] = {"F64", 8},
    [WQC_DTYPE_I64] = {"I64", 8},        [WQC_DTYPE_U64] = {"U64", 8},
};

const char *wqc_dtype_name(wqc_dtype dtype)
{
    if ((unsigned)dtype >= WQC_DTYPE_COUNT) return NULL;
    return dtype_info[dtype].name;
}

wqc_status wqc_dtype_from_name(const char *name, wqc_dtype *out)
{
    for (int i = 0; i < WQC_DTYPE_COUNT; i++) {
        if (strcmp(name, dtype_info[i].name) == 0) {
            *out = (wqc_dtype)i;
            return WQC_OK;
        }
    }
    return WQC_ERR_UNSUPPORTED;
}

size_t wqc_dtype_size(wqc_dtype dtype)
{
    if ((unsigned)dtype >= WQC_DTYPE_COUNT) return 0;
    return dtype_info[dtype].size;
}

int wqc_dtype_is_float(wqc_dtype dtype)
{
    return dtype == WQC_DTYPE_F32 || dtype == WQC_DTYPE_F16 || dtype == WQC_DTYPE_BF16;
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float wqc_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        /* Zero or subnormal: mant * 2^-24, exact in binary32. */
        float mag = (float)mant * 0x1p-24f;
        uint32_t bits;
        memcpy(&bits, &mag, sizeof bits);
        return f32_from_bits(bits | sign);
    }
    if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (mant << 13));
    /* Rebias the exponent from 15 to 127. */
    return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

float wqc_bf16_to_f32(uint16_t b)
{
    return f32_from_bits((uint32_t)b << 16);
}

static uint16_t load_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* wqc_f16_to_f32's bits without branches, so that the loops over many
 * values vectorise (the same result for every input: test_dtype). */
static inline uint32_t f16_as_f32_bits(uint32_t h)
{
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, sub;
    float tiny = (float)mant * 0x1p-24f;
    memcpy(&sub, &tiny, sizeof sub);
    uint32_t mag = exp == 0 ? sub : exp == 31 ? 0x7f800000u | (mant << 13) : ((exp + 112u) << 23) | (mant << 13);
    return (h & 0x8000u) << 16 | mag;
}

wqc_status wqc_convert_to_f32(wqc_dtype dtype, const void *src, size_t n, float *dst)
{
    const unsigned char *p = src;
    switch (dtype) {
    case WQC_DTYPE_F32:
        /* The host is little-endian on every platform wqc builds for (checked at
         * configure time), so this is a plain copy. */
        memcpy(dst, src, n * sizeof(float));
        return WQC_OK;
    case WQC_DTYPE_F16:
        for (size_t i = 0; i < n; i++) {
            uint32_t u = f16_as_f32_bits(load_le16(p + 2 * i));
            memcpy(dst + i, &u, sizeof u);
        }
        return WQC_OK;
    case WQC_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) {
            uint32_t u = (uint32_t)load_le16(p + 2 * i) << 16;
            memcpy(dst + i, &u, sizeof u);
        }
        return WQC_OK;
    case WQC_DTYPE_I8:
        for (size_t i = 0; i < n; i++) dst[i] = (float)(int8_t)p[i];
        return WQC_OK;
    case WQC_DTYPE_U8:
        for (size_t i = 0; i < n; i++) dst[i] = (float)p[i];
        return WQC_OK;
    default:
        return WQC_ERR_UNSUPPORTED;
    }
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

uint16_t wqc_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    /* Round to nearest even on the 16 dropped bits. */
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

uint16_t wqc_f32_to_f16(float f)
{
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u | (uint16_t)((a >> 13) & 0x3ff); /* NaN */
    if (a >= 0x477ff000u) return sign | 0x7c00u; /* rounds to >= 65520: infinity */
    if (a < 0x38800000u) {
        /* Below the smallest normal 2^-14: a subnormal multiple of 2^-24.
         * Adding 0.5 (2^-1) aligns the mantissa so the FPU rounds to even. */
        float mag;
        memcpy(&mag, &a, sizeof mag);
        float shifted = mag + 0.5f;
        return sign | (uint16_t)(f32_bits(shifted) - f32_bits(0.5f));
    }
    /* Normal: rebias 127 -> 15 and round the 13 dropped bits to even. */
    uint32_t r = a + 0xfffu + ((a >> 13) & 1) - (112u << 23);
    return sign | (uint16_t)(r >> 13);
}

float wqc_bf16_round(float f) { return wqc_bf16_to_f32(wqc_f32_to_bf16(f)); }
