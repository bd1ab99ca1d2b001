#include "async_sink.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "trace.h"

struct wqc_async_sink {
    wqc_sink_fn sink;
    void *ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t queued, freed;
    int count;
    uint8_t **all;              /* every buffer, for close */
    size_t *size;               /* each one's mapped size */
    uint8_t **free_list;        /* `nfree` of them free */
    int nfree;
    struct piece {
        uint8_t *buf;
        size_t len;
    } *queue;                   /* a ring of `count`: a buffer is queued once at most */
    int head, nqueued, closing;
    wqc_status failed;          /* the sink's first failure, its error in `error` */
    wqc_error error;
};

/* buf is free again (a's lock held): a take waiting for one goes on. */
static void release(wqc_async_sink *a, uint8_t *buf)
{
    a->free_list[a->nfree++] = buf;
    pthread_cond_signal(&a->freed);
}

static void *writer(void *arg)
{
    wqc_async_sink *a = arg;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        while (!a->nqueued && !a->closing) pthread_cond_wait(&a->queued, &a->lock);
        if (!a->nqueued) break;
        struct piece p = a->queue[a->head];
        a->head = (a->head + 1) % a->count, a->nqueued--;
        const int write = a->failed == WQC_OK;
        pthread_mutex_unlock(&a->lock);
        wqc_error e;
        wqc_error_clear(&e);
        WQC_TRACE("sink write", p.len);
        wqc_status st = write ? a->sink(a->ctx, p.buf, p.len, &e) : WQC_OK;
        WQC_TRACE("sink wrote", st);
        pthread_mutex_lock(&a->lock);
        if (st != WQC_OK && a->failed == WQC_OK) a->failed = st, a->error = e;
        release(a, p.buf);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* The buffers are mapped, not taken from the heap: from the heap, a
 * stream's pool of 8 MiB blocks left it fragmented, and decoding a model of
 * twelve 8 MiB tensors peaked at 61 MB resident instead of 13. Mapped
 * afresh for every stream they were faulted again each time (16 MiB a
 * tensor), so closed pools leave their buffers here for the next stream,
 * up to KEPT of them and KEPT_BYTES in all (what a client keeps mapped
 * after its last stream). Advised as huge pages (fewer first-touch faults). */
enum { KEPT = 16 };
#define KEPT_BYTES ((size_t)64 << 20)
static struct kept_buffer {
    uint8_t *p;
    size_t bytes;
} kept[KEPT];
static int nkept;
static size_t kept_bytes;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

/* A buffer of at least `bytes` (its size in *size): a kept one, else mapped. */
static uint8_t *buffer_get(size_t bytes, size_t *size)
{
    pthread_mutex_lock(&kept_lock);
    for (int k = 0; k < nkept; k++)
        if (kept[k].bytes >= bytes) {
            uint8_t *p = kept[k].p;
            *size = kept[k].bytes;
            kept_bytes -= kept[k].bytes;
            kept[k] = kept[--nkept];
            pthread_mutex_unlock(&kept_lock);
            return p;
        }
    pthread_mutex_unlock(&kept_lock);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only */
#endif
    *size = bytes;
    return p;
}

/* Keeps a buffer for the next stream, where there is room. */
static void buffer_put(uint8_t *p, size_t bytes)
{
    pthread_mutex_lock(&kept_lock);
    const int keep = nkept < KEPT && kept_bytes + bytes <= KEPT_BYTES;
    if (keep) kept[nkept++] = (struct kept_buffer){p, bytes}, kept_bytes += bytes;
    pthread_mutex_unlock(&kept_lock);
    if (!keep) munmap(p, bytes);
}

/* Frees a and its buffers; `synced`: its lock and conditions were made. */
static void sink_free(wqc_async_sink *a, int synced)
{
    if (synced) {
        pthread_cond_destroy(&a->freed);
        pthread_cond_destroy(&a->queued);
        pthread_mutex_destroy(&a->lock);
    }
    for (int k = 0; a->all && k < a->count; k++)
        if (a->all[k]) buffer_put(a->all[k], a->size[k]);
    free(a->all), free(a->size), free(a->free_list), free(a->queue);
    free(a);
}

wqc_async_sink *wqc_async_sink_open(wqc_sink_fn sink, void *ctx, int count, size_t bytes)
{
    wqc_async_sink *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->sink = sink, a->ctx = ctx, a->count = count;
    a->all = calloc((size_t)count, sizeof *a->all);
    a->size = calloc((size_t)count, sizeof *a->size);
    a->free_list = calloc((size_t)count, sizeof *a->free_list);
    a->queue = calloc((size_t)count, sizeof *a->queue);
    int ok = a->all && a->size && a->free_list && a->queue;
    for (int k = 0; ok && k < count; k++) ok = (a->free_list[k] = a->all[k] = buffer_get(bytes ? bytes : 1, &a->size[k])) != NULL;
    a->nfree = count;
    if (ok) {
        pthread_mutex_init(&a->lock, NULL);
        pthread_cond_init(&a->queued, NULL);
        pthread_cond_init(&a->freed, NULL);
        if (pthread_create(&a->thread, NULL, writer, a) == 0) return a;
    }
    sink_free(a, ok);
    return NULL;
}

uint8_t *wqc_async_sink_take(wqc_async_sink *a)
{
    pthread_mutex_lock(&a->lock);
    while (!a->nfree) pthread_cond_wait(&a->freed, &a->lock);
    uint8_t *buf = a->free_list[--a->nfree];
    pthread_mutex_unlock(&a->lock);
    return buf;
}

void wqc_async_sink_give(wqc_async_sink *a, uint8_t *buf)
{
    pthread_mutex_lock(&a->lock);
    release(a, buf);
    pthread_mutex_unlock(&a->lock);
}

wqc_status wqc_async_sink_put(wqc_async_sink *a, uint8_t *buf, size_t len, wqc_error *err)
{
    pthread_mutex_lock(&a->lock);
    wqc_status st = a->failed;
    if (st != WQC_OK) {
        if (err) *err = a->error;
        release(a, buf);
    } else {
        a->queue[(a->head + a->nqueued) % a->count] = (struct piece){buf, len};
        a->nqueued++;
        pthread_cond_signal(&a->queued);
    }
    pthread_mutex_unlock(&a->lock);
    return st;
}

wqc_status wqc_async_sink_close(wqc_async_sink *a, wqc_error *err)
{
    pthread_mutex_lock(&a->lock);
    a->closing = 1;
    pthread_cond_signal(&a->queued);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    wqc_status st = a->failed;
    if (st != WQC_OK && err) *err = a->error;
    sink_free(a, 1);
    return st;
}
