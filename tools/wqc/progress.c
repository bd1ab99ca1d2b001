#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *scaled(double bytes, char *buf, size_t cap)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
    return buf;
}

void cli_progress_start(cli_progress *p, size_t tensors, uint64_t bytes, int quiet)
{
    *p = (cli_progress){0};
    /* WQC_PROGRESS=1 draws it on any stderr (tests); 0 never. */
    const char *force = getenv("WQC_PROGRESS");
    p->on = !quiet && (force ? force[0] == '1' : isatty(STDERR_FILENO));
    p->delay = force && force[0] == '1' ? 0.0 : 0.5;
    p->every = force && force[0] == '1' ? 0.0 : 0.2;
    p->tensors = tensors;
    p->bytes = bytes;
    p->start = p->last = now();
}

void cli_progress_add(cli_progress *p, size_t tensors, uint64_t bytes)
{
    p->tensors_done += tensors;
    p->bytes_done += bytes;
    if (!p->on) return;
    double t = now();
    if (t - p->start < p->delay || (p->shown && t - p->last < p->every)) return;
    p->last = t;
    char done[32], all[32], rate[32];
    double pct = p->bytes ? 100.0 * (double)p->bytes_done / (double)p->bytes : 100.0;
    fprintf(stderr, "\r%s: %zu/%zu tensors, %s of %s (%.0f%%), %s/s   ", cli_program, p->tensors_done, p->tensors,
            scaled((double)p->bytes_done, done, sizeof done), scaled((double)p->bytes, all, sizeof all), pct,
            scaled((double)p->bytes_done / (t - p->start), rate, sizeof rate));
    fflush(stderr);
    p->shown = 1;
}

void cli_progress_end(cli_progress *p)
{
    if (p->shown) fprintf(stderr, "\r%*s\r", 79, "");
    p->shown = 0;
}
