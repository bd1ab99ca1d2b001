/* Building a model from counts per zero-point bin: bins in z order are
 * merged, two neighbours at a time, while that lowers the estimated bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/entropy.h"
#include "wqc/symbol_model.h"

/* A run of neighbouring bins that shares a table. */
typedef struct cluster {
    uint32_t first, last;
    uint64_t counts[256];
    double cost;
} cluster;

/* Estimated bits of a table plus the data it codes: n H for the payload,
 * and for the table about two bits a symbol more than its frequency takes
 * (the adaptive gamma code of src/side/table_code.c). */
static double cluster_cost(const uint64_t *counts, uint32_t alphabet, int precision)
{
    uint64_t n = 0;
    for (uint32_t s = 0; s < alphabet; s++) n += counts[s];
    if (n == 0) return 0.0;
    double bits = 0.0, table = 0.0;
    for (uint32_t s = 0; s < alphabet; s++) {
        if (!counts[s]) {
            table += 1.0;
            continue;
        }
        double p = (double)counts[s] / (double)n;
        bits -= (double)counts[s] * log2(p);
        table += 2.0 + log2(1.0 + p * (double)(1u << precision));
    }
    return bits + table;
}

static void cluster_add(cluster *into, const cluster *from)
{
    for (int s = 0; s < 256; s++) into->counts[s] += from->counts[s];
    into->last = from->last;
}

/* Merges neighbours while that saves bits or while there are more than
 * max_tables clusters; returns the number left. */
static uint32_t merge(cluster *c, uint32_t k, uint32_t alphabet, int precision, uint32_t max_tables)
{
    while (k > 1) {
        uint32_t best = 0;
        double best_gain = -INFINITY, best_cost = 0.0;
        for (uint32_t i = 0; i + 1 < k; i++) {
            uint64_t both[256];
            for (int s = 0; s < 256; s++) both[s] = c[i].counts[s] + c[i + 1].counts[s];
            double cost = cluster_cost(both, alphabet, precision);
            double gain = c[i].cost + c[i + 1].cost - cost;
            if (gain > best_gain) best_gain = gain, best = i, best_cost = cost;
        }
        if (best_gain <= 0.0 && k <= max_tables) break;
        cluster_add(&c[best], &c[best + 1]);
        c[best].cost = best_cost;
        memmove(&c[best + 1], &c[best + 2], (k - best - 2) * sizeof *c);
        k--;
    }
    return k;
}

wqc_status wqc_symbol_model_build(const uint64_t *counts, uint32_t resolution, uint32_t alphabet, int precision,
                           int cover, wqc_symbol_model *out, wqc_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t nbins = wqc_symbol_model_nbins(alphabet, resolution);
    if (alphabet < 1 || alphabet > 256 || nbins == 0)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "no zero-point model of resolution %u for %u symbols",
                        resolution, alphabet);
    /* One cluster per non-empty bin; empty bins join the cluster before them
     * (or the first one). */
    cluster *c = calloc(nbins, sizeof *c);
    if (!c) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    uint32_t k = 0;
    for (uint32_t b = 0; b < nbins; b++) {
        const uint64_t *h = counts + 256 * (size_t)b;
        uint64_t n = 0;
        for (uint32_t s = 0; s < alphabet; s++) n += h[s];
        if (n == 0) {
            if (k > 0) c[k - 1].last = b;
            continue;
        }
        c[k].first = k ? b : 0;
        c[k].last = b;
        memcpy(c[k].counts, h, 256 * sizeof *h);
        c[k].cost = cluster_cost(h, alphabet, precision);
        k++;
    }
    if (k == 0) k = 1, c[0].last = nbins - 1;
    c[k - 1].last = nbins - 1;
    k = merge(c, k, alphabet, precision, WQC_RANS_TABLES_MAX);
    out->precision = precision;
    out->alphabet = alphabet;
    out->resolution = resolution;
    out->nbins = nbins;
    out->ntables = k;
    out->tables = calloc(k, sizeof *out->tables);
    wqc_status st = out->tables ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (uint32_t t = 0; st == WQC_OK && t < k; t++) {
        for (uint32_t b = c[t].first; b <= c[t].last; b++) out->bin_table[b] = (uint8_t)t;
        uint64_t h[256];
        int any = 0;
        for (uint32_t s = 0; s < alphabet; s++) {
            h[s] = c[t].counts[s] + (cover ? 1 : 0);
            any |= h[s] != 0;
        }
        if (!any) h[0] = 1; /* a table that codes nothing still needs a valid sum */
        uint32_t freq[256];
        st = wqc_freq_normalize(h, alphabet, precision, freq, err);
        if (st == WQC_OK) st = wqc_rans_table_init(&out->tables[t], freq, alphabet, precision, err);
    }
    free(c);
    if (st != WQC_OK) wqc_symbol_model_free(out);
    return st;
}
