/* The GPU loader (wqc_cuda_model_*) against the CPU decoders, bit for bit:
 * a quantized .wqc (decoded to its dtype and to F16), a lossless .wqc (BF16,
 * F16, U8 split frames on the GPU; F32 with zstd'd rests, small vectors
 * and kept tensors on the host) and the safetensors they came from, into
 * the model's memory and the caller's; then a damaged record and a damaged
 * chunk (its record's check made to hold) refused, naming the tensor.
 * Exit 77 without a GPU. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_generateSecret_fromSeed */
#include <xxhash.h>

#include "../../src/cuda/segment_hash.h"
#include "gpu_fixture.h"
#include "wqc/cuda.h"

#define NT 8
#define BIG 7   /* its lossless record has segment checks, loaded in units by several workers */
static const char *const names[NT] = {"attn.weight", "mlp.weight", "half.weight", "wide.weight", "norm.weight",
                                      "codes", "odd.weight", "big.weight"};

/* Gaussian values (sigma 0.02), seeded. */
static float gaussian(uint64_t *state)
{
    double s = 0;
    for (int k = 0; k < 12; k++) {
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        s += (double)(*state >> 11) / 9007199254740992.0;
    }
    return (float)((s - 6.0) * 0.02);
}

/* The source tensors: BF16 256x1024, F32 384x512, F16 200x512, F32 made of
 * BF16 values 64x2048 (its low mantissa bytes zero: zstd'd rests), an F32
 * norm vector, U8 codes, BF16 37x33 (a count not a multiple of 32) and BF16
 * 1024x1536 (3 MB: several units and 64 KiB segments once coded losslessly). */
static void make_tensors(wqc_tensor *t, void **mem)
{
    static const wqc_dtype dtypes[NT] = {WQC_DTYPE_BF16, WQC_DTYPE_F32, WQC_DTYPE_F16,  WQC_DTYPE_F32,
                                         WQC_DTYPE_F32,  WQC_DTYPE_U8,  WQC_DTYPE_BF16, WQC_DTYPE_BF16};
    static const uint64_t shapes[NT][2] = {{256, 1024}, {384, 512}, {200, 512}, {64, 2048},
                                           {768, 0},    {300, 700}, {37, 33},   {1024, 1536}};
    uint64_t state = 7;
    for (int i = 0; i < NT; i++) {
        uint64_t n = shapes[i][0] * (shapes[i][1] ? shapes[i][1] : 1);
        size_t size = wqc_dtype_size(dtypes[i]);
        uint8_t *p = malloc((size_t)n * size);
        for (uint64_t k = 0; k < n; k++) {
            float v = gaussian(&state);
            if (i == 4) v = 1.0f + v;
            if (dtypes[i] == WQC_DTYPE_BF16) {
                uint16_t b = wqc_f32_to_bf16(v);
                memcpy(p + 2 * k, &b, 2);
            } else if (dtypes[i] == WQC_DTYPE_F16) {
                uint16_t h = wqc_f32_to_f16(v);
                memcpy(p + 2 * k, &h, 2);
            } else if (dtypes[i] == WQC_DTYPE_U8) {
                p[k] = (uint8_t)(128.0f + 2000.0f * v);
            } else {
                if (i == 3) v = wqc_bf16_round(v);
                memcpy(p + 4 * k, &v, 4);
            }
        }
        if (i == 0) memset(p + 2 * 1000, 0, 2); /* a zero: a split-e8m3 exception */
        mem[i] = p;
        t[i] = (wqc_tensor){.name = names[i], .dtype = dtypes[i], .ndim = shapes[i][1] ? 2 : 1,
                            .shape = {shapes[i][0], shapes[i][1]}, .nelem = n, .data = p, .nbytes = n * size};
    }
}

static int write_file(const char *path, const wqc_memory_out *m)
{
    FILE *fp = fopen(path, "wb");
    int ok = fp && fwrite(m->data, 1, m->len, fp) == m->len;
    if (fp) ok = fclose(fp) == 0 && ok;
    return ok;
}

