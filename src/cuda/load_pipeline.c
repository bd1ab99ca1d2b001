/* The loading pipeline (load_internal.h): threads take the units of the
 * items in turn (GPU frames first, largest first: load_units_make; a large
 * tensor is split among all of them). Each reads its unit's bytes with
 * pread into its ring of pinned staging buffers, hashes a record's body
 * (or its unit's segments) as the pieces arrive, and copies each piece to
 * the GPU on its own stream as soon as it is read, reusing a buffer once
 * its copy has ended. A GPU frame of several units is copied whole and its
 * segment checks computed on the GPU instead (segment_hash.cu). A frame the
 * GPU decodes is launched after its last piece, on the stream of the worker
 * that ends its last unit, made to wait for the other units' copies; the
 * host decodes the others and sends them the same way. Its chunk statuses
 * and the GPU's segment checks come back on the same stream into pinned
 * memory, and are compared once every stream has ended. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/trace.h"
#include "../container/format.h"
#include "load_internal.h"
#include "wqc/mapped_file.h"

typedef struct worker {
    wqc_cuda_model *m;
    void *const *dst;
    atomic_size_t *next;
    atomic_int *failed;
    cudaStream_t stream;
    uint8_t *slot[LOAD_RING];
    cudaEvent_t *sent;
    int busy[LOAD_RING];
    unsigned at;
    wqc_xxh3_state hash;        /* the record (or segment) being read */
    int seg_open, seg_bad;      /* segment checks: a segment's hash started; one failed */
    double read, check, cpu, wait;
    double t0, started, issued, synced;  /* the call's start; wall milestones (wqc_cuda_load_times) */
    cudaEvent_t end;            /* timed, after the thread's last work on its stream */
    uint64_t file_bytes, gpu_bytes;
    wqc_status st;
    wqc_error err;
} worker;

/* The model's worker threads, asleep between loads. */
typedef struct load_pool {
    pthread_t thread[LOAD_THREADS_MAX];
    struct pool_arg {
        struct load_pool *pool;
        int index;
    } arg[LOAD_THREADS_MAX];
    int made;                   /* threads made: workers 1..made */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    uint64_t round;             /* one a load, under the lock */
    int stop;
    worker *jobs;               /* this round's workers */
    atomic_int done;            /* workers of this round finished */
} load_pool;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static wqc_status cuda_fail(worker *w, cudaError_t e, const char *what)
{
    return wqc_cuda_error(&w->err, e, what);
}

/* The next staging buffer, once the copy it last held has ended. */
static wqc_status ring_take(worker *w, uint8_t **buf)
{
    if (w->busy[w->at]) {
        double t0 = now();
        cudaError_t e = cudaEventSynchronize(w->sent[w->at]);
        w->wait += now() - t0;
        if (e != cudaSuccess) return cuda_fail(w, e, "copy to the GPU");
        w->busy[w->at] = 0;
    }
    *buf = w->slot[w->at];
    return WQC_OK;
}

/* Copies len bytes at src (inside the buffer ring_take gave) to dev and
 * moves to the next buffer. */
static wqc_status ring_send(worker *w, const uint8_t *src, size_t len, void *dev)
{
    cudaError_t e = cudaMemcpyAsync(dev, src, len, cudaMemcpyHostToDevice, w->stream);
    if (e == cudaSuccess) e = cudaEventRecord(w->sent[w->at], w->stream);
    if (e != cudaSuccess) return cuda_fail(w, e, "copy to the GPU");
    w->gpu_bytes += len;
    w->busy[w->at] = 1;
    w->at = (w->at + 1) % LOAD_RING;
    return WQC_OK;
}

/* Host memory to the GPU through the ring. */
static wqc_status send_host(worker *w, const void *src, uint64_t len, uint8_t *dev)
{
    const size_t piece = w->m->piece;
    for (uint64_t done = 0; done < len;) {
        size_t n = len - done < piece ? (size_t)(len - done) : piece;
        uint8_t *buf = NULL;
        wqc_status st = ring_take(w, &buf);
        if (st != WQC_OK) return st;
        memcpy(buf, (const uint8_t *)src + done, n);
        if ((st = ring_send(w, buf, n, dev + done)) != WQC_OK) return st;
        done += n;
    }
    return WQC_OK;
}

