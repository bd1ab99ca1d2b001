/* A C client of the installed library, built through pkg-config alone:
 * decodes every tensor of a .wqc to float32 and prints name, count and sum,
 * as README's library example does. usage: archive_client FILE.wqc */
#include <stdio.h>
#include <stdlib.h>

#include <wqc/wqc.h>

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    wqc_archive *a;
    wqc_error err;
    wqc_error_clear(&err);
    if (wqc_archive_open(argv[1], NULL, &a, &err) != WQC_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < wqc_archive_count(a) && rc == 0; i++) {
        uint64_t n = wqc_archive_decoded_size(a, i, WQC_AS_F32);
        float *w = malloc(n ? n : 1);
        if (!w || wqc_archive_decode(a, i, WQC_AS_F32, 0, w, n, &err) != WQC_OK) {
            fprintf(stderr, "%s: %s\n", wqc_archive_name(a, i), err.msg);
            rc = 1;
        } else {
            double sum = 0;
            for (uint64_t k = 0; k < n / 4; k++) sum += w[k];
            printf("%s %llu %.9g\n", wqc_archive_name(a, i), (unsigned long long)(n / 4), sum);
        }
        free(w);
    }
    wqc_archive_close(a);
    return rc;
}
