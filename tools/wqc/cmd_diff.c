/* wqc diff A B: how far one model moved from another, tensor by tensor (any
 * mix of .wqc, safetensors, .npy), from the weights or, with --stats-only,
 * from the statistics records of two .wqc files; a gate for CI. */
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "any_model.h"
#include "commands.h"
#include "stats_out.h"

static const char *usage_text =
    "usage: wqc diff A B [--json] [--stats-only] [--max-rel-change X] [--tensors GLOB] [-T N] [-q]\n"
    "  A, B: .wqc (or a sharded .wqc's index), safetensors (plain or quantized), .npy, *.index.json\n"
    "  per tensor: added, removed, shape or dtype changed; relative L2 change ||B-A|| / ||A||, cosine,\n"
    "  change of mean and std, largest absolute change (quantized tensors are compared dequantized)\n"
    "  --stats-only        from the statistics records alone (two .wqc files; nothing decoded):\n"
    "                      mean, std, min, max; relative change is then its lower bound\n"
    "                      | rms(B) - rms(A) | / rms(A)\n"
    "  --max-rel-change X  exit 1 when a tensor's relative change exceeds X, or a tensor was added,\n"
    "                      removed or reshaped\n"
    "  --json              one document (schema wqc.diff/1): per tensor name, changed, status, figures\n"
    "  -q                  print only the tensors that changed, and the summary\n"
    "  -T N                threads decoding .wqc tensors (default: all cores)\n"
    "exit status: 0 compared (and the gate passed), 1 gate failed or error, 2 usage, 4 damaged .wqc\n";

typedef struct diff_args {
    const char *a, *b;
    int json, stats_only, quiet;
    double max_rel;             /* < 0: no gate */
    const char **globs;
    size_t nglobs;
    long threads;
} diff_args;

typedef struct tensor_diff {
    const char *status;         /* same, changed, added, removed, reshaped, retyped */
    int changed, numeric;
    double rel, cosine, max_abs; /* wqc_tensor_change's */
    wqc_tensor_stats sa, sb;
    int have_stats;
} tensor_diff;

static int selected(const diff_args *d, const char *name)
{
    if (!d->nglobs) return 1;
    for (size_t i = 0; i < d->nglobs; i++)
        if (fnmatch(d->globs[i], name, 0) == 0) return 1;
    return 0;
}

static size_t find(const any_model *m, const char *name)
{
    for (size_t i = 0; i < m->count; i++)
        if (strcmp(wqc_weights_name(m->w, i), name) == 0) return i;
    return m->count;
}

static wqc_status stats_of(any_model *m, size_t i, wqc_tensor_stats *out, int *have, wqc_error *err)
{
    const wqc_tensor_stats *s = NULL;
    wqc_status st = m->is_wqc ? wqc_archive_stats(m->wqc, i, &s, err) : WQC_OK;
    if (st == WQC_OK && s) *out = *s;
    *have = s != NULL;
    return st;
}

static int same_shape(const wqc_float_tensor *x, const wqc_float_tensor *y)
{
    return x->ndim == y->ndim && memcmp(x->shape, y->shape, sizeof(uint64_t) * (size_t)x->ndim) == 0;
}

