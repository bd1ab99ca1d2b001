/* wqc/mapped_file.h - a whole input file in memory: mapped read-only when
 * it is a regular file, read into a buffer when it is a pipe or stdin ("-"). */
#ifndef WQC_MAPPED_FILE_H
#define WQC_MAPPED_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wqc_mapped_file {
    unsigned char *data; /* NULL for an empty file */
    size_t size;
    int is_mmap;
    unsigned long long dev, ino;    /* with is_mmap: which file is mapped */
} wqc_mapped_file;

wqc_status wqc_map_file(const char *path, wqc_mapped_file *out, wqc_error *err);
void wqc_unmap_file(wqc_mapped_file *f);
/* Lets the kernel drop the pages of [offset, offset + len) of a mapped file
 * (whole pages inside the range; they read back from the file if touched
 * again), so that a pass over a large file keeps little of it resident.
 * Nothing for a file read into memory, or for a file of at most
 * WQC_RELEASE_ABOVE bytes: all of it resident is within what a pass may
 * hold (the streaming bound, 3 tensors + 64 MiB), and the madvise calls
 * cost 4-5% of decoding a 29 MB checkpoint. */
#define WQC_RELEASE_ABOVE (64u << 20)
void wqc_mapped_release(const wqc_mapped_file *f, size_t offset, size_t len);
/* Reads exactly len bytes at offset of fd (pread, retried on EINTR);
 * WQC_ERR_IO naming the offset when the file ends early or cannot be read. */
wqc_status wqc_read_at(int fd, void *dst, size_t len, uint64_t offset, wqc_error *err);
/* A read-only descriptor of the file f maps, opened again from path, for
 * reading it with pread (a first touch of a mapped page costs more than a
 * copy from the page cache); -1 when f is not a mapping or path now names
 * another file. The caller closes it. */
int wqc_mapped_reopen(const wqc_mapped_file *f, const char *path);

#ifdef __cplusplus
}
#endif

#endif