static wqc_status read_full(worker *w, uint8_t *buf, size_t n, uint64_t offset)
{
    double t0 = now();
    wqc_status st = wqc_read_at(w->m->fd, buf, n, offset, &w->err);
    w->read += now() - t0;
    if (st != WQC_OK) return wqc_fail_context(&w->err, st, "%s", w->m->path);
    w->file_bytes += n;
    return WQC_OK;
}

typedef enum check_mode { CHECK_NONE, CHECK_WHOLE, CHECK_SEGMENTS } check_mode;

/* Body bytes at file offset pos..pos+n of record it into the hashes of the
 * segments they belong to; a segment that ends here is compared. */
static void segments_feed(worker *w, const load_item *it, const uint8_t *p, uint64_t pos, uint64_t n)
{
    const uint64_t seg = 1ull << it->seg_log, body_end = it->offset + it->len;
    while (n) {
        uint64_t j = (pos - it->body) >> it->seg_log, end = it->body + (j + 1) * seg;
        if (end > body_end) end = body_end;
        if (!w->seg_open && !(w->seg_open = wqc_xxh3_start(&w->hash, it->seg_seed + j))) {
            w->seg_bad = 1;
            return;
        }
        uint64_t take = end - pos < n ? end - pos : n;
        wqc_xxh3_add(&w->hash, p, (size_t)take);
        p += take, pos += take, n -= take;
        if (pos == end) {
            w->seg_open = 0;
            if (HASH_MISMATCH(it->seg_hash[j], wqc_xxh3_end(&w->hash))) w->seg_bad = 1;
        }
    }
}

/* Reads file bytes [offset, offset + len) piece by piece; hashes those of
 * item it's body (CHECK_WHOLE: into w->hash; CHECK_SEGMENTS: into its
 * segments' checks) and copies those of [copy_from, copy_from + copy_len)
 * to dev. */
static wqc_status stream_file(worker *w, const load_item *it, uint64_t offset, uint64_t len, check_mode mode,
                              uint64_t copy_from, uint64_t copy_len, uint8_t *dev)
{
    const uint64_t hash_from = mode == CHECK_NONE ? 0 : it->body;
    const size_t piece = w->m->piece, sub = mode == CHECK_NONE || !w->m->subread ? piece : w->m->subread;
    for (uint64_t pos = offset; pos < offset + len;) {
        size_t n = offset + len - pos < piece ? (size_t)(offset + len - pos) : piece;
        uint8_t *buf = NULL;
        wqc_status st = ring_take(w, &buf);
        /* A checked piece is read and hashed a part at a time, each part
         * hashed while it is still in the core's cache. */
        for (size_t at = 0; st == WQC_OK && at < n; at += sub) {
            size_t part = n - at < sub ? n - at : sub;
            uint64_t from = pos + at, lo = from > hash_from ? from : hash_from;
            st = read_full(w, buf + at, part, from);
            if (st == WQC_OK && mode != CHECK_NONE && lo < from + part) {
                double t0 = now();
                if (mode == CHECK_WHOLE) wqc_xxh3_add(&w->hash, buf + (lo - pos), (size_t)(from + part - lo));
                else segments_feed(w, it, buf + (lo - pos), lo, from + part - lo);
                w->check += now() - t0;
            }
        }
        if (st != WQC_OK) return st;
        uint64_t lo = pos > copy_from ? pos : copy_from;
        uint64_t hi = pos + n < copy_from + copy_len ? pos + n : copy_from + copy_len;
        if (lo < hi && (st = ring_send(w, buf + (lo - pos), (size_t)(hi - lo), dev + (lo - copy_from))) != WQC_OK)
            return st;
        pos += n;
    }
    return WQC_OK;
}

/* Where a GPU frame's parts go in the arena and the status block. */
static void record_bases(const wqc_cuda_model *m, const load_item *it, uint8_t *base[PARTS])
{
    for (int k = 0; k < PARTS; k++)
        base[k] = k == PART_STATUS ? (uint8_t *)(m->status + it->part_at[k]) : m->arena + it->part_at[k];
}

static wqc_status record_mismatch(worker *w, const load_item *it)
{
    return wqc_fail(&w->err, WQC_ERR_CHECKSUM, "%s: tensor '%s': record checksum mismatch", w->m->path, it->out.name);
}

