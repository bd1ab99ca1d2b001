#include "wqc/mapped_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wqc/tensor_io.h"

/* A stream read into a growing buffer. */
typedef struct stream_buf {
    int fd;
    unsigned char *data;
    size_t size, cap;
    int eof;
} stream_buf;

/* Reads until the buffer holds want bytes or the stream ends. */
static wqc_status fill(stream_buf *b, uint64_t want, wqc_error *err)
{
    while (b->size < want && !b->eof) {
        if (b->size == b->cap) {
            if (b->cap > SIZE_MAX / 2) return wqc_fail(err, WQC_ERR_LIMIT, "input too large");
            size_t cap = b->cap ? 2 * b->cap : 1 << 16;
            if (want < cap) cap = (size_t)want; /* no more than the header declares */
            unsigned char *grown = realloc(b->data, cap);
            if (!grown) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory reading the input");
            b->data = grown;
            b->cap = cap;
        }
        ssize_t got = read(b->fd, b->data + b->size, b->cap - b->size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return wqc_fail(err, WQC_ERR_IO, "read failed: %s", strerror(errno));
        if (got == 0) b->eof = 1;
        b->size += (size_t)got;
    }
    return WQC_OK;
}

/* The bytes a stream's header declares (UINT64_MAX: read to its end); an
 * index is JSON of at most 64 MiB. A stream that starts with no known
 * magic is refused at once, so that an endless one is not read into memory. */
static wqc_status declared_size(stream_buf *b, uint64_t *total, wqc_error *err)
{
    *total = UINT64_MAX;
    wqc_status st = fill(b, 16, err);
    if (st != WQC_OK || b->size == 0) return st;
    switch (wqc_detect_format(b->data, b->size, NULL)) {
    case WQC_FILE_NPY: {
        st = fill(b, 12, err);
        size_t prefix = b->size >= 7 && b->data[6] == 1 ? 10 : 12, hlen = 0;
        for (size_t k = 8; st == WQC_OK && k < prefix && k < b->size; k++) hlen |= (size_t)b->data[k] << (8 * (k - 8));
        if (st == WQC_OK && hlen <= WQC_NPY_HEADER_MAX) st = fill(b, prefix + hlen, err);
        return st == WQC_OK ? wqc_npy_declared_size(b->data, b->size, total, err) : st;
    }
    case WQC_FILE_SAFETENSORS: {
        uint64_t n = 0;
        for (int k = 7; k >= 0; k--) n = n << 8 | b->data[k];
        if (n <= WQC_SAFETENSORS_HEADER_MAX) st = fill(b, 8 + n, err);
        return st == WQC_OK ? wqc_safetensors_declared_size(b->data, b->size, total, err) : st;
    }
    case WQC_FILE_WQC:
    case WQC_FILE_GGUF: return WQC_OK;
    default: break;
    }
    size_t skip = 0;
    while (skip < b->size && strchr(" \t\r\n", b->data[skip])) skip++;
    if (skip < b->size && b->data[skip] == '{') {
        *total = 64u << 20;
        return WQC_OK;
    }
    char first[3 * 8 + 1] = "";
    for (size_t k = 0; k < 8 && k < b->size; k++) snprintf(first + 3 * k, 4, "%02x ", b->data[k]);
    first[strlen(first) - 1] = '\0';
    return wqc_fail(err, WQC_ERR_FORMAT, "not a safetensors, .npy, .wqc or GGUF stream (it begins %s)", first);
}

static wqc_status read_stream(int fd, wqc_mapped_file *out, wqc_error *err)
{
    stream_buf b = {fd, NULL, 0, 0, 0};
    uint64_t total;
    wqc_status st = declared_size(&b, &total, err);
    if (st == WQC_OK && total == UINT64_MAX) {
        st = fill(&b, UINT64_MAX, err);
    } else if (st == WQC_OK) {
        /* One byte past the declared end tells a stream that goes on. */
        st = fill(&b, total + 1, err);
        if (st == WQC_OK && b.size > total)
            st = wqc_fail(err, WQC_ERR_FORMAT, "the stream goes on past the %llu bytes its header declares",
                          (unsigned long long)total);
    }
    if (st != WQC_OK) {
        free(b.data);
        return st;
    }
    out->data = b.data;
    out->size = b.size;
    out->is_mmap = 0;
    return WQC_OK;
}

wqc_status wqc_map_file(const char *path, wqc_mapped_file *out, wqc_error *err)
{
    memset(out, 0, sizeof *out);
    if (strcmp(path, "-") == 0) return read_stream(STDIN_FILENO, out, err);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return wqc_fail(err, WQC_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return wqc_fail(err, WQC_ERR_IO, "cannot stat: %s", strerror(e));
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return wqc_fail(err, WQC_ERR_IO, "is a directory");
    }
    wqc_status st = WQC_OK;
    if (!S_ISREG(sb.st_mode)) {
        st = read_stream(fd, out, err);
    } else if (sb.st_size > 0) {
        if ((unsigned long long)sb.st_size > SIZE_MAX) {
            close(fd);
            return wqc_fail(err, WQC_ERR_LIMIT, "file too large to map");
        }
        void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) st = wqc_fail(err, WQC_ERR_IO, "cannot map: %s", strerror(errno));
        else {
            out->data = p;
            out->size = (size_t)sb.st_size;
            out->is_mmap = 1;
            out->dev = (unsigned long long)sb.st_dev;
            out->ino = (unsigned long long)sb.st_ino;
        }
    }
    close(fd);
    return st;
}

void wqc_unmap_file(wqc_mapped_file *f)
{
    if (f->is_mmap) munmap(f->data, f->size);
    else free(f->data);
    memset(f, 0, sizeof *f);
}

void wqc_mapped_release(const wqc_mapped_file *f, size_t offset, size_t len)
{
    if (!f->is_mmap || f->size <= WQC_RELEASE_ABOVE || offset >= f->size) return;
    if (len > f->size - offset) len = f->size - offset;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)f->data + offset + page - 1) / page * page;
    uintptr_t end = ((uintptr_t)f->data + offset + len) / page * page;
    if (end > start) madvise((void *)start, end - start, MADV_DONTNEED);
}

int wqc_mapped_reopen(const wqc_mapped_file *f, const char *path)
{
    if (!f->is_mmap || !path) return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd >= 0 && fstat(fd, &sb) == 0 && (unsigned long long)sb.st_dev == f->dev &&
        (unsigned long long)sb.st_ino == f->ino && (unsigned long long)sb.st_size == f->size)
        return fd;
    if (fd >= 0) close(fd);
    return -1;
}

wqc_status wqc_read_at(int fd, void *dst, size_t len, uint64_t offset, wqc_error *err)
{
    for (size_t got = 0; got < len;) {
        ssize_t r = pread(fd, (uint8_t *)dst + got, len - got, (off_t)(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return wqc_fail(err, WQC_ERR_IO, "cannot read at offset %llu: %s", (unsigned long long)(offset + got),
                            r < 0 ? strerror(errno) : "the file has shrunk");
        got += (size_t)r;
    }
    return WQC_OK;
}
