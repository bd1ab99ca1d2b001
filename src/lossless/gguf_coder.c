/* A GGUF tensor stored bit-exactly (wqc_frame_gguf in wqc/encode.h): the
 * quantized blocks of a split type as their codes (rANS, order-0: the
 * tensor's own table or the file's shared one, whichever costs less; Q8_0
 * and Q4_0 without their block peaks where that is smaller) and
 * their fields (raw, zstd or, for F16 values, the adaptive half coder or
 * its rANS form, whichever is smallest); float tensors as encode
 * --lossless stores them; anything else passed through. */
#include <stdlib.h>
#include <string.h>

#include "../common/byte_codec.h"
#include "../side/half_field.h"
#include "gguf_peaks.h"
#include "shared_table.h"
#include "wqc/encode.h"
#include "wqc/entropy.h"
#include "wqc/gguf.h"

/* The tensor's shape, row-major (ggml lists the innermost dimension first). */
static void shape_of(const wqc_gguf_tensor *t, wqc_tensor *v)
{
    v->ndim = (int)t->ndim;
    for (uint32_t d = 0; d < t->ndim; d++) v->shape[d] = t->dims[t->ndim - 1 - d];
    v->nelem = t->nelem;
}

/* An order-0 stream of n symbols, the own table or the file's shared one. */
static wqc_status code_stream(const uint8_t *sym, uint64_t n, uint32_t alphabet, const wqc_encode_options *o,
                              wqc_rans_coded *out, uint32_t *shared_model, wqc_error *err)
{
    wqc_rans_params p = o->rans;
    p.lanes = wqc_rans_lanes_for(p.lanes, n, alphabet);
    return wqc_code_order0(sym, n, alphabet, o, &p, out, shared_model, err);
}

/* A stream's bytes in the frame: payload, chunk lengths, and its own table
 * or a shared model's reference. */
static uint64_t stream_bytes(const wqc_rans_coded *c, uint32_t shared_model)
{
    wqc_symbol_model own = wqc_symbol_model_order0(&c->table);
    return c->payload_len + 3 * c->nchunks + (shared_model ? 2 : wqc_symbol_model_bytes(&own));
}

/* The codes as one order-0 rANS stream, or (types with block peaks) without
 * each block's peak code plus a stream of peak symbols, whichever is smaller. */
static wqc_status code_codes(uint32_t type, const wqc_gguf_stream *codes, const wqc_encode_options *o, wqc_frame *f,
                             wqc_error *err)
{
    wqc_status st = code_stream(codes->data, codes->len, codes->alphabet, o, &f->coded, &f->shared_model, err);
    uint64_t blocks = codes->len / WQC_GGUF_PEAK_BLOCK;
    if (st != WQC_OK || !wqc_gguf_has_peaks(type) || !blocks) return st;
    uint8_t *rest = malloc((size_t)codes->len), *sym = malloc((size_t)blocks);
    wqc_rans_coded alt = {0}, peaks = {0};
    uint32_t alt_shared = 0, peaks_shared = 0;
    uint64_t npeaks = 0;
    if (!rest || !sym) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    else npeaks = wqc_gguf_peaks_take(type, codes->data, codes->len, rest, sym);
    if (st == WQC_OK && npeaks) st = code_stream(rest, codes->len - npeaks, codes->alphabet, o, &alt, &alt_shared, err);
    if (st == WQC_OK && npeaks) st = code_stream(sym, blocks, WQC_GGUF_PEAK_ALPHABET, o, &peaks, &peaks_shared, err);
    free(rest);
    free(sym);
    /* 4: the head's peak count and the second description's fixed bytes. */
    if (st == WQC_OK && npeaks &&
        stream_bytes(&alt, alt_shared) + stream_bytes(&peaks, peaks_shared) + 4 < stream_bytes(&f->coded, f->shared_model)) {
        wqc_rans_coded_free(&f->coded);
        f->coded = alt;
        f->shared_model = alt_shared;
        f->gguf_peaks = npeaks;
        f->peak_coded = peaks;
        f->peak_shared_model = peaks_shared;
        return WQC_OK;
    }
    wqc_rans_coded_free(&alt);
    wqc_rans_coded_free(&peaks);
    return st;
}

