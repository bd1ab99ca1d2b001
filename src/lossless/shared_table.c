#include "shared_table.h"

/* The shared order-0 model for this alphabet and precision (index + 1 in *k), or NULL. */
static const wqc_symbol_model *shared_order0(const wqc_encode_options *o, uint32_t alphabet, int precision, uint32_t *k)
{
    for (size_t i = 0; i < o->nshared; i++)
        if (o->shared[i].alphabet == alphabet && o->shared[i].precision == precision && o->shared[i].ntables == 1 &&
            o->shared[i].resolution == 0) {
            *k = (uint32_t)i + 1;
            return &o->shared[i];
        }
    return NULL;
}

wqc_status wqc_code_order0(const uint8_t *sym, uint64_t n, uint32_t alphabet, const wqc_encode_options *o,
                           const wqc_rans_params *p, wqc_rans_coded *out, uint32_t *shared_model, wqc_error *err)
{
    *shared_model = 0;
    wqc_status st = wqc_rans_encode(sym, n, alphabet, p, out, err);
    uint32_t k = 0;
    const wqc_symbol_model *shared = st == WQC_OK ? shared_order0(o, alphabet, p->precision, &k) : NULL;
    if (!shared) return st;
    wqc_rans_coded alt;
    /* The shared model covers every symbol: coding with it cannot fail on range. */
    st = wqc_rans_encode_table(sym, n, &shared->tables[0], p, &alt, err);
    if (st != WQC_OK) return st;
    wqc_symbol_model own = wqc_symbol_model_order0(&out->table);
    if (alt.payload_len + 2 < out->payload_len + wqc_symbol_model_bytes(&own)) {
        wqc_rans_coded_free(out);
        *out = alt;
        *shared_model = k;
    } else {
        wqc_rans_coded_free(&alt);
    }
    return WQC_OK;
}