/* Where a record checked on the GPU has its body (its payload inside it). */
static uint8_t *record_body(uint8_t *const base[PARTS], const load_item *it)
{
    return base[PART_PAYLOAD] - (it->payload - it->body);
}

/* A record checked on the GPU: its segment checks launched on w's stream
 * (compared with the file's in check_statuses), but a last segment too
 * short for the GPU's XXH3, checked here through the mapping. */
static wqc_status gpu_check(worker *w, const load_item *it, uint8_t *const base[PARTS])
{
    const uint64_t last = (it->nseg - 1) << it->seg_log, n = it->body_len - last;
    if (n < SEGMENT_GPU_MIN &&
        HASH_MISMATCH(it->seg_hash[it->nseg - 1], wqc_xxh3(w->m->map.data + it->body + last, (size_t)n, it->seg_seed + it->nseg - 1)))
        return record_mismatch(w, it);
    return segment_hash_async(record_body(base, it), it->body_len, it->seg_log, it->seg_seed, it->nseg, &w->m->secret,
                              w->m->seg_out + it->seg_out_at, w->stream, &w->err);
}

/* A GPU frame whose payload has landed (on w's stream): its small parts,
 * then its decode on the stream. */
static wqc_status record_decode(worker *w, load_item *it, uint8_t *out)
{
    if (!it->gpu) return WQC_OK;
    wqc_cuda_model *m = w->m;
    uint8_t *base[PARTS];
    record_bases(m, it, base);
    wqc_status st = it->gpu_check ? gpu_check(w, it, base) : WQC_OK;
    if (st != WQC_OK) return st;
    cudaError_t e = cudaMemsetAsync(base[PART_PAYLOAD] + it->payload_len, 0, PAYLOAD_PAD, w->stream);
    if (e != cudaSuccess) return cuda_fail(w, e, "memset");
    uint64_t size[PARTS];
    frame_host_sizes(&it->h, size);
    /* The small parts lie in that order in the arena (place_parts): one
     * staging buffer and one copy for all of them where they fit, not a
     * buffer each (a thread waited for its own copies between them: 6.7
     * thread-ms of pylm-22M's 57 records). */
    const uint64_t from = it->part_at[PART_OFFSET];
    const uint64_t span = it->part_at[PART_STATUS - 1] + size[PART_STATUS - 1] - from;
    if (span <= m->piece) {
        uint8_t *buf = NULL;
        st = ring_take(w, &buf);
        for (int k = PART_OFFSET; k < PART_STATUS && st == WQC_OK; k++)
            if (size[k]) memcpy(buf + (it->part_at[k] - from), frame_host_part(&it->h, k), (size_t)size[k]);
        if (st == WQC_OK) st = ring_send(w, buf, (size_t)span, m->arena + from);
    } else {
        for (int k = PART_OFFSET; k < PART_STATUS && st == WQC_OK; k++)
            if (size[k]) st = send_host(w, frame_host_part(&it->h, k), size[k], base[k]);
    }
    if (st != WQC_OK) return st;
    cudaEventRecord(it->decode_start, w->stream);
    st = wqc_cuda_decode_async(&it->h.g, it->form, out, w->stream, &w->err);
    cudaEventRecord(it->decode_end, w->stream);
    if (st == WQC_OK) {
        e = cudaMemcpyAsync(m->status_host + it->part_at[PART_STATUS], base[PART_STATUS], (size_t)size[PART_STATUS],
                            cudaMemcpyDeviceToHost, w->stream);
        if (e == cudaSuccess && it->gpu_check)
            e = cudaMemcpyAsync(m->seg_out_host + it->seg_out_at, m->seg_out + it->seg_out_at,
                                (size_t)it->nseg * sizeof(uint64_t), cudaMemcpyDeviceToHost, w->stream);
        if (e != cudaSuccess) return cuda_fail(w, e, "chunk statuses");
    }
    if (st != WQC_OK) {
        const wqc_cuda_frame *g = &it->h.g;
        return wqc_fail_context(&w->err, st, "%s: tensor '%s' (form %d, %u lanes, %llu chunks of %u, %u tables, %s)",
                                m->path, it->out.name, (int)it->form, g->lanes, (unsigned long long)g->nchunks, g->chunk,
                                g->ntables, g->aligned ? "aligned" : "general");
    }
    return st;
}

