/* A model file loaded into GPU memory (wqc_cuda_model_*, wqc/cuda.h): open
 * (the tensor list, the arena for coded frames, the pinned staging), load
 * (load_pipeline.c), close. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_generateSecret_fromSeed */
#include <xxhash.h>

#include "../common/bytes.h"
#include "load_internal.h"

wqc_status wqc_cuda_model_open(const char *path, const wqc_cuda_load_options *opts, wqc_cuda_model **out,
                               wqc_error *err)
{
    *out = NULL;
    wqc_cuda_load_options o = {0};
    if (opts) o = *opts;
    wqc_cuda_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    m->fd = -1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > LOAD_THREADS_DEFAULT_MAX) cores = LOAD_THREADS_DEFAULT_MAX;
    m->threads = o.threads > 0 ? o.threads : cores > 0 ? (int)cores : 1;
    if (m->threads > LOAD_THREADS_MAX) m->threads = LOAD_THREADS_MAX;
    m->piece = o.piece ? o.piece : LOAD_PIECE_DEFAULT;
    /* WQC_LOAD_SUBREAD: the part size in bytes, 0 for whole pieces (benchmarks). */
    const char *sub = getenv("WQC_LOAD_SUBREAD");
    m->subread = sub ? (size_t)strtoull(sub, NULL, 10) : LOAD_SUBREAD_DEFAULT;
    wqc_status st = wqc_map_file(path, &m->map, err);
    if (st != WQC_OK) wqc_fail_context(err, st, "%s", path);
    if (st == WQC_OK && !m->map.is_mmap)
        st = wqc_fail(err, WQC_ERR_INVALID_ARG, "%s: the GPU loader reads regular files, not pipes", path);
    if (st == WQC_OK && (m->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        st = wqc_fail(err, WQC_ERR_IO, "%s: cannot open", path);
    if (st == WQC_OK) st = load_items_make(m, o.as, err);
    if (st == WQC_OK) st = load_units_make(m, err);
    cudaError_t e = st == WQC_OK ? cudaGetDevice(&m->device) : cudaSuccess;
    if (e == cudaSuccess && st == WQC_OK && m->arena_bytes) e = cudaMalloc((void **)&m->arena, (size_t)m->arena_bytes);
    if (e == cudaSuccess && st == WQC_OK && m->status_count)
        e = cudaMalloc((void **)&m->status, (size_t)m->status_count * sizeof(int));
    if (e == cudaSuccess && st == WQC_OK && m->status_count)
        e = cudaHostAlloc((void **)&m->status_host, (size_t)m->status_count * sizeof(int), cudaHostAllocDefault);
    if (e == cudaSuccess && st == WQC_OK && m->seg_out_count) {
        e = cudaMalloc((void **)&m->seg_out, (size_t)m->seg_out_count * sizeof(uint64_t));
        if (e == cudaSuccess)
            e = cudaHostAlloc((void **)&m->seg_out_host, (size_t)m->seg_out_count * sizeof(uint64_t), cudaHostAllocDefault);
        uint8_t secret[sizeof m->secret.w];
        XXH3_generateSecret_fromSeed(secret, 0);
        for (size_t k = 0; k < 24; k++) m->secret.w[k] = wqc_le64(secret + 8 * k);
    }
    if (e == cudaSuccess && st == WQC_OK) st = load_streams_make(m, err);
    if (e == cudaSuccess && st == WQC_OK)
        e = cudaHostAlloc((void **)&m->staging, (size_t)m->threads * LOAD_RING * m->piece, cudaHostAllocDefault);
    for (size_t i = 0; e == cudaSuccess && st == WQC_OK && i < m->count; i++)
        if (m->items[i].gpu) {
            e = cudaEventCreate(&m->items[i].decode_start);
            if (e == cudaSuccess) e = cudaEventCreate(&m->items[i].decode_end);
        }
    for (size_t i = 0; e == cudaSuccess && st == WQC_OK && i < m->count; i++) {
        load_item *it = &m->items[i];
        if (it->nunits < 2 || it->kind != LOAD_RECORD) continue;
        if (!(it->unit_sent = calloc(it->nunits, sizeof *it->unit_sent))) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        for (uint64_t u = 0; st == WQC_OK && e == cudaSuccess && u < it->nunits; u++)
            e = cudaEventCreateWithFlags(&it->unit_sent[u], cudaEventDisableTiming);
    }
    if (st == WQC_OK && e != cudaSuccess) st = wqc_cuda_error(err, e, "GPU memory for the load");
    if (st != WQC_OK) {
        wqc_cuda_model_close(m);
        return st;
    }
    *out = m;
    return WQC_OK;
}

void wqc_cuda_model_close(wqc_cuda_model *m)
{
    if (!m) return;
    for (size_t i = 0; m->items && i < m->count; i++) {
        if (m->items[i].decode_start) cudaEventDestroy(m->items[i].decode_start);
        if (m->items[i].decode_end) cudaEventDestroy(m->items[i].decode_end);
        for (uint64_t u = 0; m->items[i].unit_sent && u < m->items[i].nunits; u++)
            if (m->items[i].unit_sent[u]) cudaEventDestroy(m->items[i].unit_sent[u]);
        free(m->items[i].unit_sent);
    }
    load_streams_free(m);
    cudaFree(m->arena), cudaFree(m->status), cudaFree(m->outputs), cudaFree(m->seg_out);
    cudaFreeHost(m->staging), cudaFreeHost(m->status_host), cudaFreeHost(m->seg_out_host);
    load_items_free(m);
    if (m->fd >= 0) close(m->fd);
    wqc_unmap_file(&m->map);
    free(m->path);
    free(m);
}

size_t wqc_cuda_model_count(const wqc_cuda_model *m) { return m->count; }

void wqc_cuda_model_tensor(const wqc_cuda_model *m, size_t i, wqc_cuda_tensor *out) { *out = m->items[i].out; }

wqc_status wqc_cuda_model_load(wqc_cuda_model *m, void *const *dst, wqc_cuda_load_times *times, wqc_error *err)
{
    if (!dst && !m->outputs && m->output_bytes) {
        cudaError_t e = cudaMalloc((void **)&m->outputs, (size_t)m->output_bytes);
        if (e != cudaSuccess) return wqc_cuda_error(err, e, "GPU memory for the tensors");
    }
    return load_pipeline_run(m, dst, times, err);
}

void *wqc_cuda_model_data(const wqc_cuda_model *m, size_t i)
{
    return m->outputs && i < m->count ? m->outputs + m->items[i].out_at : NULL;
}
