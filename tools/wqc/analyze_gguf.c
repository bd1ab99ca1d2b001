/* analyze on a GGUF file: per tensor, its blocks split into streams (codes,
 * scales, minimums, sub-block scales; wqc/gguf.h), the entropy of each and
 * an estimate per stream (rANS for code streams, the smaller of rANS and
 * zstd -19 for byte fields), and what encode stores for the tensor (its own
 * coder, wqc_gguf_frame). Totals per type and for the file. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "stats_out.h"

typedef struct type_total {
    uint64_t tensors, bytes;
    double stored;
} type_total;

static double zstd_bytes(const uint8_t *s, uint64_t n)
{
    int64_t got = wqc_zstd_bytes(s, (size_t)n, 19);
    return got >= 0 ? (double)got : (double)n;
}

/* What encode stores for the tensor: its coder (wqc_gguf_frame) with
 * encode's defaults and the file's shared code tables, payload bytes. */
static wqc_status encoded_bytes(const wqc_gguf_tensor *t, const wqc_symbol_model *shared, size_t nshared, double *bytes,
                                wqc_error *err)
{
    wqc_model_encode_options o;
    wqc_model_encode_options_default(&o);
    o.coding.rans.threads = 1;
    o.coding.shared = shared, o.coding.nshared = nshared;
    wqc_frame f;
    void *scratch = NULL;
    wqc_status st = wqc_gguf_frame(t, &o, &f, &scratch, err);
    if (st == WQC_OK) *bytes = (double)wqc_coded_payload_bytes(&f);
    wqc_encoded_free(&f);
    free(scratch);
    return st;
}

static int is_float(uint32_t type) { return type == WQC_GGML_F32 || type == WQC_GGML_F16 || type == WQC_GGML_BF16; }

