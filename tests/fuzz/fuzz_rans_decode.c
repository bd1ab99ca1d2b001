/* libFuzzer: the scalar rANS chunk decoder on arbitrary streams. The first
 * bytes pick the precision, lane count, symbol count and a frequency table;
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
    data += 5, size -= 5;
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
    uint8_t *stream = malloc(size - skip + 1), *out = malloc(n + 1);
    if (stream && out) {
        memcpy(stream, data + skip, size - skip); /* exact-size copy: ASan sees any overread */
        wqc_rans_decode_chunk(&d, lanes, stream, size - skip, out, n, NULL);
    }
    free(stream);
    free(out);
    wqc_rans_dtable_free(&d);
    return 0;
}
