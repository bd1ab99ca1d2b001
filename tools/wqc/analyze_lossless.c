/* `wqc analyze --lossless`: per float tensor, the entropy of each stream the
 * split coding makes (wqc/lossless.h), what wqc stores, and what zstd and
 * brotli reach on the tensor's bytes; totals per dtype. 8-bit floats (one
 * symbol, the whole value) also get the entropies of their fields, and so
 * do U8 tensors of packed 4-bit floats (E2M1 codes, two a byte). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "stats_out.h"

typedef struct lossless_row {
    const char *name;
    wqc_dtype dtype;
    uint64_t values, bytes, coded, zstd, brotli, xz;
    double h_symbol, h_sign, h_rest[WQC_SPLIT_REST_MAX];
    double h_exponent, h_mantissa;  /* 8-bit floats; packed E2M1 codes */
    int fp8;
    wqc_packed_float packed;        /* values are E2M1 codes, two a byte */
    const char *coding;
    const char *classes;            /* split frames: "none", "rows", "tiles" or "rows+cols" */
} lossless_row;

/* Entropies per code of the E2M1 codes s|e2|m1 packed two a byte: the
 * code, its sign, exponent and mantissa. */
static void e2m1_entropies(const uint8_t *b, size_t n, lossless_row *r)
{
    uint64_t h[16] = {0};
    for (size_t i = 0; i < n; i++) h[b[i] & 15]++, h[b[i] >> 4]++;
    uint64_t sign[2] = {0}, exponent[4] = {0}, mantissa[2] = {0};
    for (int c = 0; c < 16; c++) sign[c >> 3] += h[c], exponent[c >> 1 & 3] += h[c], mantissa[c & 1] += h[c];
    r->h_symbol = wqc_entropy_bits(h, 16);
    r->h_sign = wqc_entropy_bits(sign, 2);
    r->h_exponent = wqc_entropy_bits(exponent, 4);
    r->h_mantissa = wqc_entropy_bits(mantissa, 2);
}

static wqc_status analyse(const wqc_tensor *t, wqc_packed_float packed, const lossless_options *o, lossless_row *r,
                          wqc_error *err)
{
    memset(r, 0, sizeof *r);
    r->name = t->name;
    r->dtype = t->dtype;
    r->packed = packed;
    r->values = packed ? 2 * t->nelem : t->nelem;
    r->bytes = t->nbytes;
    size_t n = (size_t)t->nelem;
    unsigned nrest = wqc_split_rest_count(t->dtype);
    uint8_t *mem = malloc((1 + nrest) * n + 1), *rest[WQC_SPLIT_REST_MAX] = {0};
    if (!mem) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (unsigned k = 0; k < nrest; k++) rest[k] = mem + (1 + k) * n;
    wqc_float_split(t->dtype, t->data, n, mem, rest);
    r->h_symbol = wqc_field_entropy_bits(mem, n, 0, 0xff);
    int fp8 = r->fp8 = t->dtype == WQC_DTYPE_F8_E4M3 || t->dtype == WQC_DTYPE_F8_E5M2 || t->dtype == WQC_DTYPE_F8_E8M0;
    if (nrest) {
        r->h_sign = wqc_field_entropy_bits(rest[0], n, 7, 1);
    } else if (fp8) {
        /* s|e4|m3 (E4M3), s|e5|m2 (E5M2), e8 (E8M0, a scale: no sign, no mantissa). */
        int e8 = t->dtype == WQC_DTYPE_F8_E8M0, mbits = t->dtype == WQC_DTYPE_F8_E4M3 ? 3 : 2;
        r->h_sign = e8 ? 0 : wqc_field_entropy_bits(mem, n, 7, 1);
        r->h_exponent = e8 ? r->h_symbol : wqc_field_entropy_bits(mem, n, (unsigned)mbits, 0x7fu >> mbits);
        r->h_mantissa = e8 ? 0 : wqc_field_entropy_bits(mem, n, 0, (1u << mbits) - 1);
    }
    for (unsigned k = 0; k < nrest; k++) r->h_rest[k] = wqc_field_entropy_bits(rest[k], n, 0, 0xff);
    if (packed) e2m1_entropies(t->data, n, r);
    free(mem);
    /* Encode's own options, one thread. */
    wqc_model_encode_options mo;
    wqc_model_encode_options_default(&mo);
    mo.coding.rans.threads = 1;
    wqc_encode_options eo = wqc_model_coding(&mo);
    wqc_frame f;
    void *scratch = NULL;
    wqc_status st = wqc_frame_lossless(t, &eo, mo.kept_zstd_level, &f, &scratch, err);
    if (st == WQC_OK) {
        r->coded = f.payload_len;
        r->coding = wqc_encoding_name(f.encoding);
        r->classes = !wqc_encoding_split(f.encoding) ? NULL
                     : f.coded.ctx.ntables < 2      ? "none"
                     : f.table_tile                 ? "tiles"
                     : f.coded.ctx.col_shift        ? "rows+cols"
                                                    : "rows";
    }
    wqc_encoded_free(&f);
    free(scratch);
    wqc_baseline_sizes b;
    if (st == WQC_OK) st = wqc_baselines_measure(t->data, (size_t)t->nbytes, 8, o->zstd_level, o->brotli_quality, &b, err);
    r->zstd = (uint64_t)b.zstd_bytes;
    r->brotli = (uint64_t)b.brotli_bytes;
    r->xz = (uint64_t)b.xz_bytes;
    return st;
}

