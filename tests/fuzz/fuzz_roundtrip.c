/* libFuzzer: random symbols and parameters -> encode -> decode -> equal. */
#include <stdlib.h>
#include <string.h>

#include "wqc/wqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) return 0;
    wqc_rans_params p;
    wqc_rans_params_default(&p);
    p.precision = WQC_PRECISION_MIN + data[0] % (WQC_PRECISION_MAX - WQC_PRECISION_MIN + 1);
    p.lanes = 8u * (1 + data[1] % 32);
    p.chunk = WQC_RANS_CHUNK_MIN + (uint32_t)data[2] * 37;
    uint32_t alphabet = 1 + data[3];
    data += 4, size -= 4;
    uint8_t *sym = malloc(size + 1), *back = malloc(size + 1);
    for (size_t i = 0; i < size; i++) sym[i] = (uint8_t)(data[i] % alphabet);
    wqc_rans_coded c;
    if (wqc_rans_encode(sym, size, alphabet, &p, &c, NULL) != WQC_OK) abort();
    if (wqc_rans_decode(&c, 1, back, NULL) != WQC_OK || (size && memcmp(sym, back, size) != 0)) abort();
    wqc_rans_coded_free(&c);
    free(sym);
    free(back);
    return 0;
}
