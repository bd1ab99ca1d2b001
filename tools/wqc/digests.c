#include "digests.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "any_model.h"
#include "output.h"
#include "progress.h"
#include "stats_out.h"

typedef struct model_digests {
    size_t n;
    const char **names;
    uint8_t (*tensor)[WQC_DIGEST_BYTES];
    uint8_t model[WQC_DIGEST_BYTES];
} model_digests;

static void digests_free(model_digests *d)
{
    free(d->names);
    free(d->tensor);
}

static void tensor_done(void *ctx, size_t i)
{
    (void)i;
    cli_progress_add(ctx, 1, 0);
}

/* Every tensor's digest (the model digest covers them all, whatever
 * --tensors selects). */
static int compute(const coding_args *a, any_model *am, model_digests *d)
{
    memset(d, 0, sizeof *d);
    d->n = am->count;
    d->names = calloc(d->n + 1, sizeof *d->names);
    d->tensor = calloc(d->n + 1, sizeof *d->tensor);
    if (!d->names || !d->tensor) {
        cli_error("out of memory");
        return WQC_EXIT_ERROR;
    }
    for (size_t i = 0; i < d->n; i++) d->names[i] = wqc_weights_name(am->w, i);
    cli_progress progress;
    cli_progress_start(&progress, d->n, 0, a->quiet);
    wqc_error err;
    wqc_error_clear(&err);
    size_t failed;
    wqc_status st = wqc_weights_digest_all(am->w, (int)a->threads, d->tensor, d->model, tensor_done, &progress,
                                           &failed, &err);
    cli_progress_end(&progress);
    if (st == WQC_OK) return WQC_EXIT_OK;
    return failed < d->n ? any_model_fail(am, failed, st, &err) : cli_file_error(am->path, st, &err);
}

static void print_text(const coding_args *a, const model_digests *d)
{
    char hex[2 * WQC_DIGEST_BYTES + 1];
    if (a->digest) {
        for (size_t i = 0; i < d->n; i++) {
            if (!coding_args_selected(a, d->names[i])) continue;
            wqc_digest_hex(d->tensor[i], hex);
            printf("%s  ", hex);
            cli_put_escaped(stdout, d->names[i]);
            fputc('\n', stdout);
        }
        wqc_digest_hex(d->model, hex);
        printf("model %s  (%zu tensors, BLAKE2b-256)\n", hex, d->n);
    }
    if (a->route && a->digest) printf("route %u of %u\n", wqc_route(d->model, a->route), a->route);
    else if (a->route) printf("%u\n", wqc_route(d->model, a->route));
}

static void print_json(const coding_args *a, const model_digests *d)
{
    char hex[2 * WQC_DIGEST_BYTES + 1];
    json_t *root = cli_json_document("wqc.digest/1"), *list = json_array();
    json_object_set_new(root, "file", json_string(a->input));
    json_object_set_new(root, "algorithm", json_string("BLAKE2b-256"));
    wqc_digest_hex(d->model, hex);
    json_object_set_new(root, "model_digest", json_string(hex));
    json_object_set_new(root, "tensor_count", json_integer((json_int_t)d->n));
    for (size_t i = 0; a->digest && i < d->n; i++) {
        if (!coding_args_selected(a, d->names[i])) continue;
        json_t *o = json_object(), *name = json_string(d->names[i]);
        wqc_digest_hex(d->tensor[i], hex);
        json_object_set_new(o, "name", name ? name : json_null());
        json_object_set_new(o, "digest", json_string(hex));
        json_array_append_new(list, o);
    }
    if (a->digest) json_object_set_new(root, "tensors", list);
    else json_decref(list);
    if (a->route) {
        json_t *r = json_object();
        json_object_set_new(r, "places", json_integer(a->route));
        json_object_set_new(r, "place", json_integer(wqc_route(d->model, a->route)));
        json_object_set_new(root, "route", r);
    }
    json_dumpf(root, stdout, JSON_INDENT(1));
    fputc('\n', stdout);
    json_decref(root);
}

/* Opens the input, computes its digests and hands them to `use`. */
static int with_digests(const coding_args *a, int (*use)(const coding_args *, const model_digests *))
{
    any_model am;
    int rc = any_model_open(&am, a, a->input);
    if (rc != WQC_EXIT_OK) return rc;
    model_digests d;
    rc = compute(a, &am, &d);
    if (rc == WQC_EXIT_OK) rc = use(a, &d);
    digests_free(&d);
    any_model_close(&am);
    return rc;
}

static int print_digests(const coding_args *a, const model_digests *d)
{
    if (a->json) print_json(a, d);
    else print_text(a, d);
    return fflush(stdout) == 0 ? WQC_EXIT_OK : WQC_EXIT_ERROR;
}

static int check_digest(const coding_args *a, const model_digests *d)
{
    uint8_t want[WQC_DIGEST_BYTES];
    wqc_digest_parse(a->check_digest, want);
    size_t hit = d->n;
    for (size_t i = 0; i < d->n && hit == d->n; i++)
        if (coding_args_selected(a, d->names[i]) && memcmp(d->tensor[i], want, WQC_DIGEST_BYTES) == 0) hit = i;
    if (a->nglobs == 0 && memcmp(d->model, want, WQC_DIGEST_BYTES) == 0) {
        if (!a->quiet) printf("%s: model digest matches (%zu tensors)\n", a->input, d->n);
    } else if (hit < d->n) {
        if (!a->quiet) {
            printf("%s: digest of tensor '", a->input);
            cli_put_escaped(stdout, d->names[hit]);
            printf("' matches\n");
        }
    } else {
        cli_error("%s: digest %s matches neither the model nor any %stensor", a->input, a->check_digest,
                  a->nglobs ? "selected " : "");
        return WQC_EXIT_ERROR;
    }
    return WQC_EXIT_OK;
}

int digests_info(const coding_args *a) { return with_digests(a, print_digests); }

int digests_check(const coding_args *a) { return with_digests(a, check_digest); }
