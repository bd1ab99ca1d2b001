/* Frames decoded from copies of their records read with pread into one
 * reused buffer, not from the file's mapping, and the choice between those,
 * a checker's described frames and frames read in place (wqc/archive.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../container/format.h"
#include "../common/big_buffer.h"
#include "wqc/archive.h"
#include "wqc/mapped_file.h"

struct wqc_frame_reader {
    wqc_archive *a;
    int fd;
    uint8_t *buf;
    size_t cap;
    wqc_frame frame;
    int has_frame;
};

wqc_status wqc_frame_reader_open(wqc_archive *a, wqc_frame_reader **out, wqc_error *err)
{
    *out = NULL;
    const char *env = getenv("WQC_READ_COPIES");
    if (env && strcmp(env, "0") == 0) return wqc_fail(err, WQC_ERR_UNSUPPORTED, "WQC_READ_COPIES=0");
    if (wqc_reader_version(wqc_archive_reader(a)) != 2)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "format-1 frames are read in place");
    int fd = wqc_archive_reopen(a);
    if (fd < 0) return wqc_fail(err, WQC_ERR_UNSUPPORTED, "not a single mapped file");
    wqc_frame_reader *fr = calloc(1, sizeof *fr);
    if (!fr) {
        close(fd);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    fr->a = a;
    fr->fd = fd;
    *out = fr;
    return WQC_OK;
}

static void end_frame(wqc_frame_reader *fr)
{
    if (fr->has_frame) wqc_descriptor_free(&fr->frame);
    fr->has_frame = 0;
}

/* Tensor i's record read into the buffer (grown as needed) on `threads`
 * threads: segmented (its segment checks verified as the pieces arrive) or
 * whole, then checked. */
static wqc_status read_frame(wqc_frame_reader *fr, size_t i, int threads, int segmented, const wqc_frame **f,
                             wqc_error *err)
{
    end_frame(fr);
    const wqc_frame *d;
    wqc_status st = wqc_archive_describe(fr->a, i, &d, err);
    if (st != WQC_OK) return st;
    /* The copy keeps the record's place modulo WQC_ALIGN, so that an aligned payload stays aligned. */
    size_t skew = (size_t)(d->file_offset % WQC_ALIGN), need = skew + (size_t)d->frame_bytes;
    if (need > fr->cap) {
        free(fr->buf);
        fr->cap = need + need / 4;
        if (!(fr->buf = wqc_big_alloc(fr->cap))) {
            fr->cap = 0;
            return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", d->name);
        }
    }
    uint8_t *copy = fr->buf + skew;
    wqc_reader *r = wqc_archive_reader(fr->a);
    if (segmented) {
        st = wqc_reader_frame_read_segmented(r, i, fr->fd, copy, d->frame_bytes, threads, &fr->frame, err);
    } else {
        st = wqc_read_at(fr->fd, copy, (size_t)d->frame_bytes, d->file_offset, err);
        if (st != WQC_OK) return wqc_fail_context(err, st, "tensor '%s'", d->name);
        st = wqc_reader_frame_copy(r, i, copy, d->frame_bytes, &fr->frame, err);
    }
    if (st != WQC_OK) return st;
    fr->has_frame = 1;
    *f = &fr->frame;
    return WQC_OK;
}

wqc_status wqc_frame_reader_read(wqc_frame_reader *fr, size_t i, const wqc_frame **f, wqc_error *err)
{
    return read_frame(fr, i, 1, 0, f, err);
}

wqc_status wqc_frame_reader_read_segmented(wqc_frame_reader *fr, size_t i, int threads, const wqc_frame **f,
                                           wqc_error *err)
{
    return read_frame(fr, i, threads, 1, f, err);
}

void wqc_frame_reader_close(wqc_frame_reader *fr)
{
    if (!fr) return;
    end_frame(fr);
    free(fr->buf);
    close(fr->fd);
    free(fr);
}

void wqc_frame_source_start(wqc_archive *a, wqc_archive_checker *checker, int threads, wqc_frame_source *s)
{
    s->threads = threads;
    s->checker = checker;
    s->copies = NULL;
    /* WQC_READ_COPIES=1: records with segment checks too (see wqc/archive.h). */
    const char *env = getenv("WQC_READ_COPIES");
    s->segmented_copies = env && strcmp(env, "1") == 0;
    if (!checker || s->segmented_copies) (void)wqc_frame_reader_open(a, &s->copies, NULL);
    s->segmented_copies = s->segmented_copies && s->copies;
}

void wqc_frame_source_end(wqc_frame_source *s)
{
    wqc_frame_reader_close(s->copies);
    s->copies = NULL;
}

wqc_status wqc_frame_source_get(wqc_archive *a, const wqc_frame_source *s, size_t i, const wqc_frame **f,
                                wqc_error *err)
{
    if (wqc_archive_checks_segments(a, i, s->threads))
        return s->segmented_copies ? wqc_frame_reader_read_segmented(s->copies, i, s->threads, f, err)
                                   : wqc_archive_frame_segmented(a, i, s->threads, f, err);
    if (s->checker) return wqc_archive_describe(a, i, f, err);
    if (s->copies) return wqc_frame_reader_read(s->copies, i, f, err);
    return wqc_archive_frame(a, i, f, err);
}

void wqc_frame_source_done(wqc_archive *a, const wqc_frame_source *s, size_t i, const wqc_frame *f)
{
    /* A copy's pages are the reader's buffer; the mapping's go when nothing needs them. */
    if (wqc_archive_checks_segments(a, i, s->threads)) {
        if (!s->segmented_copies) wqc_archive_release(a, i, f);
    } else if (s->checker) {
        wqc_archive_checker_release(s->checker, i, f);
    } else if (!s->copies) {
        wqc_archive_release(a, i, f);
    }
}

wqc_status wqc_frame_source_get_kept(wqc_archive *a, const wqc_frame_source *s, size_t i, const wqc_frame **f,
                                     int *check, wqc_error *err)
{
    /* The checker checks what it was given; the caller checks the rest. */
    *check = !s->checker || wqc_archive_checks_segments(a, i, s->threads);
    return wqc_archive_describe(a, i, f, err);
}

void wqc_frame_source_done_kept(wqc_archive *a, const wqc_frame_source *s, size_t i, const wqc_frame *f)
{
    if (s->checker && !wqc_archive_checks_segments(a, i, s->threads)) wqc_archive_checker_release(s->checker, i, f);
    else wqc_archive_release(a, i, f);
}
