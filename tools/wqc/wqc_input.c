#include "wqc_input.h"

#include <string.h>
#include "output.h"

int wqc_input_status(wqc_status st)
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

int wqc_input_open(wqc_input *in, const coding_args *a, int sequential)
{
    memset(in, 0, sizeof *in);
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(a->input);
    wqc_status st = wqc_map_file(a->input, &in->file, &err);
    if (st == WQC_OK)
        st = wqc_reader_open_file(&in->file, !sequential, a->key_len ? a->key : NULL, a->key_len, &in->reader, &err);
    if (st != WQC_OK) {
        int rc = wqc_input_status(st);
        cli_file_error(a->input, st, &err);
        wqc_input_close(in);
        return rc;
    }
    return WQC_EXIT_OK;
}

int wqc_input_check_size(const coding_args *a, size_t i, const wqc_frame *f)
{
    if (f->nelem <= a->max_elements) return WQC_EXIT_OK;
    cli_error("%s: tensor %zu has %llu elements, more than --max-elements %llu allows (raise it to decode)",
              a->input, i, (unsigned long long)f->nelem, (unsigned long long)a->max_elements);
    return WQC_EXIT_ERROR;
}

void wqc_input_close(wqc_input *in)
{
    wqc_reader_free(in->reader);
    wqc_unmap_file(&in->file);
    in->reader = NULL;
}
