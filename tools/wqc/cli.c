#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cli_program = "wqc";

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", cli_program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_file_error(const char *path, wqc_status st, const wqc_error *err)
{
    fprintf(stderr, "%s: ", cli_program);
    cli_put_escaped(stderr, strcmp(path, "-") == 0 ? "stdin" : path);
    fprintf(stderr, ": %s\n", err && err->msg[0] ? err->msg : wqc_strerror(st));
    return WQC_EXIT_ERROR;
}

int cli_parse_int(const char *opt, const char *text, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        cli_error("%s: expected an integer in %ld..%ld, got '%s'", opt, lo, hi, text);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_u64(const char *opt, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    if (text[0] < '0' || text[0] > '9') {
        cli_error("%s: expected a non-negative integer, got '%s'", opt, text);
        return 0;
    }
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end) {
        cli_error("%s: expected a non-negative integer, got '%s'", opt, text);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_double(const char *opt, const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < lo || v > hi) {
        cli_error("%s: expected a number in %g..%g, got '%s'", opt, lo, hi, text);
        return 0;
    }
    *out = v;
    return 1;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) n = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) n = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, min = 0x10000;
    else return 0;
    unsigned cp = c & (0x3f >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    if (cp >= 0x80 && cp < 0xa0) return 0; /* C1 controls */
    return n;
}

static size_t put_or_measure(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t width = 0;
    while (*s) {
        size_t n = utf8_seq_len(s);
        int plain = n > 1 || (n == 1 && *s >= 0x20 && *s != 0x7f && *s != '\\');
        if (!plain) {
            if (f) fprintf(f, "\\x%02x", *s);
            width += 4;
            s++;
            continue;
        }
        if (f) fwrite(s, 1, n, f);
        width += 1;
        s += n;
    }
    return width;
}

void cli_put_escaped(FILE *f, const char *s) { put_or_measure(f, s); }
size_t cli_escaped_len(const char *s) { return put_or_measure(NULL, s); }

int cli_quant_option(wqc_quant_settings *q, const char *name, const char *value)
{
    wqc_error err;
    wqc_error_clear(&err);
    wqc_status st = wqc_quant_setting(q, name, value, &err);
    if (st == WQC_ERR_NOT_FOUND) return 0;
    if (st != WQC_OK) cli_error("%s", err.msg);
    return st == WQC_OK ? 1 : -1;
}

int cli_rans_option(wqc_rans_params *p, const char *name, const char *value)
{
    wqc_error err;
    wqc_error_clear(&err);
    if (wqc_rans_setting(p, name, value, &err) == WQC_OK) return 1;
    cli_error("%s", err.msg);
    return 0;
}

int cli_quant_options_finish(wqc_quant_settings *q)
{
    wqc_error err;
    wqc_error_clear(&err);
    if (wqc_quant_settings_finish(q, &err) == WQC_OK) return 1;
    cli_error("%s", err.msg);
    return 0;
}

int cli_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int cli_load_key(const char *key_file, const char *key_env, uint8_t key[CLI_KEY_MAX], size_t *len)
{
    *len = 0;
    if (key_file && key_env) {
        cli_error("give --key-file or --key-env, not both");
        return 0;
    }
    if (key_env) {
        const char *v = getenv(key_env);
        if (!v || !*v) {
            cli_error("--key-env: environment variable %s is not set or empty", key_env);
            return 0;
        }
        *len = strlen(v);
        if (*len > CLI_KEY_MAX) *len = CLI_KEY_MAX + 1;
        else memcpy(key, v, *len);
    } else if (key_file) {
        FILE *f = fopen(key_file, "rb");
        if (!f) {
            cli_error("%s: cannot open key file: %s", key_file, strerror(errno));
            return 0;
        }
        *len = fread(key, 1, CLI_KEY_MAX, f);
        if (*len == CLI_KEY_MAX && fgetc(f) != EOF) *len = CLI_KEY_MAX + 1;
        fclose(f);
    } else {
        return 1;
    }
    if (*len < 16 || *len > CLI_KEY_MAX) {
        cli_error("HMAC key must be 16..%d bytes", CLI_KEY_MAX);
        return 0;
    }
    return 1;
}

int cli_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

char *cli_joined(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    char *s = malloc(n + m + 1);
    if (s) {
        memcpy(s, a, n);
        memcpy(s + n, b, m + 1);
    }
    return s;
}

