/* Block peaks of GGUF codes (gguf_peaks.h). */
#include "gguf_peaks.h"

#include <string.h>

#include "wqc/gguf.h"

#define BLOCK WQC_GGUF_PEAK_BLOCK

int wqc_gguf_has_peaks(uint32_t type)
{
    return type == WQC_GGML_Q8_0 || type == WQC_GGML_Q4_0;
}

/* The peak code of a block: the positive one, and for Q8_0 its negative. */
static uint8_t peak_code(uint32_t type, int negative)
{
    return type == WQC_GGML_Q4_0 ? 0 : negative ? (uint8_t)-127 : 127;
}

static int is_peak(uint32_t type, uint8_t code)
{
    return code == peak_code(type, 0) || code == peak_code(type, 1);
}

uint64_t wqc_gguf_peaks_take(uint32_t type, const uint8_t *codes, uint64_t n, uint8_t *rest, uint8_t *sym)
{
    uint64_t at = 0, peaks = 0;
    /* In place (rest == codes) too: the codes written never pass those still to read. */
    for (uint64_t b = 0; b < n / BLOCK; b++) {
        const uint8_t *block = codes + b * BLOCK;
        int pos = 0;
        while (pos < BLOCK && !is_peak(type, block[pos])) pos++;
        sym[b] = pos < BLOCK ? (uint8_t)(pos | (block[pos] != peak_code(type, 0)) << 5) : WQC_GGUF_PEAK_NONE;
        peaks += pos < BLOCK;
        for (int j = 0; j < BLOCK; j++)
            if (j != pos) rest[at++] = block[j];
    }
    return peaks;
}

wqc_status wqc_gguf_peaks_put(uint32_t type, const uint8_t *sym, uint64_t npeaks, const uint8_t *rest, uint8_t *codes,
                              uint64_t n, wqc_error *err)
{
    uint64_t blocks = n / BLOCK, found = 0;
    uint8_t top = type == WQC_GGML_Q8_0 ? 2 * BLOCK : BLOCK; /* Q4_0 peaks have no sign */
    for (uint64_t b = 0; b < blocks; b++) {
        if (sym[b] != WQC_GGUF_PEAK_NONE && sym[b] >= top)
            return wqc_fail(err, WQC_ERR_FORMAT, "block peaks: symbol %u in block %llu", sym[b], (unsigned long long)b);
        found += sym[b] != WQC_GGUF_PEAK_NONE;
    }
    if (!wqc_gguf_has_peaks(type) || n % BLOCK || found != npeaks)
        return wqc_fail(err, WQC_ERR_FORMAT, "block peaks: %llu peaks where the frame says %llu",
                        (unsigned long long)found, (unsigned long long)npeaks);
    /* Fixed-size copies, the second overlapping the next block (the slack),
     * which its own copies then overwrite. */
    for (uint64_t b = 0; b < blocks; b++) {
        uint8_t *block = codes + b * BLOCK;
        memcpy(block, rest, BLOCK);
        if (sym[b] == WQC_GGUF_PEAK_NONE) {
            rest += BLOCK;
            continue;
        }
        int pos = sym[b] & (BLOCK - 1);
        memcpy(block + pos + 1, rest + pos, BLOCK);
        block[pos] = peak_code(type, sym[b] >> 5);
        rest += BLOCK - 1;
    }
    return WQC_OK;
}
