/* wqc verify IN.wqc: every checksum, the HMAC with a key, every stream
 * decoded to its final state; --against ORIGINAL adds the quantization error.
 * wqc info IN.wqc (or verify --list): the tensors, without decoding. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coding_args.h"
#include "commands.h"
#include "digests.h"
#include "output.h"
#include "progress.h"
#include "stats_out.h"
#include "cli_archive.h"

static const char *verify_usage =
    "usage: wqc verify IN.wqc [--against ORIGINAL [--min-sqnr DB]] [--key-file FILE | --key-env VAR]\n"
    "                 [--max-elements N (default 2^32)] [-T N] [-q] [--json]\n"
    "  --against: every tensor must be what encode makes of ORIGINAL's: bit-exact where stored\n"
    "  exactly, and quantized ones the symbols, scales and offsets that ORIGINAL re-quantized with\n"
    "  the recorded quantizer gives (or ORIGINAL's own, for a quantize output); --min-sqnr also\n"
    "  fails quantized tensors whose weights are below DB of signal-to-noise against ORIGINAL\n"
    "  --json: one document (schema wqc.verify/1) with each tensor's result\n"
    "       wqc verify IN --digest HEX [--tensors GLOB]   (IN: .wqc, safetensors, .npy)\n"
    "           HEX must be the model digest, or a (selected) tensor's, that 'wqc info --digest' prints\n"
    "       wqc verify --list IN.wqc    (same as wqc info)\n"
    "exit status: 0 intact, 4 corrupt, 5 authentication failed (wrong key, or no HMAC), 1 other errors\n";
static const char *info_usage =
    "usage: wqc info IN.wqc [--json] [--stats] [--tensors GLOB]\n"
    "             the index and each tensor's descriptor (wqc verify --list also checks every record)\n"
    "  --stats    the statistics encode stored of each tensor's original floats (count, mean, std,\n"
    "             min, max, excess kurtosis, clipped weights, SQNR); --json always has them\n"
    "       wqc info IN --digest [--route N] [--json] [--tensors GLOB] [-T N]\n"
    "  --digest   BLAKE2b-256 digest of every tensor and of the model (IN: .wqc, quantized or\n"
    "             plain safetensors, .npy, *.index.json); equal wherever the same tensor is stored\n"
    "  --route N  the place, 0..N-1, of the model digest among N (jump consistent hash; alone: the number only)\n";

static void shape_text(const wqc_frame *f, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int d = 0; d < f->ndim && at < cap; d++)
        at += (size_t)snprintf(buf + at, cap - at, d ? "x%llu" : "%llu", (unsigned long long)f->shape[d]);
    if (f->ndim == 0) snprintf(buf, cap, "scalar");
}

static void describe(const wqc_frame *f, char *buf, size_t cap)
{
    if (f->quantized) {
        wqc_quant_params_describe(&f->quant, buf, cap);
        size_t at = strlen(buf);
        if (f->gemv_tile && at < cap) snprintf(buf + at, cap - at, " gemv%u", f->gemv_tile);
    }
    else if (f->encoding == WQC_ENC_GGUF)
        snprintf(buf, cap, "kept (gguf %s%s)", wqc_ggml_type_name(f->ggml_type), f->gguf_peaks ? "+peaks" : "");
    else if (f->coded.ctx.ntables > 1 && wqc_encoding_split(f->encoding))
        snprintf(buf, cap, "kept (%s, %u %s tables%s)", wqc_encoding_name(f->encoding), f->coded.ctx.ntables,
                 f->table_tile ? "tile" : "row", f->coded.ctx.col_shift ? " +cols" : "");
    else snprintf(buf, cap, "kept (%s)", wqc_encoding_name(f->encoding));
}

/* The coding mode as info shows it: order0, context (T tables, or shared
 * tables; "+cols" with column shifts), brotli, zstd; "-" for kept tensors. */
static void mode_text(const wqc_frame *f, char *buf, size_t cap)
{
    wqc_mode m = wqc_frame_mode(f);
    const char *cols = f->coded.ctx.col_shift ? "+cols" : "";
    if (!f->quantized) snprintf(buf, cap, "-");
    else if (m == WQC_MODE_CONTEXT && f->shared_model) snprintf(buf, cap, "context/shared%s", cols);
    else if (m == WQC_MODE_CONTEXT) snprintf(buf, cap, "context/%u%s", f->model.ntables, cols);
    else snprintf(buf, cap, "%s", wqc_mode_name(m));
}