static int diff_one(const diff_args *d, any_model *ma, size_t ia, any_model *mb, size_t ib, tensor_diff *t)
{
    wqc_error err;
    wqc_error_clear(&err);
    wqc_status st;
    if (d->stats_only) {
        int ha = 0, hb = 0;
        st = stats_of(ma, ia, &t->sa, &ha, &err);
        if (st != WQC_OK) return any_model_fail(ma, ia, st, &err);
        st = stats_of(mb, ib, &t->sb, &hb, &err);
        if (st != WQC_OK) return any_model_fail(mb, ib, st, &err);
        const wqc_frame *fa, *fb;
        st = wqc_archive_describe(ma->wqc, ia, &fa, &err);
        if (st != WQC_OK) return any_model_fail(ma, ia, st, &err);
        st = wqc_archive_describe(mb->wqc, ib, &fb, &err);
        if (st != WQC_OK) return any_model_fail(mb, ib, st, &err);
        if (fa->ndim != fb->ndim || memcmp(fa->shape, fb->shape, sizeof(uint64_t) * (size_t)fa->ndim)) {
            t->status = "reshaped", t->changed = 1;
            return WQC_EXIT_OK;
        }
        t->have_stats = ha && hb;
        wqc_tensor_change c;
        if (t->have_stats) wqc_change_stats(&t->sa, &t->sb, &c);
        if (t->have_stats) t->changed = c.changed, t->rel = c.rel;
        t->status = !t->have_stats ? "no statistics" : t->changed ? "changed" : "same";
        return WQC_EXIT_OK;
    }
    wqc_float_tensor x, y;
    st = wqc_weights_floats(ma->w, ia, (int)d->threads, &x, &err);
    wqc_weights_release(ma->w, ia);
    if (st != WQC_OK && st != WQC_ERR_UNSUPPORTED) return any_model_fail(ma, ia, st, &err);
    wqc_status st2 = wqc_weights_floats(mb->w, ib, (int)d->threads, &y, &err);
    wqc_weights_release(mb->w, ib);
    if (st2 != WQC_OK && st2 != WQC_ERR_UNSUPPORTED) {
        free(x.w);
        return any_model_fail(mb, ib, st2, &err);
    }
    if (st == WQC_OK && st2 == WQC_OK && !same_shape(&x, &y)) t->status = "reshaped", t->changed = 1;
    else if (st == WQC_OK && st2 == WQC_OK) {
        wqc_tensor_change c;
        wqc_change_floats(x.w, y.w, x.nelem, &c);
        t->changed = c.changed, t->rel = c.rel, t->cosine = c.cosine, t->max_abs = c.max_abs, t->numeric = 1;
        wqc_stats_floats(x.w, x.nelem, &t->sa);
        wqc_stats_floats(y.w, y.nelem, &t->sb);
        t->have_stats = 1;
        t->status = x.dtype != y.dtype && !x.quantized && !y.quantized ? "retyped" : t->changed ? "changed" : "same";
    } else {
        /* Tensors without float values: compared by digest. */
        uint8_t da[32], db[32];
        st = wqc_weights_digest(ma->w, ia, (int)d->threads, da, &err);
        if (st == WQC_OK) st = wqc_weights_digest(mb->w, ib, (int)d->threads, db, &err);
        if (st != WQC_OK) {
            free(x.w), free(y.w);
            return any_model_fail(ma, ia, st, &err);
        }
        t->changed = memcmp(da, db, 32) != 0;
        t->status = t->changed ? "changed" : "same";
    }
    free(x.w);
    free(y.w);
    return WQC_EXIT_OK;
}

static json_t *diff_json(const char *name, const tensor_diff *t)
{
    json_t *o = json_object(), *n = json_string(name);
    json_object_set_new(o, "name", n ? n : json_null());
    json_object_set_new(o, "changed", json_boolean(t->changed));
    json_object_set_new(o, "status", json_string(t->status));
    if (t->numeric) {
        json_object_set_new(o, "rel_change", cli_json_number(t->rel));
        json_object_set_new(o, "cosine", cli_json_number(t->cosine));
        json_object_set_new(o, "max_abs_change", cli_json_number(t->max_abs));
    } else if (t->have_stats) {
        json_object_set_new(o, "rel_change_lower_bound", cli_json_number(t->rel));
    }
    if (t->have_stats) {
        json_object_set_new(o, "mean_a", cli_json_number(t->sa.mean));
        json_object_set_new(o, "mean_b", cli_json_number(t->sb.mean));
        json_object_set_new(o, "delta_mean", cli_json_number(t->sb.mean - t->sa.mean));
        json_object_set_new(o, "std_a", cli_json_number(t->sa.std));
        json_object_set_new(o, "std_b", cli_json_number(t->sb.std));
        json_object_set_new(o, "delta_std", cli_json_number(t->sb.std - t->sa.std));
    }
    return o;
}

