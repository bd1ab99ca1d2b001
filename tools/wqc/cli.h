/* Helpers shared by the wqc subcommands: exit codes, error lines, number
 * parsing, safe printing of names taken from input files. */
#ifndef WQC_CLI_H
#define WQC_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "wqc/wqc.h"

/* Exit statuses of every subcommand (documented in README.md). */
enum {
    WQC_EXIT_OK = 0,
    WQC_EXIT_ERROR = 1,   /* bad input, I/O failure, out of memory */
    WQC_EXIT_USAGE = 2,   /* bad command line */
    WQC_EXIT_GATE = 3,    /* analyze: a --max-bits / --min-saving gate was missed */
    WQC_EXIT_CORRUPT = 4, /* a .wqc file is damaged: checksum, structure or stream */
    WQC_EXIT_AUTH = 5     /* HMAC missing or wrong for the given key */
};

extern const char *cli_program; /* "wqc analyze", for messages */

/* "wqc analyze: <message>\n" on stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* "wqc analyze: FILE: <err->msg or strerror>\n" on stderr; returns WQC_EXIT_ERROR. */
int cli_file_error(const char *path, wqc_status st, const wqc_error *err);

/* Strict parsers: the whole string must be a number within [lo, hi].
 * On failure print a usage error naming the option and return 0. */
int cli_parse_int(const char *opt, const char *text, long lo, long hi, long *out);
int cli_parse_u64(const char *opt, const char *text, uint64_t *out);
int cli_parse_double(const char *opt, const char *text, double lo, double hi, double *out);

/* True if s ends with suffix (s may be the suffix itself). */
int cli_has_suffix(const char *s, const char *suffix);
/* a followed by b, newly allocated; NULL when out of memory. */
char *cli_joined(const char *a, const char *b);

/* Writes s with control characters, backslashes, quotes and bytes that are
 * not valid UTF-8 escaped as \xNN, so names from files cannot drive a terminal. */
void cli_put_escaped(FILE *f, const char *s);
/* Display width of the escaped form (bytes, counting each escape as 4). */
size_t cli_escaped_len(const char *s);

/* The quantizer options shared by analyze/quantize/encode, through
 * wqc_quant_setting: 1 if handled, 0 if not a quantizer option, -1 (after
 * printing why) on a bad value. */
int cli_quant_option(wqc_quant_settings *q, const char *name, const char *value);
/* --precision, --lanes, --chunk through wqc_rans_setting: 1, or 0 after
 * printing why the value is bad. */
int cli_rans_option(wqc_rans_params *p, const char *name, const char *value);
/* wqc_quant_settings_finish; prints why and returns 0 when invalid. */
int cli_quant_options_finish(wqc_quant_settings *q);

/* The HMAC key: the bytes of key_file, or the value of environment variable
 * key_env (never a command-line argument). Returns 1 with *len = 0 when
 * neither is given, 1 with the key loaded, 0 (after printing why) on error. */
#define CLI_KEY_MAX 1024
int cli_load_key(const char *key_file, const char *key_env, uint8_t key[CLI_KEY_MAX], size_t *len);

/* Number of online CPUs (at least 1). */
int cli_cpu_count(void);

#endif
