/* wqc/status.h - error reporting shared by every libwqc module.
 *
 * Every public function returns a wqc_status. Functions that can fail on
 * input data also take an optional `wqc_error *` that receives a one-line,
 * human-readable detail (without the file name: the caller knows it). The
 * library never prints, never exits and keeps no global state. */
#ifndef WQC_STATUS_H
#define WQC_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wqc_status {
    WQC_OK = 0,
    WQC_ERR_IO,          /* a read, write, open or map failed */
    WQC_ERR_NOMEM,       /* an allocation failed */
    WQC_ERR_FORMAT,      /* the input is malformed (truncated, bad header, bad offsets) */
    WQC_ERR_UNSUPPORTED, /* well-formed input that wqc does not handle (dtype, version) */
    WQC_ERR_INVALID_ARG, /* a caller-supplied parameter is out of its documented range */
    WQC_ERR_RANGE,       /* data does not fit the requested representation */
    WQC_ERR_NONFINITE,   /* NaN or infinity in a tensor that must be finite */
    WQC_ERR_LIMIT,       /* a declared size exceeds a documented limit */
    WQC_ERR_NOT_FOUND,   /* a named item (tensor, shard) does not exist */
    WQC_ERR_CHECKSUM,    /* a stored hash does not match the data */
    WQC_ERR_AUTH         /* HMAC missing or wrong for the given key */
} wqc_status;

#define WQC_ERROR_MSG_MAX 256

/* Detail of the last failure of a call; msg is always NUL-terminated. */
typedef struct wqc_error {
    wqc_status status;
    char msg[WQC_ERROR_MSG_MAX];
} wqc_error;

/* A static, lower-case description of a status ("malformed input"). */
const char *wqc_strerror(wqc_status status);

/* Records a printf-style detail in err (if err is not NULL) and returns status,
 * so that failures read `return wqc_fail(err, WQC_ERR_FORMAT, "...", ...)`. */
wqc_status wqc_fail(wqc_error *err, wqc_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Puts a printf-style context before the message err already holds
 * ("CONTEXT: MESSAGE"), sets its status and returns it: what a caller adds
 * to a failure it passes on. */
wqc_status wqc_fail_context(wqc_error *err, wqc_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Clears err to WQC_OK with an empty message (no-op on NULL). */
void wqc_error_clear(wqc_error *err);

#ifdef __cplusplus
}
#endif
#endif