static void diff_row(const char *name, const tensor_diff *t)
{
    cli_put_escaped(stdout, name);
    for (size_t k = cli_escaped_len(name); k < 48; k++) fputc(' ', stdout);
    printf(" %-9s", t->status);
    if (t->numeric) printf(" %11.4g %10.6f %11.4g", t->rel, t->cosine, t->max_abs);
    else if (t->have_stats) printf(" >=%9.4g %10s %11s", t->rel, "-", "-");
    else printf(" %11s %10s %11s", "-", "-", "-");
    if (t->have_stats) printf(" %11.4g %11.4g\n", t->sb.mean - t->sa.mean, t->sb.std - t->sa.std);
    else printf(" %11s %11s\n", "-", "-");
}

static int parse(int argc, char **argv, diff_args *d)
{
    enum { OPT_JSON = 256, OPT_STATS_ONLY, OPT_MAX_REL, OPT_TENSORS };
    static const struct option longs[] = {{"json", no_argument, NULL, OPT_JSON},
                                          {"stats-only", no_argument, NULL, OPT_STATS_ONLY},
                                          {"max-rel-change", required_argument, NULL, OPT_MAX_REL},
                                          {"tensors", required_argument, NULL, OPT_TENSORS},
                                          {"threads", required_argument, NULL, 'T'},
                                          {"quiet", no_argument, NULL, 'q'},
                                          {"help", no_argument, NULL, 'h'},
                                          {0, 0, 0, 0}};
    memset(d, 0, sizeof *d);
    d->max_rel = -1;
    d->threads = cli_cpu_count();
    d->globs = calloc((size_t)argc + 1, sizeof *d->globs);
    if (!d->globs) return WQC_EXIT_ERROR;
    int c;
    while ((c = getopt_long(argc, argv, "T:qh", longs, NULL)) != -1) {
        int ok = 1;
        switch (c) {
        case 'h': fputs(usage_text, stdout); exit(WQC_EXIT_OK);
        case OPT_JSON: d->json = 1; break;
        case OPT_STATS_ONLY: d->stats_only = 1; break;
        case OPT_MAX_REL: ok = cli_parse_double("--max-rel-change", optarg, 0, INFINITY, &d->max_rel); break;
        case OPT_TENSORS: d->globs[d->nglobs++] = optarg; break;
        case 'T': ok = cli_parse_int("-T", optarg, 1, 4096, &d->threads); break;
        case 'q': d->quiet = 1; break;
        default: ok = 0;
        }
        if (!ok) {
            fputs(usage_text, stderr);
            return WQC_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        cli_error("two models expected, got %d", argc - optind);
        fputs(usage_text, stderr);
        return WQC_EXIT_USAGE;
    }
    d->a = argv[optind];
    d->b = argv[optind + 1];
    return WQC_EXIT_OK;
}

int cmd_diff(int argc, char **argv)
{
    cli_program = "wqc diff";
    diff_args d;
    int rc = parse(argc, argv, &d);
    if (rc != WQC_EXIT_OK) {
        free(d.globs);
        return rc;
    }
    coding_args open_args;
    memset(&open_args, 0, sizeof open_args);
    open_args.threads = d.threads;
    any_model ma, mb;
    rc = any_model_open(&ma, &open_args, d.a);
    if (rc != WQC_EXIT_OK) {
        free(d.globs);
        return rc;
    }
    rc = any_model_open(&mb, &open_args, d.b);
    if (rc != WQC_EXIT_OK) {
        any_model_close(&ma);
        free(d.globs);
        return rc;
    }
    if (d.stats_only && (!ma.is_wqc || !mb.is_wqc)) {
        cli_error("%s: --stats-only compares the statistics records of two .wqc files", !ma.is_wqc ? d.a : d.b);
        rc = WQC_EXIT_USAGE;
    }
    json_t *list = d.json ? json_array() : NULL;
    if (rc == WQC_EXIT_OK && !d.json)
        printf("%-48s %-9s %11s %10s %11s %11s %11s\n", "tensor", "status", "rel change", "cosine", "max |change|",
               "d mean", "d std");
    size_t compared = 0, changed = 0, added = 0, removed = 0, failing = 0;
    char first_fail[512] = "";
    double worst = 0;
    const char *worst_name = NULL;
    /* A's tensors in its order, then those only B has. */
    for (size_t k = 0; rc == WQC_EXIT_OK && k < ma.count + mb.count; k++) {
        int from_a = k < ma.count;
        const char *name = from_a ? wqc_weights_name(ma.w, k) : wqc_weights_name(mb.w, k - ma.count);
        if (!selected(&d, name)) continue;
        size_t ia = from_a ? k : find(&ma, name), ib = find(&mb, name);
        if (!from_a && ia < ma.count) continue;
        tensor_diff t = {.status = "same"};
        if (ia == ma.count) t.status = "added", t.changed = 1, added++;
        else if (ib == mb.count) t.status = "removed", t.changed = 1, removed++;
        else rc = diff_one(&d, &ma, ia, &mb, ib, &t);
        if (rc != WQC_EXIT_OK) break;
        compared++;
        changed += t.changed;
        int structural = !t.numeric && !t.have_stats && t.changed;
        if (d.max_rel >= 0 && (structural || ((t.numeric || t.have_stats) && !(t.rel <= d.max_rel)))) {
            /* One line for the gate: the first tensor that fails it, and how many do. */
            if (!failing++) {
                if (structural) snprintf(first_fail, sizeof first_fail, "tensor '%s' %s", name, t.status);
                else snprintf(first_fail, sizeof first_fail, "tensor '%s' moved by %.4g%s", name, t.rel,
                              t.numeric ? "" : " at least");
            }
        }
        if ((t.numeric || t.have_stats) && (t.rel > worst || t.rel != t.rel || !worst_name)) worst = t.rel, worst_name = name;
        if (d.json) json_array_append_new(list, diff_json(name, &t));
        else if (!d.quiet || t.changed) diff_row(name, &t);
    }
    if (rc == WQC_EXIT_OK) {
        if (d.json) {
            json_t *root = cli_json_document("wqc.diff/1");
            json_object_set_new(root, "a", json_string(d.a));
            json_object_set_new(root, "b", json_string(d.b));
            json_object_set_new(root, "stats_only", json_boolean(d.stats_only));
            json_object_set_new(root, "tensors", list);
            json_object_set_new(root, "compared", json_integer((json_int_t)compared));
            json_object_set_new(root, "changed", json_integer((json_int_t)changed));
            json_object_set_new(root, "added", json_integer((json_int_t)added));
            json_object_set_new(root, "removed", json_integer((json_int_t)removed));
            json_object_set_new(root, "max_rel_change", worst_name ? cli_json_number(worst) : json_null());
            if (d.max_rel >= 0) json_object_set_new(root, "gate_passed", json_boolean(failing == 0));
            list = NULL;
            json_dumpf(root, stdout, JSON_INDENT(1));
            fputc('\n', stdout);
            json_decref(root);
        } else {
            printf("\n%zu tensors: %zu changed (%zu added, %zu removed)", compared, changed, added, removed);
            if (worst_name) printf("; largest relative change %.4g (%s)", worst, worst_name);
            printf("\n");
        }
        if (failing) {
            cli_error("%s -> %s: gate failed: %s, more than --max-rel-change %g (%zu tensor%s fail it)", d.a, d.b,
                      first_fail, d.max_rel, failing, failing == 1 ? "" : "s");
            rc = WQC_EXIT_ERROR;
        }
    }
    json_decref(list);
    any_model_close(&ma);
    any_model_close(&mb);
    free(d.globs);
    return rc;
}
