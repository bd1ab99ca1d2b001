/* libFuzzer: the .safetensors header parser and validator. */
#include "wqc/wqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wqc_st_header h;
    if (wqc_safetensors_parse(data, size, &h, NULL) != WQC_OK) return 0;
    /* Every accepted range lies inside the input: touch its first and last byte. */
    volatile unsigned sink = 0;
    for (size_t i = 0; i < h.count; i++)
        if (h.entries[i].end > h.entries[i].begin)
            sink += data[h.data_offset + h.entries[i].begin] + data[h.data_offset + h.entries[i].end - 1];
    (void)sink;
    wqc_st_header_free(&h);
    return 0;
}
