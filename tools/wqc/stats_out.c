#include "stats_out.h"

#include <math.h>

#include "cli.h"

json_t *cli_json_number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *cli_json_document(const char *schema)
{
    json_t *root = json_object();
    json_object_set_new(root, "schema", json_string(schema));
    json_object_set_new(root, "wqc_version", json_string(WQC_VERSION_STRING));
    return root;
}

json_t *cli_stats_json(const wqc_tensor_stats *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer((json_int_t)s->count));
    json_object_set_new(o, "mean", cli_json_number(s->mean));
    json_object_set_new(o, "std", cli_json_number(s->std));
    json_object_set_new(o, "min", cli_json_number(s->min));
    json_object_set_new(o, "max", cli_json_number(s->max));
    json_object_set_new(o, "kurtosis", cli_json_number(s->kurtosis));
    if (s->quantized) {
        json_object_set_new(o, "clipped", json_real(s->count ? (double)s->clipped / (double)s->count : 0.0));
        json_object_set_new(o, "clipped_count", json_integer((json_int_t)s->clipped));
        json_object_set_new(o, "sqnr_db", cli_json_number(s->sqnr_db));
    }
    return o;
}

void cli_stats_header(FILE *to)
{
    fprintf(to, "%-48s %10s %11s %10s %11s %11s %9s %9s %8s\n", "tensor", "count", "mean", "std", "min", "max",
            "kurtosis", "clipped", "SQNR dB");
}

void cli_stats_row(FILE *to, const char *name, const wqc_tensor_stats *s)
{
    cli_put_escaped(to, name);
    for (size_t k = cli_escaped_len(name); k < 48; k++) fputc(' ', to);
    fprintf(to, " %10llu %11.4g %10.4g %11.4g %11.4g %9.3f", (unsigned long long)s->count, s->mean, s->std, s->min,
            s->max, s->kurtosis);
    if (s->quantized)
        fprintf(to, " %8.4f%% %8.2f\n", s->count ? 100.0 * (double)s->clipped / (double)s->count : 0.0, s->sqnr_db);
    else fprintf(to, " %9s %8s\n", "-", "-");
}
