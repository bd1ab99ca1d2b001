/* LD_PRELOAD fault injector for tests/cli/test_faults.sh: right after a
 * program maps the file named by $WQC_FAULT_PATH, that file is truncated to
 * $WQC_FAULT_SIZE bytes (WQC_FAULT=shrink) or removed (WQC_FAULT=vanish),
 * as if another program had done it while wqc was reading. */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

static int is_target(int fd, const char *want)
{
    char link[64], got[PATH_MAX], real_want[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, got, sizeof got - 1);
    if (n <= 0 || !realpath(want, real_want)) return 0;
    got[n] = '\0';
    return strcmp(got, real_want) == 0;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    mmap_fn real = (mmap_fn)(void (*)(void))dlsym(RTLD_NEXT, "mmap");
    void *p = real(addr, len, prot, flags, fd, off);
    const char *path = getenv("WQC_FAULT_PATH"), *fault = getenv("WQC_FAULT");
    if (p == MAP_FAILED || fd < 0 || !path || !fault || !is_target(fd, path)) return p;
    if (strcmp(fault, "vanish") == 0) {
        unlink(path);
    } else {
        const char *size = getenv("WQC_FAULT_SIZE");
        if (truncate(path, size ? atol(size) : 0) != 0) perror("shrink_after_map: truncate");
    }
    return p;
}
