/* libFuzzer: the .npy header parser and the C-order copy. */
#include <stdlib.h>

#include "wqc/wqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wqc_npy_header h;
    if (wqc_npy_parse_header(data, size, &h, NULL) != WQC_OK) return 0;
    /* The parser guarantees data_bytes are present in the input. */
    unsigned char *out = malloc(h.data_bytes ? (size_t)h.data_bytes : 1);
    if (out) wqc_npy_copy_c_order(&h, data, out);
    free(out);
    return 0;
}
