#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum { WRITEBACK_STEP = 8 << 20 };

/* Temporary files a signal handler must remove: one per open output (a
 * sharded output has several). Nodes stay in the list once added, so that
 * the handler never reads freed memory; a finished output clears `active`. */
typedef struct pending_tmp {
    struct pending_tmp *next;
    volatile sig_atomic_t active;
    char path[];
} pending_tmp;
static pending_tmp *volatile pending_head;

static void unlink_pending(void)
{
    for (pending_tmp *p = pending_head; p; p = p->next)
        if (p->active) unlink(p->path);
}

static void remove_pending_and_exit(int sig)
{
    unlink_pending();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void *add_pending(const char *path)
{
    size_t n = strlen(path);
    pending_tmp *p = malloc(sizeof *p + n + 1);
    if (!p) return NULL;
    memcpy(p->path, path, n + 1);
    p->active = 1;
    p->next = pending_head;
    pending_head = p;
    return p;
}

static void drop_pending(cli_out *o)
{
    if (o->pending) ((pending_tmp *)o->pending)->active = 0;
    o->pending = NULL;
}

/* Inputs are mapped: if another program truncates one while wqc reads it,
 * the next access raises SIGBUS. Report it as an error naming the input. */
static char watched_input[4096];
static volatile sig_atomic_t watched_len;

static void input_shrank(int sig)
{
    (void)sig;
    static const char tail[] = ": input file shrank while being read (changed by another program)\n";
    unlink_pending();
    ssize_t ignored = write(STDERR_FILENO, watched_input, (size_t)watched_len);
    ignored = write(STDERR_FILENO, tail, sizeof tail - 1);
    (void)ignored;
    _exit(WQC_EXIT_ERROR);
}

/* The input file, so that no output replaces it (zstd refuses that too). */
static dev_t input_dev;
static ino_t input_ino;
static int input_known;

void cli_watch_input(const char *path)
{
    struct stat sb;
    input_known = strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
    if (input_known) input_dev = sb.st_dev, input_ino = sb.st_ino;
    watched_len = 0;
    snprintf(watched_input, sizeof watched_input, "%s: %s", cli_program, path);
    watched_len = (sig_atomic_t)strlen(watched_input);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = input_shrank;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

static void watch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = remove_pending_and_exit;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A closed pipe is reported by write() as EPIPE, not by a signal. */
    signal(SIGPIPE, SIG_IGN);
}

static int open_tmp(cli_out *o, const char *path);

int cli_out_whole_only(const cli_out *o)
{
    if (o->tmp_path) return 1;
    struct stat out, null;
    return !o->is_stdout && o->fd >= 0 && fstat(o->fd, &out) == 0 && S_ISCHR(out.st_mode) &&
           stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode) && out.st_rdev == null.st_rdev;
}

int cli_out_open(cli_out *o, const char *path, int force)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    o->fd = -1;
    watch_signals();
    if (strcmp(path, "-") == 0) {
        if (isatty(STDOUT_FILENO) && !force) {
            cli_error("refusing to write binary data to a terminal (use -o FILE, or -f to force)");
            return 0;
        }
        o->fd = STDOUT_FILENO;
        o->is_stdout = 1;
        return 1;
    }
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (!S_ISREG(sb.st_mode)) {
            /* /dev/null, a FIFO, a terminal device: write in place, never replace. */
            o->fd = open(path, O_WRONLY | O_CLOEXEC);
            if (o->fd < 0) {
                cli_error("%s: cannot open: %s", path, strerror(errno));
                return 0;
            }
            return 1;
        }
        if (input_known && sb.st_dev == input_dev && sb.st_ino == input_ino) {
            cli_error("%s: is the input; refusing to write the output over it (even with -f)", path);
            return 0;
        }
        if (!force) {
            cli_error("%s: already exists (use -f to overwrite)", path);
            return 0;
        }
    }
    return open_tmp(o, path);
}

int cli_out_open_temp(cli_out *o, const char *near)
{
    memset(o, 0, sizeof *o);
    o->path = near;
    o->fd = -1;
    watch_signals();
    return open_tmp(o, near);
}