/* Tensor i of the GPU load (dev) against the CPU's decode of the same file. */
static void compare(const char *label, wqc_archive *a, size_t i, wqc_decode_as as, const wqc_cuda_tensor *t,
                    const void *dev)
{
    wqc_tensor_info info;
    wqc_error err;
    wqc_archive_tensor(a, i, &info, &err);
    if (!info.quantized && as != WQC_AS_ORIGINAL) as = WQC_AS_ORIGINAL; /* the loader gives such tensors as stored */
    uint64_t want_bytes = wqc_archive_decoded_size(a, i, as);
    CHECK(t->bytes == want_bytes, "%s %s: %llu bytes, the CPU decodes %llu", label, t->name,
          (unsigned long long)t->bytes, (unsigned long long)want_bytes);
    CHECK(strcmp(t->name, info.name) == 0 && t->ndim == info.ndim, "%s: tensor %zu is '%s', the file's '%s'", label, i,
          t->name, info.name);
    if (t->bytes != want_bytes) return;
    uint8_t *cpu = malloc((size_t)want_bytes + 1), *gpu = malloc((size_t)want_bytes + 1);
    wqc_status st = wqc_archive_decode(a, i, as, 1, cpu, want_bytes, &err);
    CHECK(st == WQC_OK, "%s %s: CPU decode: %s", label, t->name, err.msg);
    cudaMemcpy(gpu, dev, (size_t)want_bytes, cudaMemcpyDeviceToHost);
    CHECK(memcmp(cpu, gpu, (size_t)want_bytes) == 0, "%s %s: GPU load differs from the CPU decode", label, t->name);
    free(cpu);
    free(gpu);
}

/* Loads path (as) into the model's memory and, with own_memory, into
 * allocations of the test's; every tensor against the CPU. */
static void check_load(const char *label, const char *path, wqc_decode_as as, int own_memory, wqc_archive *a,
                       int expect_gpu_frames)
{
    wqc_cuda_model *m = NULL;
    wqc_error err;
    wqc_cuda_load_options o = {.as = as, .threads = 3, .piece = 64 << 10};
    wqc_status st = wqc_cuda_model_open(path, &o, &m, &err);
    CHECK(st == WQC_OK, "%s: open: %s", label, err.msg);
    if (st != WQC_OK) return;
    size_t n = wqc_cuda_model_count(m);
    void **dst = NULL;
    if (own_memory) {
        dst = calloc(n, sizeof *dst);
        for (size_t i = 0; i < n; i++) {
            wqc_cuda_tensor t;
            wqc_cuda_model_tensor(m, i, &t);
            cudaMalloc(&dst[i], t.bytes ? t.bytes : 1);
        }
    }
    wqc_cuda_load_times times;
    st = wqc_cuda_model_load(m, dst, &times, &err);
    CHECK(st == WQC_OK, "%s: load: %s", label, err.msg);
    if (st == WQC_OK) {
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++) {
            wqc_cuda_tensor t;
            wqc_cuda_model_tensor(m, i, &t);
            total += t.bytes;
            if (a) compare(label, a, i, as, &t, dst ? dst[i] : wqc_cuda_model_data(m, i));
        }
        CHECK(times.out_bytes == total && times.total > 0 && times.file_bytes > 0,
              "%s: times: %llu bytes out of %llu, %.6f s", label, (unsigned long long)times.out_bytes,
              (unsigned long long)total, times.total);
        CHECK(!expect_gpu_frames || times.gpu_decode > 0, "%s: no frame decoded on the GPU", label);
        printf("ok  %s: %zu tensors, %llu bytes read, %llu to the GPU, %llu made (%.2f ms)\n", label, n,
               (unsigned long long)times.file_bytes, (unsigned long long)times.gpu_bytes,
               (unsigned long long)times.out_bytes, 1e3 * times.total);
    }
    for (size_t i = 0; dst && i < n; i++) cudaFree(dst[i]);
    free(dst);
    wqc_cuda_model_close(m);
}

