/* `wqc bench` reports: a text table and JSON. Speeds are symbols (weights)
 * per second; GB/s counts the bytes the decoder writes in its output form. */
#include <jansson.h>
#include <math.h>

#include "bench.h"
#include "cli.h"
#include "stats_out.h"

/* The reference for the "vs wqc" column: the fastest wqc row that writes
 * one byte per symbol. */
static double wqc_reference_rate(const bench_report *r)
{
    double best = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        const bench_row *row = &r->rows[i];
        if (row->codec.family != BENCH_WQC || row->codec.form != WQC_FORM_SYMBOLS) continue;
        double rate = (double)r->symbols / row->decode_s;
        if (rate > best) best = rate;
    }
    return best;
}

static double bits_per_symbol(const bench_report *r, const bench_row *row)
{
    return r->symbols ? 8.0 * (double)row->bytes / (double)r->symbols : 0;
}

static double ratio_or_nan(double a, double b) { return b > 0 ? a / b : NAN; }

void bench_print_text(FILE *f, const bench_report *r)
{
    double ref = wqc_reference_rate(r);
    fprintf(f, "wqc bench: ");
    cli_put_escaped(f, r->input);
    fprintf(f, "\n  %llu symbols in %zu tensor%s, %s, entropy %.4f bits/symbol\n",
            (unsigned long long)r->symbols, r->items, r->items == 1 ? "" : "s", r->quantizer, r->entropy_bits);
    fprintf(f, "  %s; decoders on %d thread%s, peers on 1; median of %d; best ISA %s\n", r->cpu, r->threads,
            r->threads == 1 ? "" : "s", r->repeat, wqc_isa_name(wqc_isa_best()));
    fprintf(f, "\n%-34s %9s %8s %10s %10s %9s %8s\n", "codec", "bits/sym", "vs pack", "enc MS/s", "dec MS/s",
            "dec GB/s", "vs wqc");
    for (size_t i = 0; i < r->nrows; i++) {
        const bench_row *row = &r->rows[i];
        double rate = (double)r->symbols / row->decode_s;
        double gbs = (double)bench_output_bytes(&row->codec, r->symbols) / row->decode_s / 1e9;
        fprintf(f, "%-34s %9.4f %7.3fx %10.1f %10.1f %9.2f %7.2fx\n", row->codec.name, bits_per_symbol(r, row),
                ratio_or_nan((double)r->bits, bits_per_symbol(r, row)), (double)r->symbols / row->encode_s / 1e6,
                rate / 1e6, gbs, ratio_or_nan(rate, ref));
    }
    fprintf(f, "\nbits/sym: coded size (tables included) per symbol. vs pack: packed %d-bit size / coded size.\n"
               "MS/s: million symbols per second. dec GB/s: decoder output bytes per second.\n"
               "vs wqc: decode speed / the fastest wqc decoder writing one byte per symbol.\n",
            r->bits);
}

int bench_print_json(FILE *f, const bench_report *r)
{
    double ref = wqc_reference_rate(r);
    json_t *doc = cli_json_document("wqc.bench/1"), *rows = json_array();
    json_object_set_new(doc, "input", json_string(r->input));
    json_object_set_new(doc, "quantizer", json_string(r->quantizer));
    json_object_set_new(doc, "symbols", json_integer((json_int_t)r->symbols));
    json_object_set_new(doc, "tensors", json_integer((json_int_t)r->items));
    json_object_set_new(doc, "entropy_bits", json_real(r->entropy_bits));
    json_object_set_new(doc, "threads", json_integer(r->threads));
    json_object_set_new(doc, "repeat", json_integer(r->repeat));
    json_object_set_new(doc, "cpu", json_string(r->cpu));
    json_object_set_new(doc, "best_isa", json_string(wqc_isa_name(wqc_isa_best())));
    for (size_t i = 0; i < r->nrows; i++) {
        const bench_row *row = &r->rows[i];
        double rate = (double)r->symbols / row->decode_s;
        json_t *o = json_object();
        json_object_set_new(o, "codec", json_string(row->codec.name));
        json_object_set_new(o, "bytes", json_integer((json_int_t)row->bytes));
        json_object_set_new(o, "bits_per_symbol", json_real(bits_per_symbol(r, row)));
        json_object_set_new(o, "ratio_vs_packed", json_real(ratio_or_nan((double)r->bits, bits_per_symbol(r, row))));
        json_object_set_new(o, "encode_s", json_real(row->encode_s));
        json_object_set_new(o, "decode_s", json_real(row->decode_s));
        json_object_set_new(o, "encode_symbols_per_s", json_real((double)r->symbols / row->encode_s));
        json_object_set_new(o, "decode_symbols_per_s", json_real(rate));
        json_object_set_new(o, "decode_output_bytes_per_s",
                            json_real((double)bench_output_bytes(&row->codec, r->symbols) / row->decode_s));
        json_object_set_new(o, "decode_vs_wqc", ref > 0 ? json_real(rate / ref) : json_null());
        json_object_set_new(o, "encode_repetitions", json_integer(row->encode_reps));
        json_object_set_new(o, "decode_repetitions", json_integer(row->decode_reps));
        json_array_append_new(rows, o);
    }
    json_object_set_new(doc, "rows", rows);
    int rc = json_dumpf(doc, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF ? 0 : -1;
    json_decref(doc);
    return rc;
}
