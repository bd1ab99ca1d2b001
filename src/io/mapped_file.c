#include "wqc/mapped_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static wqc_status read_stream(int fd, wqc_mapped_file *out, wqc_error *err)
{
    size_t cap = 1 << 16, size = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (;;) {
        if (size == cap) {
            if (cap > SIZE_MAX / 2) {
                free(buf);
                return wqc_fail(err, WQC_ERR_LIMIT, "input too large");
            }
            unsigned char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                return wqc_fail(err, WQC_ERR_NOMEM, "out of memory reading the input");
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + size, cap - size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int e = errno;
            free(buf);
            return wqc_fail(err, WQC_ERR_IO, "read failed: %s", strerror(e));
        }
        if (got == 0) break;
        size += (size_t)got;
    }
    out->data = buf;
    out->size = size;
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
    if (!f->is_mmap || offset >= f->size) return;
    if (len > f->size - offset) len = f->size - offset;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)f->data + offset + page - 1) / page * page;
    uintptr_t end = ((uintptr_t)f->data + offset + len) / page * page;
    if (end > start) madvise((void *)start, end - start, MADV_DONTNEED);
}