static int report_one(const char *label, const uint8_t *buf, size_t len, const gguf_options *o, json_t *files)
{
    wqc_gguf g;
    wqc_error err;
    wqc_error_clear(&err);
    wqc_status st = wqc_gguf_parse(buf, len, &g, &err);
    if (st != WQC_OK) return cli_file_error(label, st, &err);
    wqc_model_encode_options defaults;
    wqc_model_encode_options_default(&defaults);
    wqc_symbol_model *shared = NULL;
    size_t nshared = 0;
    st = wqc_gguf_shared_models(&g, defaults.coding.rans.precision, &shared, &nshared, &err);
    if (st != WQC_OK) {
        wqc_gguf_free(&g);
        return cli_file_error(label, st, &err);
    }
    type_total per_type[32] = {{0}};
    double stored_total = 0;
    uint64_t bytes_total = 0;
    json_t *tensors = json_array();
    if (!o->json && !o->quiet)
        printf("%s: GGUF v%u, %zu tensors, %zu metadata entries, alignment %llu\n%-40s %-6s %-18s %12s %12s %7s  streams (entropy bits/symbol -> bytes)\n",
               label, g.version, g.ntensors, g.nkv, (unsigned long long)g.alignment, "tensor", "type", "dims", "bytes", "wqc bytes", "ratio");
    for (size_t i = 0; i < g.ntensors && st == WQC_OK; i++) {
        const wqc_gguf_tensor *t = &g.tensors[i];
        if (!o->selected(o->ctx, t->name)) continue;
        json_t *jt = json_object(), *js = json_array();
        double stored = 0;
        char dims[96] = "";
        /* Outermost first, as info and numpy print shapes (ggml lists them innermost first). */
        for (uint32_t d = 0, at = 0; d < t->ndim && at < sizeof dims; d++)
            at += (uint32_t)snprintf(dims + at, sizeof dims - at, d ? "x%llu" : "%llu",
                                     (unsigned long long)t->dims[t->ndim - 1 - d]);
        char streams_text[512] = "";
        size_t at = 0;
        st = encoded_bytes(t, shared, nshared, &stored, &err);
        if (st != WQC_OK) {
            json_decref(jt), json_decref(js);
            break;
        }
        if (is_float(t->type)) {
            at += (size_t)snprintf(streams_text, sizeof streams_text, "lossless split");
        } else {
            wqc_gguf_stream s[WQC_GGUF_STREAMS_MAX];
            size_t n = 0;
            st = wqc_gguf_split(t->type, t->data, t->nbytes, s, &n, &err);
            for (size_t k = 0; st == WQC_OK && k < n; k++) {
                double h = 0, r = wqc_stream_rans_bytes(s[k].data, s[k].len, s[k].alphabet, WQC_PRECISION_DEFAULT, &h);
                double z = s[k].codes ? INFINITY : zstd_bytes(s[k].data, s[k].len), b = fmin(r, z);
                uint64_t hv = k ? wqc_gguf_halves_bytes(t->type, (uint32_t)k - 1, s[k].data, s[k].len) : 0;
                double half = hv ? (double)hv : INFINITY;
                const char *how = half < b ? " (F16 coder)" : z < r ? " (zstd)" : "";
                b = fmin(b, half);
                if (at < sizeof streams_text)
                    at += (size_t)snprintf(streams_text + at, sizeof streams_text - at, "%s%s %.3f -> %.0f%s", k ? ", " : "",
                                           s[k].name, h, b, how);
                json_t *o1 = json_object();
                json_object_set_new(o1, "name", json_string(s[k].name));
                json_object_set_new(o1, "symbols", json_integer((json_int_t)s[k].len));
                json_object_set_new(o1, "alphabet", json_integer(s[k].alphabet));
                json_object_set_new(o1, "entropy_bits", json_real(h));
                json_object_set_new(o1, "rans_bytes", json_real(r));
                if (!s[k].codes) json_object_set_new(o1, "zstd_bytes", json_real(z));
                if (hv) json_object_set_new(o1, "f16_coder_bytes", json_real(half));
                json_object_set_new(o1, "stored_bytes", json_real(b));
                json_array_append_new(js, o1);
            }
            wqc_gguf_streams_free(s, n);
            if (st != WQC_OK) {
                json_decref(jt), json_decref(js);
                break;
            }
        }
        stored_total += stored;
        bytes_total += t->nbytes;
        type_total *tt = &per_type[t->type < 32 ? t->type : 31];
        tt->tensors++, tt->bytes += t->nbytes, tt->stored += stored;
        json_t *name = json_string(t->name);
        json_object_set_new(jt, "name", name ? name : json_null());
        json_object_set_new(jt, "type", json_string(wqc_ggml_type_name(t->type)));
        json_t *jd = json_array();
        for (uint32_t d = 0; d < t->ndim; d++) json_array_append_new(jd, json_integer((json_int_t)t->dims[d]));
        json_object_set_new(jt, "dims", jd);
        json_object_set_new(jt, "bytes", json_integer((json_int_t)t->nbytes));
        json_object_set_new(jt, "stored_bytes", json_real(stored));
        json_object_set_new(jt, "streams", js);
        json_array_append_new(tensors, jt);
        if (!o->json && !o->quiet) {
            cli_put_escaped(stdout, t->name);
            for (size_t k = cli_escaped_len(t->name); k < 40; k++) fputc(' ', stdout);
            printf(" %-6s %-18s %12llu %12.0f %6.3fx  %s\n", wqc_ggml_type_name(t->type), dims, (unsigned long long)t->nbytes,
                   stored, stored > 0 ? (double)t->nbytes / stored : 0.0, streams_text);
        }
    }
    for (size_t i = 0; i < nshared; i++) wqc_symbol_model_free(&shared[i]);
    free(shared);
    if (st != WQC_OK) {
        json_decref(tensors);
        wqc_gguf_free(&g);
        return cli_file_error(label, st, &err);
    }
    /* The rest of the file (header, metadata, padding) as zstd would keep it. */
    double header = zstd_bytes(buf, (size_t)(g.ntensors ? g.data_offset : len));
    json_t *by_type = json_object();
    for (int k = 0; k < 32; k++) {
        if (!per_type[k].tensors) continue;
        json_t *o1 = json_object();
        json_object_set_new(o1, "tensors", json_integer((json_int_t)per_type[k].tensors));
        json_object_set_new(o1, "bytes", json_integer((json_int_t)per_type[k].bytes));
        json_object_set_new(o1, "stored_bytes", json_real(per_type[k].stored));
        json_object_set_new(by_type, wqc_ggml_type_name((uint32_t)k) ? wqc_ggml_type_name((uint32_t)k) : "other", o1);
        if (!o->json && !o->quiet)
            printf("  %-6s %4llu tensors %14llu bytes -> %14.0f (%.3f of them)\n", wqc_ggml_type_name((uint32_t)k),
                   (unsigned long long)per_type[k].tensors, (unsigned long long)per_type[k].bytes, per_type[k].stored,
                   per_type[k].bytes ? per_type[k].stored / (double)per_type[k].bytes : 0.0);
    }
    double file_est = stored_total + header;
    if (!o->json && !o->quiet)
        printf("file: %zu bytes -> about %.0f (%.3f of the file; header and metadata %.0f with zstd)\n", len, file_est,
               file_est / (double)len, header);
    json_t *jf = json_object();
    json_object_set_new(jf, "file", json_string(label));
    json_object_set_new(jf, "version", json_integer(g.version));
    json_object_set_new(jf, "bytes", json_integer((json_int_t)len));
    json_object_set_new(jf, "tensor_bytes", json_integer((json_int_t)bytes_total));
    json_object_set_new(jf, "estimated_bytes", json_real(file_est));
    json_object_set_new(jf, "by_type", by_type);
    json_object_set_new(jf, "tensors", tensors);
    json_array_append_new(files, jf);
    wqc_gguf_free(&g);
    return WQC_EXIT_OK;
}

int analyze_gguf(const gguf_options *o, const char *const *paths, size_t n)
{
    json_t *files = json_array();
    int rc = WQC_EXIT_OK;
    for (size_t i = 0; i < n && rc == WQC_EXIT_OK; i++) {
        wqc_mapped_file f;
        wqc_error err;
        wqc_error_clear(&err);
        wqc_status st = wqc_map_file(paths[i], &f, &err);
        if (st != WQC_OK) {
            rc = cli_file_error(paths[i], st, &err);
            break;
        }
        rc = report_one(paths[i], f.data, f.size, o, files);
        wqc_unmap_file(&f);
    }
    if (rc == WQC_EXIT_OK && o->json) {
        json_t *root = cli_json_document("wqc.analyze-gguf/1");
        json_object_set_new(root, "gguf", files);
        files = NULL;
        json_dumpf(root, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
        json_decref(root);
    }
    json_decref(files);
    return rc;
}
