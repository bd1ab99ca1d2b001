/* libFuzzer: the sharded-checkpoint reader (`*.index.json`). The input is
 * written as an index file beside two small valid shards made at start-up,
 * then opened as a model, and every tensor it lists is read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wqc/wqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], index_path[128];

/* A safetensors file holding one F32 tensor NAME of 2 x 3. */
static void write_shard(const char *file, const char *name)
{
    char header[160], path[128];
    int hlen = snprintf(header, sizeof header,
                        "{\"%s\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", name);
    uint64_t len = (uint64_t)hlen;
    float w[6] = {0.5f, -1, 2, 0, 3.25f, -0.125f};
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(&len, 8, 1, f) != 1 || fwrite(header, 1, (size_t)hlen, f) != (size_t)hlen ||
        fwrite(w, sizeof w, 1, f) != 1)
        abort();
    fclose(f);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/wqc-fuzz-index-XXXXXX");
    if (!mkdtemp(dir)) abort();
    write_shard("a.safetensors", "layers.0.w");
    write_shard("b.safetensors", "layers.1.w");
    snprintf(index_path, sizeof index_path, "%s/model.safetensors.index.json", dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) setup();
    FILE *f = fopen(index_path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    wqc_model *m = NULL;
    if (wqc_model_open(index_path, &m, NULL) == WQC_OK) {
        for (size_t i = 0; i < wqc_model_count(m); i++) {
            float *w = NULL;
            if (wqc_tensor_to_f32(wqc_model_tensor(m, i), &w, NULL) == WQC_OK) free(w);
        }
        for (size_t i = 0; i < wqc_model_metadata_count(m); i++) (void)wqc_model_metadata(m, i);
        wqc_model_close(m);
    }
    return 0;
}
