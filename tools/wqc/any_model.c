#include "any_model.h"

#include <string.h>

#include "output.h"

int any_model_open(any_model *am, const coding_args *a, const char *path)
{
    memset(am, 0, sizeof *am);
    am->path = path;
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(path);
    wqc_archive_options o = {a->key_len ? a->key : NULL, a->key_len, 0, 0};
    wqc_status st = wqc_weights_open(path, &o, &am->w, &err);
    if (st != WQC_OK) {
        cli_file_error(path, st, &err);
        return cli_exit_status(st);
    }
    am->wqc = wqc_weights_archive(am->w);
    am->is_wqc = am->wqc != NULL;
    am->count = wqc_weights_count(am->w);
    return WQC_EXIT_OK;
}

void any_model_close(any_model *am)
{
    wqc_weights_close(am->w);
    memset(am, 0, sizeof *am);
}

int any_model_fail(const any_model *am, size_t i, wqc_status st, const wqc_error *err)
{
    cli_file_error(wqc_weights_path(am->w, i), st, err);
    return am->is_wqc ? cli_exit_status(st) : WQC_EXIT_ERROR;
}
