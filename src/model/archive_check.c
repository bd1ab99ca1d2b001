/* Records checked on a thread of their own while their frames decode
 * (wqc/archive.h). A record's pages are released once both the checker and
 * the decoder are done with it, whichever comes second. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "wqc/archive.h"

enum { CHECKED = 1, DECODED = 2 };

struct wqc_archive_checker {
    wqc_archive *a;
    size_t *idx, n;
    size_t *position;               /* per tensor: its place in idx, or SIZE_MAX */
    const wqc_frame **frame;        /* per place: the decoder's frame, set before DECODED */
    atomic_uchar *done;             /* per place: CHECKED | DECODED */
    pthread_t thread;
    wqc_status st;
    wqc_error err;
};

/* The records are read with pread into a buffer of this size, not touched
 * through the mapping: on 16 cores the checker's first touches of a 50 MB
 * record's pages were the longest serial part, while the decoders touch
 * them anyway, in parallel. */
#define CHECK_BUFFER (1u << 20)

static void *check_all(void *arg)
{
    wqc_archive_checker *c = arg;
    int fd = wqc_archive_reopen(c->a);
    uint8_t *buf = fd >= 0 ? malloc(CHECK_BUFFER) : NULL;
    for (size_t k = 0; k < c->n; k++) {
        c->st = wqc_archive_check(c->a, c->idx[k], buf ? fd : -1, buf, CHECK_BUFFER, &c->err);
        if (c->st != WQC_OK) break;
        if (atomic_fetch_or(&c->done[k], CHECKED) & DECODED) wqc_archive_release(c->a, c->idx[k], c->frame[k]);
    }
    free(buf);
    if (fd >= 0) close(fd);
    return NULL;
}

static void checker_free(wqc_archive_checker *c)
{
    free(c->idx);
    free(c->position);
    free(c->frame);
    free(c->done);
    free(c);
}

wqc_status wqc_archive_checker_start(wqc_archive *a, const size_t *idx, size_t n, wqc_archive_checker **out,
                                     wqc_error *err)
{
    *out = NULL;
    if (wqc_archive_files(a) != 1)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "a sharded archive's records are checked as they are read");
    size_t count = wqc_archive_count(a);
    wqc_archive_checker *c = calloc(1, sizeof *c);
    if (c) {
        c->a = a;
        c->n = n;
        c->idx = malloc((n ? n : 1) * sizeof *c->idx);
        c->position = malloc((count ? count : 1) * sizeof *c->position);
        c->frame = calloc(n ? n : 1, sizeof *c->frame);
        c->done = calloc(n ? n : 1, sizeof *c->done);
    }
    if (!c || !c->idx || !c->position || !c->frame || !c->done) {
        if (c) checker_free(c);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < count; i++) c->position[i] = SIZE_MAX;
    for (size_t k = 0; k < n; k++) {
        if (idx[k] >= count) {
            checker_free(c);
            return wqc_fail(err, WQC_ERR_NOT_FOUND, "no tensor %zu", idx[k]);
        }
        c->idx[k] = idx[k];
        c->position[idx[k]] = k;
        atomic_init(&c->done[k], 0);
    }
    wqc_error_clear(&c->err);
    if (pthread_create(&c->thread, NULL, check_all, c) != 0) {
        checker_free(c);
        return wqc_fail(err, WQC_ERR_NOMEM, "cannot start a thread to check the records");
    }
    *out = c;
    return WQC_OK;
}

void wqc_archive_checker_release(wqc_archive_checker *c, size_t i, const wqc_frame *f)
{
    size_t k = i < wqc_archive_count(c->a) ? c->position[i] : SIZE_MAX;
    if (k == SIZE_MAX) {
        wqc_archive_release(c->a, i, f);
        return;
    }
    c->frame[k] = f;
    if (atomic_fetch_or(&c->done[k], DECODED) & CHECKED) wqc_archive_release(c->a, i, f);
}

wqc_status wqc_archive_checker_finish(wqc_archive_checker *c, wqc_error *err)
{
    if (!c) return WQC_OK;
    pthread_join(c->thread, NULL);
    wqc_status st = c->st;
    if (st != WQC_OK && err) *err = c->err;
    checker_free(c);
    return st;
}