/* The table of tensors. `check`: each record verified first (verify
 * --list); info reads the index and descriptors only, as xz --list and
 * zstd -l do, and not every payload byte (a 50 MB record's XXH3: 7.7 ms of
 * the 10 on the device's Xeon, 21 of 24 on the VM). */
static int run_info(const coding_args *a, wqc_archive *in, int check)
{
    json_t *root = a->json ? cli_json_document("wqc.info/1") : NULL, *list = a->json ? json_array() : NULL;
    uint64_t coded_w = 0, coded_bytes = 0, packed_bits = 0;
    if (!a->json && a->stats) cli_stats_header(stdout);
    else if (!a->json)
        printf("%-48s %-14s %-5s %-24s %-19s %10s %8s %7s\n", "tensor", "shape", "dtype", "encoding", "mode", "bytes",
               "bits/w", "ratio");
    for (size_t i = 0; i < wqc_archive_count(in); i++) {
        if (!coding_args_selected(a, wqc_archive_name(in, i))) continue;
        const wqc_frame *f;
        wqc_error err;
        wqc_error_clear(&err);
        const wqc_tensor_stats *stats = NULL;
        wqc_status st = check ? wqc_archive_frame(in, i, &f, &err) : wqc_archive_describe(in, i, &f, &err);
        if (st == WQC_OK) st = wqc_archive_stats(in, i, &stats, &err);
        if (st != WQC_OK) {
            json_decref(root);
            json_decref(list);
            cli_file_error(wqc_archive_path(in, i), st, &err);
            return cli_exit_status(st);
        }
        char shape[96], desc[96], mode[32];
        shape_text(f, shape, sizeof shape);
        describe(f, desc, sizeof desc);
        mode_text(f, mode, sizeof mode);
        uint64_t bytes = f->encoding == WQC_ENC_RANS ? f->coded.payload_len : f->payload_len;
        double bpw = f->nelem ? bytes * 8.0 / (double)f->nelem : 0.0;
        double b = f->quantized ? f->q.bits : (double)(8 * wqc_dtype_size(f->dtype));
        uint32_t bw, bb;
        const char *dtype = wqc_dtype_name(f->dtype);
        /* GGUF blocks: the ggml type, and its bits per weight. */
        if (f->encoding == WQC_ENC_GGUF && wqc_ggml_type_block(f->ggml_type, &bw, &bb))
            b = 8.0 * bb / bw, dtype = wqc_ggml_type_name(f->ggml_type);
        if (f->quantized) {
            coded_w += f->nelem;
            coded_bytes += bytes;
            packed_bits += f->nelem * (uint64_t)b;
        }
        if (a->json) {
            json_t *o = json_object(), *sh = json_array();
            for (int d = 0; d < f->ndim; d++) json_array_append_new(sh, json_integer((json_int_t)f->shape[d]));
            json_t *name = json_string(f->name);
            json_object_set_new(o, "name", name ? name : json_null());
            json_object_set_new(o, "shape", sh);
            json_object_set_new(o, "dtype", json_string(dtype));
            json_object_set_new(o, "encoding", json_string(desc));
            json_object_set_new(o, "payload_bytes", json_integer((json_int_t)bytes));
            json_object_set_new(o, "bits_per_weight", json_real(bpw));
            json_object_set_new(o, "packed_bits", json_real(b));
            json_object_set_new(o, "storage", json_string(wqc_encoding_name(f->encoding)));
            json_object_set_new(o, "segment_checks", json_boolean(wqc_archive_has_segments(in, i)));
            if (f->quantized) {
                json_object_set_new(o, "mode", json_string(wqc_mode_name(wqc_frame_mode(f))));
                json_object_set_new(o, "symbol_bytes", json_integer((json_int_t)wqc_frame_symbol_bytes(f)));
            }
            if (f->encoding == WQC_ENC_RANS) {
                json_object_set_new(o, "layout", json_string(f->gemv_tile ? "gemv" : "row"));
                json_object_set_new(o, "tables", json_integer(f->model.ntables));
                json_object_set_new(o, "shared_tables", json_boolean(f->shared_model != 0));
                json_object_set_new(o, "column_shifts", json_boolean(f->coded.ctx.col_shift != NULL));
            }
            if (f->encoding == WQC_ENC_GGUF || wqc_encoding_split(f->encoding))
                json_object_set_new(o, "shared_tables", json_boolean(f->shared_model != 0));
            if (f->encoding == WQC_ENC_GGUF) json_object_set_new(o, "block_peaks", json_integer((json_int_t)f->gguf_peaks));
            if (wqc_encoding_split(f->encoding)) {
                int tiles = f->coded.ctx.ntables > 1 && f->table_tile;
                json_object_set_new(o, "row_tables",
                                    json_integer(f->coded.ctx.ntables > 1 && !tiles ? f->coded.ctx.ntables : 1));
                json_object_set_new(o, "tile_tables", json_integer(tiles ? f->coded.ctx.ntables : 1));
                json_object_set_new(o, "table_tile", json_integer(tiles ? f->table_tile : 0));
                json_object_set_new(o, "column_shifts", json_boolean(f->coded.ctx.col_shift != NULL));
            }
            if (stats) json_object_set_new(o, "stats", cli_stats_json(stats));
            json_array_append_new(list, o);
            continue;
        }
        if (a->stats) {
            if (stats) cli_stats_row(stdout, f->name, stats);
            continue;
        }
        cli_put_escaped(stdout, f->name);
        for (size_t k = cli_escaped_len(f->name); k < 48; k++) fputc(' ', stdout);
        printf(" %-14s %-5s %-24s %-19s %10llu %8.4f %6.3fx\n", shape, dtype, desc, mode,
               (unsigned long long)bytes, bpw, bpw > 0 ? b / bpw : 0.0);
    }
    double total_bpw = coded_w ? coded_bytes * 8.0 / (double)coded_w : 0.0;
    if (a->json) {
        json_object_set_new(root, "file_bytes", json_integer((json_int_t)wqc_archive_bytes(in)));
        json_object_set_new(root, "hmac", json_boolean(wqc_archive_has_hmac(in)));
        json_object_set_new(root, "format_version", json_integer(wqc_reader_version(wqc_archive_reader(in))));
        json_object_set_new(root, "shared_models", json_integer((json_int_t)wqc_reader_shared_model_count(wqc_archive_reader(in))));
        json_object_set_new(root, "tensors", list);
        json_object_set_new(root, "coded_bits_per_weight", json_real(total_bpw));
        json_dumpf(root, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
        json_decref(root);
    } else {
        printf("\n%zu tensors, %llu bytes%s, HMAC %s; coded tensors: %llu weights at %.4f bits/weight", wqc_archive_count(in),
               (unsigned long long)wqc_archive_bytes(in), wqc_archive_sharded(in) ? " in shards" : "",
               wqc_archive_has_hmac(in) ? "present" : "absent",
               (unsigned long long)coded_w, total_bpw);
        if (coded_w) printf(" (%.3fx vs packed %.4g-bit)", (double)packed_bits / (coded_bytes * 8.0), (double)packed_bits / coded_w);
        printf("\n");
    }
    return fflush(stdout) == 0 ? WQC_EXIT_OK : WQC_EXIT_ERROR;
}

/* The decoded frame against the original tensor of the same name: exact,
 * or re-quantized to the same symbols; --min-sqnr a floor on top. */
static int compare(const coding_args *a, const wqc_frame *f, const uint8_t *decoded, const wqc_tensor *orig,
                   char *line, size_t cap)
{
    wqc_source_match m;
    wqc_error err;
    wqc_error_clear(&err);
    if (wqc_frame_match_source(f, decoded, orig, &m, &err) != WQC_OK) {
        snprintf(line, cap, "MISMATCH: %.200s", err.msg);
        return 0;
    }
    if (!m.exact) {
        snprintf(line, cap, "MISMATCH: %s than the original%s", m.why, m.quantized ? " (re-quantized)" : "");
        if (m.quantized) snprintf(line + strlen(line), cap - strlen(line), ", SQNR %.2f dB", m.sqnr_db);
        return 0;
    }
    if (!m.quantized) {
        snprintf(line, cap, "identical to the original");
        return 1;
    }
    snprintf(line, cap, "SQNR %.2f dB, max error %.3g (the original re-quantizes to these symbols)", m.sqnr_db, m.max_abs);
    if (m.sqnr_db >= a->min_sqnr) return 1;
    snprintf(line + strlen(line), cap - strlen(line), "; below --min-sqnr %g", a->min_sqnr);
    return 0;
}

static wqc_status count_bytes(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    (void)buf, (void)err;
    *(uint64_t *)ctx += len;
    return WQC_OK;
}

/* One tensor's result: a JSON entry, or a line (stdout, stderr when it failed). */
static void report(const coding_args *a, const char *name, int ok, const char *line, json_t *results,
                   cli_progress *progress)
{
    if (a->json) {
        json_t *o = json_object(), *js = json_string(name);
        json_object_set_new(o, "name", js ? js : json_null());
        json_object_set_new(o, "ok", json_boolean(ok));
        json_object_set_new(o, "detail", json_string(line));
        json_array_append_new(results, o);
    } else if (!a->quiet || !ok) {
        cli_progress_end(progress); /* the line goes above the progress line */
        FILE *to = ok ? stdout : stderr;
        fprintf(to, "%s  ", ok ? "ok" : "FAILED");
        cli_put_escaped(to, name);
        fprintf(to, "  %s\n", line);
    }
    fflush(stdout);
}

/* How many selected tensors from i on verify side by side (wqc_frame_batch,
 * as decode does): with -T >= 2 and no ORIGINAL, up to 2 x threads whose
 * output is within a thread's share of the batch's budget; their frames in
 * jobs. Fewer than 2: none (the tensor streams on every thread). */
static size_t take_batch(const coding_args *a, wqc_archive *in, size_t i, size_t n, wqc_frame_job *jobs)
{
    int threads = (int)a->threads;
    uint64_t bytes = 0;
    size_t k = 0;
    for (; i + k < n && wqc_frame_batch_admits(threads, k, bytes, 0); k++) {
        const wqc_frame *f;
        if (!coding_args_selected(a, wqc_archive_name(in, i + k)) || wqc_archive_frame(in, i + k, &f, NULL) != WQC_OK)
            break;
        if (f->nelem > a->max_elements || !wqc_frame_batch_admits(threads, k, bytes, f->raw_len)) {
            wqc_archive_release(in, i + k, f);
            break;
        }
        bytes += f->raw_len;
        jobs[k] = (wqc_frame_job){.f = f, .in = in, .index = i + k, .form = WQC_FORM_SYMBOLS, .len = f->raw_len};
    }
    if (k >= 2) return k;
    for (size_t j = 0; j < k; j++) wqc_archive_release(in, i + j, jobs[j].f);
    return 0;
}

/* Tensors i.. of a batch taken by take_batch, decoded at once and reported
 * in order; the exit status. */
static int verify_batch(const coding_args *a, wqc_archive *in, wqc_frame_batch *b, wqc_frame_job *jobs, size_t count,
                        json_t *results, cli_progress *progress, size_t *checked)
{
    wqc_error err;
    wqc_error_clear(&err);
    wqc_status st = wqc_frame_batch_decode(b, jobs, count, (int)a->threads, &err);
    int rc = WQC_EXIT_OK;
    for (size_t k = 0; k < count; k++) {
        wqc_frame_job *j = &jobs[k];
        if (st == WQC_OK && j->status != WQC_OK) st = j->status, err = j->err;
        if (st != WQC_OK && rc == WQC_EXIT_OK) {
            cli_progress_end(progress);
            cli_file_error(wqc_archive_path(in, j->index), st, &err);
            rc = cli_exit_status(st);
        }
        if (rc == WQC_EXIT_OK) {
            (*checked)++;
            report(a, j->f->name, 1, "decoded", results, progress);
            cli_progress_add(progress, 1, j->f->frame_bytes);
        }
        wqc_archive_release(in, j->index, j->f);
    }
    return rc;
}

static int run_verify(const coding_args *a, wqc_archive *in)
{
    wqc_model *orig = NULL;
    wqc_error err;
    wqc_error_clear(&err);
    if (a->against) {
        char both[8192];
        snprintf(both, sizeof both, "%s or %s", a->input, a->against);
        cli_watch_input(both);
        wqc_status st = wqc_model_open(a->against, &orig, &err);
        if (st != WQC_OK) return cli_file_error(a->against, st, &err);
    }
    int rc = WQC_EXIT_OK;
    size_t n = wqc_archive_count(in), checked = 0;
    json_t *results = json_array();
    cli_progress progress;
    cli_progress_start(&progress, n, wqc_archive_bytes(in), a->quiet);
    wqc_frame_batch batch = {0};
    wqc_frame_job *jobs = orig ? NULL : calloc(2 * (size_t)a->threads, sizeof *jobs);
    for (size_t i = 0; i < n && rc == WQC_EXIT_OK; i++) {
        if (!coding_args_selected(a, wqc_archive_name(in, i))) {
            cli_progress_add(&progress, 1, 0);
            continue;
        }
        size_t run = jobs ? take_batch(a, in, i, n, jobs) : 0;
        if (run) {
            rc = verify_batch(a, in, &batch, jobs, run, results, &progress, &checked);
            i += run - 1;
            continue;
        }
        const wqc_frame *f;
        wqc_status st = wqc_archive_frame(in, i, &f, &err);
        uint8_t *buf = NULL;
        if (st == WQC_OK && f->nelem > a->max_elements) cli_progress_end(&progress);
        if (st == WQC_OK && (rc = cli_check_size(a, i, f)) != WQC_EXIT_OK) break;
        if (st == WQC_OK && !orig) {
            /* Decoded a window at a time into nothing: every stream ends as it must. */
            uint64_t made = 0;
            st = wqc_frame_stream(f, WQC_FORM_SYMBOLS, (int)a->threads, 0, count_bytes, &made, &err);
            if (st == WQC_OK && made != f->raw_len)
                st = wqc_fail(&err, WQC_ERR_FORMAT, "tensor '%s' decoded to %llu bytes, %llu expected", f->name,
                              (unsigned long long)made, (unsigned long long)f->raw_len);
        } else if (st == WQC_OK) {
            buf = malloc(f->raw_len ? (size_t)f->raw_len : 1);
            st = !buf ? wqc_fail(&err, WQC_ERR_NOMEM, "out of memory")
                 : f->quantized ? wqc_frame_decode_symbols(f, (int)a->threads, buf, &err)
                                : wqc_frame_decode_raw(f, buf, &err);
        }
        if (st != WQC_OK) {
            free(buf);
            cli_progress_end(&progress);
            cli_file_error(wqc_archive_path(in, i), st, &err);
            rc = cli_exit_status(st);
            break;
        }
        checked++;
        char line[256] = "decoded";
        if (orig) {
            const wqc_tensor *t = NULL;
            for (size_t k = 0; k < wqc_model_count(orig) && !t; k++)
                if (strcmp(wqc_model_tensor(orig, k)->name, f->name) == 0) t = wqc_model_tensor(orig, k);
            if (!t) snprintf(line, sizeof line, "MISMATCH: not in the original");
            if (!t || !compare(a, f, buf, t, line, sizeof line)) rc = WQC_EXIT_ERROR;
            if (t) wqc_model_release_data(orig, t->data, t->nbytes);
        }
        report(a, f->name, rc == WQC_EXIT_OK, line, results, &progress);
        wqc_archive_release(in, i, f);
        free(buf);
        cli_progress_add(&progress, 1, f->frame_bytes);
    }
    free(jobs);
    wqc_frame_batch_free(&batch);
    cli_progress_end(&progress);
    const char *hmac = !wqc_archive_has_hmac(in) ? "absent" : a->key_len ? "verified" : "present (not checked: no key)";
    if (a->json) {
        json_t *root = cli_json_document("wqc.verify/1");
        json_object_set_new(root, "file", json_string(a->input));
        json_object_set_new(root, "against", a->against ? json_string(a->against) : json_null());
        json_object_set_new(root, "tensors", results);
        json_object_set_new(root, "checked", json_integer((json_int_t)checked));
        json_object_set_new(root, "hmac", json_string(hmac));
        json_object_set_new(root, "passed", json_boolean(rc == WQC_EXIT_OK));
        json_dumpf(root, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
        json_decref(root);
    } else {
        json_decref(results);
        if (rc == WQC_EXIT_OK && !a->quiet) printf("%s: %zu tensors intact, checksums ok, HMAC %s\n", a->input, checked, hmac);
    }
    wqc_model_close(orig);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    cli_program = "wqc verify";
    coding_args a;
    int rc = coding_args_parse(argc, argv, ARGS_VERIFY | ARGS_KEY | ARGS_CHECK, verify_usage, &a);
    if (rc == WQC_EXIT_OK && a.check_digest) {
        rc = digests_check(&a);
        coding_args_free(&a);
        return rc;
    }
    wqc_archive *in = NULL;
    if (rc == WQC_EXIT_OK) rc = cli_archive_open(&a, !a.list, &in);
    if (rc == WQC_EXIT_OK) {
        rc = a.list ? run_info(&a, in, 1) : run_verify(&a, in);
        wqc_archive_close(in);
    }
    coding_args_free(&a);
    return rc;
}

int cmd_info(int argc, char **argv)
{
    cli_program = "wqc info";
    coding_args a;
    int rc = coding_args_parse(argc, argv, ARGS_VERIFY | ARGS_INFO, info_usage, &a);
    if (rc == WQC_EXIT_OK && (a.digest || a.route)) {
        rc = digests_info(&a);
        coding_args_free(&a);
        return rc;
    }
    wqc_archive *in = NULL;
    if (rc == WQC_EXIT_OK) rc = cli_archive_open(&a, 0, &in);
    if (rc == WQC_EXIT_OK) {
        rc = run_info(&a, in, 0);
        wqc_archive_close(in);
    }
    coding_args_free(&a);
    return rc;
}
