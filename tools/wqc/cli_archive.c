#include "cli_archive.h"

#include "output.h"

int cli_exit_status(wqc_status st)
{
    switch (st) {
    case WQC_OK: return WQC_EXIT_OK;
    case WQC_ERR_AUTH: return WQC_EXIT_AUTH;
    case WQC_ERR_FORMAT:
    case WQC_ERR_CHECKSUM:
    case WQC_ERR_LIMIT: return WQC_EXIT_CORRUPT;
    default: return WQC_EXIT_ERROR;
    }
}

int cli_archive_open(const coding_args *a, int sequential, wqc_archive **out)
{
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(a->input);
    wqc_archive_options o = {a->key_len ? a->key : NULL, a->key_len, sequential, (int)a->threads};
    wqc_status st = wqc_archive_open(a->input, &o, out, &err);
    if (st == WQC_OK) return WQC_EXIT_OK;
    cli_file_error(a->input, st, &err);
    return cli_exit_status(st);
}

int cli_check_size(const coding_args *a, size_t i, const wqc_frame *f)
{
    if (f->nelem <= a->max_elements) return WQC_EXIT_OK;
    cli_error("%s: tensor %zu has %llu elements, more than --max-elements %llu allows (raise it to decode)",
              a->input, i, (unsigned long long)f->nelem, (unsigned long long)a->max_elements);
    return WQC_EXIT_ERROR;
}