/* The safetensors file loaded against its own bytes. */
static void check_safetensors(const char *path, const wqc_tensor *t)
{
    wqc_cuda_model *m = NULL;
    wqc_error err;
    wqc_status st = wqc_cuda_model_open(path, NULL, &m, &err);
    CHECK(st == WQC_OK, "safetensors: open: %s", err.msg);
    if (st != WQC_OK) return;
    st = wqc_cuda_model_load(m, NULL, NULL, &err);
    CHECK(st == WQC_OK && wqc_cuda_model_count(m) == NT, "safetensors: load: %s", err.msg);
    for (size_t i = 0; st == WQC_OK && i < NT; i++) {
        wqc_cuda_tensor g;
        wqc_cuda_model_tensor(m, i, &g);
        size_t k = 0;
        while (k < NT && strcmp(t[k].name, g.name) != 0) k++;
        CHECK(k < NT && g.dtype == t[k].dtype && g.bytes == t[k].nbytes, "safetensors: tensor '%s'", g.name);
        if (k == NT || g.bytes != t[k].nbytes) continue;
        uint8_t *back = malloc((size_t)g.bytes);
        cudaMemcpy(back, wqc_cuda_model_data(m, i), (size_t)g.bytes, cudaMemcpyDeviceToHost);
        CHECK(memcmp(back, t[k].data, (size_t)g.bytes) == 0, "safetensors: tensor '%s' differs", g.name);
        free(back);
    }
    if (st == WQC_OK) printf("ok  safetensors: %d tensors as they are\n", NT);
    wqc_cuda_model_close(m);
}

/* A copy of the file with one payload byte of tensor i changed; with
 * fix_check, its record's check recomputed so that only the chunk is wrong
 * unless the record has segment checks (segments = 0: loaded without them,
 * WQC_SEGMENT_CHECKS=0, so that the chunk's own check is what fails). */
static void check_damage(const char *path, const wqc_memory_out *file, size_t i, int fix_check, int segments,
                         wqc_status want)
{
    /* The frame as read from the bytes in memory, so that its pointers are into them. */
    const wqc_frame *f = NULL;
    wqc_error err;
    wqc_archive *a = NULL;
    if (wqc_archive_open_memory(file->data, file->len, NULL, &a, &err) != WQC_OK ||
        wqc_archive_describe(a, i, &f, &err) != WQC_OK) {
        CHECK(0, "damage: reading the file: %s", err.msg);
        wqc_archive_close(a);
        return;
    }
    wqc_memory_out bad = {malloc(file->len), file->len, file->len};
    memcpy(bad.data, file->data, file->len);
    const uint8_t *payload = f->encoding == WQC_ENC_RANS ? f->coded.payload : f->payload;
    size_t at = (size_t)(payload - file->data) + (size_t)f->coded.offset[1] + 300;
    bad.data[at] ^= 0x5A;
    if (fix_check) {
        /* Format 2: type, flags, varint body length, the check (XXH3-64 of the
         * body seeded with XXH3-64 of the bytes before the check). */
        uint8_t *rec = bad.data + f->file_offset;
        size_t head = 2;
        uint64_t len = 0;
        for (int shift = 0;; shift += 7) {
            len |= (uint64_t)(rec[head] & 0x7f) << shift;
            if (!(rec[head++] & 0x80)) break;
        }
        uint32_t check = (uint32_t)XXH3_64bits_withSeed(rec + head + 4, (size_t)len, XXH3_64bits(rec, head));
        for (int k = 0; k < 4; k++) rec[head + (size_t)k] = (uint8_t)(check >> (8 * k));
    }
    CHECK(write_file(path, &bad), "writing %s", path);
    wqc_cuda_model *m = NULL;
    wqc_cuda_load_options o = {.threads = 3, .piece = 64 << 10};
    if (!segments) setenv("WQC_SEGMENT_CHECKS", "0", 1);
    wqc_status st = wqc_cuda_model_open(path, &o, &m, &err);
    unsetenv("WQC_SEGMENT_CHECKS");
    if (st == WQC_OK) st = wqc_cuda_model_load(m, NULL, NULL, &err);
    CHECK(st == want && strstr(err.msg, f->name), "damaged %s: status %d (%s), expected %d naming '%s'",
          fix_check ? "chunk" : "record", st, err.msg, want, f->name);
    if (st == want) printf("ok  damaged %s refused: %s\n", fix_check ? "chunk" : "record", err.msg);
    wqc_cuda_model_close(m);
    wqc_archive_close(a);
    free(bad.data);
}