static wqc_status code_blocks(const wqc_gguf_tensor *t, const wqc_encode_options *o, int zstd_level, wqc_frame *f,
                              void **scratch, wqc_error *err)
{
    wqc_gguf_stream s[WQC_GGUF_STREAMS_MAX];
    size_t n = 0;
    wqc_status st = wqc_gguf_split(t->type, t->data, t->nbytes, s, &n, err);
    if (st != WQC_OK) return st;
    st = code_codes(t->type, &s[0], o, f, err);
    uint8_t *packed[WQC_GGUF_STREAMS_MAX] = {0};
    uint64_t total = f->coded.payload_len + f->peak_coded.payload_len;
    for (size_t k = 1; st == WQC_OK && k < n; k++) {
        size_t plen = 0;
        f->rest_coding[k - 1] = WQC_FIELD_RAW;
        f->rest_len[k - 1] = s[k].len;
        if (zstd_level > 0 &&
            wqc_byte_compress(WQC_ENC_ZSTD, zstd_level, s[k].data, (size_t)s[k].len, &packed[k], &plen, NULL) == WQC_OK &&
            plen < s[k].len) {
            f->rest_coding[k - 1] = WQC_FIELD_ZSTD;
            f->rest_len[k - 1] = plen;
        }
        /* F16 values: their high bytes through rANS or the adaptive coder,
         * where smaller. From 2^16 values the rANS table costs under 0.2%
         * and the adaptive bits decode 6 times slower: rANS only. */
        int first = s[k].len / 2 >= (1u << 16) ? WQC_FIELD_HALVES_RANS : WQC_FIELD_HALVES;
        for (int codec = first; s[k].halves && codec <= WQC_FIELD_HALVES_RANS; codec++) {
            wqc_bytes h = {0};
            wqc_status hs = codec == WQC_FIELD_HALVES
                                ? wqc_half_field_encode(s[k].data, (size_t)s[k].len, s[k].halves, &h, NULL)
                                : wqc_half_rans_encode(s[k].data, (size_t)s[k].len, &h, NULL);
            if (hs == WQC_OK && h.len < f->rest_len[k - 1]) {
                free(packed[k]);
                packed[k] = h.data;
                f->rest_coding[k - 1] = (uint8_t)codec;
                f->rest_len[k - 1] = h.len;
            } else {
                free(h.data);
            }
        }
        total += f->rest_len[k - 1];
    }
    uint8_t *buf = st == WQC_OK ? malloc(total ? (size_t)total : 1) : NULL;
    if (st == WQC_OK && !buf) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    if (st == WQC_OK) {
        memcpy(buf, f->coded.payload, (size_t)f->coded.payload_len);
        uint64_t at = f->coded.payload_len;
        if (f->gguf_peaks) {
            memcpy(buf + at, f->peak_coded.payload, (size_t)f->peak_coded.payload_len);
            free(f->peak_coded.payload);
            f->peak_coded.payload = buf + at;
            at += f->peak_coded.payload_len;
        }
        for (size_t k = 1; k < n; k++) {
            memcpy(buf + at, f->rest_coding[k - 1] == WQC_FIELD_RAW ? s[k].data : packed[k], (size_t)f->rest_len[k - 1]);
            at += f->rest_len[k - 1];
        }
        free(f->coded.payload);
        f->coded.payload = buf;
        f->payload = buf;
        f->payload_len = total;
        *scratch = buf;
    }
    for (size_t k = 0; k < WQC_GGUF_STREAMS_MAX; k++) free(packed[k]);
    wqc_gguf_streams_free(s, n);
    return st;
}

uint64_t wqc_gguf_halves_bytes(uint32_t type, uint32_t k, const uint8_t *field, uint64_t len)
{
    uint32_t halves = wqc_gguf_field_halves(type, k);
    wqc_bytes h = {0}, r = {0};
    uint64_t n = halves && wqc_half_field_encode(field, (size_t)len, halves, &h, NULL) == WQC_OK ? h.len : 0;
    if (halves && wqc_half_rans_encode(field, (size_t)len, &r, NULL) == WQC_OK && r.len < n) n = r.len;
    wqc_bytes_free(&h);
    wqc_bytes_free(&r);
    return n;
}

