// What a (virtual) machine's CPUs can do, for reading thread-scaling figures:
// which CPUs share a core with cpu 0 (four multiply chains, port-bound, alone
// and beside it: a ratio near 2 is a sibling) and read and write bandwidth
// with 1..N threads, 256 MiB each, already faulted; with a FILE, how fast 128
// MiB go into a new file's page cache (the bound of any decoder's output to
// a file): write() on one thread, pwrite() from 1..N threads at their
// offsets, a shared mapping filled by 1..N threads.
//   gcc -O2 -pthread bench/cpu_probe.c -o /tmp/cpu_probe && /tmp/cpu_probe $(nproc) [FILE]
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static void pin(int cpu) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s); pthread_setaffinity_np(pthread_self(), sizeof s, &s); }

typedef struct { int cpu; double t; uint64_t sink; pthread_barrier_t *b; } job;
// Four independent multiply chains: port-bound, as a SIMD decoder is.
static void *spin(void *p)
{
    job *j = p; pin(j->cpu); pthread_barrier_wait(j->b);
    uint64_t a = 1, b = 2, c = 3, d = 4; double t0 = now();
    for (long i = 0; i < 200000000; i++) { a = a * 0x9E3779B97F4A7C15ull + i; b = b * 0xC2B2AE3D27D4EB4Full + i; c = c * 0x165667B19E3779F9ull + i; d = d * 0xD6E8FEB86659FD93ull + i; }
    j->t = now() - t0; j->sink = a ^ b ^ c ^ d; return NULL;
}
static double pair(int x, int y)
{
    pthread_barrier_t b; int n = y < 0 ? 1 : 2; pthread_barrier_init(&b, NULL, n);
    job j[2] = {{x, 0, 0, &b}, {y, 0, 0, &b}}; pthread_t t[2];
    for (int k = 0; k < n; k++) pthread_create(&t[k], NULL, spin, &j[k]);
    for (int k = 0; k < n; k++) pthread_join(t[k], NULL);
    pthread_barrier_destroy(&b); return j[0].t;
}
typedef struct { uint8_t *buf; size_t n; int write; double t; pthread_barrier_t *b; int cpu; } mjob;
static void *mem(void *p)
{
    mjob *j = p; pin(j->cpu); memset(j->buf, 1, j->n); pthread_barrier_wait(j->b);
    double t0 = now(); volatile uint64_t s = 0;
    for (int r = 0; r < 4; r++) {
        if (j->write) memset(j->buf, r, j->n);
        else { const uint64_t *q = (const uint64_t *)j->buf; uint64_t acc = 0; for (size_t i = 0; i < j->n / 8; i += 8) acc += q[i] + q[i+1] + q[i+2] + q[i+3] + q[i+4] + q[i+5] + q[i+6] + q[i+7]; s += acc; }
    }
    j->t = now() - t0; return NULL;
}
// File output: 4 MiB pieces of a 128 MiB file, taken in turn by the threads.
enum { FILE_BYTES = 128 << 20, PIECE = 4 << 20 };
typedef struct { int fd; uint8_t *map; const uint8_t *src; int *next; } fjob;
static void *fill(void *p)
{
    fjob *j = p;
    for (int k; (k = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED)) < FILE_BYTES / PIECE;) {
        if (j->map) memcpy(j->map + (size_t)k * PIECE, j->src, PIECE);
        else if (pwrite(j->fd, j->src, PIECE, (off_t)k * PIECE) != PIECE) abort();
    }
    return NULL;
}
// One run into a new file at path, in ms: mode 0 write(), 1 pwrite, 2 mapping.
static double file_run(const char *path, int mode, int n, const uint8_t *src)
{
    unlink(path);
    double t0 = now();
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644), next = 0;
    if (fd < 0) { perror(path); exit(1); }
    if (mode == 0) {
        for (int k = 0; k < FILE_BYTES / PIECE; k++) if (write(fd, src, PIECE) != PIECE) abort();
    } else {
        uint8_t *map = NULL;
        if (mode == 2 && (ftruncate(fd, FILE_BYTES) != 0 ||
                          (map = mmap(NULL, FILE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)) abort();
        fjob j = {fd, map, src, &next}; pthread_t t[64];
        for (int k = 0; k < n; k++) pthread_create(&t[k], NULL, fill, &j);
        for (int k = 0; k < n; k++) pthread_join(t[k], NULL);
        if (map) munmap(map, FILE_BYTES);
    }
    close(fd);
    double ms = 1e3 * (now() - t0);
    unlink(path);
    return ms;
}
static int by_value(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static void file_probe(const char *path, int ncpu)
{
    static const char *name[] = {"write() ", "pwrite()", "mapping "};
    uint8_t *src = malloc(PIECE); memset(src, 7, PIECE);
    for (int mode = 0; mode < 3; mode++) for (int n = 1; n <= (mode ? ncpu : 1); n *= 2) {
        double t[5]; for (int r = 0; r < 5; r++) t[r] = file_run(path, mode, n, src);
        qsort(t, 5, sizeof *t, by_value);
        printf("128 MiB to a new file, %s %2d threads: %.1f ms (%.1f GB/s), median of 5\n", name[mode], n, t[2], FILE_BYTES / t[2] / 1e6);
    }
    free(src);
}
int main(int argc, char **argv)
{
    int ncpu = argc > 1 ? atoi(argv[1]) : 16;
    double alone = pair(0, -1);
    printf("alone on cpu 0: %.3f s; beside cpu k (ratio to alone):", alone);
    for (int k = 1; k < ncpu; k++) printf(" %d:%.2f", k, pair(0, k) / alone);
    printf("\n");
    for (int w = 0; w < 2; w++) for (int n = 1; n <= ncpu; n *= 2) {
        size_t per = 256u << 20; pthread_barrier_t b; pthread_barrier_init(&b, NULL, n);
        mjob j[64]; pthread_t t[64];
        for (int k = 0; k < n; k++) { j[k] = (mjob){malloc(per), per, w, 0, &b, k}; pthread_create(&t[k], NULL, mem, &j[k]); }
        double worst = 0; for (int k = 0; k < n; k++) { pthread_join(t[k], NULL); if (j[k].t > worst) worst = j[k].t; free(j[k].buf); }
        printf("%s %2d threads: %.1f GB/s\n", w ? "memset" : "read  ", n, 4.0 * per * n / worst / 1e9);
        pthread_barrier_destroy(&b);
    }
    if (argc > 2) file_probe(argv[2], ncpu);
    return 0;
}
