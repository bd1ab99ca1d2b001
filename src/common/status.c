#include "wqc/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *wqc_strerror(wqc_status status)
{
    switch (status) {
    case WQC_OK: return "success";
    case WQC_ERR_IO: return "input/output error";
    case WQC_ERR_NOMEM: return "out of memory";
    case WQC_ERR_FORMAT: return "malformed input";
    case WQC_ERR_UNSUPPORTED: return "unsupported input";
    case WQC_ERR_INVALID_ARG: return "invalid argument";
    case WQC_ERR_RANGE: return "value out of range";
    case WQC_ERR_NONFINITE: return "non-finite value";
    case WQC_ERR_LIMIT: return "size limit exceeded";
    case WQC_ERR_NOT_FOUND: return "not found";
    case WQC_ERR_CHECKSUM: return "checksum mismatch";
    case WQC_ERR_AUTH: return "authentication failed";
    }
    return "unknown error";
}

wqc_status wqc_fail(wqc_error *err, wqc_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

wqc_status wqc_fail_context(wqc_error *err, wqc_status status, const char *fmt, ...)
{
    if (err) {
        /* The message is copied first: it is what the context is put before. */
        char msg[WQC_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        /* Then ": " and the message, cut where the buffer ends. */
        size_t at = n < 0 ? 0 : (size_t)n < sizeof err->msg ? (size_t)n : sizeof err->msg - 1;
        for (const char *p = ": "; *p && at + 1 < sizeof err->msg; p++) err->msg[at++] = *p;
        size_t len = strlen(msg), room = sizeof err->msg - 1 - at;
        memcpy(err->msg + at, msg, len < room ? len : room);
        err->msg[at + (len < room ? len : room)] = 0;
        err->status = status;
    }
    return status;
}

void wqc_error_clear(wqc_error *err)
{
    if (err) {
        err->status = WQC_OK;
        err->msg[0] = '\0';
    }
}