/* A temporary file next to path, renamed into place on commit. */
static int open_tmp(cli_out *o, const char *path)
{
    size_t n = strlen(path);
    o->tmp_path = malloc(n + 16);
    if (!o->tmp_path) {
        cli_error("out of memory");
        return 0;
    }
    snprintf(o->tmp_path, n + 16, "%s.XXXXXX", path);
    /* An interrupt between creating the file and registering it would leave
     * it behind: the signals wait until it is registered. */
    sigset_t stop, before;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, &before);
    o->fd = mkostemp(o->tmp_path, O_CLOEXEC);
    if (o->fd >= 0) o->pending = add_pending(o->tmp_path);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    if (o->fd < 0) {
        cli_error("%s: cannot create a temporary file next to it: %s", path, strerror(errno));
        free(o->tmp_path);
        o->tmp_path = NULL;
        return 0;
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(o->fd, 0666 & ~mask); /* mkostemp creates 0600; give the file the usual mode */
    const char *sync = getenv("WQC_SYNC");
    o->sync = sync && sync[0] == '1';
    return 1;
}

wqc_status cli_out_sink(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    cli_out *o = ctx;
    const char *p = buf;
    while (len > 0) {
        ssize_t put = write(o->fd, p, len);
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) return wqc_fail(err, WQC_ERR_IO, "write failed: %s", strerror(errno));
        p += put;
        len -= (size_t)put;
        o->written += (uint64_t)put;
    }
    /* With WQC_SYNC=1 the file is synced before the rename: starting the
     * writeback as the data comes leaves little for that fsync to wait for.
     * (Otherwise not: on a busy disk the call itself waits.) */
    if (o->sync && o->written - o->flushed >= WRITEBACK_STEP) {
        sync_file_range(o->fd, (off_t)o->flushed, (off_t)(o->written - o->flushed), SYNC_FILE_RANGE_WRITE);
        o->flushed = o->written;
    }
    return WQC_OK;
}

void cli_out_abort(cli_out *o)
{
    if (o->fd >= 0 && !o->is_stdout) close(o->fd);
    o->fd = -1;
    if (o->tmp_path) {
        unlink(o->tmp_path);
        drop_pending(o);
        free(o->tmp_path);
        o->tmp_path = NULL;
    }
}

int cli_out_commit(cli_out *o)
{
    if (o->is_stdout) return 1;
    int ok = 1;
    /* WQC_SYNC=1: fsync before the rename (durable across a power cut).
     * Not by default, as zstd, gzip and brotli: the input is never removed,
     * and a .wqc cut short by a crash fails its checks. */
    if (o->sync && fsync(o->fd) != 0) {
        cli_error("%s: cannot sync: %s", o->path, strerror(errno));
        ok = 0;
    }
    if (close(o->fd) != 0 && ok) {
        cli_error("%s: cannot close: %s", o->path, strerror(errno));
        ok = 0;
    }
    o->fd = -1;
    if (ok && o->tmp_path && rename(o->tmp_path, o->path) != 0) {
        cli_error("%s: cannot rename the temporary file into place: %s", o->path, strerror(errno));
        ok = 0;
    }
    if (!ok) {
        cli_out_abort(o);
        return 0;
    }
    drop_pending(o);
    free(o->tmp_path);
    o->tmp_path = NULL;
    return 1;
}

int cli_out_commit_as(cli_out *o, const char *path, int force)
{
    struct stat sb;
    o->path = path;
    if (!force && stat(path, &sb) == 0) {
        cli_error("%s: already exists (use -f to overwrite)", path);
        cli_out_abort(o);
        return 0;
    }
    return cli_out_commit(o);
}

int cli_out_finish(cli_out *o, wqc_status st, const wqc_error *err)
{
    if (st != WQC_OK) {
        cli_out_abort(o);
        return cli_file_error(o->is_stdout ? "stdout" : o->path, st, err);
    }
    return cli_out_commit(o) ? WQC_EXIT_OK : WQC_EXIT_ERROR;
}

int cli_model_open(const char *path, wqc_model **out)
{
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(path);
    wqc_status st = wqc_model_open(path, out, &err);
    return st == WQC_OK ? WQC_EXIT_OK : cli_file_error(path, st, &err);
}
