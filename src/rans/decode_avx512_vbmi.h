/* Internal: the VBMI kernels' switch over the caller's output `form`: one
 * variant a form, each with the lookup LOOKUP_BUCKET. */
#ifndef WQC_RANS_DECODE_AVX512_VBMI_H
#define WQC_RANS_DECODE_AVX512_VBMI_H

#define BY_FORM(call, ...)                                                                                    \
    switch (form) {                                                                                           \
    case WQC_FORM_SYMBOLS: return call(__VA_ARGS__, WQC_FORM_SYMBOLS, LOOKUP_BUCKET);                          \
    case WQC_FORM_NIBBLES: return call(__VA_ARGS__, WQC_FORM_NIBBLES, LOOKUP_BUCKET);                          \
    case WQC_FORM_F32: return call(__VA_ARGS__, WQC_FORM_F32, LOOKUP_BUCKET);                                  \
    case WQC_FORM_F16: return call(__VA_ARGS__, WQC_FORM_F16, LOOKUP_BUCKET);                                  \
    case WQC_FORM_BF16: return call(__VA_ARGS__, WQC_FORM_BF16, LOOKUP_BUCKET);                                \
    case WQC_FORM_DOT: return call(__VA_ARGS__, WQC_FORM_DOT, LOOKUP_BUCKET);                                  \
    }                                                                                                         \
    return 0

#endif