/* The GPU's XXH3 of segments against libxxhash's: 1 MiB segments with a
 * last one of 777 bytes (no whole 1 KiB block), and 4 KiB segments with a
 * last one of 300 bytes (too short for the GPU: 0, the host's to check). */
static void check_segment_hash(void)
{
    const uint64_t len = (3u << 20) + 777, seed = 0x0123456789abcdefull;
    uint8_t *host = malloc((size_t)len), *dev = NULL;
    uint64_t state = 3;
    for (uint64_t i = 0; i < len; i++) host[i] = (uint8_t)((state = state * 6364136223846793005ull + 1) >> 56);
    uint8_t bytes[192];
    segment_secret secret;
    XXH3_generateSecret_fromSeed(bytes, 0);
    memcpy(secret.w, bytes, sizeof secret.w); /* little-endian words */
    uint64_t *out = NULL, got[1024];
    cudaMalloc((void **)&dev, (size_t)len);
    cudaMalloc((void **)&out, sizeof got);
    cudaMemcpy(dev, host, (size_t)len, cudaMemcpyHostToDevice);
    const struct {
        unsigned log;
        uint64_t len;
    } cases[] = {{20, len}, {12, 37 * 4096 + 300}};
    for (int c = 0; c < 2; c++) {
        const uint64_t n = cases[c].len, nseg = (n + (1ull << cases[c].log) - 1) >> cases[c].log;
        wqc_error err = {0};
        wqc_status st = segment_hash_async(dev, n, cases[c].log, seed, nseg, &secret, out, NULL, &err);
        if (st == WQC_OK && cudaMemcpy(got, out, (size_t)nseg * sizeof *got, cudaMemcpyDeviceToHost) != cudaSuccess)
            st = WQC_ERR_IO;
        CHECK(st == WQC_OK, "segment checks on the GPU: %s", err.msg);
        int same = st == WQC_OK;
        for (uint64_t j = 0; same && j < nseg; j++) {
            const uint64_t at = j << cases[c].log, size = n - at < (1ull << cases[c].log) ? n - at : 1ull << cases[c].log;
            const uint64_t want = size < SEGMENT_GPU_MIN ? 0 : XXH3_64bits_withSeed(host + at, (size_t)size, seed + j);
            CHECK(got[j] == want, "segment %llu of %llu bytes (2^%u-byte segments): GPU %016llx, libxxhash %016llx",
                  (unsigned long long)j, (unsigned long long)size, cases[c].log, (unsigned long long)got[j],
                  (unsigned long long)want);
            same = got[j] == want;
        }
        if (same) printf("ok  XXH3 of %llu segments of 2^%u bytes on the GPU equals libxxhash's\n", (unsigned long long)nseg, cases[c].log);
    }
    cudaFree(dev), cudaFree(out);
    free(host);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0); /* what passed stays in the log if a later case crashes */
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    check_segment_hash();
    char dir[] = "/tmp/wqc-cuda-load-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char quant[64], lossless[64], st_path[64], damaged[64];
    snprintf(quant, sizeof quant, "%s/q.wqc", dir);
    snprintf(lossless, sizeof lossless, "%s/l.wqc", dir);
    snprintf(st_path, sizeof st_path, "%s/m.safetensors", dir);
    snprintf(damaged, sizeof damaged, "%s/bad.wqc", dir);
    wqc_tensor t[NT];
    void *mem[NT];
    make_tensors(t, mem);
    wqc_error err;
    wqc_memory_out q = {0}, l = {0}, s = {0};
    wqc_status st = wqc_encode_tensors(t, NT, NULL, 0, "bits=4;chunk=4096", wqc_memory_sink, &q, &err);
    CHECK(st == WQC_OK, "quantized encode: %s", err.msg);
    if (st == WQC_OK) st = wqc_encode_tensors(t, NT, NULL, 0, "lossless=1;chunk=4096", wqc_memory_sink, &l, &err);
    CHECK(st == WQC_OK, "lossless encode: %s", err.msg);
    if (st == WQC_OK) st = wqc_safetensors_write(wqc_memory_sink, &s, t, NT, NULL, 0, &err);
    CHECK(st == WQC_OK && write_file(quant, &q) && write_file(lossless, &l) && write_file(st_path, &s), "writing files");
    if (st == WQC_OK) {
        wqc_archive *aq = NULL, *al = NULL;
        CHECK(wqc_archive_open(quant, NULL, &aq, &err) == WQC_OK, "%s", err.msg);
        CHECK(wqc_archive_open(lossless, NULL, &al, &err) == WQC_OK, "%s", err.msg);
        /* The lossless file must hold what the test is about. */
        int split = 0, e8m3 = 0, excepted = 0, host = 0;
        for (size_t i = 0; al && i < wqc_archive_count(al); i++) {
            const wqc_frame *f;
            wqc_archive_describe(al, i, &f, &err);
            split += wqc_encoding_split(f->encoding);
            e8m3 += f->encoding == WQC_ENC_SPLIT_E8M3;
            excepted += f->encoding == WQC_ENC_SPLIT_E8M3 && f->rest_len[2] > 1;
            host += !wqc_encoding_split(f->encoding) || f->rest_coding[0] != WQC_ENC_RAW;
        }
        CHECK(split >= 4 && e8m3 >= 2 && excepted == 1 && host >= 2,
              "lossless file: %d split frames (%d e8m3, %d with exceptions), %d for the host", split, e8m3, excepted, host);
        CHECK(al && wqc_archive_has_segments(al, BIG) && !wqc_archive_has_segments(al, 4),
              "lossless file: segment checks of '%s', none of '%s'", names[BIG], names[4]);
        if (aq && al) {
            check_load("quantized .wqc as stored", quant, WQC_AS_ORIGINAL, 0, aq, 1);
            check_load("quantized .wqc as F16, caller's memory", quant, WQC_AS_F16, 1, aq, 1);
            check_load("quantized .wqc as BF16", quant, WQC_AS_BF16, 0, aq, 1);
            check_load("lossless .wqc", lossless, WQC_AS_ORIGINAL, 0, al, 1);
            check_load("lossless .wqc, caller's memory", lossless, WQC_AS_ORIGINAL, 1, al, 1);
            check_safetensors(st_path, t);
            check_damage(damaged, &q, 0, 0, 1, WQC_ERR_CHECKSUM);
            check_damage(damaged, &q, 0, 1, 0, WQC_ERR_FORMAT);
            check_damage(damaged, &l, 0, 1, 0, WQC_ERR_FORMAT);
            /* A record checked in segments, by the workers' units: damage in
             * its payload fails its segment's check even with the record's
             * own check made to hold. */
            check_damage(damaged, &l, BIG, 0, 1, WQC_ERR_CHECKSUM);
            check_damage(damaged, &l, BIG, 1, 1, WQC_ERR_CHECKSUM);
        }
        wqc_archive_close(aq);
        wqc_archive_close(al);
    }
    wqc_cuda_model *m = NULL;
    CHECK(wqc_cuda_model_open("/nonexistent/x.wqc", NULL, &m, &err) != WQC_OK && strstr(err.msg, "/nonexistent/x.wqc"),
          "a missing file: %s", err.msg);
    unlink(quant), unlink(lossless), unlink(st_path), unlink(damaged), rmdir(dir);
    for (int i = 0; i < NT; i++) free(mem[i]);
    free(q.data), free(l.data), free(s.data);
    printf("%s\n", failures ? "FAILED" : "every GPU load equals the CPU's decode");
    return failures ? 1 : 0;
}
