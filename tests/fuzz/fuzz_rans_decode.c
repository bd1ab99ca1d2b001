/* libFuzzer: every rANS chunk decoder of this machine (scalar, AVX2,
 * AVX-512, NEON) on arbitrary streams, each output form (the fused product
 * too, on a matrix in the gemv layout), with one table or a context of up to
 * four tables chosen per group (and moved by column shifts); a SIMD decoder must give the scalar one's
 * verdict and bytes. The first bytes pick the precision, lane count, symbol
 * count, output form, context and frequency tables; the rest is the stream. */
#include <stdlib.h>
#include <string.h>

#include "wqc/wqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9) return 0;
    /* Context: 0 none, else that many tables; groups of 100 or 32 along rows of 100. */
    uint32_t ntables = data[6] % 5, group_len = data[6] & 0x80 ? 32 : 100;
    int precision = WQC_PRECISION_MIN + data[0] % (WQC_PRECISION_MAX - WQC_PRECISION_MIN + 1);
    uint32_t lanes = 8u * (1 + data[1] % 8);
    uint32_t alphabet = 1 + data[2] % 32;
    size_t n = ((size_t)data[3] | (size_t)data[4] << 8) % 5000;
    wqc_rans_form form = (wqc_rans_form)(data[5] % 5);
    /* DOT: n becomes a rows x cols matrix; dst holds rows accumulators. */
    uint64_t cols = 1 + data[5] / 5 % 50, rows = n / cols;
    if (form == WQC_FORM_DOT) n = (size_t)(rows * cols);
    if (form == WQC_FORM_NIBBLES && alphabet > 16) form = WQC_FORM_SYMBOLS;
    data += 7, size -= 7;
    wqc_rans_table t[4];
    for (uint32_t k = 0; k < (ntables ? ntables : 1); k++) {
        uint64_t counts[256] = {0};
        for (uint32_t s = 0; s < alphabet && s < size; s++) counts[s] = 1 + (uint8_t)(data[s] + 37 * k);
        counts[k % alphabet] += 1;
        uint32_t freq[256];
        if (wqc_freq_normalize(counts, alphabet, precision, freq, NULL) != WQC_OK ||
            wqc_rans_table_init(&t[k], freq, alphabet, precision, NULL) != WQC_OK)
            return 0;
    }
    uint8_t group_table[5000];
    for (int g = 0; g < 5000; g++) group_table[g] = ntables ? (uint8_t)((data[g % (size ? size : 1)] >> 3) % ntables) : 0;
    wqc_rans_context ctx = {.ntables = ntables, .tables = t, .group_table = group_table, .rows = 50, .cols = 100,
                            .group_len = group_len, .ngroups = 50 * (100 / group_len + (100 % group_len != 0))};
    if (form == WQC_FORM_DOT)
        ctx = (wqc_rans_context){.ntables = ntables, .tables = t, .group_table = group_table, .rows = rows,
                                 .cols = cols, .group_len = cols, .ngroups = rows, .tile = lanes};
    /* Column shifts (bit 6 of the context byte): 2 ntables + 1 bins, shifts of -4..4. */
    int8_t col_shift[100];
    uint8_t bin_table[9];
    if (ntables && form != WQC_FORM_DOT && (data[-1] & 0x40)) {
        ctx.nbins = 2 * ntables + 1;
        for (uint32_t b = 0; b < ctx.nbins; b++) bin_table[b] = (uint8_t)((b * 7 + data[b % size]) % ntables);
        for (int c = 0; c < 100; c++) col_shift[c] = (int8_t)(data[(c + 11) % size] % 9) - 4;
        for (int g = 0; g < 5000; g++) group_table[g] = (uint8_t)(group_table[g] * 2 % ctx.nbins);
        ctx.col_shift = col_shift, ctx.bin_table = bin_table;
    }
    wqc_rans_dtable d = {0};
    if ((ntables ? wqc_rans_dtable_init_context(&d, &ctx, NULL) : wqc_rans_dtable_init(&d, &t[0], NULL)) != WQC_OK)
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
