/* The htscodecs peer of bench/e2e.sh as a whole process: reads a file,
 * codes it with rans_compress_4x16 (order 0, 32 interleaved states, the SIMD
 * code htscodecs picks for this CPU) or decodes with rans_uncompress_4x16,
 * and writes the result. What a user of htscodecs' own API would run.
 * usage: hts_rans c|d IN OUT */
#include <htscodecs/rANS_static4x16.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) return NULL;
    long n = ftell(f);
    rewind(f);
    unsigned char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "c") && strcmp(argv[1], "d"))) {
        fprintf(stderr, "usage: hts_rans c|d IN OUT\n");
        return 2;
    }
    size_t len;
    unsigned char *in = read_all(argv[2], &len);
    if (!in || len > 0xffffffffu) {
        fprintf(stderr, "hts_rans: %s: cannot read (or above 4 GiB)\n", argv[2]);
        return 1;
    }
    unsigned int out_len = 0;
    unsigned char *out = argv[1][0] == 'c'
        ? rans_compress_4x16(in, (unsigned int)len, &out_len, RANS_ORDER_X32 | RANS_ORDER_SIMD_AUTO)
        : rans_uncompress_4x16(in, (unsigned int)len, &out_len);
    if (!out) {
        fprintf(stderr, "hts_rans: %s: coding failed\n", argv[2]);
        return 1;
    }
    FILE *f = fopen(argv[3], "wb");
    if (!f || fwrite(out, 1, out_len, f) != out_len || fclose(f) != 0) {
        fprintf(stderr, "hts_rans: %s: cannot write\n", argv[3]);
        return 1;
    }
    free(out);
    free(in);
    return 0;
}
