#include "describe.h"

#include <stdlib.h>
#include <string.h>

#include "../side/table_code.h"

typedef struct model_models {
    wqc_rc_uint resolution, ntables, run, table;
} model_models;

void wqc_symbol_model_write(wqc_rc_enc *e, const wqc_symbol_model *m)
{
    static model_models zero;
    model_models mm = zero;
    wqc_rc_encode_uint(e, &mm.resolution, m->resolution);
    if (m->resolution) {
        wqc_rc_encode_uint(e, &mm.ntables, m->ntables - 1);
        for (uint32_t b = 0; b < m->nbins;) {
            uint32_t end = b + 1;
            while (end < m->nbins && m->bin_table[end] == m->bin_table[b]) end++;
            wqc_rc_encode_uint(e, &mm.run, end - b - 1);
            wqc_rc_encode_uint(e, &mm.table, m->bin_table[b]);
            b = end;
        }
    }
    for (uint32_t t = 0; t < m->ntables; t++)
        wqc_table_encode(e, m->tables[t].freq, m->alphabet, m->precision);
}

wqc_status wqc_symbol_model_read(wqc_rc_dec *d, uint32_t alphabet, int precision, wqc_symbol_model *out, wqc_error *err)
{
    static model_models zero;
    model_models mm = zero;
    memset(out, 0, sizeof *out);
    out->alphabet = alphabet;
    out->precision = precision;
    uint64_t resolution = wqc_rc_decode_uint(d, &mm.resolution);
    uint32_t nbins = resolution <= WQC_SYMBOL_MODEL_BINS_MAX ? wqc_symbol_model_nbins(alphabet, (uint32_t)resolution) : 0;
    if (nbins == 0) return wqc_fail(err, WQC_ERR_FORMAT, "model resolution %llu is out of range", (unsigned long long)resolution);
    out->resolution = (uint32_t)resolution;
    out->nbins = nbins;
    out->ntables = 1;
    if (resolution) {
        uint64_t ntables = wqc_rc_decode_uint(d, &mm.ntables) + 1;
        if (ntables == 0 || ntables > WQC_RANS_TABLES_MAX)
            return wqc_fail(err, WQC_ERR_FORMAT, "model has too many tables");
        out->ntables = (uint32_t)ntables;
        for (uint32_t b = 0; b < nbins;) {
            uint64_t run = wqc_rc_decode_uint(d, &mm.run) + 1, t = wqc_rc_decode_uint(d, &mm.table);
            if (run == 0 || run > nbins - b || t >= ntables)
                return wqc_fail(err, WQC_ERR_FORMAT, "malformed model bin map");
            memset(out->bin_table + b, (int)t, (size_t)run);
            b += (uint32_t)run;
        }
    }
    out->tables = calloc(out->ntables, sizeof *out->tables);
    if (!out->tables) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_status st = WQC_OK;
    for (uint32_t t = 0; st == WQC_OK && t < out->ntables; t++) {
        uint32_t freq[256];
        st = wqc_table_decode(d, freq, alphabet, precision, err);
        if (st == WQC_OK) st = wqc_rans_table_init(&out->tables[t], freq, alphabet, precision, err);
    }
    if (st == WQC_OK && d->overrun > WQC_RC_TAIL) st = wqc_fail(err, WQC_ERR_FORMAT, "model description is truncated");
    if (st != WQC_OK) wqc_symbol_model_free(out);
    return st;
}