wqc_status wqc_frame_gguf(const wqc_gguf_tensor *t, const wqc_encode_options *o, int zstd_level, wqc_frame *f,
                          void **scratch, wqc_error *err)
{
    *scratch = NULL;
    uint32_t alphabet, nfields, flen[WQC_GGUF_STREAMS_MAX];
    wqc_tensor v = {.name = t->name, .data = t->data, .nbytes = t->nbytes};
    if (wqc_gguf_layout(t->type, &alphabet, &nfields, flen) && t->nbytes) {
        v.dtype = WQC_DTYPE_U8;
        shape_of(t, &v);
        wqc_frame_init(f, &v);
        f->encoding = WQC_ENC_GGUF;
        f->ggml_type = t->type;
        f->q.alphabet = alphabet;
        f->raw_len = t->nbytes;
        wqc_status st = code_blocks(t, o, zstd_level, f, scratch, err);
        if (st != WQC_OK) {
            wqc_encoded_free(f);
            return st;
        }
        /* Small tensors (a table per stream) and repeated rows (zstd finds
         * them): the bytes as they are, or zstd'd, when that is smaller. */
        wqc_frame pass;
        void *pass_scratch = NULL;
        v.dtype = WQC_DTYPE_U8;
        v.ndim = 1;
        v.shape[0] = v.nelem = t->nbytes;
        if (wqc_frame_passthrough(&v, zstd_level, &pass, &pass_scratch, NULL) == WQC_OK && pass.payload_len + 32 < f->payload_len) {
            wqc_encoded_free(f);
            free(*scratch);
            *f = pass;
            *scratch = pass_scratch;
            return WQC_OK;
        }
        if (pass_scratch) free(pass_scratch);
        return WQC_OK;
    }
    if (wqc_ggml_to_dtype(t->type, &v.dtype)) {
        shape_of(t, &v);
    } else { /* blocks of a type kept whole: its bytes */
        v.dtype = WQC_DTYPE_U8;
        v.ndim = 1;
        v.shape[0] = v.nelem = t->nbytes;
    }
    return wqc_frame_lossless(&v, o, zstd_level, f, scratch, err);
}

wqc_status wqc_gguf_shared_models(const wqc_gguf *g, int precision, wqc_symbol_model **models, size_t *n,
                                  wqc_error *err)
{
    *models = NULL;
    *n = 0;
    /* Code counts per alphabet over the small tensors of split types (peak
     * symbols have alphabet 65, which no codes have). */
    uint64_t counts[257][256];
    size_t tensors[257] = {0};
    memset(counts, 0, sizeof counts);
    wqc_status st = WQC_OK;
    for (size_t i = 0; st == WQC_OK && i < g->ntensors; i++) {
        const wqc_gguf_tensor *t = &g->tensors[i];
        uint32_t alphabet, nfields, flen[WQC_GGUF_STREAMS_MAX];
        if (!wqc_gguf_layout(t->type, &alphabet, &nfields, flen) || !t->nbytes || t->nelem > WQC_SHARED_TENSOR_MAX) continue;
        wqc_gguf_stream s[WQC_GGUF_STREAMS_MAX];
        size_t ns = 0;
        st = wqc_gguf_split(t->type, t->data, t->nbytes, s, &ns, err);
        if (st != WQC_OK) break;
        /* Types with block peaks: the codes as they are coded, peaks left
         * out, and the peak symbols (their own alphabet). */
        uint64_t h[256] = {0}, hp[256] = {0}, len = s[0].len, blocks = len / WQC_GGUF_PEAK_BLOCK;
        if (wqc_gguf_has_peaks(t->type)) {
            uint8_t *sym = malloc(blocks ? (size_t)blocks : 1);
            if (!sym) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            else len -= wqc_gguf_peaks_take(t->type, s[0].data, s[0].len, s[0].data, sym);
            if (sym) wqc_histogram(sym, (size_t)blocks, hp);
            for (int k = 0; k < WQC_GGUF_PEAK_ALPHABET; k++) counts[WQC_GGUF_PEAK_ALPHABET][k] += hp[k];
            tensors[WQC_GGUF_PEAK_ALPHABET] += sym != NULL;
            free(sym);
        }
        wqc_histogram(s[0].data, (size_t)len, h);
        for (int k = 0; k < 256; k++) counts[s[0].alphabet][k] += h[k];
        tensors[s[0].alphabet]++;
        wqc_gguf_streams_free(s, ns);
    }
    /* A model per alphabet that at least two tensors use. */
    size_t want = 0;
    for (int a = 1; a <= 256; a++) want += tensors[a] >= 2;
    if (st != WQC_OK || !want) return st;
    *models = calloc(want, sizeof **models);
    if (!*models) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (int a = 1; st == WQC_OK && a <= 256; a++)
        if (tensors[a] >= 2 && (st = wqc_symbol_model_build(counts[a], 0, (uint32_t)a, precision, 1, &(*models)[*n], err)) == WQC_OK)
            (*n)++;
    if (st != WQC_OK) {
        for (size_t i = 0; i < *n; i++) wqc_symbol_model_free(&(*models)[i]);
        free(*models);
        *models = NULL;
        *n = 0;
    }
    return st;
}
