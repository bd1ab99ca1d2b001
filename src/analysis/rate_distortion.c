/* Rate-distortion points of quantizers: entropy, what encode would store,
 * and SQNR, against the Gaussian entropy-coded scalar quantization line. */
#include <math.h>
#include <stdlib.h>

#include "../container/scales.h"
#include "wqc/analysis.h"

double wqc_rd_ecsq_line_db(double bits) { return WQC_RD_DB_PER_BIT * bits - WQC_RD_ECSQ_GAP_DB; }

double wqc_rd_coded_bits(const wqc_rd_point *p) { return p->nelem ? p->coded_bytes * 8.0 / (double)p->nelem : 0.0; }

double wqc_rd_gap_db(const wqc_rd_point *p) { return p->sqnr_db - wqc_rd_ecsq_line_db(p->entropy_bits); }

/* Bytes of the symbols as encode's auto mode would code them (own models). */
static wqc_status symbol_bytes(const wqc_quantized *q, const wqc_quant_params *p, int precision, double *out,
                               wqc_error *err)
{
    wqc_frame f;
    wqc_tensor t = {.name = "rd", .dtype = WQC_DTYPE_F32, .ndim = 2, .shape = {q->rows, q->cols},
                    .nelem = q->rows * q->cols};
    wqc_frame_init(&f, &t);
    f.quantized = 1;
    f.encoding = WQC_ENC_RANS;
    f.quant = *p;
    f.quant.bits = q->bits;
    f.q = *q;
    f.raw_len = t.nelem;
    wqc_encode_options eo;
    wqc_encode_options_default(&eo);
    eo.rans.precision = precision;
    eo.estimate_only = 1;
    wqc_mode_sizes sizes;
    void *scratch = NULL;
    wqc_status st = wqc_encode_symbols(&f, &eo, &sizes, &scratch, err);
    free(scratch);
    if (st == WQC_OK) *out = (double)sizes.bytes[sizes.chosen];
    return st;
}

wqc_status wqc_rd_measure(const float *w, uint64_t rows, uint64_t cols, const wqc_quant_params *p, int precision,
                          wqc_rd_point *out, wqc_error *err)
{
    *out = (wqc_rd_point){.quant = *p, .nelem = rows * cols};
    wqc_quantized q;
    wqc_status st = wqc_quantize(w, rows, cols, p, NULL, &q, err);
    if (st != WQC_OK) return st;
    out->quant.bits = q.bits;
    uint64_t counts[256] = {0};
    wqc_histogram(q.symbols, (size_t)out->nelem, counts);
    out->entropy_bits = wqc_entropy_bits(counts, q.alphabet);
    wqc_quant_error e;
    wqc_quant_measure(w, &q, &e);
    out->sqnr_db = e.sqnr_db;
    out->noise = e.mse * (double)out->nelem;
    for (uint64_t i = 0; i < out->nelem; i++) out->signal += (double)w[i] * w[i];
    wqc_bytes scales = {0};
    st = wqc_scales_write(&out->quant, &q, &scales, err);
    out->scale_bytes = (double)scales.len;
    wqc_bytes_free(&scales);
    double sym = 0;
    if (st == WQC_OK) st = symbol_bytes(&q, &out->quant, precision, &sym, err);
    out->coded_bytes = sym + out->scale_bytes;
    wqc_quantized_free(&q);
    return st;
}

size_t wqc_rd_sweep(int lo, int hi, const double *ks, size_t nk, wqc_quant_params *out, size_t cap)
{
    size_t n = 0;
    static const wqc_granularity grans[3] = {WQC_GRAN_TENSOR, WQC_GRAN_ROW, WQC_GRAN_GROUP};
    for (int g = 0; g < 3; g++)
        for (int b = lo; b <= hi; b++, n++) {
            if (n >= cap) continue;
            wqc_quant_params_default(&out[n]);
            out[n].method = WQC_QUANT_AFFINE;
            out[n].bits = b;
            out[n].granularity = grans[g];
            out[n].group_size = 32;
        }
    for (size_t k = 0; k < nk; k++)
        for (int b = lo < 2 ? 2 : lo; b <= hi; b++, n++) {
            if (n >= cap) continue;
            wqc_quant_params_default(&out[n]);
            out[n].method = WQC_QUANT_SDCLIP;
            out[n].bits = b;
            out[n].k = ks[k];
        }
    return n;
}

void wqc_rd_accumulate(wqc_rd_point *m, const wqc_rd_point *p)
{
    double n = (double)m->nelem, k = (double)p->nelem;
    m->quant = p->quant;
    m->entropy_bits = n + k > 0 ? (m->entropy_bits * n + p->entropy_bits * k) / (n + k) : 0.0;
    m->nelem += p->nelem;
    m->coded_bytes += p->coded_bytes;
    m->scale_bytes += p->scale_bytes;
    m->signal += p->signal;
    m->noise += p->noise;
    m->sqnr_db = m->noise > 0 ? 10.0 * log10(m->signal / m->noise) : INFINITY;
}

int wqc_rd_on_front(const wqc_rd_point *pts, size_t n, size_t i)
{
    double b = wqc_rd_coded_bits(&pts[i]), q = pts[i].sqnr_db;
    for (size_t j = 0; j < n; j++) {
        double bj = wqc_rd_coded_bits(&pts[j]), qj = pts[j].sqnr_db;
        if (j != i && bj <= b && qj >= q && (bj < b || qj > q)) return 0;
    }
    return 1;
}