/* A .wqc record checked whole: read and checked, its payload to the
 * tensor's place or the arena, then its decode. */
static wqc_status load_record(worker *w, load_item *it, uint8_t *out)
{
    uint8_t *base[PARTS];
    record_bases(w->m, it, base);
    if (!wqc_xxh3_start(&w->hash, it->seed)) return wqc_fail(&w->err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = stream_file(w, it, it->offset, it->len, CHECK_WHOLE, it->payload, it->payload_len,
                                it->gpu ? base[PART_PAYLOAD] : out);
    uint32_t check = (uint32_t)wqc_xxh3_end(&w->hash);
    if (st != WQC_OK) return st;
    if (HASH_MISMATCH(it->check, check)) return record_mismatch(w, it);
    return record_decode(w, it, out);
}

/* One unit of a record with segment checks; the worker that ends its last
 * unit launches the decode after every unit's copies. */
static wqc_status load_record_unit(worker *w, load_item *it, const load_unit *u, uint8_t *out)
{
    uint8_t *base[PARTS];
    record_bases(w->m, it, base);
    w->seg_open = w->seg_bad = 0;
    /* Checked on the GPU: the whole body goes there. */
    wqc_status st = it->gpu_check ? stream_file(w, it, u->from, u->to - u->from, CHECK_NONE, it->body, it->body_len,
                                                record_body(base, it))
                                  : stream_file(w, it, u->from, u->to - u->from, CHECK_SEGMENTS, it->payload,
                                                it->payload_len, it->gpu ? base[PART_PAYLOAD] : out);
    if (w->seg_open) (void)wqc_xxh3_end(&w->hash);
    if (st != WQC_OK) return st;
    if (w->seg_bad || w->seg_open) return record_mismatch(w, it);
    cudaError_t e = cudaEventRecord(it->unit_sent[u->index], w->stream);
    if (e != cudaSuccess) return cuda_fail(w, e, "copy to the GPU");
    if (atomic_fetch_sub(&it->units_left, 1) != 1) return WQC_OK;
    for (uint64_t v = 0; v < it->nunits; v++)
        if (v != u->index && (e = cudaStreamWaitEvent(w->stream, it->unit_sent[v], 0)) != cudaSuccess)
            return cuda_fail(w, e, "copy to the GPU");
    return record_decode(w, it, out);
}

/* A frame the host decodes: checked through the map, decoded whole, sent. */
static wqc_status load_host(worker *w, load_item *it, uint8_t *out)
{
    wqc_cuda_model *m = w->m;
    double t0 = now();
    wqc_record2 rec;
    wqc_status st = wqc_reader_version(m->reader) == 2
                        ? wqc_record2_read(m->map.data, m->map.size, it->offset, 1, &rec, &w->err) : WQC_OK;
    w->check += now() - t0;
    if (st != WQC_OK) return wqc_fail_context(&w->err, st, "%s: tensor '%s'", m->path, it->out.name);
    w->file_bytes += it->len;
    t0 = now();
    uint8_t *host = malloc(it->out.bytes ? (size_t)it->out.bytes : 1);
    if (!host) return wqc_fail(&w->err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", it->out.name);
    st = wqc_frame_decode_into(it->f, it->form, 1, host, it->out.bytes, &w->err);
    w->cpu += now() - t0;
    /* Through the staging ring: the copies read the ring, not host. */
    if (st == WQC_OK) st = send_host(w, host, it->out.bytes, out);
    else st = wqc_fail_context(&w->err, st, "%s: tensor '%s'", m->path, it->out.name);
    free(host);
    return st;
}

static void *work(void *arg)
{
    worker *w = arg;
    wqc_cuda_model *m = w->m;
    cudaError_t e = cudaSetDevice(m->device);
    if (e != cudaSuccess) w->st = cuda_fail(w, e, "device");
    w->started = now() - w->t0;
    for (size_t k; w->st == WQC_OK && !atomic_load(w->failed) && (k = atomic_fetch_add(w->next, 1)) < m->nunits;) {
        const load_unit *u = &m->units[k];
        load_item *it = &m->items[u->item];
        WQC_TRACE("load unit", k);
        uint8_t *out = w->dst ? (uint8_t *)w->dst[u->item] : m->outputs + it->out_at;
        switch (it->kind) {
        case LOAD_RANGE: w->st = stream_file(w, it, u->from, u->to - u->from, CHECK_NONE, it->offset, it->len, out); break;
        case LOAD_RECORD: w->st = it->unit_sent ? load_record_unit(w, it, u, out) : load_record(w, it, out); break;
        case LOAD_HOST: w->st = load_host(w, it, out); break;
        }
    }
    w->issued = now() - w->t0;
    WQC_TRACE("load worker issued", w->st);
    if (w->st != WQC_OK) atomic_store(w->failed, 1);
    cudaEventRecord(w->end, w->stream);
    /* Every copy and decode of this thread done before the ring can go. */
    e = cudaStreamSynchronize(w->stream);
    w->synced = now() - w->t0;
    WQC_TRACE("load worker synced", w->st);
    if (w->st == WQC_OK && e != cudaSuccess) w->st = cuda_fail(w, e, "decode");
    return NULL;
}

/* The GPU frames' chunk statuses and segment checks, back on the host
 * (every stream has ended). */
static wqc_status check_statuses(const wqc_cuda_model *m, wqc_error *err)
{
    wqc_status st = WQC_OK;
    /* A failed record check is the cause of any chunk's failure: first. */
    for (size_t i = 0; st == WQC_OK && i < m->count; i++) {
        const load_item *it = &m->items[i];
        for (uint64_t j = 0; it->gpu_check && j < it->nseg && st == WQC_OK; j++) {
            const uint64_t n = j + 1 < it->nseg ? 1ull << it->seg_log : it->body_len - (j << it->seg_log);
            if (n >= SEGMENT_GPU_MIN && HASH_MISMATCH(it->seg_hash[j], m->seg_out_host[it->seg_out_at + j]))
                st = wqc_fail(err, WQC_ERR_CHECKSUM, "%s: tensor '%s': record checksum mismatch", m->path, it->out.name);
        }
    }
    for (size_t i = 0; st == WQC_OK && i < m->count; i++) {
        const load_item *it = &m->items[i];
        if (it->gpu && (st = frame_status_check(&it->h.g, m->status_host + it->part_at[PART_STATUS], err)) != WQC_OK)
            st = wqc_fail_context(err, st, "%s: tensor '%s'", m->path, it->out.name);
    }
    return st;
}

wqc_status load_pipeline_run(wqc_cuda_model *m, void *const *dst, wqc_cuda_load_times *t, wqc_error *err)
{
    double t0 = now();
    atomic_size_t next = 0;
    atomic_int failed = 0;
    worker *w = calloc((size_t)m->threads, sizeof *w);
    if (!w) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = WQC_OK;
    cudaEventRecord(m->begin, m->stream[0]);
    for (size_t i = 0; i < m->count; i++) {
        load_item *it = &m->items[i];
        atomic_store(&it->units_left, it->nunits);
        if (it->gpu) {
            uint8_t *base[PARTS];
            record_bases(m, it, base);
            frame_host_place(&it->h, base);
        }
    }
    for (int k = 0; k < m->threads; k++) {
        worker *x = &w[k];
        x->m = m, x->dst = dst, x->next = &next, x->failed = &failed, x->t0 = t0;
        x->stream = m->stream[k], x->sent = m->sent[k], x->end = m->stream_end[k];
        for (unsigned s = 0; s < LOAD_RING; s++) x->slot[s] = m->staging + ((size_t)k * LOAD_RING + s) * m->piece;
    }
    WQC_TRACE("load start", m->threads);
    load_pool *p = m->pool;
    atomic_store(&p->done, 0);
    pthread_mutex_lock(&p->lock);
    p->jobs = w, p->round++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    /* The calling thread is worker 0; the model's device is set for it and
     * the caller's put back after. */
    int caller_device = m->device;
    (void)cudaGetDevice(&caller_device);
    (void)work(&w[0]);
    (void)cudaSetDevice(caller_device);
    while (atomic_load(&p->done) < p->made) sched_yield();
    WQC_TRACE("load joined", p->made);
    for (int k = 0; k < m->threads && st == WQC_OK; k++)
        if (w[k].st != WQC_OK) st = w[k].st, *err = w[k].err;
    /* The first failure, not a thread's stop because another failed. */
    if (st == WQC_OK) st = check_statuses(m, err);
    WQC_TRACE("load checked", st);
    if (t) {
        memset(t, 0, sizeof *t);
        t->total = now() - t0;
        for (int k = 0; k < m->threads; k++) {
            t->read += w[k].read, t->check += w[k].check, t->cpu_decode += w[k].cpu, t->wait += w[k].wait;
            t->file_bytes += w[k].file_bytes, t->gpu_bytes += w[k].gpu_bytes;
            if (k == 0 || w[k].started < t->started) t->started = w[k].started;
            if (w[k].issued > t->issued) t->issued = w[k].issued;
            if (w[k].synced > t->synced) t->synced = w[k].synced;
            float ms = 0;
            if (st == WQC_OK && cudaEventElapsedTime(&ms, m->begin, m->stream_end[k]) == cudaSuccess && 1e-3 * ms > t->gpu_end)
                t->gpu_end = 1e-3 * ms;
        }
        for (size_t i = 0; i < m->count; i++) {
            t->out_bytes += m->items[i].out.bytes;
            float ms = 0;
            if (st == WQC_OK && m->items[i].gpu && cudaEventElapsedTime(&ms, m->items[i].decode_start, m->items[i].decode_end) == cudaSuccess)
                t->gpu_decode += 1e-3 * ms;
            if (st == WQC_OK && m->items[i].gpu && cudaEventElapsedTime(&ms, m->begin, m->items[i].decode_start) == cudaSuccess &&
                1e-3 * ms > t->gpu_last_decode)
                t->gpu_last_decode = 1e-3 * ms;
        }
    }
    free(w);
    return st;
}

static void *pool_main(void *arg)
{
    const struct pool_arg *a = arg;
    load_pool *p = a->pool;
    for (uint64_t seen = 0;;) {
        pthread_mutex_lock(&p->lock);
        while (p->round == seen && !p->stop) pthread_cond_wait(&p->wake, &p->lock);
        const int stop = p->stop;
        worker *w = p->jobs + a->index;
        seen = p->round;
        pthread_mutex_unlock(&p->lock);
        if (stop) return NULL;
        (void)work(w);
        atomic_fetch_add(&p->done, 1);
    }
}

static wqc_status pool_make(wqc_cuda_model *m, wqc_error *err)
{
    load_pool *p = calloc(1, sizeof *p);
    if (!p) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    m->pool = p;
    for (int k = 1; k < m->threads; k++) {
        p->arg[k] = (struct pool_arg){p, k};
        if (pthread_create(&p->thread[k], NULL, pool_main, &p->arg[k]) != 0) break;
        p->made = k;
    }
    m->threads = p->made + 1;
    return WQC_OK;
}

static void pool_free(wqc_cuda_model *m)
{
    load_pool *p = m->pool;
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int k = 1; k <= p->made; k++) pthread_join(p->thread[k], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
    m->pool = NULL;
}

wqc_status load_streams_make(wqc_cuda_model *m, wqc_error *err)
{
    cudaError_t e = cudaEventCreate(&m->begin);
    for (int k = 0; e == cudaSuccess && k < m->threads; k++) {
        e = cudaStreamCreateWithFlags(&m->stream[k], cudaStreamNonBlocking);
        if (e == cudaSuccess) e = cudaEventCreate(&m->stream_end[k]);
        for (unsigned s = 0; e == cudaSuccess && s < LOAD_RING; s++)
            e = cudaEventCreateWithFlags(&m->sent[k][s], cudaEventDisableTiming);
    }
    if (e != cudaSuccess) return wqc_cuda_error(err, e, "streams");
    return pool_make(m, err);
}

void load_streams_free(wqc_cuda_model *m)
{
    pool_free(m);
    if (m->begin) cudaEventDestroy(m->begin);
    for (int k = 0; k < LOAD_THREADS_MAX; k++) {
        if (m->stream[k]) cudaStreamDestroy(m->stream[k]);
        if (m->stream_end[k]) cudaEventDestroy(m->stream_end[k]);
        for (unsigned s = 0; s < LOAD_RING; s++)
            if (m->sent[k][s]) cudaEventDestroy(m->sent[k][s]);
    }
}