/* The totals' rows: dtypes, and U8 tensors of packed 4-bit floats apart. */
enum { NDT = 8, NKINDS = NDT + 2 };
static const wqc_dtype dtypes[NDT] = {WQC_DTYPE_F32,     WQC_DTYPE_F16,     WQC_DTYPE_BF16, WQC_DTYPE_F8_E4M3,
                                      WQC_DTYPE_F8_E5M2, WQC_DTYPE_F8_E8M0, WQC_DTYPE_U8,   WQC_DTYPE_I8};

static int row_kind(const lossless_row *r)
{
    if (r->packed) return NDT + (r->packed == WQC_PACKED_MXFP4 ? 0 : 1);
    for (int d = 0; d < NDT; d++)
        if (r->dtype == dtypes[d]) return d;
    return -1;
}

static const char *kind_name(int d)
{
    return d == NDT ? "MXFP4" : d == NDT + 1 ? "NVFP4" : wqc_dtype_name(dtypes[d]);
}

int analyze_lossless(const lossless_options *o, analyze_input *inputs, size_t ninputs)
{
    size_t cap = 0, n = 0;
    for (size_t i = 0; i < ninputs; i++) cap += inputs[i].model ? wqc_model_count(inputs[i].model) : 0;
    lossless_row *rows = calloc(cap + 1, sizeof *rows);
    if (!rows) {
        cli_error("out of memory");
        return WQC_EXIT_ERROR;
    }
    int rc = WQC_EXIT_OK;
    for (size_t i = 0; i < ninputs && rc == WQC_EXIT_OK; i++)
        for (size_t k = 0; inputs[i].model && k < wqc_model_count(inputs[i].model); k++) {
            const wqc_tensor *t = wqc_model_tensor(inputs[i].model, k);
            if (!wqc_split_dtype(t->dtype) || !o->selected(o->ctx, t->name)) continue;
            wqc_error err;
            wqc_error_clear(&err);
            wqc_status st = analyse(t, inputs[i].packed ? inputs[i].packed[k] : WQC_PACKED_NONE, o, &rows[n], &err);
            if (st != WQC_OK) {
                rc = cli_file_error(inputs[i].label, st, &err);
                break;
            }
            n++;
        }
    uint64_t tot[NKINDS][6] = {{0}}; /* tensors, bytes, coded, zstd, brotli, xz */
    for (size_t i = 0; i < n; i++) {
        int d = row_kind(&rows[i]);
        uint64_t add[6] = {1, rows[i].bytes, rows[i].coded, rows[i].zstd, rows[i].brotli, rows[i].xz};
        for (int j = 0; d >= 0 && j < 6; j++) tot[d][j] += add[j];
    }
    if (rc == WQC_EXIT_OK && o->json) {
        json_t *root = cli_json_document("wqc.analyze-lossless/1"), *list = json_array(), *sum = json_object();
        for (size_t i = 0; i < n; i++) {
            const lossless_row *r = &rows[i];
            json_t *e = json_object(), *h = json_array();
            for (unsigned k = 0; k < wqc_split_rest_count(r->dtype); k++) json_array_append_new(h, json_real(r->h_rest[k]));
            json_object_set_new(e, "name", json_string(r->name));
            json_object_set_new(e, "dtype", json_string(wqc_dtype_name(r->dtype)));
            if (r->packed) json_object_set_new(e, "packed", json_string(kind_name(row_kind(r))));
            json_object_set_new(e, "values", json_integer((json_int_t)r->values));
            json_object_set_new(e, "bytes", json_integer((json_int_t)r->bytes));
            json_object_set_new(e, "symbol_entropy_bits", json_real(r->h_symbol));
            json_object_set_new(e, "sign_entropy_bits", json_real(r->h_sign));
            json_object_set_new(e, "rest_entropy_bits", h);
            if (r->fp8 || r->packed) {
                json_object_set_new(e, "exponent_entropy_bits", json_real(r->h_exponent));
                json_object_set_new(e, "mantissa_entropy_bits", json_real(r->h_mantissa));
            }
            json_object_set_new(e, "coded_bytes", json_integer((json_int_t)r->coded));
            json_object_set_new(e, "coding", json_string(r->coding));
            if (r->classes) json_object_set_new(e, "classes", json_string(r->classes));
            json_object_set_new(e, "zstd_bytes", json_integer((json_int_t)r->zstd));
            json_object_set_new(e, "brotli_bytes", json_integer((json_int_t)r->brotli));
            json_object_set_new(e, "xz_bytes", json_integer((json_int_t)r->xz));
            json_array_append_new(list, e);
        }
        for (int d = 0; d < NKINDS; d++) {
            if (!tot[d][0]) continue;
            json_t *e = json_object();
            static const char *keys[6] = {"tensors", "bytes", "coded_bytes", "zstd_bytes", "brotli_bytes", "xz_bytes"};
            for (int j = 0; j < 6; j++) json_object_set_new(e, keys[j], json_integer((json_int_t)tot[d][j]));
            json_object_set_new(sum, kind_name(d), e);
        }
        json_object_set_new(root, "zstd_level", json_integer(o->zstd_level));
        json_object_set_new(root, "brotli_quality", json_integer(o->brotli_quality));
        json_object_set_new(root, "tensors", list);
        json_object_set_new(root, "by_dtype", sum);
        if (json_dumpf(root, stdout, JSON_INDENT(1)) != 0) rc = WQC_EXIT_ERROR;
        fputc('\n', stdout);
        json_decref(root);
    } else if (rc == WQC_EXIT_OK && !o->quiet) {
        printf("lossless: entropy (bits) of each stream: symbol (the exponent; F16: exponent and top 3 mantissa bits;\n"
               "8-bit floats: the whole value, its exponent and mantissa in H(r0) and H(r1); MXFP4/NVFP4: per E2M1 code, two\n"
               "a byte, likewise), sign, rest bytes (sign and mantissa, wqc/lossless.h); what wqc stores; zstd -%d, brotli -q %d and xz -9e of the tensor's bytes\n\n",
               o->zstd_level, o->brotli_quality);
        printf("%-44s %-5s %9s %7s %6s %6s %6s %6s %11s %7s %-7s %11s %11s %11s\n", "tensor", "dtype", "values",
               "H(sym)", "H(s)", "H(r0)", "H(r1)", "H(r2)", "wqc bytes", "of raw", "coding", "zstd", "brotli", "xz");
        for (size_t i = 0; i < n; i++) {
            const lossless_row *r = &rows[i];
            cli_put_escaped(stdout, r->name);
            for (size_t k = cli_escaped_len(r->name); k < 44; k++) fputc(' ', stdout);
            printf(" %-5s %9llu %7.3f %6.3f", kind_name(row_kind(r)), (unsigned long long)r->values, r->h_symbol, r->h_sign);
            for (unsigned k = 0; k < WQC_SPLIT_REST_MAX; k++)
                if ((r->fp8 || r->packed) && k < 2) printf(" %6.3f", k ? r->h_mantissa : r->h_exponent);
                else k < wqc_split_rest_count(r->dtype) ? printf(" %6.3f", r->h_rest[k]) : printf(" %6s", "-");
            char coding[48];
            snprintf(coding, sizeof coding, "%s%s%s", r->coding, r->classes && strcmp(r->classes, "none") ? "+" : "",
                     r->classes && strcmp(r->classes, "none") ? r->classes : "");
            printf(" %11llu %6.1f%% %-7s %11llu %11llu %11llu\n", (unsigned long long)r->coded,
                   r->bytes ? 100.0 * (double)r->coded / (double)r->bytes : 0.0, coding, (unsigned long long)r->zstd,
                   (unsigned long long)r->brotli, (unsigned long long)r->xz);
        }
        printf("\n");
        for (int d = 0; d < NKINDS; d++)
            if (tot[d][0])
                printf("%-5s %zu tensors, %llu bytes: wqc %llu (%.1f%%), zstd %llu (%.1f%%), brotli %llu (%.1f%%), "
                       "xz %llu (%.1f%%)\n",
                       kind_name(d), (size_t)tot[d][0], (unsigned long long)tot[d][1],
                       (unsigned long long)tot[d][2], 100.0 * (double)tot[d][2] / (double)tot[d][1],
                       (unsigned long long)tot[d][3], 100.0 * (double)tot[d][3] / (double)tot[d][1],
                       (unsigned long long)tot[d][4], 100.0 * (double)tot[d][4] / (double)tot[d][1],
                       (unsigned long long)tot[d][5], 100.0 * (double)tot[d][5] / (double)tot[d][1]);
        if (!n) printf("no float or 1-byte tensors selected\n");
    }
    free(rows);
    return rc;
}
