/* libFuzzer: every rANS chunk decoder of this machine (scalar, AVX2,
 * AVX-512, NEON) on arbitrary streams, each output form (the fused product
 * too, on a matrix in the gemv layout); a SIMD decoder must give the scalar
 * one's verdict and bytes. The first bytes pick the
 * precision, lane count, symbol count, output form and a frequency table;
 * the rest is the stream. */
#include <stdlib.h>
#include <string.h>

#include "wqc/wqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8) return 0;
    int precision = WQC_PRECISION_MIN + data[0] % (WQC_PRECISION_MAX - WQC_PRECISION_MIN + 1);
    uint32_t lanes = 8u * (1 + data[1] % 8);
    uint32_t alphabet = 1 + data[2] % 32;
    size_t n = ((size_t)data[3] | (size_t)data[4] << 8) % 5000;
    wqc_rans_form form = (wqc_rans_form)(data[5] % 5);
    /* DOT: n becomes a rows x cols matrix; dst holds rows accumulators. */
    uint64_t cols = 1 + data[5] / 5 % 50, rows = n / cols;
    if (form == WQC_FORM_DOT) n = (size_t)(rows * cols);
    if (form == WQC_FORM_NIBBLES && alphabet > 16) form = WQC_FORM_SYMBOLS;
    data += 6, size -= 6;
    uint64_t counts[256] = {0};
    for (uint32_t s = 0; s < alphabet && s < size; s++) counts[s] = 1 + data[s];
    counts[0] += 1;
    uint32_t freq[256];
    wqc_rans_table t;
    wqc_rans_dtable d = {0};
    if (wqc_freq_normalize(counts, alphabet, precision, freq, NULL) != WQC_OK ||
        wqc_rans_table_init(&t, freq, alphabet, precision, NULL) != WQC_OK ||
        wqc_rans_dtable_init(&d, &t, NULL) != WQC_OK)
        return 0;
    size_t skip = alphabet < size ? alphabet : size;
    /* One parameter group per 100 elements, row length 100. */
    float scale[50], offset[50];
    for (int g = 0; g < 50; g++) scale[g] = 0.01f * (float)(g + 1), offset[g] = -0.1f * (float)g;
    wqc_quantized groups = {.rows = 50, .cols = 100, .group_len = 100, .ngroups = 50, .scale = scale,
                            .offset = offset};
    float x[50];
    for (int j = 0; j < 50; j++) x[j] = 0.37f * (float)(j % 7) - 1.0f;
    size_t bytes = form == WQC_FORM_DOT ? (size_t)rows * sizeof(float) : (size_t)wqc_rans_output_bytes(form, n);
    uint8_t *stream = malloc(size - skip + 1), *ref = calloc(1, bytes + 1), *out = malloc(bytes + 1);
    if (stream && ref && out) {
        memcpy(stream, data + skip, size - skip); /* exact-size copy: ASan sees any overread */
        wqc_rans_output o_ref = {.form = form, .dst = ref, .groups = &groups, .x = x, .rows = rows, .cols = cols};
        wqc_error want, got;
        wqc_error_clear(&want);
        wqc_status st_ref =
            wqc_rans_decode_chunk_to(&d, lanes, stream, size - skip, &o_ref, 0, n, WQC_ISA_SCALAR, &want);
        for (int isa = 1; isa < WQC_ISA_COUNT; isa++) {
            if (!wqc_isa_available((wqc_isa)isa)) continue;
            wqc_rans_output o = {.form = form, .dst = out, .groups = &groups, .x = x, .rows = rows, .cols = cols};
            memset(out, 0, bytes + 1);
            wqc_error_clear(&got);
            wqc_status st = wqc_rans_decode_chunk_to(&d, lanes, stream, size - skip, &o, 0, n, (wqc_isa)isa, &got);
            if (st != st_ref || strcmp(got.msg, want.msg) != 0 || (st == WQC_OK && memcmp(out, ref, bytes) != 0))
                abort(); /* an ISA disagrees with the scalar reference */
        }
    }
    free(stream);
    free(ref);
    free(out);
    wqc_rans_dtable_free(&d);
    return 0;
}
