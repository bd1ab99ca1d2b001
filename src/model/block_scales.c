/* Which tensors of a model are the scales of an 8-bit or packed 4-bit tensor
 * beside them (wqc_model_block_scales): FP8 and FP4 checkpoints store their
 * weights in 1-byte tensors and the scales as companions named after them.
 * Such scales are part of the weights' values and are never quantized. */
#include <stdlib.h>
#include <string.h>

#include "wqc/model_encode.h"

typedef struct named {
    const char *name;
    size_t index;
} named;

static int by_name(const void *a, const void *b) { return strcmp(((const named *)a)->name, ((const named *)b)->name); }

static size_t find(const named *bytes, size_t n, const char *name)
{
    named key = {name, 0};
    const named *hit = bsearch(&key, bytes, n, sizeof *bytes, by_name);
    return hit ? hit->index : SIZE_MAX;
}

/* The name of the tensor whose scales `name` would hold, into buf (size
 * cap), or 0 when the name is no companion's:
 *   P.weight_scale_inv -> P.weight  (DeepSeek-V3 FP8: 128x128 blocks)
 *   P.weight_scale, P.weight_scale_2, P.input_scale, P.*global_scale ->
 *       P.weight  (compressed-tensors and ModelOpt FP8 / NVFP4)
 *   P_scales -> P_blocks  (gpt-oss MXFP4: E8M0 scales of 32 E2M1 values) */
static int partner_name(const char *name, char *buf, size_t cap)
{
    size_t n = strlen(name);
    static const char scales[] = "_scales", blocks[] = "_blocks";
    if (n > sizeof scales - 1 && strcmp(name + n - (sizeof scales - 1), scales) == 0) {
        size_t stem = n - (sizeof scales - 1);
        if (stem + sizeof blocks > cap) return 0;
        memcpy(buf, name, stem);
        memcpy(buf + stem, blocks, sizeof blocks);
        return 1;
    }
    const char *dot = strrchr(name, '.');
    if (!dot || !strstr(dot + 1, "scale")) return 0;
    size_t stem = (size_t)(dot - name);
    static const char weight[] = ".weight";
    if (stem + sizeof weight > cap) return 0;
    memcpy(buf, name, stem);
    memcpy(buf + stem, weight, sizeof weight);
    return 1;
}

/* What the scales tensor s tells of the U8 tensor it serves: gpt-oss keeps
 * U8 E8M0 scales in P_scales, NVFP4 E4M3 ones in P.weight_scale. */
static wqc_packed_float packed_by(const wqc_tensor *s)
{
    size_t n = strlen(s->name);
    if (s->dtype == WQC_DTYPE_U8 && n > 7 && strcmp(s->name + n - 7, "_scales") == 0) return WQC_PACKED_MXFP4;
    if (s->dtype == WQC_DTYPE_F8_E4M3 && n > 13 && strcmp(s->name + n - 13, ".weight_scale") == 0) return WQC_PACKED_NVFP4;
    return WQC_PACKED_NONE;
}

wqc_status wqc_model_block_scales(const wqc_model *m, size_t *scales_of, wqc_packed_float *packed, wqc_error *err)
{
    size_t count = wqc_model_count(m), nbytes = 0;
    for (size_t i = 0; i < count; i++) scales_of[i] = SIZE_MAX;
    if (packed)
        for (size_t i = 0; i < count; i++) packed[i] = WQC_PACKED_NONE;
    named *bytes = malloc((count + 1) * sizeof *bytes);
    if (!bytes) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        const wqc_tensor *t = wqc_model_tensor(m, i);
        if (wqc_dtype_size(t->dtype) == 1) bytes[nbytes++] = (named){t->name, i};
    }
    qsort(bytes, nbytes, sizeof *bytes, by_name);
    char buf[1024];
    for (size_t i = 0; i < count && nbytes; i++) {
        const wqc_tensor *t = wqc_model_tensor(m, i);
        if (partner_name(t->name, buf, sizeof buf)) scales_of[i] = find(bytes, nbytes, buf);
        if (scales_of[i] == i) scales_of[i] = SIZE_MAX;
        if (packed && scales_of[i] != SIZE_MAX && wqc_model_tensor(m, scales_of[i])->dtype == WQC_DTYPE_U8 &&
            packed[scales_of[i]] == WQC_PACKED_NONE)
            packed[scales_of[i]] = packed_by(t);
    }
    free(bytes);
    return WQC_OK;
}
