/* Test helper: opens a tensor file with libwqc and writes its first tensor as
 * little-endian float32 in C order to OUT, with "DTYPE d0xd1x..." on stdout. */
#include <stdio.h>
#include <stdlib.h>

#include "wqc/wqc.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: npy_dump IN OUT\n");
        return 2;
    }
    wqc_model *m;
    wqc_error err;
    wqc_error_clear(&err);
    if (wqc_model_open(argv[1], &m, &err) != WQC_OK) {
        fprintf(stderr, "npy_dump: %s: %s\n", argv[1], err.msg);
        return 1;
    }
    const wqc_tensor *t = wqc_model_tensor(m, 0);
    float *f;
    if (wqc_tensor_to_f32(t, &f, &err) != WQC_OK) {
        fprintf(stderr, "npy_dump: %s\n", err.msg);
        return 1;
    }
    printf("%s ", wqc_dtype_name(t->dtype));
    for (int d = 0; d < t->ndim; d++) printf(d ? "x%llu" : "%llu", (unsigned long long)t->shape[d]);
    printf("\n");
    FILE *out = fopen(argv[2], "wb");
    if (!out || fwrite(f, sizeof *f, (size_t)t->nelem, out) != t->nelem || fclose(out) != 0) {
        fprintf(stderr, "npy_dump: cannot write %s\n", argv[2]);
        return 1;
    }
    free(f);
    wqc_model_close(m);
    return 0;
}
