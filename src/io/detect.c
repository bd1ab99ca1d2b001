/* What a file is, told by its first bytes (and an index by its suffix). */
#include <stdio.h>
#include <string.h>

#include "wqc/container.h"
#include "wqc/gguf.h"
#include "wqc/tensor_io.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Declared in wqc/container.h, beside the reader; defined here, with the
 * magic (WQC_FILE_MAGIC), so that io can tell a .wqc without the container. */
int wqc_is_wqc(const uint8_t *buf, size_t len) { return len >= 8 && memcmp(buf, WQC_FILE_MAGIC, 8) == 0; }

wqc_file_format wqc_detect_format(const uint8_t *head, size_t len, const char *path)
{
    if (path && ends_with(path, ".wqc.index.json")) return WQC_FILE_WQC_INDEX;
    if (path && ends_with(path, ".json")) return WQC_FILE_SAFETENSORS_INDEX;
    if (wqc_is_wqc(head, len)) return WQC_FILE_WQC;
    if (wqc_gguf_is(head, len)) return WQC_FILE_GGUF;
    if (len >= 6 && memcmp(head, "\x93NUMPY", 6) == 0) return WQC_FILE_NPY;
    if (len >= 9 && head[8] == '{' && head[6] == 0 && head[7] == 0) return WQC_FILE_SAFETENSORS;
    return WQC_FILE_UNKNOWN;
}

wqc_file_format wqc_detect_file(const char *path)
{
    uint8_t head[16];
    size_t n = 0;
    if (strcmp(path, "-") != 0) {
        FILE *f = fopen(path, "rb");
        if (f) {
            n = fread(head, 1, sizeof head, f);
            fclose(f);
        }
    }
    return wqc_detect_format(head, n, path);
}

const char *wqc_file_format_name(wqc_file_format f)
{
    static const char *names[] = {"unknown", "safetensors", "npy", "safetensors index", ".wqc", "sharded .wqc index", "GGUF"};
    return (unsigned)f < sizeof names / sizeof *names ? names[f] : "unknown";
}
